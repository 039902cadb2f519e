//! Semantic checks of a parsed scenario, before anything runs: what the
//! file says must be something the simulator can do, and every expectation
//! must have a step to be about. Each error names the step.

use super::format::{numbered, Entry, Expect, LeaseStateName, ResourceStateName, Scenario};
use crate::action::Action;
use crate::oracle::Oracle;
use crate::run::sweep_config;
use allocdb_core::engine::fault::{CrashPath, CrashPoint};
use std::collections::BTreeSet;
use std::fmt;

/// A semantic error: where (the step, as the transcript numbers it) and
/// what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Semantic {
    /// 0 for the header (config) and for expectations before any action.
    pub step: u64,
    /// The entry's name as written (`Retry`, `ExpectResult`, `config`).
    pub entry: &'static str,
    pub message: String,
}

impl fmt::Display for Semantic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entry == "config" {
            write!(f, "config: {}", self.message)
        } else {
            write!(f, "step {} ({}): {}", self.step, self.entry, self.message)
        }
    }
}

impl std::error::Error for Semantic {}

pub fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Submit { .. } => "Submit",
        Action::Retry { .. } => "Retry",
        Action::Burst(_) => "Burst",
        Action::AdvanceSlot { .. } => "AdvanceSlot",
        Action::AdvanceTo { .. } => "AdvanceTo",
        Action::Tick => "Tick",
        Action::Checkpoint => "Checkpoint",
        Action::ReadResource { .. } => "ReadResource",
        Action::ReadLease { .. } => "ReadLease",
        Action::ArmCrash(_) => "ArmCrash",
        Action::ArmCrashAfter { .. } => "ArmCrashAfter",
        Action::ArmPersistFailure(_) => "ArmPersistFailure",
        Action::ArmReadFault { .. } => "ArmReadFault",
        Action::ArmIoError { .. } => "ArmIoError",
        Action::Crash { .. } => "Crash",
        Action::TearLastFrame { .. } => "TearLastFrame",
        Action::FlipBit { .. } => "FlipBit",
        Action::Restart => "Restart",
        Action::ForgeSnapshot { .. } => "ForgeSnapshot",
    }
}

pub fn expect_name(expect: &Expect) -> &'static str {
    match expect {
        Expect::ExpectResult(_) => "ExpectResult",
        Expect::ExpectCached(_) => "ExpectCached",
        Expect::ExpectOperation { .. } => "ExpectOperation",
        Expect::ExpectResource { .. } => "ExpectResource",
        Expect::ExpectLease { .. } => "ExpectLease",
        Expect::ExpectRecovery { .. } => "ExpectRecovery",
        Expect::ExpectFailClosed(_) => "ExpectFailClosed",
        Expect::ExpectReadAsTorn => "ExpectReadAsTorn",
        Expect::ExpectOracleFailure(_) => "ExpectOracleFailure",
    }
}

pub fn validate(scenario: &Scenario) -> Result<(), Semantic> {
    scenario
        .config
        .apply(sweep_config())
        .map_err(|error| Semantic {
            step: 0,
            entry: "config",
            message: error.to_string(),
        })?;
    let mut slot = 0u64;
    let mut submitted = BTreeSet::new();
    let mut last_action: Option<&Action> = None;
    let entries: Vec<(u64, &Entry)> = numbered(&scenario.steps).collect();
    for (index, &(step, entry)) in entries.iter().enumerate() {
        let later = || {
            entries[index + 1..].iter().filter_map(|(_, e)| match e {
                Entry::Action(a) => Some(a),
                Entry::Expect(_) => None,
            })
        };
        match entry {
            Entry::Action(action) => {
                let error = |message: String| Semantic {
                    step,
                    entry: action_name(action),
                    message,
                };
                check_action(action, &mut slot, &mut submitted).map_err(error)?;
                if !scenario.strict {
                    last_action = Some(action);
                    continue;
                }
                if let Action::ArmCrash(point) | Action::ArmCrashAfter { point, .. } = action {
                    if !later().any(|a| a.reaches(*point)) {
                        return Err(error(format!(
                            "crash point {} cannot be reached: no later step runs {}",
                            point.name(),
                            reaching_steps(*point)
                        )));
                    }
                }
                if let Action::ArmPersistFailure(_) = action {
                    if !later().any(writes) {
                        return Err(error(
                            "the persist failure cannot fire: no later step writes the WAL (Submit, Retry, Burst or Tick)"
                                .to_string(),
                        ));
                    }
                }
                last_action = Some(action);
            }
            Entry::Expect(expect) => {
                let error = |message: String| Semantic {
                    step,
                    entry: expect_name(expect),
                    message,
                };
                check_expect(expect, last_action, &submitted).map_err(error)?;
                if matches!(expect, Expect::ExpectOracleFailure(Oracle::Hang)) {
                    return Err(error(
                        "a hang is a watchdog's verdict from outside the run (a stuck step cannot judge itself): no run can expect it".to_string(),
                    ));
                }
                if matches!(expect, Expect::ExpectOracleFailure(_)) && index + 1 != entries.len() {
                    return Err(error(
                        "an oracle failure ends the run: it must be the last entry".to_string(),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_action(
    action: &Action,
    slot: &mut u64,
    submitted: &mut BTreeSet<u128>,
) -> Result<(), String> {
    if let Some(fault) = action.io_fault() {
        if let Some(why) = fault.impossible() {
            return Err(format!(
                "{} at {}: {why} (the engine makes {} there)",
                fault.op.name(),
                fault.site.name(),
                fault
                    .site
                    .ops()
                    .iter()
                    .map(|op| op.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    match action {
        Action::Submit {
            operation, behind, ..
        } => {
            if *behind > *slot {
                return Err(format!(
                    "stamped {behind} slots behind slot {}: before slot 0",
                    *slot
                ));
            }
            submitted.insert(*operation);
        }
        Action::Retry { operation } if !submitted.contains(operation) => {
            return Err(format!(
                "retry of operation {operation}, which no earlier step submitted"
            ));
        }
        Action::Burst(requests) => {
            if requests.is_empty() {
                return Err("a burst needs at least one request".to_string());
            }
            for request in requests {
                match request {
                    Action::Submit { behind, .. } if *behind > 0 => {
                        return Err(
                            "a burst's requests arrive at its slot: a submit in it cannot be stamped behind"
                                .to_string(),
                        )
                    }
                    Action::Submit { .. } | Action::Retry { .. } => {
                        check_action(request, slot, submitted)?
                    }
                    other => {
                        return Err(format!(
                            "a burst holds Submit and Retry only, not {}",
                            action_name(other)
                        ))
                    }
                }
            }
        }
        Action::AdvanceSlot { by } => {
            *slot = slot
                .checked_add(*by)
                .ok_or_else(|| format!("advancing by {by} overflows the slot"))?;
        }
        Action::AdvanceTo { slot: to } => {
            if *to < *slot {
                return Err(format!("the slot goes backwards: from {} to {to}", *slot));
            }
            *slot = *to;
        }
        Action::FlipBit { bit, .. } if *bit > 7 => {
            return Err(format!("bit {bit} is not in 0..=7"));
        }
        Action::ArmCrashAfter { point, passes }
            if *passes > 0 && point.path() == CrashPath::Recovery =>
        {
            return Err(format!(
                "recovery reaches {} once: passes must be 0 (use RecoveryAfterReplayedFrame(k) for frame k)",
                point.name()
            ));
        }
        Action::ArmCrash(CrashPoint::RecoveryAfterReplayedFrame(0)) => {
            return Err(
                "frames count from 1: RecoveryAfterReplayedFrame(0) names no frame".to_string(),
            );
        }
        _ => {}
    }
    Ok(())
}

fn check_expect(
    expect: &Expect,
    last: Option<&Action>,
    submitted: &BTreeSet<u128>,
) -> Result<(), String> {
    let after = |wanted: &str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!(
                "must follow a {wanted} step, not {}",
                last.map_or("the start", action_name)
            ))
        }
    };
    match expect {
        Expect::ExpectResult(_) | Expect::ExpectCached(_) => after(
            "Submit or Retry",
            matches!(last, Some(Action::Submit { .. } | Action::Retry { .. })),
        ),
        Expect::ExpectRecovery { .. } | Expect::ExpectFailClosed(_) | Expect::ExpectReadAsTorn => {
            after("Restart", matches!(last, Some(Action::Restart)))
        }
        Expect::ExpectOracleFailure(_) => after("action", last.is_some()),
        Expect::ExpectOperation { operation, .. } => {
            if submitted.contains(operation) {
                Ok(())
            } else {
                Err(format!(
                    "operation {operation} was not submitted by any earlier step"
                ))
            }
        }
        Expect::ExpectResource {
            state,
            lease: Some(_),
            ..
        } if matches!(
            state,
            ResourceStateName::Missing | ResourceStateName::Available
        ) =>
        {
            Err(format!(
                "a resource {state:?} has no lease: drop `lease` or expect a held state"
            ))
        }
        Expect::ExpectLease {
            state,
            epoch: Some(_),
            ..
        } if matches!(state, LeaseStateName::Retired | LeaseStateName::NotFound) => Err(format!(
            "a lease that is {state:?} has no epoch to read: drop `epoch`"
        )),
        Expect::ExpectResource { .. } | Expect::ExpectLease { .. } => Ok(()),
    }
}

/// The steps that reach `point`, for the error that says none follows.
fn reaching_steps(point: CrashPoint) -> &'static str {
    [
        (
            Action::Retry { operation: 0 },
            "a client write (Submit, Retry or Burst)",
        ),
        (Action::Tick, "Tick"),
        (Action::Checkpoint, "Checkpoint"),
        (Action::Restart, "Restart"),
    ]
    .into_iter()
    .find(|(action, _)| action.reaches(point))
    .map_or("a step on its path", |(_, steps)| steps)
}

fn writes(action: &Action) -> bool {
    matches!(
        action,
        Action::Submit { .. } | Action::Retry { .. } | Action::Burst(_) | Action::Tick
    )
}
