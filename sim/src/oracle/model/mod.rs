//! A reference model of the state machine, written from `docs/semantics.md`
//! and the spec alone.
//!
//! It is deliberately naive: plain ordered maps, no capacity tricks, no
//! timing wheel, and every derived quantity (bucket occupancy, member-table
//! occupancy, what is due for retirement) recomputed by scanning all records.
//! The one thing kept running is the state digest (`store`), so that
//! comparing it with the engine's on every step costs O(1); the driver
//! checks it against a full recomputation at every full audit.
//! Its only job is to be obviously right, so that when it disagrees with the
//! core the disagreement is worth reading. It shares the core's types and its
//! two encoders (`StateDigest`, and `command_hash` for the field of that
//! name a record carries into the digest), never its logic: it tells a
//! retry from a conflict by comparing requests field by field
//! (`same_request`) and works out every window from the config's fields
//! (`windows`).

#[cfg(test)]
mod digest_tests;
mod same_request;
mod store;
pub mod windows;

use std::collections::BTreeSet;
use std::sync::Arc;

use same_request::same_request;
use store::Store;

use crate::lease_ref::LeaseNames;

use allocdb_core::digest::{command_hash, StateDigest};
use allocdb_core::{
    Applied, Bundle, ClientRequest, Command, Config, HolderId, Lease, LeaseEpoch, LeaseId,
    LeaseState, LogCommand, Lsn, Operation, OperationId, Outcome, Resource, ResourceId,
    ResourceState, ResultCode, Slot,
};

/// The log handed to `apply` is out of order; nothing was changed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ModelApplyError {
    #[error("lsn {got:?} does not follow last applied lsn {last:?}")]
    LsnNotIncreasing { last: Option<Lsn>, got: Lsn },
    #[error("request slot {got:?} is below last applied slot {last:?}")]
    SlotRewound { last: Slot, got: Slot },
}

#[derive(Clone)]
pub struct Model {
    config: Config,
    /// Every record, with the running digest over them.
    store: Store,
    retired_watermark: Lsn,
    last_applied_lsn: Option<Lsn>,
    last_request_slot: Slot,
    /// Not state: how steps name leases (`Of(op: N)`).
    names: LeaseNames,
}

impl Model {
    pub fn new(config: Config) -> Model {
        Model {
            config,
            store: Store::default(),
            retired_watermark: Lsn(0),
            last_applied_lsn: None,
            last_request_slot: Slot(0),
            names: LeaseNames::default(),
        }
    }

    /// The empty state as of `lsn`: what a snapshot of nothing taken at
    /// `lsn` holds (a log kept elsewhere that committed nothing here).
    pub fn empty_at(config: Config, lsn: Lsn) -> Model {
        Model {
            last_applied_lsn: Some(lsn),
            ..Model::new(config)
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn last_applied_lsn(&self) -> Option<Lsn> {
        self.last_applied_lsn
    }

    pub fn last_request_slot(&self) -> Slot {
        self.last_request_slot
    }

    /// Which reserve made which lease, of those this state applied.
    pub fn lease_names(&self) -> &LeaseNames {
        &self.names
    }

    pub fn retired_watermark(&self) -> Lsn {
        self.retired_watermark
    }

    /// Mirrors `StateMachine::apply`. Err when lsn does not strictly increase
    /// or slot goes backwards (nothing changes).
    pub fn apply(
        &mut self,
        lsn: Lsn,
        request_slot: Slot,
        command: &LogCommand,
    ) -> Result<Applied, ModelApplyError> {
        if lsn <= self.last_applied_lsn.unwrap_or(Lsn(0)) {
            return Err(ModelApplyError::LsnNotIncreasing {
                last: self.last_applied_lsn,
                got: lsn,
            });
        }
        if request_slot < self.last_request_slot {
            return Err(ModelApplyError::SlotRewound {
                last: self.last_request_slot,
                got: request_slot,
            });
        }
        // Every record retires at least one slot after the slot that made it
        // (both windows are at least 1), so nothing new falls due until the
        // slot moves.
        let slot_moved = request_slot > self.last_request_slot;
        self.last_applied_lsn = Some(lsn);
        self.last_request_slot = request_slot;
        if slot_moved {
            self.retire(request_slot);
        }

        let applied = match command {
            LogCommand::Client(request) => self.apply_client(lsn, request_slot, request),
            LogCommand::Expire {
                lease_id,
                deadline_slot,
            } => Applied {
                lsn,
                outcome: self.expire(request_slot, *lease_id, *deadline_slot),
                from_retry_cache: false,
            },
        };
        Ok(applied)
    }

    pub fn get_resource(&self, id: ResourceId) -> Option<Resource> {
        self.store.resources().get(&id).copied()
    }

    /// Err(LeaseNotFound | LeaseRetired).
    pub fn get_lease(&self, id: LeaseId) -> Result<Lease, ResultCode> {
        self.lookup(id).copied()
    }

    pub fn get_operation(&self, id: OperationId) -> Option<Operation> {
        self.store
            .operations()
            .get(&id)
            .map(|(operation, _)| *operation)
    }

    /// Every resource, in id order.
    pub fn resources(&self) -> impl ExactSizeIterator<Item = &Resource> {
        self.store.resources().values()
    }

    /// Every live or terminal-but-not-yet-retired lease, in id order.
    pub fn leases(&self) -> impl ExactSizeIterator<Item = &Lease> {
        self.store.leases().values()
    }

    /// Every retained operation record, in id order.
    pub fn operations(&self) -> impl ExactSizeIterator<Item = &Operation> {
        self.store
            .operations()
            .values()
            .map(|(operation, _)| operation)
    }

    /// Reserved leases with `deadline <= now`, ordered by
    /// `(deadline, lease_id)`, at most `limit`.
    pub fn due_expirations(&self, now: Slot, limit: usize) -> Vec<(LeaseId, Slot)> {
        let mut due: Vec<(Slot, LeaseId)> = self
            .leases()
            .filter(|lease| lease.state == LeaseState::Reserved && lease.deadline_slot <= now)
            .map(|lease| (lease.deadline_slot, lease.lease_id))
            .collect();
        due.sort();
        due.into_iter()
            .take(limit)
            .map(|(deadline, lease_id)| (lease_id, deadline))
            .collect()
    }

    /// The state digest, from the running digest of the records: O(1).
    pub fn digest(&self) -> u64 {
        self.finish(self.store.running())
    }

    /// The state digest with every record hashed afresh.
    pub fn digest_recomputed(&self) -> u64 {
        self.finish(self.store.recomputed())
    }

    /// The running digest against a full recomputation: `Err` names both
    /// when a write to the records skipped its digest update.
    pub fn audit_digest(&self) -> Result<(), String> {
        let (running, recomputed) = (self.store.running(), self.store.recomputed());
        if running == recomputed {
            return Ok(());
        }
        Err(format!(
            "the model's running digest {:016x} over {} records differs from its recomputation {:016x} over {}",
            self.finish(running),
            running.records(),
            self.finish(recomputed),
            recomputed.records()
        ))
    }

    fn finish(&self, records: StateDigest) -> u64 {
        records.finish(
            self.retired_watermark,
            self.last_applied_lsn,
            self.last_request_slot,
        )
    }

    fn retire(&mut self, now: Slot) {
        let due: Vec<LeaseId> = self
            .leases()
            .filter(|lease| lease.state.is_terminal())
            .filter(|lease| lease.retire_after_slot.is_some_and(|after| after <= now))
            .map(|lease| lease.lease_id)
            .collect();
        for lease_id in due {
            self.store.retire_lease(lease_id);
            self.retired_watermark = self.retired_watermark.max(lease_id.lsn());
        }
        self.store
            .retire_operations(|operation| operation.retire_after_slot > now);
    }

    fn lookup(&self, id: LeaseId) -> Result<&Lease, ResultCode> {
        if let Some(lease) = self.store.leases().get(&id) {
            return Ok(lease);
        }
        if id.shard_id() == self.config.shard_id
            && id.lsn().0 != 0
            && id.lsn() <= self.retired_watermark
        {
            Err(ResultCode::LeaseRetired)
        } else {
            Err(ResultCode::LeaseNotFound)
        }
    }

    fn apply_client(&mut self, lsn: Lsn, now: Slot, request: &ClientRequest) -> Applied {
        let fresh = |outcome| Applied {
            lsn,
            outcome,
            from_retry_cache: false,
        };
        if now.0 > windows::last_request_slot(&self.config) {
            return fresh(Outcome::Rejected(ResultCode::SlotOverflow));
        }
        if let Some((existing, stored)) = self.store.operations().get(&request.operation_id) {
            if same_request(stored, request) {
                return Applied {
                    lsn,
                    outcome: existing.outcome,
                    from_retry_cache: true,
                };
            }
            return fresh(Outcome::Rejected(ResultCode::OperationConflict));
        }
        if self.store.operations().len() >= self.config.max_operations as usize {
            return fresh(Outcome::Rejected(ResultCode::OperationTableFull));
        }
        let outcome = match self.execute(lsn, now, &request.command) {
            Ok(outcome) => outcome,
            Err(code) => Outcome::Rejected(code),
        };
        if let Outcome::Reserved { lease_id, .. } = outcome {
            self.names.reserved(request.operation_id, lease_id);
        }
        let operation = Operation {
            operation_id: request.operation_id,
            command_hash: command_hash(request),
            outcome,
            applied_lsn: lsn,
            retire_after_slot: Slot(now.0.saturating_add(windows::dedupe_window(&self.config))),
        };
        self.store.record_operation(operation, Arc::new(*request));
        fresh(outcome)
    }

    fn execute(&mut self, lsn: Lsn, now: Slot, command: &Command) -> Result<Outcome, ResultCode> {
        match *command {
            Command::CreateResource { resource_id } => self.create_resource(resource_id),
            Command::Reserve {
                resources,
                holder_id,
                ttl_slots,
            } => self.reserve(lsn, now, &resources, holder_id, ttl_slots),
            Command::Activate {
                lease_id,
                holder_id,
                lease_epoch,
            } => self.activate(lease_id, holder_id, lease_epoch),
            Command::Release {
                lease_id,
                holder_id,
                lease_epoch,
            } => self.release(now, lease_id, holder_id, lease_epoch),
            Command::Revoke { lease_id } => self.revoke(lease_id),
            Command::Reclaim { lease_id } => self.reclaim(now, lease_id),
        }
    }

    fn create_resource(&mut self, resource_id: ResourceId) -> Result<Outcome, ResultCode> {
        if self.store.resources().contains_key(&resource_id) {
            return Err(ResultCode::AlreadyExists);
        }
        if self.store.resources().len() >= self.config.max_resources as usize {
            return Err(ResultCode::ResourceTableFull);
        }
        self.store.create_resource(Resource {
            resource_id,
            state: ResourceState::Available,
            current_lease_id: None,
            version: 0,
        });
        Ok(Outcome::ResourceCreated)
    }

    fn reserve(
        &mut self,
        lsn: Lsn,
        now: Slot,
        resources: &Bundle,
        holder_id: HolderId,
        ttl_slots: u64,
    ) -> Result<Outcome, ResultCode> {
        let ids = resources.as_slice();
        if ids.is_empty() {
            return Err(ResultCode::InvalidRequest);
        }
        if ids.len() > self.config.max_bundle_size as usize {
            return Err(ResultCode::BundleTooLarge);
        }
        if ids.iter().collect::<BTreeSet<_>>().len() != ids.len() {
            return Err(ResultCode::InvalidRequest);
        }
        if ttl_slots == 0 || ttl_slots > self.config.max_ttl_slots {
            return Err(ResultCode::TtlOutOfRange);
        }
        let deadline = now.checked_add(ttl_slots).ok_or(ResultCode::SlotOverflow)?;
        let stored = self.store.resources();
        if ids.iter().any(|id| !stored.contains_key(id)) {
            return Err(ResultCode::ResourceNotFound);
        }
        if ids
            .iter()
            .any(|id| stored[id].state != ResourceState::Available)
        {
            return Err(ResultCode::ResourceBusy);
        }
        if self.store.leases().len() >= self.config.max_leases as usize {
            return Err(ResultCode::LeaseTableFull);
        }
        let members_held: usize = self.leases().map(|lease| lease.members.len()).sum();
        if members_held + ids.len() > self.config.max_lease_members as usize {
            return Err(ResultCode::LeaseMemberTableFull);
        }
        let wheel = windows::expiry_buckets(&self.config);
        let bucket_len = self
            .leases()
            .filter(|lease| lease.state == LeaseState::Reserved)
            .filter(|lease| lease.deadline_slot.0 % wheel == deadline.0 % wheel)
            .count();
        if bucket_len >= self.config.max_expiration_bucket_len as usize {
            return Err(ResultCode::ExpirationIndexFull);
        }

        let lease_id = LeaseId::new(self.config.shard_id, lsn);
        self.store.create_lease(Lease {
            lease_id,
            holder_id,
            state: LeaseState::Reserved,
            lease_epoch: LeaseEpoch::INITIAL,
            created_lsn: lsn,
            deadline_slot: deadline,
            retire_after_slot: None,
            members: *resources,
        });
        self.set_members(lease_id, ResourceState::Reserved, Some(lease_id));
        Ok(Outcome::Reserved {
            lease_id,
            lease_epoch: LeaseEpoch::INITIAL,
            deadline_slot: deadline,
        })
    }

    /// Lookup, holder, epoch: the checks shared by activate and release.
    fn authorise(
        &self,
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    ) -> Result<Lease, ResultCode> {
        let lease = *self.lookup(lease_id)?;
        if lease.holder_id != holder_id {
            return Err(ResultCode::HolderMismatch);
        }
        if lease.lease_epoch != lease_epoch {
            return Err(ResultCode::StaleEpoch);
        }
        Ok(lease)
    }

    fn activate(
        &mut self,
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    ) -> Result<Outcome, ResultCode> {
        let lease = self.authorise(lease_id, holder_id, lease_epoch)?;
        if lease.state != LeaseState::Reserved {
            return Err(ResultCode::InvalidState);
        }
        self.store
            .change_lease(lease_id, |lease| lease.state = LeaseState::Active);
        self.set_members(lease_id, ResourceState::Active, Some(lease_id));
        Ok(Outcome::Activated {
            lease_id,
            lease_epoch: lease.lease_epoch,
        })
    }

    fn release(
        &mut self,
        now: Slot,
        lease_id: LeaseId,
        holder_id: HolderId,
        lease_epoch: LeaseEpoch,
    ) -> Result<Outcome, ResultCode> {
        let lease = self.authorise(lease_id, holder_id, lease_epoch)?;
        if !matches!(lease.state, LeaseState::Reserved | LeaseState::Active) {
            return Err(ResultCode::InvalidState);
        }
        let epoch = self.terminate(now, lease_id, LeaseState::Released, true);
        Ok(Outcome::Released {
            lease_id,
            lease_epoch: epoch,
        })
    }

    fn revoke(&mut self, lease_id: LeaseId) -> Result<Outcome, ResultCode> {
        let lease = *self.lookup(lease_id)?;
        if lease.state != LeaseState::Active {
            return Err(ResultCode::InvalidState);
        }
        let epoch = self
            .store
            .change_lease(lease_id, |record| {
                record.state = LeaseState::Revoking;
                record.lease_epoch = LeaseEpoch(record.lease_epoch.0 + 1);
            })
            .lease_epoch;
        self.set_members(lease_id, ResourceState::Revoking, Some(lease_id));
        Ok(Outcome::Revoked {
            lease_id,
            lease_epoch: epoch,
        })
    }

    fn reclaim(&mut self, now: Slot, lease_id: LeaseId) -> Result<Outcome, ResultCode> {
        let lease = *self.lookup(lease_id)?;
        if lease.state != LeaseState::Revoking {
            return Err(ResultCode::InvalidState);
        }
        self.terminate(now, lease_id, LeaseState::Revoked, false);
        Ok(Outcome::Reclaimed { lease_id })
    }

    fn expire(&mut self, now: Slot, lease_id: LeaseId, deadline_slot: Slot) -> Outcome {
        let noop = Outcome::Rejected(ResultCode::Noop);
        if now.0 > windows::last_request_slot(&self.config) {
            return noop;
        }
        let Ok(lease) = self.lookup(lease_id) else {
            return noop;
        };
        if lease.state != LeaseState::Reserved
            || lease.deadline_slot != deadline_slot
            || deadline_slot > now
        {
            return noop;
        }
        let epoch = self.terminate(now, lease_id, LeaseState::Expired, true);
        Outcome::Expired {
            lease_id,
            lease_epoch: epoch,
        }
    }

    /// Moves a live lease to a terminal state at slot `now`, frees its
    /// members, and returns its (possibly bumped) epoch.
    fn terminate(
        &mut self,
        now: Slot,
        lease_id: LeaseId,
        state: LeaseState,
        bump_epoch: bool,
    ) -> LeaseEpoch {
        let retire_after = Slot(now.0.saturating_add(self.config.history_window_slots));
        let epoch = self
            .store
            .change_lease(lease_id, |record| {
                record.state = state;
                if bump_epoch {
                    record.lease_epoch = LeaseEpoch(record.lease_epoch.0 + 1);
                }
                record.retire_after_slot = Some(retire_after);
            })
            .lease_epoch;
        self.set_members(lease_id, ResourceState::Available, None);
        epoch
    }

    fn set_members(
        &mut self,
        lease_id: LeaseId,
        state: ResourceState,
        current_lease_id: Option<LeaseId>,
    ) {
        let members = self.store.leases()[&lease_id].members;
        for &id in members.as_slice() {
            self.store.change_resource(id, |resource| {
                resource.state = state;
                resource.current_lease_id = current_lease_id;
                resource.version += 1;
            });
        }
    }
}
