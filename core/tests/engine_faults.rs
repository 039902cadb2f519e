//! Every crash point and persist failure through the public fault seams
//! (a persist failure is an I/O error armed at the WAL's append or sync):
//! after the crash only the files remain; recovery yields the durable
//! prefix, and a retry of the in-flight operation applies exactly once.

#[path = "support/scratch_dir.rs"]
mod scratch_dir;

use allocdb_core::engine::fault::{CrashPoint, Faults};
use allocdb_core::engine::{
    CheckpointError, Engine, EngineConfig, OpenError, ReadError, SubmitError,
};
use allocdb_core::fs::fault::{IoEffect, IoErrorKind, IoFault};
use allocdb_core::fs::{observe, FsOpKind, Site};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, HolderId, OperationId, Outcome, ResourceId,
    ResourceState, Slot,
};
use std::path::Path;

fn request(operation: u128, command: Command) -> ClientRequest {
    ClientRequest {
        operation_id: OperationId(operation),
        client_id: ClientId(1),
        command,
    }
}

fn create(id: u128) -> ClientRequest {
    request(
        id,
        Command::CreateResource {
            resource_id: ResourceId(id),
        },
    )
}

fn reserve(operation: u128, id: u128, ttl: u64) -> ClientRequest {
    request(
        operation,
        Command::Reserve {
            resources: Bundle::from_slice(&[ResourceId(id)]).unwrap(),
            holder_id: HolderId(1),
            ttl_slots: ttl,
        },
    )
}

fn open(dir: &Path) -> Engine {
    Engine::open(dir, EngineConfig::small())
        .expect("recovery")
        .0
}

/// A crash leaves only the files: unsynced bytes may be lost. Model the
/// worst case by cutting the WAL to its durable length.
fn lose_unsynced(dir: &Path, durable_len: u64) {
    let wal = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join(allocdb_core::wal::WAL_FILE_NAME))
        .unwrap();
    wal.set_len(durable_len).unwrap();
}

/// Runs the client write path with a crash at `point`, restarts (keeping or
/// losing unsynced bytes), retries the same operation, and checks it took
/// effect exactly once.
fn crash_client_write(point: CrashPoint, lose: bool) {
    let dir = scratch_dir::scratch_dir();
    let mut engine = open(dir.path());
    engine.submit(create(1), Slot(1)).unwrap();
    engine.arm_crash(point);
    let in_flight = create(2);
    let error = engine.submit(in_flight, Slot(1)).unwrap_err();
    assert_eq!(error, SubmitError::Crashed(point));
    assert!(!error.is_definite());
    assert_eq!(
        engine.submit(create(3), Slot(1)),
        Err(SubmitError::Crashed(point))
    );
    let durable = engine.durable_wal_len();
    drop(engine);
    if lose {
        lose_unsynced(dir.path(), durable);
    }

    let mut engine = open(dir.path());
    engine.state_machine().check_invariants().unwrap();
    let durable_before_crash = match point {
        CrashPoint::ClientBeforeAppend => false,
        CrashPoint::ClientAfterAppend => !lose,
        _ => true,
    };
    assert_eq!(
        engine.state_machine().get_resource(ResourceId(2)).is_some(),
        durable_before_crash,
        "{point:?} lose={lose}: recovered state is the durable prefix"
    );
    assert!(engine.state_machine().get_resource(ResourceId(1)).is_some());
    let retry = engine.submit(in_flight, Slot(1)).unwrap();
    assert_eq!(
        retry.outcome,
        Outcome::ResourceCreated,
        "never already_exists: applied once"
    );
    assert_eq!(
        retry.from_retry_cache, durable_before_crash,
        "{point:?} lose={lose}"
    );
}

#[test]
fn client_write_crash_points() {
    for point in [
        CrashPoint::ClientBeforeAppend,
        CrashPoint::ClientAfterAppend,
        CrashPoint::ClientAfterSync,
        CrashPoint::ClientAfterApply,
    ] {
        crash_client_write(point, false);
        crash_client_write(point, true);
    }
}

#[test]
fn expire_crash_points() {
    for point in [
        CrashPoint::ExpireBeforeAppend,
        CrashPoint::ExpireAfterAppend,
        CrashPoint::ExpireAfterSync,
        CrashPoint::ExpireAfterApply,
    ] {
        for lose in [false, true] {
            let dir = scratch_dir::scratch_dir();
            let mut engine = open(dir.path());
            engine.submit(create(1), Slot(0)).unwrap();
            engine.submit(reserve(10, 1, 2), Slot(0)).unwrap();
            engine.arm_crash(point);
            assert_eq!(
                engine.tick_expirations(Slot(5)),
                Err(SubmitError::Crashed(point))
            );
            let durable = engine.durable_wal_len();
            drop(engine);
            if lose {
                lose_unsynced(dir.path(), durable);
            }
            let mut engine = open(dir.path());
            let expired_durably = match point {
                CrashPoint::ExpireBeforeAppend => false,
                CrashPoint::ExpireAfterAppend => !lose,
                _ => true,
            };
            let state = engine
                .state_machine()
                .get_resource(ResourceId(1))
                .unwrap()
                .state;
            let expected = if expired_durably {
                ResourceState::Available
            } else {
                ResourceState::Reserved
            };
            assert_eq!(state, expected, "{point:?} lose={lose}");
            // The next tick finishes the job exactly once.
            let report = engine.tick_expirations(Slot(5)).unwrap();
            assert_eq!(report.expired, u32::from(!expired_durably));
            assert_eq!(
                engine
                    .state_machine()
                    .get_resource(ResourceId(1))
                    .unwrap()
                    .state,
                ResourceState::Available
            );
        }
    }
}

#[test]
fn checkpoint_crash_points_recover_the_same_state() {
    for point in [
        CrashPoint::CheckpointAfterSnapshotTemp,
        CrashPoint::CheckpointAfterSnapshotRename,
        CrashPoint::CheckpointAfterSnapshot,
        CrashPoint::CheckpointAfterWalRename,
        CrashPoint::CheckpointAfterWalRewrite,
    ] {
        let dir = scratch_dir::scratch_dir();
        let mut engine = open(dir.path());
        for id in 1..=4 {
            engine.submit(create(id), Slot(id as u64)).unwrap();
        }
        engine.checkpoint().unwrap();
        for id in 5..=7 {
            engine.submit(create(id), Slot(id as u64)).unwrap();
        }
        let digest = engine.state_machine().digest();
        engine.arm_crash(point);
        assert!(
            matches!(engine.checkpoint(), Err(CheckpointError::Crashed(p)) if p == point),
            "{point:?}"
        );
        drop(engine);
        let mut engine = open(dir.path());
        assert_eq!(engine.state_machine().digest(), digest, "{point:?}");
        // And the log keeps working afterwards, across another restart.
        engine.submit(create(8), Slot(9)).unwrap();
        let digest = engine.state_machine().digest();
        drop(engine);
        assert_eq!(
            open(dir.path()).state_machine().digest(),
            digest,
            "{point:?}"
        );
    }
}

#[test]
fn recovery_crash_points_leave_recoverable_files() {
    let base = scratch_dir::scratch_dir();
    let mut engine = open(base.path());
    for id in 1..=3 {
        engine.submit(create(id), Slot(0)).unwrap();
    }
    engine.checkpoint().unwrap();
    for id in 4..=6 {
        engine.submit(create(id), Slot(0)).unwrap();
    }
    let digest = engine.state_machine().digest();
    drop(engine);
    // Leave a torn tail so the truncate point is reached.
    let wal = base.path().join(allocdb_core::wal::WAL_FILE_NAME);
    let mut bytes = std::fs::read(&wal).unwrap();
    bytes.extend_from_slice(&[0xAB; 7]);
    std::fs::write(&wal, &bytes).unwrap();

    for point in [
        CrashPoint::RecoveryAfterSnapshotLoad,
        CrashPoint::RecoveryAfterTornTailTruncate,
        CrashPoint::RecoveryAfterReplayedFrame(1),
        CrashPoint::RecoveryAfterReplayedFrame(3),
    ] {
        let dir = scratch_dir::scratch_dir();
        for entry in std::fs::read_dir(base.path()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
        let faults = Faults {
            crash: Some(point),
            crash_passes: 0,
        };
        match Engine::open_with_faults(dir.path(), EngineConfig::small(), faults) {
            Err(OpenError::Crashed(p)) => assert_eq!(p, point),
            other => panic!("{point:?}: expected a crash, got {:?}", other.map(|_| ())),
        }
        let (engine, report) = Engine::open(dir.path(), EngineConfig::small()).unwrap();
        assert_eq!(engine.state_machine().digest(), digest, "{point:?}");
        assert_eq!(report.frames_replayed, 3);
    }
}

#[test]
fn persist_failures_halt_and_resolve_exactly_once_after_restart() {
    let append = |effect| (Site::WalAppend, FsOpKind::Write, effect);
    for failure in [
        append(IoEffect::Fail(IoErrorKind::Eio)),
        append(IoEffect::Short { bytes: 1 }),
        append(IoEffect::Short { bytes: 40 }),
        (
            Site::WalSync,
            FsOpKind::Sync,
            IoEffect::Fail(IoErrorKind::Eio),
        ),
    ] {
        for lose in [false, true] {
            let dir = scratch_dir::scratch_dir();
            let observation = observe(dir.path());
            let mut engine = open(dir.path());
            engine.submit(create(1), Slot(0)).unwrap();
            let (site, op, effect) = failure;
            observation
                .arm_io_fault(IoFault {
                    site,
                    op,
                    passes: 0,
                    effect,
                })
                .unwrap();
            let in_flight = create(2);
            let error = engine.submit(in_flight, Slot(0)).unwrap_err();
            assert!(
                matches!(error, SubmitError::StorageFailure { .. }),
                "{failure:?}"
            );
            assert!(!error.is_definite());
            assert!(engine.is_halted());
            assert_eq!(
                engine.submit(create(3), Slot(0)),
                Err(SubmitError::EngineHalted)
            );
            assert_eq!(
                engine.get_resource(ResourceId(1), None),
                Err(ReadError::EngineHalted),
                "reads fail closed"
            );
            assert!(matches!(
                engine.checkpoint(),
                Err(CheckpointError::EngineHalted)
            ));
            let durable = engine.durable_wal_len();
            drop(engine);
            if lose {
                lose_unsynced(dir.path(), durable);
            }
            let mut engine = open(dir.path());
            let survived = site == Site::WalSync && !lose;
            assert_eq!(
                engine.state_machine().get_resource(ResourceId(2)).is_some(),
                survived
            );
            let retry = engine.submit(in_flight, Slot(0)).unwrap();
            assert_eq!(retry.outcome, Outcome::ResourceCreated);
            assert_eq!(retry.from_retry_cache, survived, "{failure:?} lose={lose}");
        }
    }
}

/// Found by the simulator (seed 30): a checkpoint crashed after its snapshot
/// was in place but before the WAL rewrite; then the WAL's last frame, which
/// the snapshot covers, was damaged and read as a torn tail. Nothing is lost,
/// so recovery must succeed, and the log must stay recoverable afterwards.
#[test]
fn a_torn_frame_the_snapshot_covers_loses_nothing() {
    let dir = scratch_dir::scratch_dir();
    let mut engine = open(dir.path());
    for id in 1..=3 {
        engine.submit(create(id), Slot(0)).unwrap();
    }
    let digest = engine.state_machine().digest();
    engine.arm_crash(CrashPoint::CheckpointAfterSnapshot);
    assert!(matches!(
        engine.checkpoint(),
        Err(CheckpointError::Crashed(
            CrashPoint::CheckpointAfterSnapshot
        ))
    ));
    drop(engine);
    let wal = dir.path().join(allocdb_core::wal::WAL_FILE_NAME);
    let bytes = std::fs::read(&wal).unwrap();
    let mut damaged = bytes.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    std::fs::write(&wal, &damaged).unwrap();

    let (mut engine, report) = Engine::open(dir.path(), EngineConfig::small()).unwrap();
    // The damaged frame is the last create, cut whole (a create's frame
    // is 81 bytes).
    assert_eq!(report.torn_bytes, 81);
    assert_eq!(engine.state_machine().digest(), digest);
    engine.submit(create(4), Slot(0)).unwrap();
    let digest = engine.state_machine().digest();
    drop(engine);
    assert_eq!(open(dir.path()).state_machine().digest(), digest);
}

#[test]
fn a_crashed_engine_is_crashed_not_halted_and_refuses_everything() {
    let dir = scratch_dir::scratch_dir();
    let mut engine = open(dir.path());
    engine.arm_crash(CrashPoint::ClientAfterSync);
    assert_eq!(
        engine.submit(create(1), Slot(0)),
        Err(SubmitError::Crashed(CrashPoint::ClientAfterSync))
    );
    assert!(engine.is_crashed());
    assert!(!engine.is_halted(), "halted is a storage failure's state");
    assert_eq!(
        engine.submit(create(2), Slot(0)),
        Err(SubmitError::Crashed(CrashPoint::ClientAfterSync))
    );
    assert_eq!(
        engine.get_resource(ResourceId(1), None),
        Err(allocdb_core::engine::ReadError::EngineHalted),
        "a crashed engine serves no reads"
    );
}
