//! Fixed-capacity, open-addressed hash tables with a fixed hash: one index
//! (`index.rs`) and two ways to store the records it points at.
//!
//! - [`FixedTable`] keeps its records dense in an array, in no particular
//!   order; any record can be removed (the last one moves into the hole).
//! - [`FifoTable`] keeps them in a ring in insertion order, and only the
//!   oldest can be removed: for records that leave in the order they came,
//!   removal moves nothing and reads the records in order.
//!
//! All memory is reserved when a table is made; insert and remove never
//! allocate. The index is zeroed memory and the records are written in
//! order, so a large table costs only the pages its records ever used.
//! Placement depends only on keys and operation order, never on a seed.

mod fifo;
mod fixed;
mod index;

pub use fifo::FifoTable;
pub use fixed::FixedTable;
pub use index::MIN_INDEX_SLOTS;

use crate::hash::{hash_u128, mix};
use crate::ids::{LeaseId, OperationId, ResourceId};

/// A key with a fixed placement hash.
pub trait TableKey: Copy + Eq + core::fmt::Debug {
    fn table_hash(&self) -> u64;
}

impl TableKey for ResourceId {
    fn table_hash(&self) -> u64 {
        hash_u128(self.0)
    }
}

impl TableKey for LeaseId {
    fn table_hash(&self) -> u64 {
        hash_u128(self.0)
    }
}

impl TableKey for OperationId {
    fn table_hash(&self) -> u64 {
        hash_u128(self.0)
    }
}

/// One member of a lease: its `ordinal` is the position in the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberKey {
    pub lease_id: LeaseId,
    pub ordinal: u8,
}

impl TableKey for MemberKey {
    fn table_hash(&self) -> u64 {
        hash_u128(self.lease_id.0) ^ mix(u64::from(self.ordinal) + 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    #[error("table is at its record bound")]
    Full,
    #[error("key is already present")]
    Exists,
}

/// What `audit` found wrong with a table's internal structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TableFault {
    #[error("occupancy count {counted} differs from stored length {stored}")]
    LengthMismatch { counted: u32, stored: u32 },
    #[error("{records} records are stored for a length of {stored}")]
    RecordCountMismatch { records: u32, stored: u32 },
    #[error("length {len} exceeds the record bound {capacity}")]
    OverCapacity { len: u32, capacity: u32 },
    #[error("{len} records fill more than half of an index of {slots} slots")]
    OverHalfFull { len: u32, slots: usize },
    #[error("slot {slot} points past the stored records")]
    DanglingRecord { slot: usize },
    #[error("the tag in slot {slot} is not its record's hash")]
    TagMismatch { slot: usize },
    #[error("the record in slot {slot} is not reachable from its home slot")]
    Unreachable { slot: usize },
    #[error("the record in slot {slot} appears twice")]
    Duplicate { slot: usize },
}

/// Keys for the tables' tests.
#[cfg(test)]
mod test_keys {
    use super::TableKey;

    /// A key whose hash sends everything to a few homes, to force long
    /// clusters and wrap-around at the end of the slot array.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) struct Colliding(pub(super) u8);

    impl TableKey for Colliding {
        fn table_hash(&self) -> u64 {
            // Homes near the end of a 16-slot array, so clusters wrap.
            13 + u64::from(self.0 % 3)
        }
    }
}
