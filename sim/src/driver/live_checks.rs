//! The oracles run after every step on a running engine: the digest
//! against the model's on every step, whether or not an LSN moved (a
//! refusal or a tick with nothing due must change nothing, and a digest
//! that did change without an LSN is a failure: the core's digest is kept
//! running, so asking for it when nothing changed costs nothing); and, at
//! the full audits `audit_cadence` schedules, the core's invariant audit,
//! the model's running digest against its own recomputation, and every
//! record against the model's, field by field.

use super::audit_cadence::AuditReason;
use super::{RunError, SelfTest, Simulator};
use crate::action::Action;
use crate::oracle::checks;
use crate::oracle::records::{records_agree, RecordSource};
use crate::oracle::{Oracle, Violation};
use allocdb_core::machine::StateMachine;
use allocdb_core::Lsn;
use allocdb_core::{Lease, LeaseId, Operation, OperationId, Resource, ResourceId, Slot};

/// Names the audit occasion that caught a violation, so a failure report
/// says which cadence found it.
fn caught_by(reason: AuditReason) -> impl Fn(Violation) -> Violation {
    move |violation| Violation {
        detail: format!("{reason}: {}", violation.detail),
        ..violation
    }
}

impl Simulator {
    /// The per-step oracles on a running engine; returns its digest.
    pub(super) fn check_live(&mut self, action: &Action) -> Result<Option<u64>, RunError> {
        let Some(engine) = self.process.up() else {
            return Ok(None);
        };
        let sm = engine.state_machine();
        let last_step = self.config.last_step == Some(self.step);
        if let Some(reason) = self.config.audit.due(action, self.step, last_step) {
            let caught = caught_by(reason);
            let agreed = if self.config.selftest == Some(SelfTest::SkewRecord) {
                records_agree(&SkewedVersions(sm), &self.model)
            } else {
                records_agree(sm, &self.model)
            };
            agreed.map_err(|v| self.fail(caught(v)))?;
            checks::audit(sm).map_err(|v| self.fail(caught(v)))?;
            self.model
                .audit_digest()
                .map_err(|detail| self.fail(caught(Violation::new(Oracle::StateDigest, detail))))?;
        }
        let digest = sm.digest();
        let skew = u64::from(self.config.selftest == Some(SelfTest::SkewDigest));
        checks::digest(digest, self.model.digest().wrapping_add(skew)).map_err(|v| self.fail(v))?;
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
