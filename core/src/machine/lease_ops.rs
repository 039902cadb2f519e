//! The commands themselves: resource creation and every lease transition.

use super::{Changed, StateMachine};
use crate::command::Bundle;
use crate::ids::{HolderId, LeaseEpoch, LeaseId, Lsn, ResourceId, Slot};
use crate::outcome::{Outcome, ResultCode};
use crate::record::{LeaseRecord, LeaseState, Resource, ResourceState};
use crate::table::InsertError;

impl StateMachine {
    pub(super) fn create_resource(&mut self, resource_id: ResourceId) -> Outcome {
        let resource = Resource {
            resource_id,
            state: ResourceState::Available,
            current_lease_id: None,
            version: 0,
        };
        match self.resources.insert(resource_id, resource) {
            Ok(()) => {
                self.running_digest.note(Changed::Resource(resource_id));
                Outcome::ResourceCreated
            }
            Err(InsertError::Exists) => Outcome::Rejected(ResultCode::AlreadyExists),
            Err(InsertError::Full) => Outcome::Rejected(ResultCode::ResourceTableFull),
        }
    }

    pub(super) fn reserve(
        &mut self,
        lsn: Lsn,
        slot: Slot,
        resources: &Bundle,
        holder_id: HolderId,
        ttl_slots: u64,
    ) -> Outcome {
        let reject = Outcome::Rejected;
        if resources.is_empty() {
            return reject(ResultCode::InvalidRequest);
        }
        if resources.len() > self.config.max_bundle_size as usize {
            return reject(ResultCode::BundleTooLarge);
        }
        if resources.has_duplicates() {
            return reject(ResultCode::InvalidRequest);
        }
        if ttl_slots == 0 || ttl_slots > self.config.max_ttl_slots {
            return reject(ResultCode::TtlOutOfRange);
        }
        let Some(deadline_slot) = slot.checked_add(ttl_slots) else {
            return reject(ResultCode::SlotOverflow);
        };
        let ids = resources.as_slice();
        if ids.iter().any(|id| !self.resources.contains(id)) {
            return reject(ResultCode::ResourceNotFound);
        }
        if ids.iter().any(|id| {
            self.resources
                .get(id)
                .is_some_and(|r| r.state != ResourceState::Available)
        }) {
            return reject(ResultCode::ResourceBusy);
        }
        if self.leases.is_full() {
            return reject(ResultCode::LeaseTableFull);
        }
        if self.lease_members as usize + ids.len() > self.config.max_lease_members as usize {
            return reject(ResultCode::LeaseMemberTableFull);
        }
        if self.wheel.bucket_is_full(deadline_slot) {
            return reject(ResultCode::ExpirationIndexFull);
        }

        // Every check passed: from here on nothing can fail, so the bundle is
        // all or nothing.
        let lease_id = LeaseId::new(self.config.shard_id, lsn);
        let lease = LeaseRecord {
            lease_id,
            holder_id,
            state: LeaseState::Reserved,
            lease_epoch: LeaseEpoch::INITIAL,
            created_lsn: lsn,
            deadline_slot,
            retire_after_slot: None,
            member_count: ids.len() as u8,
            first_member: ids[0],
        };
        self.insert_lease(lease, ids)
            .expect("lsn is fresh and the lease table has room");
        for resource_id in ids {
            let resource = self.resource_mut(*resource_id).expect("checked present");
            resource.state = ResourceState::Reserved;
            resource.current_lease_id = Some(lease_id);
            resource.version += 1;
        }
        self.wheel
            .insert(deadline_slot, lease_id)
            .expect("bucket has room");
        Outcome::Reserved {
            lease_id,
            lease_epoch: LeaseEpoch::INITIAL,
            deadline_slot,
        }
    }

    pub(super) fn activate(
        &mut self,
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    ) -> Outcome {
        let lease = match self.authorised_lease(lease_id, holder_id, lease_epoch) {
            Ok(lease) => lease,
            Err(code) => return Outcome::Rejected(code),
        };
        if lease.state != LeaseState::Reserved {
            return Outcome::Rejected(ResultCode::InvalidState);
        }
        let removed = self.wheel.remove(lease.deadline_slot, lease_id);
        assert!(removed, "a reserved lease is in the expiry index");
        self.set_lease_state(lease_id, LeaseState::Active, lease.lease_epoch);
        Outcome::Activated {
            lease_id,
            lease_epoch: lease.lease_epoch,
        }
    }

    pub(super) fn release(
        &mut self,
        slot: Slot,
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    ) -> Outcome {
        let lease = match self.authorised_lease(lease_id, holder_id, lease_epoch) {
            Ok(lease) => lease,
            Err(code) => return Outcome::Rejected(code),
        };
        match lease.state {
            LeaseState::Reserved => {
                let removed = self.wheel.remove(lease.deadline_slot, lease_id);
                assert!(removed, "a reserved lease is in the expiry index");
            }
            LeaseState::Active => {}
            _ => return Outcome::Rejected(ResultCode::InvalidState),
        }
        let epoch = lease.lease_epoch.bumped();
        self.end_lease(slot, lease_id, LeaseState::Released, epoch);
        Outcome::Released {
            lease_id,
            lease_epoch: epoch,
        }
    }

    pub(super) fn revoke(&mut self, lease_id: LeaseId) -> Outcome {
        let lease = match self.lookup_lease(lease_id) {
            Ok(lease) => lease,
            Err(code) => return Outcome::Rejected(code),
        };
        if lease.state != LeaseState::Active {
            return Outcome::Rejected(ResultCode::InvalidState);
        }
        let epoch = lease.lease_epoch.bumped();
        self.set_lease_state(lease_id, LeaseState::Revoking, epoch);
        Outcome::Revoked {
            lease_id,
            lease_epoch: epoch,
        }
    }

    pub(super) fn reclaim(&mut self, slot: Slot, lease_id: LeaseId) -> Outcome {
        let lease = match self.lookup_lease(lease_id) {
            Ok(lease) => lease,
            Err(code) => return Outcome::Rejected(code),
        };
        if lease.state != LeaseState::Revoking {
            return Outcome::Rejected(ResultCode::InvalidState);
        }
        self.end_lease(slot, lease_id, LeaseState::Revoked, lease.lease_epoch);
        Outcome::Reclaimed { lease_id }
    }

    pub(super) fn expire(&mut self, slot: Slot, lease_id: LeaseId, deadline_slot: Slot) -> Outcome {
        let noop = Outcome::Rejected(ResultCode::Noop);
        if slot.0 > self.config.max_request_slot() || deadline_slot > slot {
            return noop;
        }
        let Some(lease) = self.leases.get(&lease_id).copied() else {
            return noop;
        };
        if lease.state != LeaseState::Reserved || lease.deadline_slot != deadline_slot {
            return noop;
        }
        let removed = self.wheel.remove(deadline_slot, lease_id);
        assert!(removed, "a reserved lease is in the expiry index");
        let epoch = lease.lease_epoch.bumped();
        self.end_lease(slot, lease_id, LeaseState::Expired, epoch);
        Outcome::Expired {
            lease_id,
            lease_epoch: epoch,
        }
    }

    /// The lease, or `lease_not_found` / `lease_retired`.
    pub(super) fn lookup_lease(&self, lease_id: LeaseId) -> Result<LeaseRecord, ResultCode> {
        if let Some(lease) = self.leases.get(&lease_id) {
            return Ok(*lease);
        }
        // LSN 0 never names a lease, so it is never retired either.
        if lease_id.shard_id() == self.config.shard_id
            && lease_id.lsn().0 != 0
            && lease_id.lsn() <= self.retired_watermark
        {
            Err(ResultCode::LeaseRetired)
        } else {
            Err(ResultCode::LeaseNotFound)
        }
    }

    /// Lookup, then the holder check, then the fencing epoch.
    fn authorised_lease(
        &self,
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    ) -> Result<LeaseRecord, ResultCode> {
        let lease = self.lookup_lease(lease_id)?;
        if lease.holder_id != holder_id {
            return Err(ResultCode::HolderMismatch);
        }
        if lease.lease_epoch != lease_epoch {
            return Err(ResultCode::StaleEpoch);
        }
        Ok(lease)
    }

    /// Moves a live lease and its members to another live state.
    fn set_lease_state(&mut self, lease_id: LeaseId, state: LeaseState, epoch: LeaseEpoch) {
        let member_state = state.member_state().expect("a live state");
        let lease = self.lease_mut(lease_id).expect("looked up");
        lease.state = state;
        lease.lease_epoch = epoch;
        let lease = *lease;
        self.update_members(&lease, member_state, Some(lease_id));
    }

    /// Makes a live lease terminal: members become available and the lease
    /// is queued for retirement after the history window.
    fn end_lease(&mut self, slot: Slot, lease_id: LeaseId, state: LeaseState, epoch: LeaseEpoch) {
        assert!(state.is_terminal());
        let retire_after_slot = slot
            .checked_add(self.config.history_window_slots)
            .expect("slot <= max_request_slot leaves room for the history window");
        let lease = self.lease_mut(lease_id).expect("looked up");
        assert!(!lease.state.is_terminal(), "a terminal lease never changes");
        lease.state = state;
        lease.lease_epoch = epoch;
        lease.retire_after_slot = Some(retire_after_slot);
        let lease = *lease;
        self.update_members(&lease, ResourceState::Available, None);
        self.lease_retirement.push(retire_after_slot, lease_id);
    }

    fn update_members(
        &mut self,
        lease: &LeaseRecord,
        state: ResourceState,
        current_lease_id: Option<LeaseId>,
    ) {
        let lease_id = lease.lease_id;
        for ordinal in 0..lease.member_count {
            let resource_id = self
                .member(lease, ordinal)
                .expect("a lease's members are in the member table");
            let resource = self
                .resource_mut(resource_id)
                .expect("members are existing resources");
            assert_eq!(
                resource.current_lease_id,
                Some(lease_id),
                "a live lease's member is held by that lease"
            );
            resource.state = state;
            resource.current_lease_id = current_lease_id;
            resource.version += 1;
        }
    }
}
