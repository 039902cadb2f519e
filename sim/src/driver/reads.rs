//! Reads: the engine's answer against the model's, fences included.

use super::{EngineCall, Simulator, StepLine, StepResult};
use crate::coverage::matrix::Entry;
use crate::oracle::{Oracle, Violation};
use crate::view::EngineStatus;
use allocdb_core::engine::ReadError;
use allocdb_core::{LeaseId, Lsn, ResourceId, ResultCode};

/// A read refusal's name in the coverage matrix.
fn read_error_name(error: &ReadError) -> &'static str {
    match error {
        ReadError::EngineHalted => "engine_halted",
        ReadError::FenceNotApplied { .. } => "fence_not_applied",
        ReadError::LeaseNotFound => "lease_not_found",
        ReadError::LeaseRetired => "lease_retired",
    }
}

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

    /// A read that met the engine in `state` through `entry` and got
    /// `answer`, for the coverage matrix.
    fn read_answered(&mut self, entry: Entry, answer: &'static str) {
        let state = self.process.state();
        self.stats.entry(state, entry, answer);
    }

    pub(super) fn read_resource(
        &mut self,
        resource: u128,
        required_lsn: Option<u64>,
    ) -> StepResult {
        let entry = if required_lsn.is_some() {
            Entry::ReadResourceFenced
        } else {
            Entry::ReadResource
        };
        let (Some(gate), Some(engine)) = (self.read_gate(required_lsn), self.process.running())
        else {
            self.read_answered(entry, "undelivered");
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let got = engine.get_resource(ResourceId(resource), required_lsn.map(Lsn));
        self.called(EngineCall::GetResource {
            resource: ResourceId(resource),
            required: required_lsn.map(Lsn),
        });
        self.read_answered(
            entry,
            match &got {
                Ok(Some(_)) => "found",
                Ok(None) => "not_found",
                Err(error) => read_error_name(error),
            },
        );
        let expected = gate.map(|()| self.model.get_resource(ResourceId(resource)));
        if got != expected {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!("read resource {resource}: engine {got:?}, model {expected:?}"),
            )));
        }
        Ok(StepLine::new(self.say(|| match got {
            Ok(Some(r)) => format!("{} v{}", r.state.name(), r.version),
            Ok(None) => "not found".to_string(),
            Err(e) => format!("refused: {e}"),
        })))
    }

    pub(super) fn read_lease(&mut self, lease: u128, required_lsn: Option<u64>) -> StepResult {
        let entry = if required_lsn.is_some() {
            Entry::ReadLeaseFenced
        } else {
            Entry::ReadLease
        };
        let (Some(gate), Some(engine)) = (self.read_gate(required_lsn), self.process.running())
        else {
            self.read_answered(entry, "undelivered");
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let got = engine.get_lease(LeaseId(lease), required_lsn.map(Lsn));
        self.called(EngineCall::GetLease {
            lease: LeaseId(lease),
            required: required_lsn.map(Lsn),
        });
        self.read_answered(
            entry,
            match &got {
                Ok(_) => "found",
                Err(error) => read_error_name(error),
            },
        );
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
        Ok(StepLine::new(self.say(|| match got {
            Ok(l) => format!("{} epoch {}", l.state.name(), l.lease_epoch.0),
            Err(e) => format!("refused: {e}"),
        })))
    }
}
