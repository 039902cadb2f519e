//! The oracles run after every step on a running engine: the core's audit,
//! and the digest against the model's; at full audits
//! (every restart, checkpoint, fault action and 32nd step) also every
//! record against the model's, field by field. A step that cannot
//! have changed anything they look at reuses the last verdict.

use super::{RunError, SelfTest, Simulator};
use crate::action::{Action, ActionKind};
use crate::oracle::checks;
use crate::oracle::records::{records_agree, RecordSource};
use allocdb_core::machine::StateMachine;
use allocdb_core::Lsn;
use allocdb_core::{Lease, LeaseId, Operation, OperationId, Resource, ResourceId, Slot};

/// The state the per-step oracles last passed. Records change only when
/// a command is applied, and every apply moves the LSN, so while neither
/// the engine's nor the model's last applied LSN has moved their digests
/// are the ones already compared.
#[derive(Clone, Copy, Debug)]
pub(super) struct Verified {
    engine_lsn: Option<Lsn>,
    model_lsn: Option<Lsn>,
    digest: u64,
}

/// Reads take a shared borrow of the engine and an advance only moves the
/// simulator's slot: neither can change anything the oracles look at.
fn leaves_engine_untouched(action: &Action) -> bool {
    matches!(
        action,
        Action::ReadResource { .. }
            | Action::ReadLease { .. }
            | Action::AdvanceSlot { .. }
            | Action::AdvanceTo { .. }
    )
}

/// Steps between full audits, besides the one after every restart,
/// checkpoint and fault action (the spec's cadence, `testbed.md`).
pub const FULL_AUDIT_EVERY: u64 = 32;

/// The record-by-record comparison runs at full audits: it reads every
/// record on both sides, which every step cannot afford.
fn full_audit_due(action: &Action, step: u64) -> bool {
    step % FULL_AUDIT_EVERY == 0
        || matches!(action, Action::Restart | Action::Checkpoint)
        || ActionKind::FAULTS.contains(&action.kind())
}

impl Simulator {
    /// The per-step oracles on a running engine; returns its digest.
    pub(super) fn check_live(&mut self, action: &Action) -> Result<Option<u64>, RunError> {
        let Some(engine) = self.process.up() else {
            return Ok(None);
        };
        let sm = engine.state_machine();
        let lsns = (sm.last_applied_lsn(), self.model.last_applied_lsn());
        if full_audit_due(action, self.step) && self.records_verified != Some(lsns) {
            let agreed = if self.config.selftest == Some(SelfTest::SkewRecord) {
                records_agree(&SkewedVersions(sm), &self.model)
            } else {
                records_agree(sm, &self.model)
            };
            agreed.map_err(|v| self.fail(v))?;
            self.records_verified = Some(lsns);
        }
        let unchanged = self.verified.filter(|v| {
            v.engine_lsn == sm.last_applied_lsn() && v.model_lsn == self.model.last_applied_lsn()
        });
        // The audit also covers structure that moves without an apply (a
        // tick moves the expiry wheel's cursor), so only a step that never
        // borrowed the engine mutably reuses its verdict.
        if unchanged.is_none() || !leaves_engine_untouched(action) {
            checks::audit(sm).map_err(|v| self.fail(v))?;
        }
        if let Some(verified) = unchanged {
            return Ok(Some(verified.digest));
        }
        let digest = sm.digest();
        let skew = u64::from(self.config.selftest == Some(SelfTest::SkewDigest));
        checks::digest(digest, self.model.digest().wrapping_add(skew)).map_err(|v| self.fail(v))?;
        self.verified = Some(Verified {
            engine_lsn: sm.last_applied_lsn(),
            model_lsn: self.model.last_applied_lsn(),
            digest,
        });
        Ok(Some(digest))
    }
}

/// The engine read with every resource's version one higher (the
/// `SkewRecord` self-test).
struct SkewedVersions<'a>(&'a StateMachine);

impl RecordSource for SkewedVersions<'_> {
    fn resource(&self, id: ResourceId) -> Option<Resource> {
        self.0.resource(id).map(|r| Resource {
            version: r.version.wrapping_add(1),
            ..r
        })
    }
    fn lease(&self, id: LeaseId) -> Option<Lease> {
        self.0.lease(id)
    }
    fn operation(&self, id: OperationId) -> Option<Operation> {
        self.0.operation(id)
    }
    fn counts(&self) -> [usize; 3] {
        self.0.counts()
    }
    fn resource_ids(&self) -> Vec<ResourceId> {
        self.0.resource_ids()
    }
    fn lease_ids(&self) -> Vec<LeaseId> {
        self.0.lease_ids()
    }
    fn operation_ids(&self) -> Vec<OperationId> {
        self.0.operation_ids()
    }
    fn retired_watermark(&self) -> Lsn {
        RecordSource::retired_watermark(self.0)
    }
    fn last_applied_lsn(&self) -> Option<Lsn> {
        RecordSource::last_applied_lsn(self.0)
    }
    fn last_request_slot(&self) -> Slot {
        RecordSource::last_request_slot(self.0)
    }
}
