//! Identifier and logical-time newtypes. Distinct types keep a lease id from
//! being passed where a resource id is expected.

use core::fmt;

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $inner);

        impl $name {
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_newtype!(
    /// Client-chosen resource identifier.
    ResourceId(u128)
);
id_newtype!(
    /// `(shard_id << 64) | lsn` of the reserve command that created the lease.
    LeaseId(u128)
);
id_newtype!(
    /// The party that holds a lease.
    HolderId(u128)
);
id_newtype!(
    /// Client-chosen idempotency key of one logical write.
    OperationId(u128)
);
id_newtype!(
    /// The client that submitted a write; part of the idempotency hash.
    ClientId(u128)
);
id_newtype!(
    /// Log sequence number: the position of a committed command. Starts at 1.
    Lsn(u64)
);
id_newtype!(
    /// Logical time. The engine is told the current slot by its caller.
    Slot(u64)
);
id_newtype!(
    /// Fencing token of a lease. Starts at 1; bumped by release, revoke and expire.
    LeaseEpoch(u64)
);

impl LeaseId {
    pub const fn new(shard_id: u64, lsn: Lsn) -> Self {
        LeaseId(((shard_id as u128) << 64) | lsn.0 as u128)
    }

    pub const fn shard_id(self) -> u64 {
        (self.0 >> 64) as u64
    }

    /// The LSN of the reserve that created this lease.
    pub const fn lsn(self) -> Lsn {
        Lsn(self.0 as u64)
    }
}

impl Lsn {
    pub const fn next(self) -> Option<Lsn> {
        match self.0.checked_add(1) {
            Some(v) => Some(Lsn(v)),
            None => None,
        }
    }
}

impl Slot {
    pub const fn checked_add(self, slots: u64) -> Option<Slot> {
        match self.0.checked_add(slots) {
            Some(v) => Some(Slot(v)),
            None => None,
        }
    }
}

impl LeaseEpoch {
    pub const INITIAL: LeaseEpoch = LeaseEpoch(1);

    pub const fn bumped(self) -> LeaseEpoch {
        LeaseEpoch(self.0 + 1)
    }
}
