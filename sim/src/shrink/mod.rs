//! Shrinking a failing scenario to the fewest steps that still fail the
//! same way (the same oracle; for a panic, at the same source location): first the failing step with only what it needs by name
//! (`slice.rs`), then delta debugging over the step list (drop chunks while the
//! failure stays), then over the requests inside each burst, then simpler
//! values step by step (shorter slot jumps, smaller bundles and TTLs,
//! plainer crashes, an armed crash point as a crash at once, smaller bursts, plainer flips, earlier crash points,
//! client 0),
//! then neighbouring clock advances joined, and again until a round changes
//! nothing or the budget of runs ends. Every candidate is a full
//! deterministic run, so the result is the same every time.

mod slice;

use crate::action::{Action, Entries, FlipTarget, IoKind, SimCommand, Unsynced};
use crate::driver::RunError;
use crate::oracle::FailureSignature;
use crate::scenario::validate::validate;
use crate::scenario::{run_scenario, Scenario, ScenarioFailure};
use allocdb_core::engine::fault::{CrashPath, CrashPoint};

#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    #[error("nothing to shrink: the scenario {0}")]
    NotFailing(String),
}

pub struct Shrunk {
    pub scenario: Scenario,
    /// The failure it still fails with.
    pub signature: FailureSignature,
    /// Actions before and after.
    pub original_steps: usize,
    pub steps: usize,
    /// Candidate runs tried.
    pub runs: u64,
    /// The budget ended before a round changed nothing: shrinking the
    /// result again may go further.
    pub budget_spent: bool,
}

/// How a scenario fails: what a candidate must keep
/// ([`crate::oracle::OracleFailure::signature`]) and the step where it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failing {
    pub signature: FailureSignature,
    pub step: u64,
}

/// How `scenario` fails, run in this process, or why it does not fail an
/// oracle.
pub fn failing(scenario: &Scenario) -> Result<Failing, String> {
    match run_scenario(scenario).result {
        Err(ScenarioFailure::Run {
            step,
            source: RunError::Oracle(failure),
            ..
        }) => Ok(Failing {
            signature: failure.signature(),
            step,
        }),
        Err(other) => Err(format!("fails, but not an oracle: {other}")),
        Ok(()) => Err("passes".to_string()),
    }
}

/// Shrinks `scenario` (expectations are dropped: they describe the long
/// run) trying at most `max_runs` candidates, each run in this process.
pub fn shrink(scenario: &Scenario, max_runs: u64) -> Result<Shrunk, ShrinkError> {
    let original =
        failing(&scenario.repro_of(&scenario.actions())).map_err(ShrinkError::NotFailing)?;
    shrink_judged(scenario, original, max_runs, &mut failing)
}

/// [`shrink`] of a scenario that fails as `original` says, with `judge`
/// saying how each candidate fails: a failure this process cannot survive
/// (a step that never returns) is judged in another process.
pub fn shrink_judged(
    scenario: &Scenario,
    original: Failing,
    max_runs: u64,
    judge: &mut dyn FnMut(&Scenario) -> Result<Failing, String>,
) -> Result<Shrunk, ShrinkError> {
    let mut actions = scenario.actions();
    let base = scenario.repro_of(&actions);
    let original_steps = actions.len();
    actions.truncate(original.step as usize);

    let runs = std::cell::Cell::new(0u64);
    let mut fails_the_same = |candidate: &[Action]| {
        if runs.get() >= max_runs {
            return false;
        }
        runs.set(runs.get() + 1);
        let scenario = base.repro_of(candidate);
        validate(&scenario).is_ok()
            && judge(&scenario).is_ok_and(|f| f.signature == original.signature)
    };
    // The failing step and what it needs by name, with and without the
    // clock's steps: one run each, and most failures need nothing else.
    for keep_time in [false, true] {
        if let Some(sliced) = slice::slice(&actions, keep_time) {
            if fails_the_same(&sliced) {
                actions = sliced;
                break;
            }
        }
    }
    let budget_spent = loop {
        let before = actions.clone();
        actions = delta_debug(actions, &mut fails_the_same);
        actions = shrink_bursts(actions, &mut fails_the_same);
        actions = simplify(actions, &mut fails_the_same);
        actions = merge_advances(actions, &mut fails_the_same);
        if runs.get() >= max_runs {
            break true;
        }
        if actions == before {
            break false;
        }
    };
    Ok(Shrunk {
        steps: actions.len(),
        scenario: base.repro_of(&actions),
        signature: original.signature,
        original_steps,
        runs: runs.get(),
        budget_spent,
    })
}

/// Delta debugging by complements: split into `n` chunks and drop the
/// first chunk whose removal keeps the failure; otherwise split finer,
/// until chunks are single steps.
pub fn delta_debug<T: Clone>(mut items: Vec<T>, fails: &mut impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut chunks = 2usize;
    while items.len() >= 2 {
        let size = items.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..items.len()).step_by(size) {
            let mut candidate = items[..start].to_vec();
            candidate.extend_from_slice(&items[(start + size).min(items.len())..]);
            if fails(&candidate) {
                items = candidate;
                chunks = (chunks - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if chunks >= items.len() {
                break;
            }
            chunks = (chunks * 2).min(items.len());
        }
    }
    items
}

/// Delta debugging over the requests of each burst (a burst keeps at
/// least one).
fn shrink_bursts(
    mut actions: Vec<Action>,
    fails: &mut impl FnMut(&[Action]) -> bool,
) -> Vec<Action> {
    for index in 0..actions.len() {
        let Action::Burst(requests) = &actions[index] else {
            continue;
        };
        if requests.len() < 2 {
            continue;
        }
        let kept = delta_debug(requests.clone(), &mut |candidate: &[Action]| {
            let mut with = actions.clone();
            with[index] = Action::Burst(candidate.to_vec());
            fails(&with)
        });
        actions[index] = Action::Burst(kept);
    }
    actions
}

/// Replaces each step by a simpler one while the failure stays.
fn simplify(mut actions: Vec<Action>, fails: &mut impl FnMut(&[Action]) -> bool) -> Vec<Action> {
    let mut index = 0;
    while index < actions.len() {
        let mut changed = false;
        for simpler in simpler_forms(&actions[index]) {
            let mut candidate = actions.clone();
            candidate[index] = simpler;
            if fails(&candidate) {
                actions = candidate;
                changed = true;
                break;
            }
        }
        if !changed {
            index += 1;
        }
    }
    actions
}

/// Joins neighbouring clock advances into one while the failure stays:
/// a failure at a window's edge needs the sum, which no single deletion
/// or halving keeps.
fn merge_advances(
    mut actions: Vec<Action>,
    fails: &mut impl FnMut(&[Action]) -> bool,
) -> Vec<Action> {
    let mut index = 0;
    while index + 1 < actions.len() {
        let merged = match (&actions[index], &actions[index + 1]) {
            (Action::AdvanceSlot { by: a }, Action::AdvanceSlot { by: b }) => {
                a.checked_add(*b).map(|by| Action::AdvanceSlot { by })
            }
            (Action::AdvanceSlot { .. } | Action::AdvanceTo { .. }, Action::AdvanceTo { slot }) => {
                Some(Action::AdvanceTo { slot: *slot })
            }
            _ => None,
        };
        if let Some(merged) = merged {
            let mut candidate = actions.clone();
            candidate.splice(index..index + 2, [merged]);
            if fails(&candidate) {
                actions = candidate;
                continue;
            }
        }
        index += 1;
    }
    actions
}

/// Strictly simpler versions of one action, most aggressive first. Each
/// is smaller in some measure, so simplification ends.
fn simpler_forms(action: &Action) -> Vec<Action> {
    let mut forms = Vec::new();
    match action {
        Action::AdvanceSlot { by } if *by > 1 => {
            forms.push(Action::AdvanceSlot { by: 1 });
            forms.push(Action::AdvanceSlot { by: by / 2 });
        }
        Action::Crash {
            unsynced,
            entries,
            other_files,
        } => {
            let with = |unsynced, entries, other_files| Action::Crash {
                unsynced,
                entries,
                other_files,
            };
            // Simpler fates first: keep every entry and every other file.
            if !entries.is_all() {
                forms.push(with(*unsynced, Entries::All, *other_files));
            }
            if !other_files.is_keep() {
                forms.push(with(*unsynced, *entries, Unsynced::Keep));
            }
            if let Unsynced::KeepPrefix(bytes) = unsynced {
                forms.push(with(Unsynced::Keep, *entries, *other_files));
                forms.push(with(Unsynced::Lose, *entries, *other_files));
                if *bytes > 0 {
                    forms.push(with(
                        Unsynced::KeepPrefix(bytes / 2),
                        *entries,
                        *other_files,
                    ));
                }
            }
        }
        Action::TearLastFrame { keep } if *keep > 0 => {
            forms.push(Action::TearLastFrame { keep: keep / 2 });
        }
        Action::FlipBit { target, bit } => {
            for target in simpler_targets(*target) {
                forms.push(Action::FlipBit { target, bit: *bit });
            }
            if *bit > 0 {
                forms.push(Action::FlipBit {
                    target: *target,
                    bit: 0,
                });
            }
        }
        Action::ArmCrash(point) => {
            forms.extend(earlier_points(*point).into_iter().map(Action::ArmCrash));
            // The process killed at once, not where the armed point fires:
            // the steps that only led to that point can then go. (A
            // recovery point is armed while the process is down already.)
            if point.path() != CrashPath::Recovery {
                forms.push(Action::crash(Unsynced::Keep));
            }
        }
        Action::ArmCrashAfter { point, passes } => {
            forms.push(Action::ArmCrash(*point));
            if *passes > 1 {
                forms.push(Action::ArmCrashAfter {
                    point: *point,
                    passes: passes / 2,
                });
            }
        }
        // A short write or read that needs fewer bytes needs fewer steps
        // to make them; no passes need no steps to spend them.
        Action::ArmIoError {
            site,
            op,
            kind,
            passes,
        } => {
            let with = |kind, passes| Action::ArmIoError {
                site: *site,
                op: *op,
                kind,
                passes,
            };
            if let IoKind::Short(bytes) = kind {
                if *bytes > 0 {
                    forms.push(with(IoKind::Short(0), *passes));
                    forms.push(with(IoKind::Short(bytes / 2), *passes));
                }
            }
            if *passes > 0 {
                forms.push(with(*kind, 0));
                forms.push(with(*kind, passes / 2));
            }
        }
        // Fewer requests in a burst is `shrink_bursts`' job; one left is a
        // plain request.
        Action::Burst(requests) => {
            if let [only] = requests.as_slice() {
                forms.push(only.clone());
            }
        }
        Action::Submit {
            client,
            operation,
            command:
                SimCommand::Reserve {
                    resources,
                    holder,
                    ttl,
                },
            behind,
        } => {
            let reserve = |resources: Vec<u128>, ttl: u64| Action::Submit {
                client: *client,
                operation: *operation,
                command: SimCommand::Reserve {
                    resources,
                    holder: *holder,
                    ttl,
                },
                behind: *behind,
            };
            if resources.len() > 1 {
                for skip in 0..resources.len() {
                    let mut fewer = resources.clone();
                    fewer.remove(skip);
                    forms.push(reserve(fewer, *ttl));
                }
            }
            if *ttl > 1 {
                forms.push(reserve(resources.clone(), 1));
                forms.push(reserve(resources.clone(), ttl / 2));
            }
        }
        _ => {}
    }
    // The smallest client id: which client sent a request matters only
    // to a burst's order and to who retries.
    if let Action::Submit {
        client,
        operation,
        command,
        behind,
    } = action
    {
        if *client > 0 {
            forms.push(Action::Submit {
                client: 0,
                operation: *operation,
                command: command.clone(),
                behind: *behind,
            });
        }
        // A request stamped at the clock is the plainer one.
        if *behind > 0 {
            forms.push(Action::Submit {
                client: *client,
                operation: *operation,
                command: command.clone(),
                behind: 0,
            });
        }
    }
    forms
}

/// A frame counted `back` from the log's end and a byte `at` within it,
/// nearer: the last frame, half as far back, and the frame's first counted
/// byte.
fn nearer_from_end(back: u32, at: u32, target: impl Fn(u32, u32) -> FlipTarget) -> Vec<FlipTarget> {
    let mut targets = Vec::new();
    if back > 0 {
        targets.push(target(0, at));
        targets.push(target(back / 2, at));
    }
    if at > 0 {
        targets.push(target(back, 0));
    }
    targets
}

/// The same file's place nearer where it is counted from.
fn simpler_targets(target: FlipTarget) -> Vec<FlipTarget> {
    match target {
        FlipTarget::WalFrame { frame, byte } => {
            let mut targets = Vec::new();
            if frame > 0 {
                targets.push(FlipTarget::WalFrame { frame: 0, byte });
            }
            if byte > 0 {
                targets.push(FlipTarget::WalFrame { frame, byte: 0 });
            }
            targets
        }
        FlipTarget::WalFrameFromEnd { back, byte } => nearer_from_end(back, byte, |back, byte| {
            FlipTarget::WalFrameFromEnd { back, byte }
        }),
        FlipTarget::WalFrameTail { back, from_end } => {
            nearer_from_end(back, from_end, |back, from_end| FlipTarget::WalFrameTail {
                back,
                from_end,
            })
        }
        FlipTarget::Snapshot { byte } if byte > 0 => vec![FlipTarget::Snapshot { byte: 0 }],
        FlipTarget::SnapshotFromEnd { back } if back > 0 => {
            vec![FlipTarget::SnapshotFromEnd { back: 0 }]
        }
        FlipTarget::Snapshot { .. } | FlipTarget::SnapshotFromEnd { .. } => Vec::new(),
    }
}

/// The crash points before `point` on its path, earliest first (before
/// the k-th replayed frame: the points before replay, the first frame,
/// then half as far).
fn earlier_points(point: CrashPoint) -> Vec<CrashPoint> {
    if let CrashPoint::RecoveryAfterReplayedFrame(k) = point {
        let mut earlier = Action::Restart.crash_points().to_vec();
        earlier.extend(
            [1, k / 2]
                .into_iter()
                .filter(|&j| j >= 1 && j < k)
                .map(CrashPoint::RecoveryAfterReplayedFrame),
        );
        earlier.dedup();
        return earlier;
    }
    let paths = [
        Action::Retry { operation: 0 },
        Action::Tick,
        Action::Checkpoint,
        Action::Restart,
    ];
    paths
        .iter()
        .map(Action::crash_points)
        .find(|path| path.contains(&point))
        .map_or(Vec::new(), |path| {
            path.iter().copied().take_while(|&p| p != point).collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_debug_finds_the_minimal_pair() {
        let items: Vec<u32> = (0..100).collect();
        let mut runs = 0;
        let result = delta_debug(items, &mut |c: &[u32]| {
            runs += 1;
            c.contains(&17) && c.contains(&83)
        });
        assert_eq!(result, vec![17, 83]);
        assert!(runs < 200, "{runs} runs");
    }

    #[test]
    fn delta_debug_keeps_a_single_needed_item() {
        let result = delta_debug(vec![1, 2, 3], &mut |c: &[i32]| c.contains(&2));
        assert_eq!(result, vec![2]);
    }

    #[test]
    fn neighbouring_advances_are_joined_while_the_failure_stays() {
        let advance = |by| Action::AdvanceSlot { by };
        let total = |actions: &[Action]| -> u64 {
            actions
                .iter()
                .map(|a| match a {
                    Action::AdvanceSlot { by } => *by,
                    _ => 0,
                })
                .sum()
        };
        let actions = vec![
            advance(1),
            advance(1),
            advance(20),
            Action::Tick,
            advance(2),
            advance(24),
        ];
        let mut runs = 0;
        let merged = merge_advances(actions, &mut |c: &[Action]| {
            runs += 1;
            total(c) == 48
        });
        assert_eq!(merged, vec![advance(22), Action::Tick, advance(26)]);
        assert_eq!(runs, 3);
        // A merge the failure does not survive is not kept.
        let kept = merge_advances(vec![advance(1), advance(2)], &mut |c: &[Action]| {
            c.len() == 2
        });
        assert_eq!(kept, vec![advance(1), advance(2)]);
    }

    #[test]
    fn simpler_forms_are_simpler() {
        let burst = Action::Burst(vec![
            Action::Retry { operation: 1 },
            Action::Retry { operation: 2 },
        ]);
        // Cutting requests out of a burst is delta debugging's job.
        assert!(simpler_forms(&burst).is_empty());
        assert_eq!(
            simpler_forms(&Action::Burst(vec![Action::Retry { operation: 2 }])),
            vec![Action::Retry { operation: 2 }]
        );
        assert!(simpler_forms(&Action::AdvanceSlot { by: 1 }).is_empty());
        assert_eq!(
            simpler_forms(&Action::ArmCrash(CrashPoint::ClientAfterSync)),
            vec![
                Action::ArmCrash(CrashPoint::ClientBeforeAppend),
                Action::ArmCrash(CrashPoint::ClientAfterAppend),
                Action::crash(Unsynced::Keep),
            ]
        );
        assert_eq!(
            simpler_forms(&Action::ArmCrash(CrashPoint::ExpireBeforeAppend)),
            vec![Action::crash(Unsynced::Keep)]
        );
        let io = |kind, passes| Action::ArmIoError {
            site: allocdb_core::fs::Site::WalRewriteRead,
            op: allocdb_core::fs::FsOpKind::Read,
            kind,
            passes,
        };
        assert_eq!(
            simpler_forms(&io(IoKind::Short(3140), 3)),
            vec![
                io(IoKind::Short(0), 3),
                io(IoKind::Short(1570), 3),
                io(IoKind::Short(3140), 0),
                io(IoKind::Short(3140), 1),
            ]
        );
        assert!(simpler_forms(&io(IoKind::Eio, 0)).is_empty());
        assert_eq!(
            simpler_forms(&Action::ArmCrash(CrashPoint::RecoveryAfterReplayedFrame(6))),
            vec![
                Action::ArmCrash(CrashPoint::RecoveryAfterSnapshotLoad),
                Action::ArmCrash(CrashPoint::RecoveryAfterTornTailTruncate),
                Action::ArmCrash(CrashPoint::RecoveryAfterReplayedFrame(1)),
                Action::ArmCrash(CrashPoint::RecoveryAfterReplayedFrame(3)),
            ]
        );
        assert_eq!(
            simpler_forms(&Action::FlipBit {
                target: FlipTarget::WalFrameFromEnd { back: 3, byte: 9 },
                bit: 5,
            }),
            vec![
                Action::FlipBit {
                    target: FlipTarget::WalFrameFromEnd { back: 0, byte: 9 },
                    bit: 5,
                },
                Action::FlipBit {
                    target: FlipTarget::WalFrameFromEnd { back: 1, byte: 9 },
                    bit: 5,
                },
                Action::FlipBit {
                    target: FlipTarget::WalFrameFromEnd { back: 3, byte: 0 },
                    bit: 5,
                },
                Action::FlipBit {
                    target: FlipTarget::WalFrameFromEnd { back: 3, byte: 9 },
                    bit: 0,
                },
            ]
        );
        let flip_first = Action::FlipBit {
            target: FlipTarget::Snapshot { byte: 0 },
            bit: 0,
        };
        assert!(simpler_forms(&flip_first).is_empty());
        assert!(simpler_forms(&Action::Tick).is_empty());
    }
}
