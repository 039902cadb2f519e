//! The engine's file operations as an observer sees them: every
//! durability call of a write, a checkpoint and a recovery, in order, with
//! its call site. The simulator's crash model is built on these reports.

#[path = "support/requests.rs"]
mod requests;
#[path = "support/scratch_dir.rs"]
mod scratch_dir;

use allocdb_core::engine::{Engine, EngineConfig};
use allocdb_core::fs::{observe, FileName, FsOp, FsReport, Site};
use allocdb_core::Slot;
use requests::create;

fn report(site: Site, op: FsOp) -> FsReport {
    FsReport { site, op }
}

/// Opening a WAL of `len` bytes: the file (created or not), its last
/// frame's worth of bytes read and written again, its sync, its directory
/// entry.
fn wal_open(created: bool, len: u64) -> Vec<FsReport> {
    let wal = FileName::Wal;
    let tail = len.min(allocdb_core::wal::MAX_FRAME_LEN as u64);
    let again = |op| report(Site::WalOpen, op);
    let mut reports = vec![report(Site::WalOpen, FsOp::Open { file: wal, created })];
    if tail > 0 {
        let offset = len - tail;
        reports.extend([
            again(FsOp::Read {
                file: wal,
                offset,
                len: tail,
            }),
            again(FsOp::Write {
                file: wal,
                offset,
                len: tail,
            }),
        ]);
    }
    reports.extend([
        report(Site::WalOpen, FsOp::SyncAll { file: wal }),
        report(Site::WalDirectory, FsOp::SyncDirectory),
    ]);
    reports
}

#[test]
fn a_write_a_checkpoint_and_a_recovery_report_every_durability_call() {
    let dir = scratch_dir::scratch_dir();
    let observation = observe(dir.path());
    let (mut engine, _) = Engine::open(dir.path(), EngineConfig::small()).unwrap();
    let snapshot_read = report(
        Site::SnapshotRead,
        FsOp::Read {
            file: FileName::Snapshot,
            offset: 0,
            len: 0,
        },
    );
    assert_eq!(observation.drain(), wal_open(true, 0));

    engine.submit(create(1), Slot(1)).unwrap();
    let wal = FileName::Wal;
    let frame_len = engine.wal_len();
    assert_eq!(
        observation.drain(),
        vec![
            report(
                Site::WalAppend,
                FsOp::Write {
                    file: wal,
                    offset: 0,
                    len: frame_len
                }
            ),
            report(Site::WalSync, FsOp::SyncData { file: wal }),
        ]
    );

    engine.checkpoint().unwrap();
    let reports = observation.drain();
    let sites_and_ops: Vec<(Site, FsOp)> = reports
        .iter()
        .map(|r| {
            let op = match r.op {
                // The lengths are the formats' business; the order is this test's.
                FsOp::Write { file, offset, .. } => FsOp::Write {
                    file,
                    offset,
                    len: 0,
                },
                op => op,
            };
            (r.site, op)
        })
        .collect();
    let write = |file| FsOp::Write {
        file,
        offset: 0,
        len: 0,
    };
    let expected = vec![
        (
            Site::SnapshotTemp,
            FsOp::Create {
                file: FileName::SnapshotTemp,
            },
        ),
        (Site::SnapshotTemp, write(FileName::SnapshotTemp)),
        (
            Site::SnapshotTemp,
            FsOp::SyncAll {
                file: FileName::SnapshotTemp,
            },
        ),
        (
            Site::SnapshotRename,
            FsOp::Rename {
                from: FileName::SnapshotTemp,
                to: FileName::Snapshot,
            },
        ),
        (Site::SnapshotDirectory, FsOp::SyncDirectory),
        (
            Site::WalRewriteRead,
            FsOp::Read {
                file: FileName::Wal,
                offset: 0,
                len: frame_len,
            },
        ),
        (
            Site::WalRewriteTemp,
            FsOp::Create {
                file: FileName::WalTemp,
            },
        ),
        (Site::WalRewriteTemp, write(FileName::WalTemp)),
        (
            Site::WalRewriteTemp,
            FsOp::SyncAll {
                file: FileName::WalTemp,
            },
        ),
        (
            Site::WalRewriteRename,
            FsOp::Rename {
                from: FileName::WalTemp,
                to: FileName::Wal,
            },
        ),
        (Site::WalDirectory, FsOp::SyncDirectory),
    ];
    // The renamed temp file's handle is the log from here: no reopen.
    assert_eq!(sites_and_ops, expected);
    drop(engine);

    let wal_len = std::fs::metadata(dir.path().join("wal")).unwrap().len();
    let snapshot_len = std::fs::metadata(dir.path().join("snapshot"))
        .unwrap()
        .len();
    Engine::open(dir.path(), EngineConfig::small()).unwrap();
    let reports = observation.drain();
    assert_eq!(
        reports[0],
        FsReport {
            op: FsOp::Read {
                file: FileName::Snapshot,
                offset: 0,
                len: snapshot_len
            },
            ..snapshot_read
        }
    );
    assert_eq!(reports[1..6], wal_open(false, wal_len));
    // Recovery reads the whole log in each of its two passes: the scan,
    // then the replay.
    let read_at = |site| -> u64 {
        reports[6..]
            .iter()
            .map(|r| match r.op {
                FsOp::Read { file, len, .. } if file == wal && r.site == site => len,
                FsOp::Read { file, .. } if file == wal => 0,
                other => panic!("recovery made {other:?} at {:?}", r.site),
            })
            .sum()
    };
    assert_eq!(
        (read_at(Site::WalScan), read_at(Site::WalReplay)),
        (wal_len, wal_len),
        "{reports:?}"
    );
}

#[test]
fn without_an_observer_nothing_is_recorded_and_the_engine_works() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = Engine::open(dir.path(), EngineConfig::small()).unwrap();
    engine.submit(create(1), Slot(1)).unwrap();
    engine.checkpoint().unwrap();
    let observation = observe(dir.path());
    assert_eq!(observation.drain(), vec![]);
    let elsewhere = scratch_dir::scratch_dir();
    let (mut other, _) = Engine::open(elsewhere.path(), EngineConfig::small()).unwrap();
    other.submit(create(2), Slot(1)).unwrap();
    assert_eq!(
        observation.drain(),
        vec![],
        "another directory's engine is not observed"
    );
}

/// A recovery read that fails or comes up short is a typed error, never a
/// shorter log or a partial snapshot; the next open without the fault
/// recovers everything.
#[test]
fn a_read_fault_at_recovery_is_a_typed_error_and_the_next_open_recovers() {
    use allocdb_core::engine::OpenError;
    use allocdb_core::fs::fault::{IoEffect, IoErrorKind, IoFault};
    use allocdb_core::fs::FsOpKind;
    use allocdb_core::snapshot::LoadError;

    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = Engine::open(dir.path(), EngineConfig::small()).unwrap();
    engine.submit(create(1), Slot(1)).unwrap();
    engine.checkpoint().unwrap();
    engine.submit(create(2), Slot(1)).unwrap();
    let digest = engine.state_machine().digest();
    drop(engine);

    let observation = observe(dir.path());
    let eio = IoEffect::Fail(IoErrorKind::Eio);
    let short = IoEffect::Short { bytes: 4 };
    for (site, effect) in [
        (Site::WalScan, eio),
        (Site::WalScan, short),
        (Site::WalReplay, eio),
        (Site::WalReplay, short),
        (Site::SnapshotRead, eio),
        (Site::SnapshotRead, short),
    ] {
        let fault = IoFault {
            site,
            op: FsOpKind::Read,
            passes: 0,
            effect,
        };
        observation.arm_io_fault(fault).unwrap();
        let error = Engine::open(dir.path(), EngineConfig::small())
            .map(|_| ())
            .unwrap_err();
        assert_eq!(observation.armed_io_faults(), vec![], "{fault:?} fired");
        match (site, effect, &error) {
            (Site::WalScan | Site::WalReplay, IoEffect::Fail(_), OpenError::Io(e)) => {
                assert_eq!(IoErrorKind::of(e), Some(IoErrorKind::Eio), "{e}")
            }
            (Site::WalScan | Site::WalReplay, IoEffect::Short { .. }, OpenError::Io(e)) => {
                assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof)
            }
            (Site::SnapshotRead, IoEffect::Fail(_), OpenError::Snapshot(LoadError::Io(_))) => {}
            (
                Site::SnapshotRead,
                IoEffect::Short { .. },
                OpenError::Snapshot(LoadError::Invalid(_)),
            ) => {}
            _ => panic!("{fault:?}: {error}"),
        }
        let (engine, report) = Engine::open(dir.path(), EngineConfig::small()).unwrap();
        assert_eq!(engine.state_machine().digest(), digest, "{fault:?}");
        assert_eq!(report.frames_replayed, 1);
    }
}

/// Each read is reported at the offset where the one before it ended, so a
/// model can tell which bytes recovery saw.
#[test]
fn reads_are_reported_at_their_offsets() {
    use allocdb_core::fs::DurableFile;
    use std::io::Read;
    let dir = scratch_dir::scratch_dir();
    let mut file = DurableFile::create(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
    file.write_at(0, &[7; 10], Site::WalAppend).1.unwrap();
    let observation = observe(dir.path());
    let mut reader = file.reader(Site::WalScan);
    let mut buf = [0; 4];
    while reader.read(&mut buf).unwrap() > 0 {}
    let reads: Vec<(u64, u64)> = observation
        .drain()
        .into_iter()
        .map(|r| match r.op {
            FsOp::Read { offset, len, .. } => (offset, len),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(reads, [(0, 4), (4, 4), (8, 2)]);
}
