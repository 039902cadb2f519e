//! Seed sweeps through the generator: determinism, a default sweep that
//! passes and exercises everything, and a self-test that must fail.

use allocdb_core::engine::fault::CrashPoint;
use allocdb_sim::action::ActionKind;
use allocdb_sim::driver::{RunError, SelfTest};
use allocdb_sim::fs_model::SyncSite;
use allocdb_sim::oracle::Oracle;
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::stats::RunStats;
use allocdb_sim::transcript::TranscriptMode;
use allocdb_sim::workload::mix::FaultSelection;

#[test]
fn same_seed_same_transcript_different_seed_different_transcript() {
    let run = |seed| {
        run_seed(&SeedSpec {
            transcript: TranscriptMode::Text,
            ..SeedSpec::new(seed, 600)
        })
    };
    let (a, b, c) = (run(42), run(42), run(43));
    assert!(a.failure.is_none(), "{:?}", a.failure);
    let text = a.transcript.text().expect("asked for the text");
    assert_eq!(Some(text), b.transcript.text());
    assert_eq!(a.actions, b.actions);
    assert_ne!(Some(text), c.transcript.text());
    assert!(
        text.lines().count() > 600,
        "a header plus one line per step"
    );
}

#[test]
fn default_sweep_of_1000_seeds_passes_and_exercises_everything() {
    let mut total = RunStats::default();
    for seed in 0..1000 {
        let report = run_seed(&SeedSpec::new(seed, 1000));
        if let Some(failure) = report.failure {
            panic!(
                "seed {seed} failed: {failure} (its transcript: cargo xtask replay --seed {seed})"
            );
        }
        total.merge(&report.stats);
    }
    // A forged snapshot is a scenario's step only.
    for kind in ActionKind::ALL
        .into_iter()
        .filter(|&k| k != ActionKind::ForgeSnapshot)
    {
        assert!(
            total.actions.get(&kind).copied().unwrap_or(0) > 0,
            "action {} never ran",
            kind.name()
        );
    }
    for point in CrashPoint::ALL {
        assert!(
            total.crash_points.get(point.name()).copied().unwrap_or(0) > 0,
            "crash point {} never fired",
            point.name()
        );
    }
    for failure in ["append_fails", "partial_append", "sync_fails"] {
        assert!(
            total.persist_failures.get(failure).copied().unwrap_or(0) > 0,
            "{failure} never injected"
        );
    }
    for mode in ["wal_only", "snapshot_only", "snapshot_and_wal"] {
        assert!(
            total.recoveries.get(mode).copied().unwrap_or(0) > 0,
            "no {mode} recovery"
        );
    }
    assert!(total.torn_tails_recovered > 0);
    assert!(total.fail_closed_confirmed > 0);
}

#[test]
fn a_sweep_without_faults_injects_none() {
    for seed in 0..20 {
        let spec = SeedSpec {
            faults: FaultSelection::None,
            ..SeedSpec::new(seed, 500)
        };
        let report = run_seed(&spec);
        assert!(report.failure.is_none());
        for kind in [
            ActionKind::ArmCrash,
            ActionKind::ArmPersistFailure,
            ActionKind::TearLastFrame,
            ActionKind::FlipWalBit,
            ActionKind::FlipSnapshotBit,
        ] {
            assert_eq!(
                report.stats.actions.get(&kind),
                None,
                "seed {seed} ran {}",
                kind.name()
            );
        }
    }
}

#[test]
fn selftest_wrong_model_makes_a_sweep_fail_with_a_typed_failure() {
    let mut failed = 0;
    for seed in 0..1000 {
        let spec = SeedSpec {
            selftest: Some(SelfTest::WrongModel),
            ..SeedSpec::new(seed, 1000)
        };
        match run_seed(&spec).failure {
            Some(RunError::Oracle(failure)) => {
                assert_eq!(failure.oracle, Oracle::ModelAgreement);
                assert_eq!(failure.seed, seed);
                failed += 1;
                // One failing seed is enough to prove the sweep fails; a few
                // more show it is not a fluke of one seed.
                if failed == 5 {
                    return;
                }
            }
            Some(other) => panic!("seed {seed}: {other}"),
            None => {}
        }
    }
    panic!("a 1000-seed sweep with a wrong model found only {failed} failures");
}

/// A WAL whose commit sync never happened, as far as the file-system model
/// knows (the core is unchanged): the first acknowledged write is not
/// durable, and the durability oracle, which learns what is synced only
/// from the engine's file-operation reports, says so.
#[test]
fn selftest_ignore_sync_at_the_commit_fdatasync_fails_the_durability_oracle() {
    for seed in 0..5 {
        let spec = SeedSpec {
            selftest: Some(SelfTest::IgnoreSync(SyncSite::WalSync)),
            ..SeedSpec::new(seed, 1000)
        };
        let report = run_seed(&spec);
        let Some(RunError::Oracle(failure)) = report.failure else {
            panic!("seed {seed} passed with the commit sync ignored");
        };
        assert_eq!(failure.oracle, Oracle::Durability, "seed {seed}: {failure}");
        // Only the syncs of other sites (a checkpoint's marker, say) made
        // anything durable: less than the acknowledged frame needs.
        let (end, synced) = acknowledged_and_synced(&failure.detail)
            .unwrap_or_else(|| panic!("seed {seed}: {}", failure.detail));
        assert!(synced < end, "seed {seed}: {}", failure.detail);
    }
}

/// The frame end and the synced length a durability failure names.
fn acknowledged_and_synced(detail: &str) -> Option<(u64, u64)> {
    let (_, rest) = detail.split_once("acknowledged with its frame ending at byte ")?;
    let (end, rest) = rest.split_once(", but only ")?;
    let (synced, _) = rest.split_once(" bytes are synced")?;
    Some((end.parse().ok()?, synced.parse().ok()?))
}

/// The first seed of `seeds` that fails with `site`'s sync ignored, and how.
fn first_failure_ignoring(
    site: SyncSite,
    seeds: std::ops::Range<u64>,
) -> Option<(u64, allocdb_sim::oracle::OracleFailure)> {
    seeds.into_iter().find_map(|seed| {
        let spec = SeedSpec {
            selftest: Some(SelfTest::IgnoreSync(site)),
            ..SeedSpec::new(seed, 1000)
        };
        match run_seed(&spec).failure {
            Some(RunError::Oracle(failure)) => Some((seed, failure)),
            Some(other) => panic!("seed {seed}: {other}"),
            None => None,
        }
    })
}

/// Without the directory sync after the WAL's creation and its rewrite's
/// rename, a crash may keep none of those entries: the WAL is gone, or the
/// old one is back, and acknowledged writes with it.
#[test]
fn selftest_ignore_sync_at_the_wal_directory_loses_acknowledged_writes() {
    let (seed, failure) = first_failure_ignoring(SyncSite::WalDirectory, 0..50)
        .expect("50 seeds passed with the WAL's directory sync ignored");
    assert_eq!(failure.oracle, Oracle::Durability, "seed {seed}: {failure}");
    assert!(failure.detail.contains("acknowledged"), "{failure}");
}

/// Without the rewritten log's sync before its rename, its bytes are
/// dirty in the page cache when the next append's sync fails, and that
/// failure may drop all of them (fsyncgate): every frame appended after the
/// restart then sits behind bytes no sync will write, and is not durable
/// however acknowledged. (Before the file-system model knew a failed sync
/// drops bytes, this sync was redundant: what the rewrite holds, the
/// snapshot covers.)
#[test]
fn selftest_ignore_sync_at_the_wal_rewrite_temp_is_caught_after_a_failed_sync() {
    let (seed, failure) = first_failure_ignoring(SyncSite::WalRewriteTemp, 0..150)
        .expect("150 seeds passed with the rewritten log's sync ignored");
    assert_eq!(failure.oracle, Oracle::Durability, "seed {seed}: {failure}");
    assert!(failure.detail.contains("acknowledged"), "{failure}");
}

/// Without the snapshot temp file's sync before its rename, a crash after
/// the rename may cut the snapshot's bytes: recovery refuses storage that
/// is a legal crash state.
#[test]
fn selftest_ignore_sync_at_the_snapshot_temp_leaves_a_snapshot_recovery_refuses() {
    let (seed, failure) = first_failure_ignoring(SyncSite::SnapshotTemp, 0..50)
        .expect("50 seeds passed with the snapshot temp file's sync ignored");
    assert!(
        matches!(
            failure.oracle,
            Oracle::ReplayEquivalence | Oracle::FailClosed
        ),
        "seed {seed}: {failure}"
    );
    assert!(
        failure.detail.contains("the snapshot is invalid"),
        "seed {seed}: {failure}"
    );
}

/// The syncs no crash state can tell from absent (docs/fault-model.md,
/// "Syncs that are redundant"): a bounded sweep with each ignored passes.
/// - `wal_open`: the sync when the WAL is opened covers bytes that are
///   durable already (after a power loss only durable bytes are left) or
///   unacknowledged ones a restart replayed; every acknowledgement after it
///   follows a `wal_sync` of the whole file, which covers them too.
/// - `wal_truncate`: the model takes a cut as durable at once (a lost
///   truncation is not modelled), so the sync after it adds nothing.
/// - `snapshot_directory`: entry operations persist in order, and the old
///   log keeps every frame until the rewrite's own directory sync, which
///   also makes the snapshot's rename durable.
///
/// Should the engine change so that one of them matters, this test fails,
/// and the site moves to the tests above.
#[test]
fn selftest_ignore_sync_at_a_redundant_site_stays_green() {
    for site in [
        SyncSite::WalOpen,
        SyncSite::WalTruncate,
        SyncSite::SnapshotDirectory,
    ] {
        assert!(
            first_failure_ignoring(site, 0..150).is_none(),
            "{site:?}: {:?}",
            first_failure_ignoring(site, 0..150)
        );
    }
}

/// Every oracle shown to fire inside the driver: each self-test switch
/// makes the simulator wrong in one place, and a bounded sweep must fail
/// with that oracle's name (at the first failing seed among 0..50).
#[test]
fn every_selftest_switch_fails_its_own_oracle_inside_the_driver() {
    let cases = [
        (SelfTest::WrongModel, Oracle::ModelAgreement),
        (SelfTest::WrongActivate, Oracle::ModelAgreement),
        (SelfTest::SkewDigest, Oracle::StateDigest),
        (SelfTest::SkewRecord, Oracle::StateRecords),
        (SelfTest::LateDeadline, Oracle::EarlyReuse),
        (SelfTest::MisplaceDamage, Oracle::FailClosed),
        (SelfTest::MiscountFrame, Oracle::EngineBehaviour),
        (SelfTest::CallDamageLegal, Oracle::ReplayEquivalence),
        (SelfTest::IgnoreSync(SyncSite::WalSync), Oracle::Durability),
        (SelfTest::SimulatorPanic, Oracle::Panic),
        (SelfTest::EngineAssertion, Oracle::Panic),
    ];
    for (selftest, oracle) in cases {
        let failure = (0..50)
            .find_map(|seed| {
                run_seed(&SeedSpec {
                    selftest: Some(selftest),
                    ..SeedSpec::new(seed, 1000)
                })
                .failure
            })
            .unwrap_or_else(|| panic!("{selftest:?}: 50 seeds passed"));
        let RunError::Oracle(failure) = failure else {
            panic!("{selftest:?}: not an oracle failure: {failure}");
        };
        assert_eq!(failure.oracle, oracle, "{selftest:?}: {failure}");
    }
}
