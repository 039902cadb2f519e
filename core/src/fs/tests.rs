use super::*;

#[test]
fn names_are_distinct_plain_file_names() {
    for (i, a) in FileName::ALL.iter().enumerate() {
        assert!(!a.as_str().contains('/'));
        for b in &FileName::ALL[i + 1..] {
            assert_ne!(a.as_str(), b.as_str());
        }
    }
}

#[test]
fn every_call_is_the_real_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut file =
        DurableFile::create(dir.path(), FileName::WalTemp, Site::WalRewriteTemp).unwrap();
    assert_eq!(file.write_at(0, b"abcdef", Site::WalRewriteTemp).0, 6);
    assert_eq!(file.write_at(2, b"XY", Site::WalRewriteTemp).0, 2);
    file.sync_all(Site::WalRewriteTemp).unwrap();
    file.set_len(5, Site::WalTruncate).unwrap();
    file.sync_data(Site::WalSync).unwrap();
    assert_eq!(file.size().unwrap(), 5);
    rename(
        dir.path(),
        FileName::WalTemp,
        FileName::Wal,
        Site::WalRewriteRename,
    )
    .unwrap();
    Directory::open(dir.path())
        .unwrap()
        .sync(Site::WalDirectory)
        .unwrap();
    assert!(!dir.path().join("wal.tmp").exists());
    assert_eq!(
        read_whole(dir.path(), FileName::Wal, Site::WalScan).unwrap(),
        Some(b"abXYe".to_vec())
    );
    assert_eq!(
        read_whole(dir.path(), FileName::Snapshot, Site::SnapshotRead).unwrap(),
        None
    );
    let reopened = DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
    assert_eq!(reopened.size().unwrap(), 5);
    let mut read = Vec::new();
    reopened
        .reader(Site::WalScan)
        .read_to_end(&mut read)
        .unwrap();
    assert_eq!(read, b"abXYe");
}

/// A drain onto a kept buffer appends after what it holds, in the order
/// made, and leaves nothing behind for the next drain.
#[cfg(feature = "fault-injection")]
#[test]
fn a_drain_into_a_buffer_appends_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let observation = observe(dir.path());
    let mut wal = DurableFile::create(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
    let mut drained = Vec::new();
    observation.drain_into(&mut drained);
    wal.sync_data(Site::WalSync).unwrap();
    observation.drain_into(&mut drained);
    observation.drain_into(&mut drained);
    let create = FsReport {
        site: Site::WalOpen,
        op: FsOp::Create {
            file: FileName::Wal,
        },
    };
    let sync = FsReport {
        site: Site::WalSync,
        op: FsOp::SyncData {
            file: FileName::Wal,
        },
    };
    assert_eq!(drained, vec![create, sync]);
    drained.clear();
    wal.sync_data(Site::WalSync).unwrap();
    observation.drain_into(&mut drained);
    assert_eq!(
        drained,
        vec![sync],
        "a cleared buffer takes the new ones only"
    );
    assert_eq!(observation.drain(), vec![]);
}

#[cfg(feature = "fault-injection")]
#[test]
fn an_observer_sees_every_operation_in_order_with_its_site() {
    let dir = tempfile::tempdir().unwrap();
    let unobserved =
        DurableFile::create(dir.path(), FileName::Snapshot, Site::SnapshotTemp).unwrap();
    drop(unobserved);
    let observation = observe(dir.path());
    let other_dir = tempfile::tempdir().unwrap();
    let other = observe(other_dir.path());
    DurableFile::create(other_dir.path(), FileName::Wal, Site::WalOpen).unwrap();
    let mut wal = DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
    wal.write_at(0, b"frame", Site::WalAppend).1.unwrap();
    wal.sync_data(Site::WalSync).unwrap();
    rename(
        dir.path(),
        FileName::Snapshot,
        FileName::SnapshotTemp,
        Site::SnapshotRename,
    )
    .unwrap();
    Directory::open(dir.path())
        .unwrap()
        .sync(Site::SnapshotDirectory)
        .unwrap();
    let mut bytes = Vec::new();
    wal.reader(Site::WalScan).read_to_end(&mut bytes).unwrap();
    let wal_file = FileName::Wal;
    assert_eq!(
        observation.drain(),
        vec![
            FsReport {
                site: Site::WalOpen,
                op: FsOp::Open {
                    file: wal_file,
                    created: true
                }
            },
            FsReport {
                site: Site::WalAppend,
                op: FsOp::Write {
                    file: wal_file,
                    offset: 0,
                    len: 5
                }
            },
            FsReport {
                site: Site::WalSync,
                op: FsOp::SyncData { file: wal_file }
            },
            FsReport {
                site: Site::SnapshotRename,
                op: FsOp::Rename {
                    from: FileName::Snapshot,
                    to: FileName::SnapshotTemp
                }
            },
            FsReport {
                site: Site::SnapshotDirectory,
                op: FsOp::SyncDirectory
            },
            FsReport {
                site: Site::WalScan,
                op: FsOp::Read {
                    file: wal_file,
                    offset: 0,
                    len: 5
                }
            },
        ]
    );
    assert_eq!(observation.drain(), vec![], "a drain takes what it returns");
    assert_eq!(
        other.drain(),
        vec![FsReport {
            site: Site::WalOpen,
            op: FsOp::Create {
                file: FileName::Wal
            }
        }],
        "each directory's observer sees its own operations"
    );
    drop(observation);
    let _again = observe(dir.path());
}

#[cfg(feature = "fault-injection")]
mod faults {
    use super::*;
    use crate::fs::fault::{IoEffect, IoErrorKind, IoFault};

    fn fault(site: Site, op: FsOpKind, passes: u32, effect: IoEffect) -> IoFault {
        IoFault {
            site,
            op,
            passes,
            effect,
        }
    }

    const EIO: IoEffect = IoEffect::Fail(IoErrorKind::Eio);
    const ENOSPC: IoEffect = IoEffect::Fail(IoErrorKind::Enospc);

    #[test]
    fn a_fault_fails_its_operation_at_its_site_after_its_passes_once() {
        let dir = tempfile::tempdir().unwrap();
        let observation = observe(dir.path());
        let mut wal = DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
        observation
            .arm_io_fault(fault(Site::WalAppend, FsOpKind::Write, 1, ENOSPC))
            .unwrap();
        observation
            .arm_io_fault(fault(Site::WalSync, FsOpKind::Sync, 0, EIO))
            .unwrap();
        assert_eq!(
            wal.write_at(0, b"ab", Site::WalRewriteTemp).0,
            2,
            "another site"
        );
        assert_eq!(wal.write_at(2, b"cd", Site::WalAppend).0, 2, "a pass");
        let (written, result) = wal.write_at(4, b"ef", Site::WalAppend);
        let error = result.unwrap_err();
        assert_eq!(written, 0);
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(error.to_string(), "ENOSPC (injected)");
        assert_eq!(IoErrorKind::of(&error), Some(IoErrorKind::Enospc));
        assert_eq!(
            wal.write_at(4, b"ef", Site::WalAppend).0,
            2,
            "it fired once"
        );
        wal.sync_all(Site::WalOpen).unwrap();
        let error = wal.sync_data(Site::WalSync).unwrap_err();
        assert_eq!(IoErrorKind::of(&error), Some(IoErrorKind::Eio));
        wal.sync_data(Site::WalSync).unwrap();
        assert_eq!(observation.armed_io_faults(), vec![]);
        let reports: Vec<FsOp> = observation.drain().into_iter().map(|r| r.op).collect();
        let file = FileName::Wal;
        assert_eq!(
            reports,
            vec![
                FsOp::Open {
                    file,
                    created: true
                },
                FsOp::Write {
                    file,
                    offset: 0,
                    len: 2
                },
                FsOp::Write {
                    file,
                    offset: 2,
                    len: 2
                },
                FsOp::Write {
                    file,
                    offset: 4,
                    len: 2
                },
                FsOp::SyncAll { file },
                FsOp::SyncFailed { file },
                FsOp::SyncData { file },
            ],
            "a failed sync is reported, a write that wrote nothing is not"
        );
    }

    #[test]
    fn a_short_write_writes_a_prefix_then_fails_with_enospc() {
        let dir = tempfile::tempdir().unwrap();
        let observation = observe(dir.path());
        let mut file =
            DurableFile::create(dir.path(), FileName::SnapshotTemp, Site::SnapshotTemp).unwrap();
        let short = |bytes| {
            fault(
                Site::SnapshotTemp,
                FsOpKind::Write,
                0,
                IoEffect::Short { bytes },
            )
        };
        observation.arm_io_fault(short(3)).unwrap();
        let (written, result) = file.write_at(0, b"abcdef", Site::SnapshotTemp);
        assert_eq!(written, 3);
        assert_eq!(
            IoErrorKind::of(&result.unwrap_err()),
            Some(IoErrorKind::Enospc)
        );
        observation.arm_io_fault(short(100)).unwrap();
        let (written, result) = file.write_at(0, b"abcdef", Site::SnapshotTemp);
        assert_eq!(written, 5, "never the whole write");
        assert!(result.is_err());
        assert_eq!(
            std::fs::read(dir.path().join("snapshot.tmp")).unwrap(),
            b"abcde"
        );
    }

    #[test]
    fn entry_operations_and_directory_syncs_fail_doing_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let observation = observe(dir.path());
        for (site, op) in [
            (Site::WalOpen, FsOpKind::Open),
            (Site::SnapshotTemp, FsOpKind::Create),
            (Site::SnapshotRename, FsOpKind::Rename),
            (Site::WalDirectory, FsOpKind::SyncDirectory),
            (Site::WalTruncate, FsOpKind::SetLen),
        ] {
            observation.arm_io_fault(fault(site, op, 0, EIO)).unwrap();
        }
        assert!(DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).is_err());
        assert!(!dir.path().join("wal").exists());
        assert!(
            DurableFile::create(dir.path(), FileName::SnapshotTemp, Site::SnapshotTemp).is_err()
        );
        assert!(!dir.path().join("snapshot.tmp").exists());
        let mut temp =
            DurableFile::create(dir.path(), FileName::SnapshotTemp, Site::SnapshotTemp).unwrap();
        temp.write_at(0, b"abc", Site::SnapshotTemp).1.unwrap();
        assert!(temp.set_len(1, Site::WalTruncate).is_err());
        assert_eq!(temp.size().unwrap(), 3);
        assert!(rename(
            dir.path(),
            FileName::SnapshotTemp,
            FileName::Snapshot,
            Site::SnapshotRename
        )
        .is_err());
        assert!(dir.path().join("snapshot.tmp").exists());
        assert!(Directory::open(dir.path())
            .unwrap()
            .sync(Site::WalDirectory)
            .is_err());
        let ops: Vec<FsOp> = observation.drain().into_iter().map(|r| r.op).collect();
        assert_eq!(
            ops,
            vec![
                FsOp::Create {
                    file: FileName::SnapshotTemp
                },
                FsOp::Write {
                    file: FileName::SnapshotTemp,
                    offset: 0,
                    len: 3
                },
                FsOp::SyncDirectoryFailed,
            ]
        );
    }

    #[test]
    fn a_read_fault_fails_or_shortens_one_pass_of_reads_at_its_site() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
        wal.write_at(0, b"0123456789", Site::WalAppend).1.unwrap();
        std::fs::write(dir.path().join("snapshot"), b"abcdefgh").unwrap();
        let observation = observe(dir.path());
        let read_all = |site| {
            let mut bytes = Vec::new();
            wal.reader(site).read_to_end(&mut bytes).map(|_| bytes)
        };
        let read = |site, effect| fault(site, FsOpKind::Read, 0, effect);

        observation
            .arm_io_fault(read(Site::WalReplay, EIO))
            .unwrap();
        assert_eq!(read_all(Site::WalScan).unwrap().len(), 10, "another site");
        let error = read_all(Site::WalReplay).unwrap_err();
        assert_eq!(IoErrorKind::of(&error), Some(IoErrorKind::Eio));
        assert_eq!(
            read_all(Site::WalReplay).unwrap().len(),
            10,
            "it fires once"
        );

        let short = |bytes| IoEffect::Short { bytes };
        observation
            .arm_io_fault(read(Site::WalScan, short(0)))
            .unwrap();
        assert_eq!(read_all(Site::WalScan).unwrap(), b"", "ends at once");
        observation
            .arm_io_fault(read(Site::WalScan, short(3)))
            .unwrap();
        assert_eq!(
            read_all(Site::WalScan).unwrap(),
            b"012",
            "ends after 3 bytes"
        );
        let mut exact = [0u8; 4];
        observation
            .arm_io_fault(read(Site::WalScan, short(2)))
            .unwrap();
        let shortened = wal.reader(Site::WalScan).read_exact(&mut exact);
        assert_eq!(shortened.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);

        observation
            .arm_io_fault(read(Site::SnapshotRead, short(4)))
            .unwrap();
        assert_eq!(
            read_whole(dir.path(), FileName::Snapshot, Site::SnapshotRead).unwrap(),
            Some(b"abcd".to_vec())
        );
        observation
            .arm_io_fault(read(Site::SnapshotRead, EIO))
            .unwrap();
        assert!(
            read_whole(dir.path(), FileName::SnapshotTemp, Site::SnapshotRead)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            observation.disarm_io_faults(),
            vec![read(Site::SnapshotRead, EIO)],
            "an absent file is not read: a fault that never fired is handed back"
        );
    }

    #[test]
    fn a_fault_the_engine_can_never_meet_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let observation = observe(dir.path());
        let refused = [
            fault(Site::WalAppend, FsOpKind::Sync, 0, EIO),
            fault(
                Site::SnapshotRename,
                FsOpKind::Rename,
                0,
                IoEffect::Short { bytes: 1 },
            ),
            fault(Site::WalScan, FsOpKind::Read, 1, EIO),
        ];
        for f in refused {
            assert!(observation.arm_io_fault(f).is_err(), "{f:?}");
        }
        for _ in 0..fault::MAX_ARMED_IO_FAULTS {
            observation
                .arm_io_fault(fault(Site::WalSync, FsOpKind::Sync, 0, EIO))
                .unwrap();
        }
        assert!(observation
            .arm_io_fault(fault(Site::WalSync, FsOpKind::Sync, 0, EIO))
            .is_err());
    }

    #[test]
    fn every_site_makes_operations_and_names_are_distinct() {
        for (i, a) in Site::ALL.iter().enumerate() {
            assert!(!a.ops().is_empty());
            for b in &Site::ALL[i + 1..] {
                assert_ne!(a.name(), b.name());
            }
        }
    }
}
