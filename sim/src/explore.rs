//! Exhaustive crash-state exploration of one scenario: every crash the
//! storage could suffer during it, each judged by every oracle.
//!
//! The durable-storage events of a run are the crash points of the engine's
//! write paths (before append, after append, after sync, after apply; each
//! checkpoint window; inside recovery). For every step of the scenario that
//! runs a write path, and every point on that path the step reaches, the
//! crash can keep every prefix of the directory's pending entry operations
//! (creates and renames no directory sync covers yet), and for each of
//! them the unsynced WAL bytes can fare in several ways: all lost, all
//! kept, cut at every frame boundary, or torn at the first, middle and last
//! byte of each unsynced frame; where that prefix leaves other files with
//! unsynced bytes (a snapshot temp file before its sync), those are lost,
//! cut in half, or kept. Each combination is one crash state. A state runs the scenario's actions up to the step with the
//! point armed, crashes keeping that many bytes, restarts through recovery
//! and retries every request still in flight; the simulator's oracles
//! decide (durable prefix, acknowledged writes present, exactly-once
//! retries, fail-closed on damage).
//!
//! Each operation of a checkpoint (the snapshot's create, write, sync,
//! rename and directory sync; the old log's read; the new log's create,
//! write, sync, rename and directory sync) can instead fail with an I/O
//! error: the engine halts there, and the same crashes follow, plus a
//! process restart with no power loss (the files exactly as the failure
//! left them).
//!
//! Enumeration is deterministic: states are listed in step order, then
//! crash-point order (then the checkpoint's operations in path order),
//! then entry operations kept, then WAL bytes kept, then the other files'
//! fate, whatever `jobs` is.

use crate::action::{Action, Entries, IoKind, Unsynced};
use crate::driver::{CheckpointStep, RunError, SimConfig, Simulator, CHECKPOINT_PATH};
use crate::scenario::Scenario;
use crate::transcript::{point_label, TranscriptMode};
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::fs::{FsOpKind, Site};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Where a state stops the step it arms: at a crash point, or at a file
/// operation that fails with `EIO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Point(CrashPoint),
    IoError(Site, FsOpKind),
}

/// One crash state: arm `stop` before step `step` (0-based index into the
/// scenario's actions), let the step pass it `passes` times (a tick or a
/// burst reaches a point once per command) and stop at the next arrival;
/// then (`power_loss`) crash keeping `entries` of the pending entry
/// operations, `kept` unsynced WAL bytes, and the other files' unsynced
/// bytes as `other_files` says, or (after an I/O error only) restart the
/// process with the files as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashState {
    pub step: usize,
    pub stop: Stop,
    pub passes: u32,
    pub power_loss: bool,
    pub entries: Entries,
    pub kept: Unsynced,
    pub other_files: Unsynced,
}

/// Most commands one step can carry (a tick's expiries, a burst's
/// requests) that exploration crashes separately.
const MAX_PASSES: u32 = 1024;

fn arm(stop: Stop, passes: u32) -> Action {
    match stop {
        Stop::Point(point) if passes == 0 => Action::ArmCrash(point),
        Stop::Point(point) => Action::ArmCrashAfter { point, passes },
        Stop::IoError(site, op) => Action::ArmIoError {
            site,
            op,
            kind: IoKind::Eio,
            passes,
        },
    }
}

/// Whether the step just run stopped at `stop`.
fn stopped_at(sim: &Simulator, stop: Stop) -> bool {
    let event = sim.event();
    match stop {
        Stop::Point(point) => event.crashed_at == Some(point),
        Stop::IoError(site, op) => event
            .io_failed
            .is_some_and(|failure| failure.site == site && failure.op == op),
    }
}

/// The operations of a checkpoint, in the order it makes them.
fn checkpoint_operations() -> impl Iterator<Item = Stop> {
    CHECKPOINT_PATH.into_iter().filter_map(|step| match step {
        CheckpointStep::Op(site, op) => Some(Stop::IoError(site, op)),
        CheckpointStep::Point(_) => None,
    })
}

impl CrashState {
    /// `step 3 crashed at client_after_append, keeping the first 40 unsynced bytes`
    /// (steps counted from 1, as transcripts count them).
    pub fn describe(&self) -> String {
        let stopped = match self.stop {
            Stop::Point(point) => format!("crashed at {}", point_label(point)),
            Stop::IoError(site, op) => format!("failed at {} {} (eio)", site.name(), op.name()),
        };
        if !self.power_loss {
            return format!(
                "step {} {stopped}, then a process restart with no power loss",
                self.step + 1
            );
        }
        let kept = match self.kept {
            Unsynced::Keep => "keeping every unsynced byte".to_string(),
            Unsynced::Lose => "losing every unsynced byte".to_string(),
            Unsynced::KeepPrefix(n) => format!("keeping the first {n} unsynced bytes"),
        };
        let nth = match self.passes {
            0 => String::new(),
            passes => format!(" (arrival {})", passes + 1),
        };
        let entries = match self.entries {
            Entries::All => String::new(),
            Entries::First(n) => format!(", keeping the first {n} pending entry operations"),
        };
        let others = match self.other_files {
            Unsynced::Keep => String::new(),
            Unsynced::Lose => ", losing the other files' unsynced bytes".to_string(),
            Unsynced::KeepPrefix(n) => {
                format!(", keeping the first {n} unsynced bytes of the other files")
            }
        };
        let then = match self.stop {
            Stop::Point(_) => "",
            Stop::IoError(..) => ", then a power loss",
        };
        format!(
            "step {} {stopped}{nth}{then}, {kept}{entries}{others}",
            self.step + 1
        )
    }
}

/// How recovery after the crash went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Recovered with nothing to cut.
    Clean,
    /// Recovered after truncating a torn tail.
    TornTruncated,
    /// Recovery refused the files (and the simulator expected it).
    FailClosed,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Clean => "clean",
            Class::TornTruncated => "torn-truncated",
            Class::FailClosed => "fail-closed",
        }
    }
}

pub struct StateResult {
    pub state: CrashState,
    /// The actions run (the state's repro), in order.
    pub actions: Vec<Action>,
    pub outcome: Result<Class, RunError>,
}

pub struct Exploration {
    /// Explored states, in enumeration order.
    pub results: Vec<StateResult>,
    /// States enumerated in all; more than `results.len()` when the bound
    /// cut exploration short.
    pub enumerated: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    #[error("the scenario's config cannot run: {0}")]
    Config(String),
}

/// How exploration runs a scenario: never strict, since the crash it
/// injects leaves some of the scenario's own steps with nothing to do;
/// keeping no transcript text, since no one reads it.
fn sim_config(scenario: &Scenario) -> Result<SimConfig, ExploreError> {
    let config = scenario
        .sim_config()
        .map_err(|e| ExploreError::Config(e.to_string()))?;
    Ok(SimConfig {
        strict: false,
        transcript: TranscriptMode::Digest,
        ..config
    })
}

fn start(scenario: &Scenario, config: SimConfig) -> Result<Simulator, RunError> {
    Simulator::new(scenario.seed, config, &["explore".to_string()])
}

/// Every distinct way the unsynced bytes can fare, as kept lengths: each
/// frame boundary, and the first, middle and last byte of each frame.
fn kept_lengths(frames: &[(u64, u64)]) -> Vec<u64> {
    let mut kept = vec![0];
    for &(offset, written) in frames {
        kept.push(offset);
        if written > 1 {
            kept.extend([offset + 1, offset + written / 2, offset + written - 1]);
        }
        kept.push(offset + written);
    }
    kept.sort_unstable();
    kept.dedup();
    kept
}

/// The fates of `bytes` unsynced bytes in files other than the WAL: lost,
/// cut in half, kept (only kept when there are none).
fn other_fates(bytes: u64) -> Vec<Unsynced> {
    match bytes {
        0 => vec![Unsynced::Keep],
        1 => vec![Unsynced::Lose, Unsynced::Keep],
        _ => vec![
            Unsynced::Lose,
            Unsynced::KeepPrefix(bytes / 2),
            Unsynced::Keep,
        ],
    }
}

fn unsynced_for(kept: u64, total: u64) -> Unsynced {
    if kept == 0 {
        Unsynced::Lose
    } else if kept >= total {
        Unsynced::Keep
    } else {
        Unsynced::KeepPrefix(kept)
    }
}

/// Runs `prefix` then `armed` with `stop` armed; the simulator if the
/// step stopped there.
fn run_to_stop(
    scenario: &Scenario,
    config: SimConfig,
    prefix: &[Action],
    stop: Stop,
    passes: u32,
    armed: &Action,
) -> Option<Simulator> {
    let mut sim = start(scenario, config).ok()?;
    for action in prefix {
        sim.step(action).ok()?;
    }
    sim.step(&arm(stop, passes)).ok()?;
    sim.step(armed).ok()?;
    stopped_at(&sim, stop).then_some(sim)
}

/// Every crash state of the scenario, in enumeration order.
pub fn enumerate(scenario: &Scenario) -> Result<Vec<CrashState>, ExploreError> {
    let config = sim_config(scenario)?;
    let actions = scenario.actions();
    let mut states = Vec::new();
    for (step, action) in actions.iter().enumerate() {
        let prefix = &actions[..step];
        let mut stops: Vec<Stop> = action
            .crash_points()
            .iter()
            .map(|&p| Stop::Point(p))
            .collect();
        if matches!(action, Action::Restart) {
            stops.extend(
                (1..)
                    .map(|k| Stop::Point(CrashPoint::RecoveryAfterReplayedFrame(k)))
                    .take_while(|&stop| {
                        run_to_stop(scenario, config, prefix, stop, 0, action).is_some()
                    }),
            );
        }
        if matches!(action, Action::Checkpoint) {
            stops.extend(checkpoint_operations());
        }
        let many = matches!(action, Action::Burst(_) | Action::Tick);
        for stop in stops {
            for passes in 0..if many { MAX_PASSES } else { 1 } {
                let Some(sim) = run_to_stop(scenario, config, prefix, stop, passes, action) else {
                    break;
                };
                if let Stop::IoError(..) = stop {
                    states.push(CrashState {
                        step,
                        stop,
                        passes,
                        power_loss: false,
                        entries: Entries::All,
                        kept: Unsynced::Keep,
                        other_files: Unsynced::Keep,
                    });
                }
                let frames = sim.unsynced_frames();
                let total: u64 = frames.iter().map(|(_, w)| w).sum();
                let pending = sim.view().pending_entries as usize;
                for entries_kept in 0..=pending {
                    let entries = if entries_kept == pending {
                        Entries::All
                    } else {
                        Entries::First(entries_kept as u32)
                    };
                    let others = other_fates(sim.unsynced_beside_wal_after(entries_kept));
                    for kept in kept_lengths(&frames) {
                        for &other_files in &others {
                            states.push(CrashState {
                                step,
                                stop,
                                passes,
                                power_loss: true,
                                entries,
                                kept: unsynced_for(kept, total),
                                other_files,
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(states)
}

/// Runs one crash state to its verdict.
pub fn explore_state(scenario: &Scenario, state: CrashState) -> StateResult {
    let actions = scenario.actions();
    let mut run = Vec::new();
    let outcome = sim_config(scenario)
        .map_err(|e| RunError::InvalidAction {
            step: 0,
            reason: e.to_string(),
        })
        .and_then(|config| {
            let mut sim = start(scenario, config)?;
            let step = |sim: &mut Simulator, action: Action, run: &mut Vec<Action>| {
                run.push(action.clone());
                sim.step(&action)
            };
            for action in &actions[..state.step] {
                step(&mut sim, action.clone(), &mut run)?;
            }
            step(&mut sim, arm(state.stop, state.passes), &mut run)?;
            step(&mut sim, actions[state.step].clone(), &mut run)?;
            if !stopped_at(&sim, state.stop) {
                return Err(RunError::InvalidAction {
                    step: sim.steps(),
                    reason: format!("{:?} was not reached this time", state.stop),
                });
            }
            if state.power_loss {
                let crash = Action::Crash {
                    unsynced: state.kept,
                    entries: state.entries,
                    other_files: state.other_files,
                };
                step(&mut sim, crash, &mut run)?;
            }
            step(&mut sim, Action::Restart, &mut run)?;
            let class = match (sim.event().damage, sim.event().recovery) {
                (Some(_), _) => Class::FailClosed,
                (None, Some(report)) if report.torn_bytes > 0 => Class::TornTruncated,
                _ => Class::Clean,
            };
            let in_flight: Vec<u128> = sim.view().in_flight.iter().map(|f| f.operation).collect();
            for operation in in_flight {
                step(&mut sim, Action::Retry { operation }, &mut run)?;
            }
            Ok(class)
        });
    StateResult {
        state,
        actions: run,
        outcome,
    }
}

/// Enumerates and explores up to `max_states` states on `jobs` threads.
pub fn explore(
    scenario: &Scenario,
    jobs: usize,
    max_states: Option<usize>,
) -> Result<Exploration, ExploreError> {
    let states = enumerate(scenario)?;
    let enumerated = states.len();
    let todo = &states[..max_states.unwrap_or(enumerated).min(enumerated)];
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(todo.len()));
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, todo.len().max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(&state) = todo.get(index) else { break };
                let result = explore_state(scenario, state);
                results
                    .lock()
                    .expect("no explorer panics while holding the lock")
                    .push((index, result));
            });
        }
    });
    let mut results = results.into_inner().expect("threads are done");
    results.sort_by_key(|(index, _)| *index);
    Ok(Exploration {
        results: results.into_iter().map(|(_, r)| r).collect(),
        enumerated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_lengths_cover_boundaries_and_three_tears_per_frame() {
        assert_eq!(kept_lengths(&[]), vec![0]);
        assert_eq!(kept_lengths(&[(0, 81)]), vec![0, 1, 40, 80, 81]);
        assert_eq!(
            kept_lengths(&[(0, 10), (10, 4)]),
            vec![0, 1, 5, 9, 10, 11, 12, 13, 14]
        );
    }
}
