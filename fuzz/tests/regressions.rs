//! Every `fuzz/regressions/TARGET/*.bin` runs through its target and must
//! pass every property, except the inputs of known, unfixed bugs
//! (`allocdb_fuzz::KNOWN_BUGS`, empty today). The bugs fuzzing found and
//! that were fixed keep a named test each below.

use std::fs;
use std::path::PathBuf;

use allocdb_fuzz::{check, regressions_dir, seeds::workspace_root, Outcome, Target, KNOWN_BUGS};

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
            let name = format!(
                "{}/{}",
                target.name(),
                path.file_name().unwrap().to_string_lossy()
            );
            let expected = EXPECTED
                .iter()
                .find(|(file, _)| *file == name)
                .unwrap_or_else(|| panic!("{name}: no expected outcome in EXPECTED"));
            assert_eq!(outcome.label(), expected.1, "{name}");
            ran += 1;
        }
    }
    assert_eq!(ran, EXPECTED.len(), "every expected input ran");
}

/// What each regression input must come to: `accepted`, or the label of
/// the typed refusal. Written out, so a decoder that starts accepting what
/// it refused (or refusing it for another reason) fails here.
const EXPECTED: &[(&str, &str)] = &[
    ("wal_frame/header-cut-at-31.bin", "frame: incomplete"),
    (
        "wal_frame/marker-under-client-type.bin",
        "payload: record type mismatch",
    ),
    (
        "wal_frame/payload-len-513-present.bin",
        "frame: payload too large",
    ),
    (
        "wal_frame/payload-len-u32-max.bin",
        "frame: payload too large",
    ),
    ("wal_frame/reserve-full-bundle-max-fields.bin", "accepted"),
    (
        "wal_scan/huge-length-mid-file.bin",
        "corruption: payload too large",
    ),
    ("wal_scan/lsn-gap.bin", "replay: lsn gap"),
    ("wal_scan/lsn-repeats.bin", "corruption: lsn not increasing"),
    (
        "wal_scan/slot-goes-back.bin",
        "corruption: slot went backwards",
    ),
    ("wal_scan/torn-tail-huge-length.bin", "scan: torn tail cut"),
    (
        "wal_scan/valid-frame-hidden-in-tail.bin",
        "corruption: bad magic",
    ),
    ("wal_scan/zeroed-tail.bin", "scan: torn tail cut"),
    (
        "payload/create-with-trailing-byte.bin",
        "payload: wrong length",
    ),
    ("payload/empty.bin", "payload: empty"),
    ("payload/marker-lsn-max.bin", "accepted"),
    (
        "payload/reserve-count-17-with-members.bin",
        "payload: bundle too large",
    ),
    ("payload/reserve-count-255.bin", "payload: bundle too large"),
    (
        "snapshot/counts-at-bound-no-records.bin",
        "snapshot: truncated",
    ),
    (
        "snapshot/counts-one-over-bound.bin",
        "snapshot: count over bound",
    ),
    ("snapshot/counts-u32-max.bin", "snapshot: count over bound"),
    ("snapshot/empty-state.bin", "accepted"),
    (
        "snapshot/lease-id-from-the-future.bin",
        "restore: invariant audit",
    ),
    ("snapshot/lease-member-count-17.bin", "snapshot: bad field"),
    (
        "snapshot/operation-retires-far-in-future.bin",
        "restore: invariant audit",
    ),
    (
        "snapshot/resource-version-at-max.bin",
        "restore: invariant audit",
    ),
    ("snapshot/trailer-only.bin", "snapshot: too short"),
    (
        "scenario/config-table-bound-u32-max.bin",
        "scenario: semantic",
    ),
    ("scenario/empty-burst.bin", "scenario: semantic"),
    ("scenario/invalid-utf8-step-name.bin", "scenario: syntax"),
    ("scenario/nesting-200-deep.bin", "scenario: syntax"),
    ("scenario/slot-number-over-u64.bin", "scenario: syntax"),
    ("scenario/slot-overflow.bin", "scenario: semantic"),
    ("scenario/u128-ids-at-max.bin", "accepted"),
];

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
    assert_eq!(
        check(
            Target::Snapshot,
            &snapshot_input("operation-retires-far-in-future.bin")
        ),
        Outcome::Rejected("restore: invariant audit")
    );
}

/// Fixed (the audit now refuses it): `StateMachine::restore` accepted a resource whose `version` is
/// `u64::MAX`; the next reserve of it does `resource.version += 1`
/// (core/src/machine/lease_ops.rs:100): an overflow panic with overflow
/// checks on, a silent wrap to 0 in release builds.
#[test]
fn snapshot_resource_version_at_max() {
    assert_eq!(
        check(
            Target::Snapshot,
            &snapshot_input("resource-version-at-max.bin")
        ),
        Outcome::Rejected("restore: invariant audit")
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
    assert_eq!(
        check(
            Target::Snapshot,
            &snapshot_input("lease-id-from-the-future.bin")
        ),
        Outcome::Rejected("restore: invariant audit")
    );
}
