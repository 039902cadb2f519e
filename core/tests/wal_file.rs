//! The WAL file on its own: the two lengths it tracks (`len`, everything
//! written; `durable_len`, everything a sync covered) through open, append,
//! sync, truncate and replace, and what reaches the disk. The engine only
//! reads these lengths through its crash model, so mutation testing found
//! `is_empty` untested; these tests pin every accessor.

#[path = "support/scratch_dir.rs"]
mod scratch_dir;

use allocdb_core::wal::{WalFile, WAL_FILE_NAME};
use std::io;

fn on_disk(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read(dir.join(WAL_FILE_NAME)).expect("the WAL file exists")
}

#[test]
fn a_new_wal_is_empty_and_everything_it_holds_is_durable() {
    let dir = scratch_dir::scratch_dir();
    let wal = WalFile::open(dir.path()).unwrap();
    assert!(wal.is_empty());
    assert_eq!((wal.len(), wal.durable_len()), (0, 0));
    assert!(dir.path().join(WAL_FILE_NAME).is_file());

    // An existing file is kept whole and counts as durable.
    std::fs::write(dir.path().join(WAL_FILE_NAME), b"abc").unwrap();
    let mut wal = WalFile::open(dir.path()).unwrap();
    assert!(!wal.is_empty());
    assert_eq!((wal.len(), wal.durable_len()), (3, 3));
    assert_eq!(wal.read_all().unwrap(), b"abc");
}

#[test]
fn append_grows_len_and_only_sync_grows_durable_len() {
    let dir = scratch_dir::scratch_dir();
    let mut wal = WalFile::open(dir.path()).unwrap();
    wal.append(b"hello").unwrap();
    assert!(!wal.is_empty());
    assert_eq!((wal.len(), wal.durable_len()), (5, 0));
    wal.sync().unwrap();
    assert_eq!((wal.len(), wal.durable_len()), (5, 5));
    wal.append(b", world").unwrap();
    assert_eq!((wal.len(), wal.durable_len()), (12, 5));
    assert_eq!(wal.read_all().unwrap(), b"hello, world");
    // Reading does not move where the next append goes.
    wal.append(b"!").unwrap();
    wal.sync().unwrap();
    assert_eq!((wal.len(), wal.durable_len()), (13, 13));
    assert_eq!(on_disk(dir.path()), b"hello, world!");
}

#[test]
fn truncate_cuts_the_file_and_makes_the_rest_durable() {
    let dir = scratch_dir::scratch_dir();
    let mut wal = WalFile::open(dir.path()).unwrap();
    wal.append(b"0123456789").unwrap();
    wal.truncate(4).unwrap();
    assert_eq!((wal.len(), wal.durable_len()), (4, 4));
    assert_eq!(on_disk(dir.path()), b"0123");
    // The next append goes right after the cut.
    wal.append(b"ab").unwrap();
    assert_eq!(wal.len(), 6);
    assert_eq!(wal.read_all().unwrap(), b"0123ab");
    wal.truncate(0).unwrap();
    assert!(wal.is_empty());
    assert_eq!(on_disk(dir.path()), b"");
}

#[test]
fn replace_swaps_the_whole_log_and_reopens_it() {
    let dir = scratch_dir::scratch_dir();
    let mut wal = WalFile::open(dir.path()).unwrap();
    wal.append(b"old log").unwrap();
    let mut ran = false;
    wal.replace::<io::Error>(b"new", || {
        ran = true;
        Ok(())
    })
    .unwrap();
    assert!(ran, "after_rename runs");
    assert_eq!((wal.len(), wal.durable_len()), (3, 3));
    assert_eq!(on_disk(dir.path()), b"new");
    assert!(
        !dir.path().join("wal.tmp").exists(),
        "the temp file was renamed"
    );
    wal.append(b"er").unwrap();
    assert_eq!(wal.read_all().unwrap(), b"newer");

    // A failing after_rename stops the replacement there: the new bytes
    // are in place, the error is returned.
    let error = wal
        .replace::<io::Error>(b"x", || Err(io::Error::other("crash")))
        .unwrap_err();
    assert_eq!(error.to_string(), "crash");
    assert_eq!(on_disk(dir.path()), b"x");
}
