//! Reads: the engine's answer against the model's, fences included.

use super::{Simulator, StepLine, StepResult};
use crate::oracle::{Oracle, Violation};
use crate::view::EngineStatus;
use allocdb_core::engine::ReadError;
use allocdb_core::{LeaseId, Lsn, ResourceId, ResultCode};

impl Simulator {
    /// What the model says a read must meet before any record: `None`
    /// while down (nobody answers), else the refusal or `Ok`.
    fn read_gate(&self, required_lsn: Option<u64>) -> Option<Result<(), ReadError>> {
        match self.process.status() {
            EngineStatus::Down => None,
            EngineStatus::Halted => Some(Err(ReadError::EngineHalted)),
            EngineStatus::Up => {
                let applied = self.model.last_applied_lsn();
                Some(match required_lsn {
                    Some(required) if applied.is_none_or(|a| a.0 < required) => {
                        Err(ReadError::FenceNotApplied {
                            required: Lsn(required),
                            applied,
                        })
                    }
                    _ => Ok(()),
                })
            }
        }
    }

    pub(super) fn read_resource(
        &mut self,
        resource: u128,
        required_lsn: Option<u64>,
    ) -> StepResult {
        let (Some(gate), Some(engine)) = (self.read_gate(required_lsn), self.process.running())
        else {
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let got = engine.get_resource(ResourceId(resource), required_lsn.map(Lsn));
        let expected = gate.map(|()| self.model.get_resource(ResourceId(resource)));
        if got != expected {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!("read resource {resource}: engine {got:?}, model {expected:?}"),
            )));
        }
        Ok(StepLine::new(match got {
            Ok(Some(r)) => format!("{} v{}", r.state.name(), r.version),
            Ok(None) => "not found".to_string(),
            Err(e) => format!("refused: {e}"),
        }))
    }

    pub(super) fn read_lease(&mut self, lease: u128, required_lsn: Option<u64>) -> StepResult {
        let (Some(gate), Some(engine)) = (self.read_gate(required_lsn), self.process.running())
        else {
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let got = engine.get_lease(LeaseId(lease), required_lsn.map(Lsn));
        let expected = gate.and_then(|()| {
            self.model
                .get_lease(LeaseId(lease))
                .map_err(|code| match code {
                    ResultCode::LeaseRetired => ReadError::LeaseRetired,
                    _ => ReadError::LeaseNotFound,
                })
        });
        if got != expected {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!("read lease {lease}: engine {got:?}, model {expected:?}"),
            )));
        }
        Ok(StepLine::new(match got {
            Ok(l) => format!("{} epoch {}", l.state.name(), l.lease_epoch.0),
            Err(e) => format!("refused: {e}"),
        }))
    }
}
