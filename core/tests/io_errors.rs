//! An I/O error at every operation the engine makes, through the one fault
//! seam (`fs::fault`): the call that meets it answers with that
//! operation's error; a running engine halts (writes `engine_halted`, reads
//! fail closed), a recovery refuses; and the next open without the fault
//! recovers every acknowledged write, whatever the failure left on disk.

#[path = "support/requests.rs"]
mod requests;
#[path = "support/scratch_dir.rs"]
mod scratch_dir;

use allocdb_core::engine::{CheckpointError, Engine, EngineConfig, OpenError, SubmitError};
use allocdb_core::fs::fault::{IoEffect, IoErrorKind, IoFault};
use allocdb_core::fs::{observe, FsOpKind, Observation, Site};
use allocdb_core::snapshot::LoadError;
use allocdb_core::{ResourceId, Slot};
use requests::create;
use std::io;
use std::path::Path;

fn open(dir: &Path) -> Result<Engine, OpenError> {
    Engine::open(dir, EngineConfig::small()).map(|(engine, _)| engine)
}

/// Every effect an operation can meet: both errors, and a short write or
/// read of `short` bytes where the operation writes or reads.
fn effects(op: FsOpKind, short: u32) -> Vec<IoEffect> {
    let mut effects = vec![
        IoEffect::Fail(IoErrorKind::Eio),
        IoEffect::Fail(IoErrorKind::Enospc),
    ];
    if matches!(op, FsOpKind::Write | FsOpKind::Read) {
        effects.push(IoEffect::Short { bytes: short });
    }
    effects
}

fn arm(observation: &Observation, site: Site, op: FsOpKind, effect: IoEffect) {
    let fault = IoFault {
        site,
        op,
        passes: 0,
        effect,
    };
    observation.arm_io_fault(fault).unwrap();
}

/// Whether `error` is what an operation failing as `effect` returns.
fn is_error_of(effect: IoEffect, op: FsOpKind, error: &io::Error) -> bool {
    match (effect, op) {
        (IoEffect::Fail(kind), _) => IoErrorKind::of(error) == Some(kind),
        (IoEffect::Short { .. }, FsOpKind::Read) => error.kind() == io::ErrorKind::UnexpectedEof,
        (IoEffect::Short { .. }, _) => IoErrorKind::of(error) == Some(IoErrorKind::Enospc),
    }
}

/// Three resources created, a checkpoint between them: a log with frames
/// on both sides of a snapshot.
fn engine_with_history(dir: &Path) -> Engine {
    let mut engine = open(dir).unwrap();
    engine.submit(create(1), Slot(1)).unwrap();
    engine.submit(create(2), Slot(1)).unwrap();
    engine.checkpoint().unwrap();
    engine.submit(create(3), Slot(1)).unwrap();
    engine
}

fn assert_recovers_everything(dir: &Path, what: &str) {
    let engine = open(dir).unwrap_or_else(|e| panic!("{what}: the next open refused: {e}"));
    for id in 1..=3 {
        assert!(
            engine
                .state_machine()
                .get_resource(ResourceId(id))
                .is_some(),
            "{what}: resource {id} lost"
        );
    }
}

#[test]
fn every_operation_of_a_checkpoint_fails_halting_the_engine_and_losing_nothing() {
    let sites = [
        Site::SnapshotTemp,
        Site::SnapshotRename,
        Site::SnapshotDirectory,
        Site::WalRewriteRead,
        Site::WalRewriteTemp,
        Site::WalRewriteRename,
        Site::WalDirectory,
    ];
    for site in sites {
        for &op in site.ops() {
            for effect in effects(op, 10) {
                let what = format!("{effect:?} at {} {}", site.name(), op.name());
                let dir = scratch_dir::scratch_dir();
                let observation = observe(dir.path());
                let mut engine = engine_with_history(dir.path());
                arm(&observation, site, op, effect);
                match engine.checkpoint() {
                    Err(CheckpointError::Io(error)) => {
                        assert!(is_error_of(effect, op, &error), "{what}: {error}")
                    }
                    other => panic!("{what}: {other:?}"),
                }
                assert_eq!(observation.armed_io_faults(), vec![], "{what}: fired");
                assert!(engine.is_halted(), "{what}");
                assert_eq!(
                    engine.submit(create(9), Slot(1)),
                    Err(SubmitError::EngineHalted),
                    "{what}"
                );
                drop(engine);
                assert_recovers_everything(dir.path(), &what);
            }
        }
    }
}

#[test]
fn a_failed_append_or_sync_halts_the_engine_and_loses_nothing_acknowledged() {
    for (site, op) in [
        (Site::WalAppend, FsOpKind::Write),
        (Site::WalSync, FsOpKind::Sync),
    ] {
        for effect in effects(op, 20) {
            let what = format!("{effect:?} at {} {}", site.name(), op.name());
            let dir = scratch_dir::scratch_dir();
            let observation = observe(dir.path());
            let mut engine = engine_with_history(dir.path());
            arm(&observation, site, op, effect);
            match engine.submit(create(4), Slot(1)) {
                Err(SubmitError::StorageFailure { kind }) => {
                    let expected = match effect {
                        IoEffect::Fail(kind) => kind.error().kind(),
                        IoEffect::Short { .. } => IoErrorKind::Enospc.error().kind(),
                    };
                    assert_eq!(kind, expected, "{what}");
                }
                other => panic!("{what}: {other:?}"),
            }
            assert!(engine.is_halted(), "{what}");
            drop(engine);
            assert_recovers_everything(dir.path(), &what);
            // The write whose sync failed is in the file: it is replayed.
            let replayed = open(dir.path())
                .unwrap()
                .state_machine()
                .get_resource(ResourceId(4))
                .is_some();
            assert_eq!(replayed, site == Site::WalSync, "{what}");
        }
    }
}

#[test]
fn every_operation_of_a_recovery_fails_refusing_to_start_and_losing_nothing() {
    // A torn tail for the truncate to cut: a frame's first bytes.
    let torn = |dir: &Path| {
        use std::io::Write;
        let mut wal = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("wal"))
            .unwrap();
        wal.write_all(&[0x41, 0x4c, 0x4c, 0x4f, 1]).unwrap();
    };
    let sites = [
        Site::SnapshotRead,
        Site::WalOpen,
        Site::WalDirectory,
        Site::WalScan,
        Site::WalTruncate,
        Site::WalReplay,
    ];
    for site in sites {
        for &op in site.ops() {
            for effect in effects(op, 3) {
                let what = format!("{effect:?} at {} {}", site.name(), op.name());
                let dir = scratch_dir::scratch_dir();
                drop(engine_with_history(dir.path()));
                torn(dir.path());
                let observation = observe(dir.path());
                arm(&observation, site, op, effect);
                let error = match open(dir.path()) {
                    Err(error) => error,
                    Ok(_) => panic!("{what}: recovery went on"),
                };
                assert_eq!(observation.armed_io_faults(), vec![], "{what}: fired");
                let typed = match (&error, site, effect) {
                    (OpenError::Snapshot(LoadError::Io(e)), Site::SnapshotRead, _) => {
                        is_error_of(effect, op, e)
                    }
                    (
                        OpenError::Snapshot(LoadError::Invalid(_)),
                        Site::SnapshotRead,
                        IoEffect::Short { .. },
                    ) => true,
                    (OpenError::Io(e), _, _) => is_error_of(effect, op, e),
                    _ => false,
                };
                assert!(typed, "{what}: {error}");
                drop(observation);
                assert_recovers_everything(dir.path(), &what);
            }
        }
    }
}

/// After a failed sync the kernel may have marked the frame it should
/// have written clean without writing it (fsyncgate). The next open writes
/// the log's last frame again before its own sync, so that the frame it
/// replays is on disk once that sync returns.
#[test]
fn an_open_writes_the_last_frame_again_before_its_sync() {
    use allocdb_core::fs::{FileName, FsOp};
    let dir = scratch_dir::scratch_dir();
    let observation = observe(dir.path());
    let mut engine = engine_with_history(dir.path());
    arm(
        &observation,
        Site::WalSync,
        FsOpKind::Sync,
        IoEffect::Fail(IoErrorKind::Eio),
    );
    assert!(engine.submit(create(4), Slot(1)).is_err());
    let len = engine.wal_len();
    drop(engine);
    observation.drain();
    open(dir.path()).unwrap();
    let opened: Vec<FsOp> = observation
        .drain()
        .into_iter()
        .filter(|report| report.site == Site::WalOpen)
        .map(|report| report.op)
        .collect();
    let tail = len.min(allocdb_core::wal::MAX_FRAME_LEN as u64);
    let file = FileName::Wal;
    assert_eq!(
        opened,
        [
            FsOp::Open {
                file,
                created: false
            },
            FsOp::Read {
                file,
                offset: len - tail,
                len: tail
            },
            FsOp::Write {
                file,
                offset: len - tail,
                len: tail
            },
            FsOp::SyncAll { file },
        ]
    );
}
