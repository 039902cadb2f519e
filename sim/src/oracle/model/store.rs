//! The model's records and its running digest. Every write to a record
//! goes through here, and each takes the record's old hash out of the
//! running digest and puts the new one in, so the model's `digest()` is
//! O(1). `recomputed()` hashes every record afresh; the driver compares the
//! two at every full audit, so a write that skipped its update is caught.
//!
//! The bookkeeping is the model's own (the core keeps its running digest
//! in its own code); only the record encoders of `StateDigest` are shared.

use std::collections::BTreeMap;
use std::sync::Arc;

use allocdb_core::digest::StateDigest;
use allocdb_core::{ClientRequest, Lease, LeaseId, Operation, OperationId, Resource, ResourceId};

/// Each retained operation record with the request that made it (shared:
/// the model is cloned at every checkpoint and restart, and a request with
/// its full bundle is most of a record's size).
pub(super) type OperationEntry = (Operation, Arc<ClientRequest>);

#[derive(Clone, Default)]
pub(super) struct Store {
    resources: BTreeMap<ResourceId, Resource>,
    /// Live and terminal-but-not-yet-retired leases.
    leases: BTreeMap<LeaseId, Lease>,
    operations: BTreeMap<OperationId, OperationEntry>,
    running: StateDigest,
}

impl Store {
    pub(super) fn resources(&self) -> &BTreeMap<ResourceId, Resource> {
        &self.resources
    }

    pub(super) fn leases(&self) -> &BTreeMap<LeaseId, Lease> {
        &self.leases
    }

    pub(super) fn operations(&self) -> &BTreeMap<OperationId, OperationEntry> {
        &self.operations
    }

    /// The digest of every record, kept up to date by each write.
    pub(super) fn running(&self) -> StateDigest {
        self.running
    }

    /// The digest of every record, hashed afresh.
    pub(super) fn recomputed(&self) -> StateDigest {
        let mut digest = StateDigest::new();
        for resource in self.resources.values() {
            digest.add_resource(resource);
        }
        for lease in self.leases.values() {
            digest.add_lease(lease);
        }
        for (operation, _) in self.operations.values() {
            digest.add_operation(operation);
        }
        digest
    }

    /// Panics when the id is taken: the caller checked it is new.
    pub(super) fn create_resource(&mut self, resource: Resource) {
        let previous = self.resources.insert(resource.resource_id, resource);
        assert!(previous.is_none(), "a created resource is new");
        self.running.add_resource(&resource);
    }

    /// Panics when the resource does not exist.
    pub(super) fn change_resource(&mut self, id: ResourceId, change: impl FnOnce(&mut Resource)) {
        let resource = self
            .resources
            .get_mut(&id)
            .expect("a changed resource exists");
        self.running.remove_resource(resource);
        change(resource);
        self.running.add_resource(resource);
    }

    /// Panics when the id is taken: lease ids are LSNs, each used once.
    pub(super) fn create_lease(&mut self, lease: Lease) {
        let previous = self.leases.insert(lease.lease_id, lease);
        assert!(previous.is_none(), "a created lease is new");
        self.running.add_lease(&lease);
    }

    /// Panics when the lease is not held; returns it as changed.
    pub(super) fn change_lease(&mut self, id: LeaseId, change: impl FnOnce(&mut Lease)) -> Lease {
        let lease = self.leases.get_mut(&id).expect("a changed lease is held");
        self.running.remove_lease(lease);
        change(lease);
        self.running.add_lease(lease);
        *lease
    }

    /// Panics when the lease is not held.
    pub(super) fn retire_lease(&mut self, id: LeaseId) {
        let lease = self.leases.remove(&id).expect("a retired lease is held");
        self.running.remove_lease(&lease);
    }

    /// Panics when the id is taken: the caller checked it is new.
    pub(super) fn record_operation(&mut self, operation: Operation, request: Arc<ClientRequest>) {
        let previous = self
            .operations
            .insert(operation.operation_id, (operation, request));
        assert!(previous.is_none(), "a recorded operation is new");
        self.running.add_operation(&operation);
    }

    /// Drops every operation record `keep` says no to.
    pub(super) fn retire_operations(&mut self, keep: impl Fn(&Operation) -> bool) {
        let running = &mut self.running;
        self.operations.retain(|_, (operation, _)| {
            let kept = keep(operation);
            if !kept {
                running.remove_operation(operation);
            }
            kept
        });
    }

    /// Changes a resource without its digest update: the missed update
    /// the driver's digest audit must catch.
    #[cfg(test)]
    pub(super) fn change_resource_unrecorded(
        &mut self,
        id: ResourceId,
        change: impl FnOnce(&mut Resource),
    ) {
        change(self.resources.get_mut(&id).expect("the resource exists"));
    }
}
