//! Reads, the state digest and health metrics. Nothing here mutates.

use super::StateMachine;
use crate::command::Bundle;
use crate::digest::StateDigest;
use crate::ids::{LeaseId, OperationId, ResourceId, Slot};
use crate::outcome::ResultCode;
use crate::record::{Lease, LeaseRecord, Operation, Resource};

/// Occupancy of one bounded structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub used: u64,
    pub capacity: u64,
}

impl Usage {
    /// Occupancy in parts per thousand, for dashboards that avoid floats.
    pub fn per_mille(&self) -> u64 {
        self.used * 1000 / self.capacity.max(1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    pub resources: Usage,
    pub leases: Usage,
    pub lease_members: Usage,
    pub operations: Usage,
    pub expiry_index: Usage,
    /// Reserved leases whose deadline is at or before the slot asked about:
    /// expirations the tick still owes.
    pub expiry_backlog: u64,
}

impl StateMachine {
    pub fn get_resource(&self, resource_id: ResourceId) -> Option<Resource> {
        self.resources.get(&resource_id).copied()
    }

    /// The lease with its members, or `lease_not_found` / `lease_retired`.
    pub fn get_lease(&self, lease_id: LeaseId) -> Result<Lease, ResultCode> {
        self.lookup_lease(lease_id)
            .map(|record| self.assemble(&record))
    }

    pub fn get_operation(&self, operation_id: OperationId) -> Option<Operation> {
        self.operations.get(&operation_id).copied()
    }

    pub(super) fn assemble(&self, record: &LeaseRecord) -> Lease {
        let mut members = Bundle::EMPTY;
        for ordinal in 0..record.member_count {
            let resource_id = self
                .member(record, ordinal)
                .expect("a lease's members are in the member table");
            members
                .push(resource_id)
                .expect("member_count is bounded by the bundle limit");
        }
        Lease {
            lease_id: record.lease_id,
            holder_id: record.holder_id,
            state: record.state,
            lease_epoch: record.lease_epoch,
            created_lsn: record.created_lsn,
            deadline_slot: record.deadline_slot,
            retire_after_slot: record.retire_after_slot,
            members,
        }
    }

    /// Every resource, in table order (not canonical).
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().map(|(_, r)| r)
    }

    /// Every lease with its members, in table order (not canonical).
    pub fn leases(&self) -> impl Iterator<Item = Lease> + '_ {
        self.leases.iter().map(|(_, l)| self.assemble(l))
    }

    /// Every retained operation record, in table order (not canonical).
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.iter().map(|(_, o)| o)
    }

    /// The order-independent digest of the logical state; see
    /// [`StateDigest`]. Equal digests after live apply and after recovery is
    /// the replay-equivalence check. Kept running: it hashes only the
    /// records changed since the last call.
    pub fn digest(&self) -> u64 {
        self.running_digest.records(self).finish(
            self.retired_watermark,
            self.last_applied_lsn(),
            self.last_request_slot,
        )
    }

    /// [`StateMachine::digest`] from every record, as the audit checks it.
    pub fn digest_recomputed(&self) -> u64 {
        let mut digest = StateDigest::new();
        for resource in self.resources() {
            digest.add_resource(resource);
        }
        for lease in self.leases() {
            digest.add_lease(&lease);
        }
        for operation in self.operations() {
            digest.add_operation(operation);
        }
        digest.finish(
            self.retired_watermark,
            self.last_applied_lsn(),
            self.last_request_slot,
        )
    }

    pub fn health(&self, now: Slot) -> Health {
        let usage = |used: u32, capacity: u32| Usage {
            used: u64::from(used),
            capacity: u64::from(capacity),
        };
        Health {
            resources: usage(self.resources.len(), self.resources.capacity()),
            leases: usage(self.leases.len(), self.leases.capacity()),
            lease_members: usage(self.lease_members, self.config.max_lease_members),
            operations: usage(self.operations.len(), self.operations.capacity()),
            expiry_index: Usage {
                used: self.wheel.len(),
                capacity: self.wheel.capacity(),
            },
            expiry_backlog: self.wheel.backlog(now),
        }
    }
}
