//! Crash-state exploration: the enumeration matches a hand count, is the
//! same for any number of jobs, passes on real scenarios and reports
//! failures when the simulator's self-test makes the model wrong.

use allocdb_core::engine::fault::CrashPoint;
use allocdb_sim::action::{Entries, Unsynced};
use allocdb_sim::driver::{RunError, SelfTest};
use allocdb_sim::explore::{enumerate, explore, Class, Stop};
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
/// passes five points with the WAL synced. After the snapshot temp file is
/// written, its create is pending (lost: one state; kept: its unsynced
/// bytes lost, cut in half or kept, three): 4. After each rename, its temp
/// file's create and the rename are pending: none, one or both kept, 3
/// each. After each directory sync: 1 each. 4 + 3 + 1 + 3 + 1 = 12. 28 in
/// all crash states.
///
/// Then each of the checkpoint's eleven operations fails in turn: one state
/// restarts the process as the failure left the files, and a power loss
/// follows in the others, keeping each prefix of the entry operations then
/// pending (and, where the kept entries hold a temp file's unsynced bytes,
/// losing them, halving them or keeping them). Snapshot temp file: its
/// create (nothing pending: 1 + 1), its write (the create pending: 1 + 2),
/// its sync (the create pending, the file's bytes unsynced: 1 + 1 + 3);
/// its rename (the create pending: 1 + 2); the directory sync (create and
/// rename pending: 1 + 3); the old log's read (1 + 1); the new log's
/// temp file likewise (2, 3, 5), its rename (3) and its directory sync
/// (4). 2 + 3 + 5 + 3 + 4 + 2 + 2 + 3 + 5 + 3 + 4 = 36: 64 in all.
#[test]
fn the_enumeration_matches_a_hand_count() {
    let states = enumerate(&small()).unwrap();
    assert_eq!(states.len(), 64, "{states:#?}");
    let mut io_states: Vec<(Stop, usize)> = Vec::new();
    for state in states
        .iter()
        .filter(|s| matches!(s.stop, Stop::IoError(..)))
    {
        match io_states.last_mut() {
            Some((stop, count)) if *stop == state.stop => *count += 1,
            _ => io_states.push((state.stop, 1)),
        }
    }
    use allocdb_core::fs::{FsOpKind as Op, Site};
    let io = |site, op, count| (Stop::IoError(site, op), count);
    assert_eq!(
        io_states,
        [
            io(Site::SnapshotTemp, Op::Create, 2),
            io(Site::SnapshotTemp, Op::Write, 3),
            io(Site::SnapshotTemp, Op::Sync, 5),
            io(Site::SnapshotRename, Op::Rename, 3),
            io(Site::SnapshotDirectory, Op::SyncDirectory, 4),
            io(Site::WalRewriteRead, Op::Read, 2),
            io(Site::WalRewriteTemp, Op::Create, 2),
            io(Site::WalRewriteTemp, Op::Write, 3),
            io(Site::WalRewriteTemp, Op::Sync, 5),
            io(Site::WalRewriteRename, Op::Rename, 3),
            io(Site::WalDirectory, Op::SyncDirectory, 4),
        ]
    );
    assert!(
        states
            .iter()
            .filter(|s| !s.power_loss)
            .all(|s| matches!(s.stop, Stop::IoError(..))),
        "only an I/O error leaves a process to restart"
    );
    let after_append: Vec<Unsynced> = states
        .iter()
        .filter(|s| s.step == 0 && s.stop == Stop::Point(CrashPoint::ClientAfterAppend))
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
    let checkpoint: Vec<(CrashPoint, Entries, Unsynced)> = states
        .iter()
        .filter_map(|s| match s.stop {
            Stop::Point(point) if s.step == 2 => Some((point, s.entries, s.other_files)),
            _ => None,
        })
        .collect();
    use CrashPoint::*;
    use Entries::{All, First};
    use Unsynced::{Keep, KeepPrefix, Lose};
    let temp = match checkpoint[2].2 {
        KeepPrefix(half) => half,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        checkpoint,
        [
            (CheckpointAfterSnapshotTemp, First(0), Keep),
            (CheckpointAfterSnapshotTemp, All, Lose),
            (CheckpointAfterSnapshotTemp, All, KeepPrefix(temp)),
            (CheckpointAfterSnapshotTemp, All, Keep),
            (CheckpointAfterSnapshotRename, First(0), Keep),
            (CheckpointAfterSnapshotRename, First(1), Keep),
            (CheckpointAfterSnapshotRename, All, Keep),
            (CheckpointAfterSnapshot, All, Keep),
            (CheckpointAfterWalRename, First(0), Keep),
            (CheckpointAfterWalRename, First(1), Keep),
            (CheckpointAfterWalRename, All, Keep),
            (CheckpointAfterWalRewrite, All, Keep),
        ]
    );
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
        .map(|s| match s.stop {
            Stop::Point(point) => (point, s.passes),
            other => panic!("a tick has no I/O error state: {other:?}"),
        })
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
    assert_eq!(one.enumerated, 64);
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
    assert_eq!(bounded.enumerated, 64);
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

/// With a sync ignored by the model, exploration finds the crash states
/// that lose what the sync protected, and names them: the WAL's directory
/// sync (the crash that keeps none of the pending entries loses the WAL)
/// and the snapshot temp file's sync (losing its bytes after the rename
/// leaves a snapshot recovery must refuse).
#[test]
fn ignoring_a_sync_makes_the_states_it_protected_fail() {
    use allocdb_sim::fs_model::SyncSite;
    use allocdb_sim::oracle::Oracle;
    for (site, oracle, needs) in [
        (
            SyncSite::WalDirectory,
            Oracle::Durability,
            "keeping the first 0 pending entry operations",
        ),
        (
            SyncSite::SnapshotTemp,
            Oracle::ReplayEquivalence,
            "other files",
        ),
    ] {
        let mut scenario = small();
        scenario.selftest = Some(SelfTest::IgnoreSync(site));
        let exploration = explore(&scenario, 2, None).unwrap();
        let failed: Vec<String> = exploration
            .results
            .iter()
            .filter(|r| matches!(&r.outcome, Err(RunError::Oracle(f)) if f.oracle == oracle))
            .map(|r| r.state.describe())
            .collect();
        assert!(!failed.is_empty(), "{site:?}: no state failed {oracle:?}");
        assert!(
            failed.iter().all(|d| d.contains(needs)),
            "{site:?}: {failed:#?}"
        );
    }
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
