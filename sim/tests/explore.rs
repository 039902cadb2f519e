//! Crash-state exploration: the enumeration matches a hand count, is the
//! same for any number of jobs, passes on real scenarios and reports
//! failures when the simulator's self-test makes the model wrong.

use allocdb_core::engine::fault::CrashPoint;
use allocdb_sim::action::Unsynced;
use allocdb_sim::driver::SelfTest;
use allocdb_sim::explore::{enumerate, explore, Class};
use allocdb_sim::scenario::{load, parse, Scenario};
use std::path::Path;

const SMALL: &str = "Scenario(steps: [
    Submit(client: 1, operation: 1, command: CreateResource(resource: 1)),
    Submit(client: 1, operation: 2, command: Reserve(resources: [1], holder: 7, ttl: 5)),
    Checkpoint,
])";

fn small() -> Scenario {
    parse(SMALL, "small.ron").unwrap()
}

/// By hand: each client write passes four crash points. Before append and
/// after sync or apply nothing is unsynced: one state each. After append
/// one frame is unsynced: lost, kept, or torn at its first, middle and last
/// byte: five states. Two writes: 2 x (1 + 5 + 1 + 1) = 16. The checkpoint
/// passes five points with the WAL synced: 5 more. 21 in all.
#[test]
fn the_enumeration_matches_a_hand_count() {
    let states = enumerate(&small()).unwrap();
    assert_eq!(states.len(), 21, "{states:#?}");
    let after_append: Vec<Unsynced> = states
        .iter()
        .filter(|s| s.step == 0 && s.point == CrashPoint::ClientAfterAppend)
        .map(|s| s.kept)
        .collect();
    // The create frame is 81 bytes.
    assert_eq!(
        after_append,
        [
            Unsynced::Lose,
            Unsynced::KeepPrefix(1),
            Unsynced::KeepPrefix(40),
            Unsynced::KeepPrefix(80),
            Unsynced::Keep
        ]
    );
    let checkpoint = states.iter().filter(|s| s.step == 2).count();
    assert_eq!(checkpoint, 5);
}

/// A tick that expires two leases reaches each expire point twice: both
/// arrivals are crashed, the second with the first expiry durable.
#[test]
fn every_command_of_a_tick_is_crashed() {
    let scenario = parse(
        "Scenario(steps: [
            Submit(client: 1, operation: 1, command: CreateResource(resource: 1)),
            Submit(client: 1, operation: 2, command: CreateResource(resource: 2)),
            Submit(client: 1, operation: 3, command: Reserve(resources: [1], holder: 7, ttl: 1)),
            Submit(client: 1, operation: 4, command: Reserve(resources: [2], holder: 7, ttl: 1)),
            AdvanceSlot(by: 1),
            Tick,
        ])",
        "tick.ron",
    )
    .unwrap();
    let states = enumerate(&scenario).unwrap();
    let tick: Vec<(CrashPoint, u32)> = states
        .iter()
        .filter(|s| s.step == 5 && s.kept == Unsynced::Lose)
        .map(|s| (s.point, s.passes))
        .collect();
    assert_eq!(
        tick,
        [
            (CrashPoint::ExpireBeforeAppend, 0),
            (CrashPoint::ExpireBeforeAppend, 1),
            (CrashPoint::ExpireAfterAppend, 0),
            (CrashPoint::ExpireAfterAppend, 1),
            (CrashPoint::ExpireAfterSync, 0),
            (CrashPoint::ExpireAfterSync, 1),
            (CrashPoint::ExpireAfterApply, 0),
            (CrashPoint::ExpireAfterApply, 1),
        ]
    );
    let exploration = explore(&scenario, 2, None).unwrap();
    for result in &exploration.results {
        assert!(
            result.outcome.is_ok(),
            "{}: {:?}",
            result.state.describe(),
            result.outcome.as_ref().err()
        );
    }
}

#[test]
fn exploration_is_deterministic_and_every_state_passes() {
    let one = explore(&small(), 1, None).unwrap();
    let two = explore(&small(), 2, None).unwrap();
    assert_eq!(one.enumerated, 21);
    let summary = |e: &allocdb_sim::explore::Exploration| -> Vec<String> {
        e.results
            .iter()
            .map(|r| {
                format!(
                    "{:?} {:?} {:?}",
                    r.state,
                    r.outcome.as_ref().ok(),
                    r.actions
                )
            })
            .collect()
    };
    assert_eq!(summary(&one), summary(&two));
    for result in &one.results {
        assert!(
            result.outcome.is_ok(),
            "{:?}: {:?}",
            result.state,
            result.outcome.as_ref().err()
        );
    }
    let torn = one
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Ok(Class::TornTruncated)))
        .count();
    assert_eq!(torn, 6, "three tears of each of two frames");
}

#[test]
fn the_bound_stops_exploration_and_says_how_many_there_were() {
    let bounded = explore(&small(), 2, Some(5)).unwrap();
    assert_eq!(bounded.results.len(), 5);
    assert_eq!(bounded.enumerated, 21);
}

#[test]
fn a_wrong_model_makes_states_fail() {
    let mut scenario = small();
    scenario.selftest = Some(SelfTest::WrongModel);
    let exploration = explore(&scenario, 2, None).unwrap();
    let failed = exploration
        .results
        .iter()
        .filter(|r| r.outcome.is_err())
        .count();
    assert!(failed > 0, "no state failed with the model wrong");
}

/// Five library scenarios (one with a checkpoint, one with restarts),
/// every crash state passing: the CI share of exploration.
#[test]
fn library_scenarios_survive_every_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for file in [
        "scenarios/basics/reserve-and-expire.ron",
        "scenarios/crash/checkpoint-after-snapshot.ron",
        "scenarios/semantics/bundle-atomicity.ron",
        "scenarios/semantics/stale-epoch-after-revoke.ron",
        "scenarios/storage/torn-tail-middle-byte.ron",
    ] {
        let scenario = load(&root.join(file)).unwrap();
        let exploration = explore(&scenario, 2, None).unwrap();
        assert!(exploration.enumerated > 0, "{file}");
        for result in &exploration.results {
            assert!(
                result.outcome.is_ok(),
                "{file}: {:?}: {}",
                result.state,
                result.outcome.as_ref().err().unwrap()
            );
        }
        eprintln!("{file}: {} states", exploration.enumerated);
    }
}
