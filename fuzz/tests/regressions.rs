//! Every `fuzz/regressions/TARGET/*.bin` runs through its target and must
//! pass every property, except the inputs of known, unfixed bugs
//! (`allocdb_fuzz::KNOWN_BUGS`, empty today). The bugs fuzzing found and
//! that were fixed keep a named test each below.

use std::fs;
use std::path::PathBuf;

use allocdb_fuzz::{check, regressions_dir, seeds::workspace_root, Target, KNOWN_BUGS};

fn regression_files(target: Target) -> Vec<PathBuf> {
    let dir = regressions_dir(&workspace_root(), target);
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|entry| entry.expect("a readable directory entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "bin"))
            .collect(),
        Err(error) => panic!("cannot read {}: {error}", dir.display()),
    };
    files.sort();
    files
}

fn is_known_bug(target: Target, path: &std::path::Path) -> bool {
    KNOWN_BUGS
        .iter()
        .any(|bug| bug.target == target && path.file_name().is_some_and(|name| name == bug.file))
}

#[test]
fn every_regression_input_passes() {
    let mut ran = 0;
    for target in Target::ALL {
        let files = regression_files(target);
        assert!(
            !files.is_empty(),
            "no regression inputs for {}",
            target.name()
        );
        for path in files.iter().filter(|p| !is_known_bug(target, p)) {
            let input = fs::read(path).expect("a readable regression input");
            // `check` panics with the finding, naming the property broken.
            let outcome = check(target, &input);
            println!("{}: {outcome:?}", path.display());
            ran += 1;
        }
    }
    assert!(ran >= 15, "only {ran} regression inputs ran");
}

#[test]
fn every_known_bug_has_its_input() {
    for bug in KNOWN_BUGS {
        let path = regressions_dir(&workspace_root(), bug.target).join(bug.file);
        assert!(path.is_file(), "{} is missing", path.display());
    }
}

fn snapshot_input(file: &str) -> Vec<u8> {
    fs::read(regressions_dir(&workspace_root(), Target::Snapshot).join(file))
        .expect("a readable regression input")
}

/// Fixed (the audit now refuses it): `StateMachine::restore` accepted an operation record whose
/// `retire_after_slot` (here 137438953530, one flipped bit) is beyond
/// `last_request_slot + dedupe_window`; the next client command pushes its
/// own operation at `slot + dedupe_window`, earlier than the retirement
/// queue's back, and `RetireQueue::push` panics ("retire queue pushes must
/// not go backwards", core/src/retire.rs:38). Through `Engine::open` this
/// panics recovery when a frame follows the snapshot, or the first live
/// write after it. The same holds for a terminal lease's retire slot.
#[test]
fn snapshot_operation_retires_far_in_future() {
    check(
        Target::Snapshot,
        &snapshot_input("operation-retires-far-in-future.bin"),
    );
}

/// Fixed (the audit now refuses it): `StateMachine::restore` accepted a resource whose `version` is
/// `u64::MAX`; the next reserve of it does `resource.version += 1`
/// (core/src/machine/lease_ops.rs:100): an overflow panic with overflow
/// checks on, a silent wrap to 0 in release builds.
#[test]
fn snapshot_resource_version_at_max() {
    check(
        Target::Snapshot,
        &snapshot_input("resource-version-at-max.bin"),
    );
}

/// Fixed (the audit now refuses it): `StateMachine::restore` accepted a lease whose id (`shard << 64 |
/// lsn`) names an LSN after the snapshot's `last_applied_lsn` (here lease
/// id 107 with `created_lsn` 94 in a snapshot at LSN 102; nothing checks
/// `lease_id == LeaseId::new(shard_id, created_lsn)`). A reserve applied at
/// LSN 107 creates lease id 107 again and `reserve` panics at
/// core/src/machine/lease_ops.rs:85 (`lsn is fresh and the lease table has
/// room: Exists`): through `Engine::open`, replaying WAL frames 103..=107
/// with a reserve last panics recovery.
#[test]
fn snapshot_lease_id_from_the_future() {
    check(
        Target::Snapshot,
        &snapshot_input("lease-id-from-the-future.bin"),
    );
}
