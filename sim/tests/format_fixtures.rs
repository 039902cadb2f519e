//! The on-disk format fixtures of `corpus/format/`: this version recovers
//! each to its pinned report and state, and writes v1 byte for byte. An
//! unintended change of the WAL or snapshot format fails here; an intended
//! one adds a new version's fixtures beside the old (`cargo xtask
//! format-fixtures` after moving `FIXTURE_DIR` on) and keeps recovering the
//! old, or refuses it with the typed error `docs/storage-format.md` names.

use allocdb_core::engine::{Engine, RecoveryReport, StartMode};
use allocdb_core::Lsn;
use allocdb_sim::format_fixture::{fixture_config, write_fixture, FIXTURE_DIR, FIXTURE_FILES};
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(FIXTURE_DIR)
}

/// What v1 recovers to: the snapshot at the reserve's LSN, then the four
/// commands after the checkpoint's marker.
const V1_REPORT: RecoveryReport = RecoveryReport {
    mode: StartMode::SnapshotAndWal,
    snapshot_lsn: Some(Lsn(4)),
    frames_replayed: 4,
    torn_bytes: 0,
    last_applied_lsn: Some(Lsn(9)),
};
const V1_DIGEST: u64 = 0x3dfe_1a40_0a82_a0c3;

#[test]
fn v1_recovers_to_its_pinned_report_and_state() {
    let dir = tempfile::tempdir().unwrap();
    for file in FIXTURE_FILES {
        std::fs::copy(
            fixture_dir().join(file.as_str()),
            dir.path().join(file.as_str()),
        )
        .unwrap_or_else(|e| panic!("{FIXTURE_DIR}/{}: {e}", file.as_str()));
    }
    let (engine, report) = Engine::open(dir.path(), fixture_config()).unwrap();
    assert_eq!(report, V1_REPORT);
    assert_eq!(
        engine.state_machine().digest(),
        V1_DIGEST,
        "{:x}",
        engine.state_machine().digest()
    );
}

#[test]
fn this_version_writes_v1_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path()).unwrap();
    for file in FIXTURE_FILES {
        let written = std::fs::read(dir.path().join(file.as_str())).unwrap();
        let kept = std::fs::read(fixture_dir().join(file.as_str())).unwrap();
        assert!(
            written == kept,
            "{FIXTURE_DIR}/{} differs from what this version writes ({} bytes against {}): \
             the on-disk format changed",
            file.as_str(),
            written.len(),
            kept.len()
        );
    }
}
