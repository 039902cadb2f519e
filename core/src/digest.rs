//! The canonical state digest and the idempotency command hash.
//!
//! The digest is a multiset hash: the wrapping sum of one hash per record,
//! so it does not depend on table placement or iteration order. Whoever holds
//! the same records (the core after live apply, after recovery, or the
//! reference model) computes the same value through this one encoder.

use crate::command::{ClientRequest, Command};
use crate::hash::{mix, WordHasher};
use crate::ids::{Lsn, Slot};
use crate::outcome::Outcome;
use crate::record::{Lease, Operation, Resource};

const DOMAIN_RESOURCE: u64 = 1;
const DOMAIN_LEASE: u64 = 2;
const DOMAIN_OPERATION: u64 = 3;
const DOMAIN_META: u64 = 4;
const DOMAIN_COMMAND: u64 = 5;

/// Accumulates records in any order; `finish` adds the scalar state.
///
/// A record can be taken out again (`remove_*` with the record exactly as
/// it was added), so a holder of changing records can keep one running
/// digest: on every change, remove the old record and add the new one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateDigest {
    sum: u64,
    records: u64,
}

impl StateDigest {
    pub const fn new() -> StateDigest {
        StateDigest { sum: 0, records: 0 }
    }

    /// How many records were added and not removed.
    pub fn records(&self) -> u64 {
        self.records
    }

    pub(crate) fn add_hash(&mut self, record_hash: u64) {
        self.sum = self.sum.wrapping_add(record_hash);
        self.records += 1;
    }

    /// Panics when no record is held: a removal without its addition is a
    /// bookkeeping bug, never state.
    pub(crate) fn remove_hash(&mut self, record_hash: u64) {
        assert!(self.records > 0, "a record removed from an empty digest");
        self.sum = self.sum.wrapping_sub(record_hash);
        self.records -= 1;
    }

    pub fn add_resource(&mut self, resource: &Resource) {
        self.add_hash(resource_hash(resource));
    }

    pub fn remove_resource(&mut self, resource: &Resource) {
        self.remove_hash(resource_hash(resource));
    }

    pub fn add_lease(&mut self, lease: &Lease) {
        self.add_hash(lease_hash(lease));
    }

    pub fn remove_lease(&mut self, lease: &Lease) {
        self.remove_hash(lease_hash(lease));
    }

    pub fn add_operation(&mut self, operation: &Operation) {
        self.add_hash(operation_hash(operation));
    }

    pub fn remove_operation(&mut self, operation: &Operation) {
        self.remove_hash(operation_hash(operation));
    }

    /// `last_applied_lsn` is `None` before the first command.
    pub fn finish(
        &self,
        retired_watermark: Lsn,
        last_applied_lsn: Option<Lsn>,
        last_request_slot: Slot,
    ) -> u64 {
        let mut h = WordHasher::new(DOMAIN_META);
        h.word(self.sum)
            .word(self.records)
            .word(retired_watermark.0)
            .word(last_applied_lsn.map_or(0, |l| l.0))
            .word(last_request_slot.0);
        h.finish()
    }
}

pub(crate) fn resource_hash(resource: &Resource) -> u64 {
    let mut h = WordHasher::new(DOMAIN_RESOURCE);
    h.wide(resource.resource_id.0)
        .word(resource.state as u64)
        .wide(resource.current_lease_id.map_or(0, |id| id.0))
        .word(resource.version);
    h.finish()
}

pub(crate) fn lease_hash(lease: &Lease) -> u64 {
    let mut h = WordHasher::new(DOMAIN_LEASE);
    h.wide(lease.lease_id.0)
        .wide(lease.holder_id.0)
        .word(lease.state as u64)
        .word(lease.lease_epoch.0)
        .word(lease.created_lsn.0)
        .word(lease.deadline_slot.0)
        .word(lease.retire_after_slot.is_some() as u64)
        .word(lease.retire_after_slot.map_or(0, |s| s.0))
        .word(lease.members.len() as u64);
    for member in lease.members.as_slice() {
        h.wide(member.0);
    }
    h.finish()
}

pub(crate) fn operation_hash(operation: &Operation) -> u64 {
    let mut h = WordHasher::new(DOMAIN_OPERATION);
    h.wide(operation.operation_id.0)
        .word(operation.command_hash)
        .word(operation.applied_lsn.0)
        .word(operation.retire_after_slot.0);
    hash_outcome(&mut h, &operation.outcome);
    h.finish()
}

fn hash_outcome(h: &mut WordHasher, outcome: &Outcome) {
    let parts = outcome.parts();
    h.word(u64::from(parts.tag))
        .word(parts.code as u64)
        .wide(parts.lease_id.0)
        .word(parts.lease_epoch.0)
        .word(parts.deadline_slot.0);
}

/// The idempotency hash: `client_id` plus the command's canonical fields.
/// `request_slot` is deliberately absent so that a retry at a later slot is
/// the same command.
pub fn command_hash(request: &ClientRequest) -> u64 {
    let mut h = WordHasher::new(DOMAIN_COMMAND);
    h.wide(request.client_id.0);
    match request.command {
        Command::CreateResource { resource_id } => {
            h.word(1).wide(resource_id.0);
        }
        Command::Reserve {
            resources,
            holder_id,
            ttl_slots,
        } => {
            h.word(2)
                .wide(holder_id.0)
                .word(ttl_slots)
                .word(resources.len() as u64);
            for id in resources.as_slice() {
                h.wide(id.0);
            }
        }
        Command::Activate {
            lease_id,
            holder_id,
            lease_epoch,
        } => {
            h.word(3)
                .wide(lease_id.0)
                .wide(holder_id.0)
                .word(lease_epoch.0);
        }
        Command::Release {
            lease_id,
            holder_id,
            lease_epoch,
        } => {
            h.word(4)
                .wide(lease_id.0)
                .wide(holder_id.0)
                .word(lease_epoch.0);
        }
        Command::Revoke { lease_id } => {
            h.word(5).wide(lease_id.0);
        }
        Command::Reclaim { lease_id } => {
            h.word(6).wide(lease_id.0);
        }
    }
    mix(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{LeaseId, ResourceId};
    use crate::record::ResourceState;

    fn resource(version: u64) -> Resource {
        Resource {
            resource_id: ResourceId(7),
            state: ResourceState::Available,
            current_lease_id: None::<LeaseId>,
            version,
        }
    }

    #[test]
    fn a_record_removed_as_it_was_added_leaves_the_digest_as_it_was() {
        let mut digest = StateDigest::new();
        digest.add_resource(&resource(1));
        let before = digest;
        digest.add_resource(&resource(2));
        assert_ne!(digest, before);
        digest.remove_resource(&resource(2));
        assert_eq!(digest, before);
        assert_eq!(digest.records(), 1);
        // Removing a record other than the one added moves the sum.
        digest.remove_resource(&resource(3));
        assert_eq!(digest.records(), 0);
        assert_ne!(digest, StateDigest::new());
    }

    #[test]
    #[should_panic(expected = "a record removed from an empty digest")]
    fn a_removal_without_its_addition_is_a_bookkeeping_bug() {
        StateDigest::new().remove_resource(&resource(1));
    }
}
