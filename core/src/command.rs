//! Commands as they are committed to the log and applied. All are `Copy` and
//! fixed-size: a reserve's members live in an inline [`Bundle`].

use crate::config::BUNDLE_SIZE_LIMIT;
use crate::ids::{ClientId, HolderId, LeaseEpoch, LeaseId, OperationId, ResourceId, Slot};

/// Up to [`BUNDLE_SIZE_LIMIT`] resource ids, in the order the client gave them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bundle {
    len: u8,
    ids: [ResourceId; BUNDLE_SIZE_LIMIT],
}

/// A bundle was built with more than [`BUNDLE_SIZE_LIMIT`] members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a bundle holds at most {BUNDLE_SIZE_LIMIT} resources, got {0}")]
pub struct BundleOverflow(pub usize);

impl Bundle {
    pub const EMPTY: Bundle = Bundle {
        len: 0,
        ids: [ResourceId(0); BUNDLE_SIZE_LIMIT],
    };

    pub fn from_slice(ids: &[ResourceId]) -> Result<Bundle, BundleOverflow> {
        if ids.len() > BUNDLE_SIZE_LIMIT {
            return Err(BundleOverflow(ids.len()));
        }
        let mut bundle = Bundle::EMPTY;
        bundle.ids[..ids.len()].copy_from_slice(ids);
        bundle.len = ids.len() as u8;
        Ok(bundle)
    }

    pub fn push(&mut self, id: ResourceId) -> Result<(), BundleOverflow> {
        let len = self.len as usize;
        if len == BUNDLE_SIZE_LIMIT {
            return Err(BundleOverflow(len + 1));
        }
        self.ids[len] = id;
        self.len += 1;
        Ok(())
    }

    pub fn as_slice(&self) -> &[ResourceId] {
        &self.ids[..self.len as usize]
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when two members share an id. Quadratic, but bundles are tiny and
    /// this must not allocate.
    pub fn has_duplicates(&self) -> bool {
        let ids = self.as_slice();
        ids.iter()
            .enumerate()
            .any(|(i, a)| ids[i + 1..].iter().any(|b| a == b))
    }
}

impl core::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A client command: the write a client asks for.
#[allow(
    clippy::large_enum_variant,
    reason = "inline bundle keeps commands Copy and apply allocation-free"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    CreateResource {
        resource_id: ResourceId,
    },
    Reserve {
        resources: Bundle,
        holder_id: HolderId,
        ttl_slots: u64,
    },
    /// Confirm a reserved lease.
    Activate {
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    },
    Release {
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    },
    Revoke {
        lease_id: LeaseId,
    },
    Reclaim {
        lease_id: LeaseId,
    },
}

/// The kind of a command, for counting and reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandKind {
    CreateResource,
    Reserve,
    Activate,
    Release,
    Revoke,
    Reclaim,
    Expire,
}

impl CommandKind {
    pub const ALL: [CommandKind; 7] = [
        CommandKind::CreateResource,
        CommandKind::Reserve,
        CommandKind::Activate,
        CommandKind::Release,
        CommandKind::Revoke,
        CommandKind::Reclaim,
        CommandKind::Expire,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            CommandKind::CreateResource => "create_resource",
            CommandKind::Reserve => "reserve",
            CommandKind::Activate => "activate",
            CommandKind::Release => "release",
            CommandKind::Revoke => "revoke",
            CommandKind::Reclaim => "reclaim",
            CommandKind::Expire => "expire",
        }
    }
}

impl Command {
    pub const fn kind(&self) -> CommandKind {
        match self {
            Command::CreateResource { .. } => CommandKind::CreateResource,
            Command::Reserve { .. } => CommandKind::Reserve,
            Command::Activate { .. } => CommandKind::Activate,
            Command::Release { .. } => CommandKind::Release,
            Command::Revoke { .. } => CommandKind::Revoke,
            Command::Reclaim { .. } => CommandKind::Reclaim,
        }
    }
}

/// A client write as committed: who sent it, under which idempotency key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRequest {
    pub operation_id: OperationId,
    pub client_id: ClientId,
    pub command: Command,
}

/// Everything the state machine applies. `request_slot` and `lsn` travel
/// beside it (in the WAL frame header), not inside it.
#[allow(
    clippy::large_enum_variant,
    reason = "inline bundle keeps commands Copy and apply allocation-free"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogCommand {
    Client(ClientRequest),
    /// Internal: written by the maintenance tick, never by a client.
    Expire {
        lease_id: LeaseId,
        deadline_slot: Slot,
    },
}

impl LogCommand {
    pub const fn kind(&self) -> CommandKind {
        match self {
            LogCommand::Client(request) => request.command.kind(),
            LogCommand::Expire { .. } => CommandKind::Expire,
        }
    }
}
