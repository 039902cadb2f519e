//! Hand-written action scripts through every driver path; each must pass
//! all oracles, and the transcript must be the same on every run.

use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::engine::EngineConfig;
use allocdb_sim::action::PersistFailure;
use allocdb_sim::action::{Action, FlipTarget, SimCommand, Unsynced};
use allocdb_sim::driver::{RunError, SelfTest, SimConfig, Simulator};
use allocdb_sim::fence::Fence;
use allocdb_sim::lease_ref::LeaseRef;
use allocdb_sim::oracle::Oracle;

fn submit(op: u128, command: SimCommand) -> Action {
    Action::Submit {
        client: (op % 3) as u32,
        operation: op,
        command,
        behind: 0,
    }
}

fn create(op: u128, resource: u128) -> Action {
    submit(op, SimCommand::CreateResource { resource })
}

fn reserve(op: u128, resources: &[u128], ttl: u64) -> Action {
    submit(
        op,
        SimCommand::Reserve {
            resources: resources.to_vec(),
            holder: 1,
            ttl,
        },
    )
}

fn config() -> SimConfig {
    SimConfig::new(EngineConfig::small())
}

fn run(actions: &[Action]) -> Result<String, RunError> {
    let mut sim = Simulator::new(7, config(), &[])?;
    for action in actions {
        sim.step(action)?;
    }
    Ok(sim
        .transcript()
        .text()
        .expect("a simulator keeps its text unless told")
        .to_string())
}

fn script() -> Vec<Action> {
    use Action::*;
    vec![
        create(1, 10),
        create(2, 11),
        create(3, 12),
        reserve(4, &[10, 11], 3),
        ArmCrash(CrashPoint::ClientAfterAppend),
        create(5, 13),
        Action::crash(Unsynced::Lose),
        Restart,
        Retry { operation: 5 },
        ArmCrash(CrashPoint::ClientAfterAppend),
        create(6, 14),
        Action::crash(Unsynced::Keep),
        Restart,
        Retry { operation: 6 },
        ArmCrash(CrashPoint::ClientAfterAppend),
        create(7, 15),
        TearLastFrame { keep: 5 },
        Restart,
        Retry { operation: 7 },
        ArmPersistFailure(PersistFailure::SyncFails),
        create(8, 16),
        create(9, 17),
        Restart,
        Retry { operation: 8 },
        Retry { operation: 9 },
        ArmPersistFailure(PersistFailure::PartialAppend { bytes: 20 }),
        create(20, 30),
        Action::crash(Unsynced::Keep),
        Restart,
        Retry { operation: 20 },
        Checkpoint,
        AdvanceSlot { by: 4 },
        ArmCrash(CrashPoint::ExpireAfterAppend),
        Tick,
        Action::crash(Unsynced::Lose),
        Restart,
        Tick,
        reserve(10, &[10], 5),
        ArmCrash(CrashPoint::CheckpointAfterSnapshot),
        Checkpoint,
        Restart,
        Checkpoint,
        create(11, 18),
        create(12, 19),
        Action::crash(Unsynced::Keep),
        FlipBit {
            target: FlipTarget::WalFrame { frame: 0, byte: 9 },
            bit: 3,
        },
        Restart,
        Action::crash(Unsynced::Keep),
        FlipBit {
            target: FlipTarget::Snapshot { byte: 40 },
            bit: 0,
        },
        Restart,
        ArmCrash(CrashPoint::RecoveryAfterReplayedFrame(1)),
        Action::crash(Unsynced::Keep),
        Restart,
        Restart,
        ReadResource {
            resource: 10,
            required_lsn: None,
        },
        ReadResource {
            resource: 10,
            required_lsn: Some(Fence::Lsn(10_000)),
        },
        ReadLease {
            lease: LeaseRef::Id(4),
            required_lsn: None,
        },
        Retry { operation: 1 },
        AdvanceSlot { by: 100 },
        Retry { operation: 1 },
    ]
}

#[test]
fn every_path_passes_the_oracles_and_replays_byte_for_byte() {
    let first = run(&script()).unwrap_or_else(|e| panic!("{e}"));
    if std::env::var("PRINT").is_ok() {
        println!("{first}");
    }
    let second = run(&script()).unwrap();
    assert_eq!(first, second);
    for expected in [
        "crashed at client_after_append",
        "storage_failure (sync_fails)",
        "storage_failure (partial_append)",
        "crashed at expire_after_append",
        "crashed at checkpoint_after_snapshot",
        "failed closed as expected (WalCorruption { offset: 0, bad: ChecksumMismatch, not_torn: BytesAfterClaimedEnd { claimed_end: 41 } })",
        "failed closed as expected (SnapshotChecksum)",
        "crashed at recovery_after_replayed_frame",
        "(cached)",
        "torn=",
    ] {
        assert!(
            first.contains(expected),
            "transcript lacks {expected:?}:\n{first}"
        );
    }
    assert!(!first.contains("/"), "no paths in a transcript:\n{first}");
}

#[test]
fn selftest_wrong_model_is_caught_by_model_agreement() {
    let mut sim = Simulator::new(
        7,
        SimConfig {
            selftest: Some(SelfTest::WrongModel),
            ..config()
        },
        &[],
    )
    .unwrap();
    sim.step(&create(1, 10)).unwrap();
    let error = sim.step(&reserve(2, &[10], 3)).unwrap_err();
    match error {
        RunError::Oracle(failure) => {
            assert_eq!(failure.oracle, Oracle::ModelAgreement);
            assert_eq!((failure.seed, failure.step), (7, 2));
        }
        other => panic!("{other}"),
    }
}

#[test]
fn invalid_actions_are_typed_errors() {
    let mut sim = Simulator::new(1, config(), &[]).unwrap();
    assert!(matches!(
        sim.step(&Action::Retry { operation: 99 }),
        Err(RunError::InvalidAction { step: 1, .. })
    ));
    assert!(matches!(
        sim.step(&Action::TearLastFrame { keep: 1 }),
        Err(RunError::InvalidAction { .. })
    ));
    let too_big = reserve(3, &(0..17).collect::<Vec<u128>>(), 1);
    assert!(matches!(
        sim.step(&too_big),
        Err(RunError::InvalidAction { .. })
    ));
}
