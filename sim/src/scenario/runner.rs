//! Runs a scenario: its actions through the simulator (every oracle after
//! every step, strict mode), its expectations against what the steps did.
//! Expectations that hold are noted in the transcript, so a snapshot shows
//! what was checked; the first that does not hold ends the run.

use super::format::{numbered, Entry, Expect, LeaseStateName, Mode, ResourceStateName, Scenario};
use super::validate::{action_name, expect_name};
use crate::action::Action;
use crate::answer::Answer;
use crate::driver::{panicked_failure, ArmedIo, RunError, Simulator};
use crate::event::DamageVerdict;
use crate::oracle::{isolate, OracleFailure};
use crate::run::liveness::run_liveness;
use crate::stats::RunStats;
use crate::transcript::{io_effect_name, point_label};
use allocdb_core::engine::fault::{CrashPath, CrashPoint};
use allocdb_core::{LeaseId, ResourceId, ResultCode};
use std::collections::BTreeMap;

/// Why a scenario run did not pass.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioFailure {
    #[error("the config cannot run: {0}")]
    Config(String),
    /// A step failed an oracle or could not run, and no expectation said so.
    #[error("step {step} ({entry}): {}", source.detail())]
    Run {
        step: u64,
        entry: &'static str,
        source: RunError,
    },
    #[error("step {step} ({entry}): expected {expected}\n      but found {found}")]
    Expectation {
        step: u64,
        entry: &'static str,
        expected: String,
        found: String,
    },
    /// An armed fault that no step reached.
    #[error("step {step} ({entry}): {message}")]
    Unreached {
        step: u64,
        entry: &'static str,
        message: String,
    },
}

impl ScenarioFailure {
    /// The run error behind it, if a step failed.
    pub fn run_error(&self) -> Option<&RunError> {
        match self {
            ScenarioFailure::Run { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub struct ScenarioRun {
    /// The text: a scenario always keeps it (its snapshot is the text).
    pub transcript: String,
    pub stats: RunStats,
    pub result: Result<(), ScenarioFailure>,
}

/// Faults armed and not yet fired, with the step that armed each.
#[derive(Default)]
struct Arms {
    crash: Option<(u64, CrashPoint)>,
    recovery: Option<(u64, CrashPoint)>,
}

pub fn run_scenario(scenario: &Scenario) -> ScenarioRun {
    run_scenario_watched(scenario, &mut |_| true)
}

/// [`run_scenario`], calling `watch` once when the simulator has started
/// (at step 0) and after every action that ran; the run ends early,
/// passing, when `watch` returns false.
pub fn run_scenario_watched(
    scenario: &Scenario,
    watch: &mut dyn FnMut(&Simulator) -> bool,
) -> ScenarioRun {
    let config = match scenario.sim_config() {
        Ok(config) => config,
        Err(error) => {
            return ScenarioRun {
                transcript: String::new(),
                stats: RunStats::default(),
                result: Err(ScenarioFailure::Config(error.to_string())),
            }
        }
    };
    let mut sim = match Simulator::new(scenario.seed, config, &["scenario".to_string()]) {
        Ok(sim) => sim,
        Err(source) => {
            return ScenarioRun {
                transcript: String::new(),
                stats: RunStats::default(),
                result: Err(ScenarioFailure::Run {
                    step: 0,
                    entry: "start",
                    source,
                }),
            }
        }
    };
    let mut runner = Runner {
        strict: scenario.strict,
        ..Runner::default()
    };
    // Every step isolates its own panics; this catches an expectation's.
    let result = isolate(|| {
        if !watch(&sim) {
            return Ok(());
        }
        runner.run(&mut sim, scenario, watch)
    })
    .unwrap_or_else(|panicked| {
        Err(ScenarioFailure::Run {
            step: sim.steps(),
            entry: "expectation",
            source: panicked_failure(scenario.seed, sim.steps(), panicked),
        })
    });
    ScenarioRun {
        transcript: sim.transcript().text().unwrap_or_default().to_string(),
        stats: sim.stats().clone(),
        result,
    }
}

#[derive(Default)]
struct Runner {
    /// Check that every armed fault is reached.
    strict: bool,
    arms: Arms,
    answers: BTreeMap<u128, Answer>,
    /// An oracle failure waiting for the expectation that must follow it.
    failed: Option<(u64, &'static str, OracleFailure)>,
}

impl Runner {
    fn run(
        &mut self,
        sim: &mut Simulator,
        scenario: &Scenario,
        watch: &mut dyn FnMut(&Simulator) -> bool,
    ) -> Result<(), ScenarioFailure> {
        for (step, entry) in numbered(&scenario.steps) {
            match entry {
                Entry::Action(action) => {
                    self.action(sim, step, action)?;
                    if self.failed.is_none() && !watch(sim) {
                        return Ok(());
                    }
                }
                Entry::Expect(expect) => self.expect(sim, step, expect)?,
            }
        }
        if let Some((step, entry, failure)) = self.failed.take() {
            return Err(ScenarioFailure::Run {
                step,
                entry,
                source: RunError::Oracle(failure),
            });
        }
        if scenario.liveness {
            let mut step = |sim: &mut Simulator, action: Action| {
                sim.step(&action)?;
                Ok(watch(sim))
            };
            run_liveness(sim, &mut step).map_err(|source| ScenarioFailure::Run {
                step: sim.steps(),
                entry: "liveness",
                source,
            })?;
        }
        if !self.strict {
            return Ok(());
        }
        let unreached = |step, entry, message| {
            Err(ScenarioFailure::Unreached {
                step,
                entry,
                message,
            })
        };
        if let Some((step, point)) = self.arms.crash {
            return unreached(
                step,
                "ArmCrash",
                format!("crash point {} was never reached", point.name()),
            );
        }
        if let Some(armed) = sim.armed().io.first() {
            return unreached(
                armed.armed_at,
                armed_by(scenario, armed.armed_at),
                format!("the I/O error {} never fired", describe_io(armed)),
            );
        }
        if let Some((step, point)) = self.arms.recovery {
            return unreached(
                step,
                "ArmCrash",
                format!("crash point {} was never reached", point_label(point)),
            );
        }
        Ok(())
    }

    fn action(
        &mut self,
        sim: &mut Simulator,
        step: u64,
        action: &Action,
    ) -> Result<(), ScenarioFailure> {
        let entry = action_name(action);
        if let Some((step, entry, failure)) = self.failed.take() {
            return Err(ScenarioFailure::Run {
                step,
                entry,
                source: RunError::Oracle(failure),
            });
        }
        if self.strict {
            self.check_rearm(step, action)?;
        }
        match sim.step(action) {
            Ok(()) => {}
            Err(RunError::Oracle(failure)) => {
                self.failed = Some((step, entry, failure));
                return Ok(());
            }
            Err(source) => {
                return Err(ScenarioFailure::Run {
                    step,
                    entry,
                    source,
                })
            }
        }
        let event = sim.event();
        for (operation, answer) in &event.answers {
            self.answers.insert(*operation, *answer);
        }
        if !self.strict {
            return Ok(());
        }
        let armed = sim.armed();
        let (crash, recovery) = (armed.crash, armed.recovery);
        let disarmed = |message: String| ScenarioFailure::Unreached {
            step,
            entry,
            message,
        };
        if let Some((armed_at, point)) = self.arms.crash {
            if event.crashed_at != Some(point) && crash.is_none() {
                return Err(disarmed(format!(
                    "the crash point {} armed at step {armed_at} died unreached with the process",
                    point.name()
                )));
            }
        }
        if let Some(died) = event.io_died.first() {
            return Err(disarmed(format!(
                "the I/O error {} armed at step {} died unfired with the process",
                describe_io(died),
                died.armed_at
            )));
        }
        if let Some(point) = event.recovery_point_unreached {
            let armed_at = self.arms.recovery.map_or(step, |(s, _)| s);
            return Err(disarmed(format!(
                "recovery never reached the crash point {} armed at step {armed_at}",
                point_label(point)
            )));
        }
        self.arms.crash = crash.map(|p| self.arms.crash.map_or((step, p), |(s, _)| (s, p)));
        self.arms.recovery =
            recovery.map(|p| self.arms.recovery.map_or((step, p), |(s, _)| (s, p)));
        Ok(())
    }

    /// Arming again replaces a fault that has not fired: in a strict
    /// scenario that is a mistake.
    fn check_rearm(&self, step: u64, action: &Action) -> Result<(), ScenarioFailure> {
        let pending = match action {
            Action::ArmCrash(point) if point.path() == CrashPath::Recovery => self
                .arms
                .recovery
                .map(|(s, p)| (s, point_label(p).to_string())),
            Action::ArmCrash(_) | Action::ArmCrashAfter { .. } => self
                .arms
                .crash
                .map(|(s, p)| (s, point_label(p).to_string())),
            _ => None,
        };
        match pending {
            Some((armed_at, what)) => Err(ScenarioFailure::Unreached {
                step,
                entry: action_name(action),
                message: format!(
                    "arming again replaces {what}, armed at step {armed_at} and never reached"
                ),
            }),
            None => Ok(()),
        }
    }

    fn expect(
        &mut self,
        sim: &mut Simulator,
        step: u64,
        expect: &Expect,
    ) -> Result<(), ScenarioFailure> {
        let entry = expect_name(expect);
        let mismatch = |expected: String, found: String| ScenarioFailure::Expectation {
            step,
            entry,
            expected,
            found,
        };
        if let Some((failed_step, failed_entry, failure)) = self.failed.take() {
            return match expect {
                Expect::ExpectOracleFailure(oracle) if *oracle == failure.oracle => {
                    sim.note(&format!("expected: oracle {} failed", oracle.name()));
                    Ok(())
                }
                Expect::ExpectOracleFailure(oracle) => Err(mismatch(
                    format!("oracle {} to fail", oracle.name()),
                    failure.to_string(),
                )),
                _ => Err(ScenarioFailure::Run {
                    step: failed_step,
                    entry: failed_entry,
                    source: RunError::Oracle(failure),
                }),
            };
        }
        let found = self.found(sim, expect);
        let expected = describe_expected(expect);
        if found.as_deref() != Ok(expected.as_str()) {
            return Err(mismatch(expected, found.unwrap_or_else(|why| why)));
        }
        sim.note(&format!("ok: {expected}"));
        Ok(())
    }

    /// What the run shows, described the way the expectation describes
    /// what it wants; `Err` when there is nothing to compare.
    fn found(&self, sim: &Simulator, expect: &Expect) -> Result<String, String> {
        let event = sim.event();
        let single = || match event.answers.as_slice() {
            [(_, answer)] => Ok(*answer),
            other => Err(format!("{} answers in the previous step", other.len())),
        };
        let engine = || {
            sim.live_engine()
                .map(|e| e.state_machine())
                .ok_or_else(|| "the engine is not up".to_string())
        };
        let restart_report = || {
            event
                .recovery
                .ok_or_else(|| "the restart did not start the engine".to_string())
        };
        Ok(match expect {
            Expect::ExpectResult(_) | Expect::ExpectCached(_) => {
                let answer = single()?;
                if answer.cached {
                    format!("cached result {:?}", answer.code)
                } else {
                    format!("result {:?}", answer.code)
                }
            }
            Expect::ExpectOperation { operation, .. } => match self.answers.get(operation) {
                Some(answer) => format!("operation {operation} answered {:?}", answer.code),
                None => format!("operation {operation} never answered"),
            },
            Expect::ExpectResource {
                resource, lease, ..
            } => {
                let record = engine()?.get_resource(ResourceId(*resource));
                let state = ResourceStateName::of(record.map(|r| r.state));
                let holder = record.and_then(|r| r.current_lease_id).map(|l| l.0);
                resource_text(*resource, state, lease.and(holder))
            }
            Expect::ExpectLease { lease, epoch, .. } => {
                let (state, found_epoch) = match engine()?.get_lease(LeaseId(*lease)) {
                    Ok(l) => (LeaseStateName::of(l.state), Some(l.lease_epoch.0)),
                    Err(ResultCode::LeaseRetired) => (LeaseStateName::Retired, None),
                    Err(_) => (LeaseStateName::NotFound, None),
                };
                lease_text(*lease, state, epoch.and(found_epoch))
            }
            Expect::ExpectRecovery {
                snapshot_lsn,
                replayed,
                torn_bytes,
                ..
            } => {
                let report = restart_report()?;
                if snapshot_lsn.is_some() && report.snapshot_lsn.is_none() {
                    return Err(format!(
                        "recovery {:?} without a snapshot",
                        Mode::of(report.mode)
                    ));
                }
                recovery_text(
                    Mode::of(report.mode),
                    snapshot_lsn.and(Some(report.snapshot_lsn.map_or(0, |l| l.0))),
                    replayed.and(Some(report.frames_replayed)),
                    torn_bytes.and(Some(report.torn_bytes)),
                )
            }
            Expect::ExpectFailClosed(_) | Expect::ExpectReadAsTorn => match event.damage {
                Some(DamageVerdict::FailedClosed(kind)) => format!("fail closed on {kind:?}"),
                Some(DamageVerdict::ReadAsTorn) => "damaged tail read as torn".to_string(),
                None => "no damage found by the restart".to_string(),
            },
            Expect::ExpectOracleFailure(_) => "no oracle failure".to_string(),
        })
    }
}

/// The expectation in the same words [`Runner::found`] uses.
fn describe_expected(expect: &Expect) -> String {
    match expect {
        Expect::ExpectResult(code) => format!("result {code:?}"),
        Expect::ExpectCached(code) => format!("cached result {code:?}"),
        Expect::ExpectOperation { operation, result } => {
            format!("operation {operation} answered {result:?}")
        }
        Expect::ExpectResource {
            resource,
            state,
            lease,
        } => resource_text(*resource, *state, *lease),
        Expect::ExpectLease {
            lease,
            state,
            epoch,
        } => lease_text(*lease, *state, *epoch),
        Expect::ExpectRecovery {
            mode,
            snapshot_lsn,
            replayed,
            torn_bytes,
        } => recovery_text(*mode, *snapshot_lsn, *replayed, *torn_bytes),
        Expect::ExpectFailClosed(kind) => format!("fail closed on {kind:?}"),
        Expect::ExpectReadAsTorn => "damaged tail read as torn".to_string(),
        Expect::ExpectOracleFailure(oracle) => format!("oracle {} to fail", oracle.name()),
    }
}

fn resource_text(resource: u128, state: ResourceStateName, lease: Option<u128>) -> String {
    match lease {
        Some(lease) => format!("resource {resource} {state:?} by lease {lease}"),
        None => format!("resource {resource} {state:?}"),
    }
}

fn lease_text(lease: u128, state: LeaseStateName, epoch: Option<u64>) -> String {
    match epoch {
        Some(epoch) => format!("lease {lease} {state:?} epoch {epoch}"),
        None => format!("lease {lease} {state:?}"),
    }
}

fn recovery_text(
    mode: Mode,
    snapshot_lsn: Option<u64>,
    replayed: Option<u64>,
    torn_bytes: Option<u64>,
) -> String {
    let mut text = format!("recovery {mode:?}");
    for (name, value) in [
        ("snapshot_lsn", snapshot_lsn),
        ("replayed", replayed),
        ("torn_bytes", torn_bytes),
    ] {
        if let Some(value) = value {
            text.push_str(&format!(" {name}={value}"));
        }
    }
    text
}

/// `enospc at snapshot_temp sync`, with the passes it had left.
fn describe_io(armed: &ArmedIo) -> String {
    let fault = armed.fault;
    let mut text = format!(
        "{} at {} {}",
        io_effect_name(fault.effect),
        fault.site.name(),
        fault.op.name()
    );
    if fault.passes > 0 {
        text.push_str(&format!(" ({} passes left)", fault.passes));
    }
    text
}

/// The name of the action at `step` (an I/O error's arming: the spec's
/// persist and read faults are I/O errors too).
fn armed_by(scenario: &Scenario, step: u64) -> &'static str {
    numbered(&scenario.steps)
        .find_map(|(at, entry)| match entry {
            Entry::Action(action) if at == step => Some(action_name(action)),
            _ => None,
        })
        .unwrap_or("ArmIoError")
}
