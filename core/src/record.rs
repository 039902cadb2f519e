//! The records the state machine holds, and the read-only views it hands out.

use crate::command::Bundle;
use crate::ids::{HolderId, LeaseEpoch, LeaseId, Lsn, OperationId, ResourceId, Slot};
use crate::outcome::Outcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ResourceState {
    Available = 0,
    Reserved = 1,
    Active = 2,
    Revoking = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum LeaseState {
    Reserved = 0,
    Active = 1,
    Revoking = 2,
    Released = 3,
    Expired = 4,
    Revoked = 5,
}

impl LeaseState {
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            LeaseState::Released | LeaseState::Expired | LeaseState::Revoked
        )
    }

    /// The state a member resource of a live lease in this state must be in.
    pub const fn member_state(self) -> Option<ResourceState> {
        match self {
            LeaseState::Reserved => Some(ResourceState::Reserved),
            LeaseState::Active => Some(ResourceState::Active),
            LeaseState::Revoking => Some(ResourceState::Revoking),
            LeaseState::Released | LeaseState::Expired | LeaseState::Revoked => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            LeaseState::Reserved => "reserved",
            LeaseState::Active => "active",
            LeaseState::Revoking => "revoking",
            LeaseState::Released => "released",
            LeaseState::Expired => "expired",
            LeaseState::Revoked => "revoked",
        }
    }
}

impl ResourceState {
    pub const fn name(self) -> &'static str {
        match self {
            ResourceState::Available => "available",
            ResourceState::Reserved => "reserved",
            ResourceState::Active => "active",
            ResourceState::Revoking => "revoking",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    pub resource_id: ResourceId,
    pub state: ResourceState,
    /// `None` exactly when `state` is `Available`.
    pub current_lease_id: Option<LeaseId>,
    pub version: u64,
}

/// A lease as stored. Its first member is in the record; the others live in
/// the member table, keyed by `(lease_id, ordinal)` for
/// `1 <= ordinal < member_count`. Most bundles hold one resource, so most
/// leases cost one record: applying a command to a lease, and retiring it,
/// then misses the cache once instead of once per table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    pub lease_id: LeaseId,
    pub holder_id: HolderId,
    pub state: LeaseState,
    pub lease_epoch: LeaseEpoch,
    pub created_lsn: Lsn,
    pub deadline_slot: Slot,
    /// Set when the lease becomes terminal.
    pub retire_after_slot: Option<Slot>,
    pub member_count: u8,
    /// Member 0: every lease has at least one.
    pub first_member: ResourceId,
}

/// A lease with its members, as reads and the digest see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub lease_id: LeaseId,
    pub holder_id: HolderId,
    pub state: LeaseState,
    pub lease_epoch: LeaseEpoch,
    pub created_lsn: Lsn,
    pub deadline_slot: Slot,
    pub retire_after_slot: Option<Slot>,
    pub members: Bundle,
}

/// A retained idempotency record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    pub operation_id: OperationId,
    pub command_hash: u64,
    pub outcome: Outcome,
    pub applied_lsn: Lsn,
    pub retire_after_slot: Slot,
}
