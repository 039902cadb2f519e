//! The running state digest: kept up to date on every record insert,
//! change and removal, so that `digest()` is O(1); and its full
//! recomputation, which the audit compares it against.
//!
//! Every write to the record tables goes through one of the `*_changed`,
//! `*_added` or `*_removed` calls below, with the record exactly as it was
//! before and is after. A missed call leaves the running digest wrong, and
//! the next full audit says so (`InvariantViolation::DigestDrift`).

use super::{InvariantViolation, StateMachine};
use crate::digest::{lease_hash, operation_hash, resource_hash, LeaseHasher, StateDigest};
use crate::ids::ResourceId;
use crate::record::{LeaseRecord, Operation, Resource};

impl StateMachine {
    /// The order-independent digest of the logical state; see
    /// [`StateDigest`]. Equal digests after live apply and after recovery is
    /// the replay-equivalence check. O(1): the records' part is kept
    /// running.
    pub fn digest(&self) -> u64 {
        self.finish(&self.record_digest)
    }

    /// [`StateMachine::digest`] computed from every record, for the audit
    /// and for tests. O(records).
    pub fn digest_recomputed(&self) -> u64 {
        self.finish(&self.recomputed_records())
    }

    fn finish(&self, records: &StateDigest) -> u64 {
        records.finish(
            self.retired_watermark,
            self.last_applied_lsn(),
            self.last_request_slot,
        )
    }

    pub(super) fn recomputed_records(&self) -> StateDigest {
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
        digest
    }

    /// The running digest against a full recomputation.
    pub(super) fn audit_digest(&self) -> Result<(), InvariantViolation> {
        let recomputed = self.recomputed_records();
        if recomputed == self.record_digest {
            return Ok(());
        }
        Err(InvariantViolation::DigestDrift {
            running: self.digest(),
            running_records: self.record_digest.records(),
            recomputed: self.finish(&recomputed),
            recomputed_records: recomputed.records(),
        })
    }

    pub(super) fn resource_added(&mut self, resource: &Resource) {
        self.record_digest.add_hash(resource_hash(resource));
    }

    pub(super) fn resource_changed(&mut self, before: &Resource, after: &Resource) {
        self.record_digest.remove_hash(resource_hash(before));
        self.record_digest.add_hash(resource_hash(after));
    }

    pub(super) fn lease_added(&mut self, lease: &LeaseRecord, members: &[ResourceId]) {
        self.record_digest.add_hash(lease_hash(lease, members));
    }

    /// A lease changed from the one `before` hashed to the one `after`
    /// hashed (both fed its members, which never change while it is
    /// stored).
    pub(super) fn lease_changed(&mut self, before: &LeaseHasher, after: &LeaseHasher) {
        self.record_digest.remove_hash(before.finish());
        self.record_digest.add_hash(after.finish());
    }

    /// A lease removed, `lease` hashed with every member.
    pub(super) fn lease_removed(&mut self, lease: &LeaseHasher) {
        self.record_digest.remove_hash(lease.finish());
    }

    pub(super) fn operation_added(&mut self, operation: &Operation) {
        self.record_digest.add_hash(operation_hash(operation));
    }

    pub(super) fn operation_removed(&mut self, operation: &Operation) {
        self.record_digest.remove_hash(operation_hash(operation));
    }
}
