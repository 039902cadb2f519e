use super::*;

impl FsModel {
    fn apply_ok(&mut self, report: FsReport) {
        self.apply(report).unwrap();
    }
}

fn model(ignored: Option<SyncSite>) -> FsModel {
    FsModel::new(Path::new("/fs-model-test-never-touched"), ignored)
}

fn report(site: Site, op: FsOp) -> FsReport {
    FsReport { site, op }
}

const WAL: FileName = FileName::Wal;

fn write(file: FileName, offset: u64, len: u64) -> FsReport {
    report(Site::WalAppend, FsOp::Write { file, offset, len })
}

fn open_wal(fs: &mut FsModel) {
    fs.apply_ok(report(
        Site::WalOpen,
        FsOp::Open {
            file: WAL,
            created: true,
        },
    ));
    fs.apply_ok(report(Site::WalDirectory, FsOp::SyncDirectory));
}

fn state(written: u64, synced: u64) -> FileState {
    FileState {
        written,
        synced,
        dropped: None,
    }
}

#[test]
fn only_a_sync_makes_written_bytes_durable() {
    let mut fs = model(None);
    open_wal(&mut fs);
    fs.apply_ok(write(WAL, 0, 40));
    assert_eq!(fs.file(WAL), state(40, 0));
    fs.apply_ok(report(Site::WalSync, FsOp::SyncData { file: WAL }));
    fs.apply_ok(write(WAL, 40, 30));
    assert_eq!(fs.file(WAL), state(70, 40));
    fs.cut(WAL, 55);
    assert_eq!(fs.file(WAL), state(55, 40));
    fs.cut(WAL, 10);
    assert_eq!(fs.file(WAL), state(10, 10));
}

/// The WAL rewrite: temp created, written, synced, renamed over the old
/// log; the directory sync not yet made.
fn rewrite_pending(fs: &mut FsModel) {
    let temp = FileName::WalTemp;
    fs.apply_ok(report(Site::WalRewriteTemp, FsOp::Create { file: temp }));
    fs.apply_ok(write(temp, 0, 30));
    fs.apply_ok(report(Site::WalRewriteTemp, FsOp::SyncAll { file: temp }));
    fs.apply_ok(report(
        Site::WalRewriteRename,
        FsOp::Rename {
            from: temp,
            to: WAL,
        },
    ));
}

#[test]
fn a_rename_moves_the_file_and_a_crash_may_undo_it() {
    let mut fs = model(None);
    open_wal(&mut fs);
    fs.apply_ok(write(WAL, 0, 100));
    fs.apply_ok(report(Site::WalSync, FsOp::SyncData { file: WAL }));
    let old = fs.inode(WAL).unwrap();
    rewrite_pending(&mut fs);
    let new = fs.inode(WAL).unwrap();
    assert_ne!(old, new);
    assert_eq!(fs.file(WAL), state(30, 30));
    assert_eq!(fs.file(FileName::WalTemp), FileState::default());
    assert_eq!(fs.directory().pending().len(), 2);

    let keep = |_| Unsynced::Keep;
    let undone = fs.plan_crash(0, keep);
    assert_eq!(undone.entries.get(WAL), Some(old));
    assert_eq!(undone.entries.get(FileName::WalTemp), None);
    let half = fs.plan_crash(1, keep);
    assert_eq!(half.entries.get(WAL), Some(old));
    assert_eq!(half.entries.get(FileName::WalTemp), Some(new));
    assert_eq!(fs.plan_crash(9, keep).entries, *fs.directory().current());

    fs.take_changes();
    fs.crashed(&undone);
    assert_eq!(fs.inode(WAL), Some(old));
    assert_eq!(fs.file(WAL), state(100, 100));
    let changes = fs.take_changes();
    assert_eq!(changes.gone, vec![new]);
}

#[test]
fn a_directory_sync_makes_the_rename_durable_and_forgets_the_old_file() {
    let mut fs = model(None);
    open_wal(&mut fs);
    let old = fs.inode(WAL).unwrap();
    fs.take_changes();
    rewrite_pending(&mut fs);
    let new = fs.inode(WAL).unwrap();
    assert_eq!(
        fs.take_changes(),
        InodeChanges {
            born: vec![(new, Some(WAL))],
            gone: vec![]
        }
    );
    fs.apply_ok(report(Site::WalDirectory, FsOp::SyncDirectory));
    assert!(fs.directory().pending().is_empty());
    assert_eq!(
        fs.plan_crash(0, |_| Unsynced::Lose).entries.get(WAL),
        Some(new)
    );
    assert_eq!(fs.take_changes().gone, vec![old]);
}

#[test]
fn a_crash_keeps_synced_bytes_and_the_chosen_part_of_the_rest() {
    let mut fs = model(None);
    open_wal(&mut fs);
    fs.apply_ok(write(WAL, 0, 40));
    fs.apply_ok(report(Site::WalSync, FsOp::SyncData { file: WAL }));
    fs.apply_ok(write(WAL, 40, 30));
    let snapshot = FileName::SnapshotTemp;
    fs.apply_ok(report(Site::SnapshotTemp, FsOp::Create { file: snapshot }));
    fs.apply_ok(write(snapshot, 0, 50));
    let plan = fs.plan_crash(1, |name| {
        if name == WAL {
            Unsynced::KeepPrefix(7)
        } else {
            Unsynced::Lose
        }
    });
    assert_eq!(plan.file(WAL).unwrap().kept, 47);
    assert_eq!(plan.file(snapshot).unwrap().kept, 0);
    assert_eq!(plan.bytes_lost(), 23 + 50);
    fs.crashed(&plan);
    assert_eq!(fs.file(WAL), state(47, 47));
    assert_eq!(fs.file(snapshot), state(0, 0));
    // Losing the create instead leaves no temp file at all.
    drop(fs);
    let mut fs2 = model(None);
    open_wal(&mut fs2);
    fs2.apply_ok(report(Site::SnapshotTemp, FsOp::Create { file: snapshot }));
    let plan = fs2.plan_crash(0, |_| Unsynced::Keep);
    assert_eq!(plan.entries.get(snapshot), None);
    assert!(plan.file(snapshot).is_none());
}

/// A handle left open across its file's rename still names the old name;
/// its sync is the moved file's.
#[test]
fn a_sync_through_a_handle_renamed_away_syncs_the_moved_file() {
    let mut fs = model(None);
    open_wal(&mut fs);
    let (temp, snapshot) = (FileName::SnapshotTemp, FileName::Snapshot);
    fs.apply_ok(report(Site::SnapshotTemp, FsOp::Create { file: temp }));
    fs.apply_ok(write(temp, 0, 50));
    fs.apply_ok(report(
        Site::SnapshotRename,
        FsOp::Rename {
            from: temp,
            to: snapshot,
        },
    ));
    assert_eq!(fs.file(snapshot), state(50, 0));
    fs.apply_ok(report(Site::SnapshotTemp, FsOp::SyncAll { file: temp }));
    assert_eq!(fs.file(snapshot), state(50, 50));
    // A new file under the old name is another file.
    fs.apply_ok(report(Site::SnapshotTemp, FsOp::Create { file: temp }));
    fs.apply_ok(write(temp, 0, 7));
    assert_eq!(fs.file(temp), state(7, 0));
    assert_eq!(fs.file(snapshot), state(50, 50));
}

#[test]
fn an_ignored_site_syncs_nothing_and_other_sites_still_do() {
    let mut fs = model(Some(SyncSite::WalSync));
    open_wal(&mut fs);
    fs.apply_ok(write(WAL, 0, 40));
    fs.apply_ok(report(Site::WalSync, FsOp::SyncData { file: WAL }));
    assert_eq!(fs.file(WAL).synced, 0);
    fs.apply_ok(report(Site::WalOpen, FsOp::SyncAll { file: WAL }));
    assert_eq!(fs.file(WAL).synced, 40);
}

#[test]
fn an_ignored_directory_sync_leaves_the_entries_pending() {
    let mut fs = model(Some(SyncSite::WalDirectory));
    open_wal(&mut fs);
    assert_eq!(fs.directory().pending().len(), 1);
    assert_eq!(fs.plan_crash(0, |_| Unsynced::Keep).entries.get(WAL), None);
    fs.apply_ok(report(Site::SnapshotDirectory, FsOp::SyncDirectory));
    assert!(fs.directory().pending().is_empty());
}

/// A report no file system could have made is an error naming it, never a
/// panic: a sync of a file never opened, a rename of a name that is absent,
/// a create of a file that exists.
#[test]
fn an_impossible_report_is_an_error() {
    let mut fs = model(None);
    let sync = report(
        Site::SnapshotTemp,
        FsOp::SyncAll {
            file: FileName::SnapshotTemp,
        },
    );
    assert_eq!(
        fs.apply(sync),
        Err("no file of that name was opened".to_string())
    );
    let rename = report(
        Site::SnapshotRename,
        FsOp::Rename {
            from: FileName::SnapshotTemp,
            to: FileName::Snapshot,
        },
    );
    assert_eq!(
        fs.apply(rename),
        Err("no file has the old name".to_string())
    );
    open_wal(&mut fs);
    let created_again = report(
        Site::WalOpen,
        FsOp::Open {
            file: WAL,
            created: true,
        },
    );
    assert!(fs.apply(created_again).is_err());
}

/// fsyncgate: the bytes a failed sync should have written stay undurable
/// through later syncs that succeed, and so does everything after them,
/// until they are written again; a cut below them or a crash ends it.
#[test]
fn a_failed_sync_drops_its_bytes_until_they_are_written_again() {
    let sync = |fs: &mut FsModel| fs.apply_ok(report(Site::WalSync, FsOp::SyncData { file: WAL }));
    let failed =
        |fs: &mut FsModel| fs.apply_ok(report(Site::WalSync, FsOp::SyncFailed { file: WAL }));
    let mut fs = model(None);
    open_wal(&mut fs);
    fs.apply_ok(write(WAL, 0, 40));
    sync(&mut fs);
    fs.apply_ok(write(WAL, 40, 30));
    failed(&mut fs);
    let dropped = Some(Dropped { start: 40, end: 70 });
    assert_eq!(fs.file(WAL).dropped, dropped);
    sync(&mut fs);
    fs.apply_ok(write(WAL, 70, 20));
    sync(&mut fs);
    assert_eq!(
        fs.file(WAL).synced,
        40,
        "no sync writes them, nor what follows"
    );
    let plan = fs.plan_crash(0, |_| Unsynced::Lose);
    assert_eq!(plan.file(WAL).unwrap().kept, 40, "a crash may lose them");

    // Written again from below their start: the page cache has them to
    // write once more, and the next sync covers every byte.
    fs.apply_ok(write(WAL, 50, 10));
    assert_eq!(fs.file(WAL).dropped, dropped, "a write past their start");
    fs.apply_ok(write(WAL, 30, 20));
    assert_eq!(fs.file(WAL).dropped, Some(Dropped { start: 50, end: 70 }));
    fs.apply_ok(write(WAL, 50, 20));
    assert_eq!(fs.file(WAL).dropped, None);
    sync(&mut fs);
    assert_eq!(fs.file(WAL), state(90, 90));

    // A second failure, then a cut below the dropped bytes: nothing of them
    // is left to drop.
    fs.apply_ok(write(WAL, 90, 10));
    failed(&mut fs);
    fs.cut(WAL, 95);
    assert_eq!(fs.file(WAL).dropped, Some(Dropped { start: 90, end: 95 }));
    fs.cut(WAL, 90);
    assert_eq!(fs.file(WAL), state(90, 90));

    // A crash: what it left is all there is, all of it durable.
    fs.apply_ok(write(WAL, 90, 10));
    failed(&mut fs);
    let plan = fs.plan_crash(0, |_| Unsynced::Keep);
    fs.crashed(&plan);
    assert_eq!(fs.file(WAL), state(100, 100));
}

/// A failed sync of a file with nothing unsynced drops nothing; a failed
/// directory sync leaves the pending entry operations pending, to be made
/// durable by the next directory sync that succeeds.
#[test]
fn a_failed_sync_with_nothing_to_write_drops_nothing() {
    let mut fs = model(None);
    open_wal(&mut fs);
    fs.apply_ok(write(WAL, 0, 40));
    fs.apply_ok(report(Site::WalSync, FsOp::SyncData { file: WAL }));
    fs.apply_ok(report(Site::WalSync, FsOp::SyncFailed { file: WAL }));
    assert_eq!(fs.file(WAL), state(40, 40));
    rewrite_pending(&mut fs);
    fs.apply_ok(report(Site::WalDirectory, FsOp::SyncDirectoryFailed));
    assert_eq!(fs.directory().pending().len(), 2);
    fs.apply_ok(report(Site::WalDirectory, FsOp::SyncDirectory));
    assert!(fs.directory().pending().is_empty());
}
