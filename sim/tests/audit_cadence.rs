//! The full audit's cadence seen from outside: a sweep audits every Nth
//! step plus its fixed occasions, the seed's last generated step among
//! them; a replay audits every step and so stops at the first broken one.
//! The `SkewRecord` self-test breaks every full audit that sees a
//! resource, which makes each audit visible.

use allocdb_sim::driver::{AuditCadence, RunError, SelfTest};
use allocdb_sim::oracle::{Oracle, OracleFailure};
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::transcript::TranscriptMode;
use allocdb_sim::workload::mix::FaultSelection;

fn first_broken_audit(
    seed: u64,
    steps: u64,
    faults: FaultSelection,
    audit: AuditCadence,
) -> OracleFailure {
    let report = run_seed(&SeedSpec {
        faults,
        selftest: Some(SelfTest::SkewRecord),
        audit,
        ..SeedSpec::new(seed, steps)
    });
    match report.failure {
        Some(RunError::Oracle(failure)) => failure,
        other => panic!("seed {seed}: expected an oracle failure, got {other:?}"),
    }
}

#[test]
fn the_last_generated_step_is_audited_whatever_the_cadence() {
    // Seed 0 creates a resource within its first 5 steps, with neither a
    // checkpoint nor a fault among them (faults are off).
    let never = AuditCadence::every(1_000).unwrap();
    let failure = first_broken_audit(0, 5, FaultSelection::None, never);
    assert_eq!(failure.oracle, Oracle::StateRecords);
    assert_eq!(failure.step, 5);
    assert!(
        failure
            .detail
            .starts_with("full audit (the seed's last generated step): "),
        "{}",
        failure.detail
    );
}

#[test]
fn a_replay_finds_the_first_step_a_sweep_audit_would_catch_later() {
    for seed in 0..5 {
        let sweep = first_broken_audit(seed, 300, FaultSelection::All, AuditCadence::SWEEP);
        let replay = first_broken_audit(seed, 300, FaultSelection::All, AuditCadence::EVERY_STEP);
        assert_eq!(sweep.oracle, replay.oracle, "seed {seed}");
        assert!(
            replay.step <= sweep.step,
            "seed {seed}: {replay} after {sweep}"
        );
        assert!(
            replay.detail.starts_with("full audit (every step): "),
            "seed {seed}: {}",
            replay.detail
        );
        assert!(
            sweep.detail.starts_with("full audit ("),
            "seed {seed}: {}",
            sweep.detail
        );
    }
    // Seed 0's first resource is created at step 4 and its next full
    // audit is the fault action at step 13: the sweep's audit catches it
    // there.
    let sweep = first_broken_audit(0, 300, FaultSelection::All, AuditCadence::SWEEP);
    assert_eq!(sweep.step, 13);
    assert!(sweep
        .detail
        .starts_with("full audit (after fault action arm_persist_failure): "));
    let replay = first_broken_audit(0, 300, FaultSelection::All, AuditCadence::EVERY_STEP);
    assert_eq!(replay.step, 4);
}

/// A sweep takes the live model as the one recovery must reach when the
/// files hold every command it applied; a replay rebuilds it from the
/// files even then and asserts the two agree. Same transcripts both ways
/// (the rebuilt model is the live one), over seeds with every fault kind.
#[test]
fn the_live_model_a_sweep_expects_after_a_restart_is_the_one_the_files_rebuild() {
    let mut restarts = 0;
    for seed in 0..24 {
        let run = |audit| {
            run_seed(&SeedSpec {
                audit,
                transcript: TranscriptMode::Text,
                ..SeedSpec::new(seed, 600)
            })
        };
        let (sweep, replay) = (run(AuditCadence::SWEEP), run(AuditCadence::EVERY_STEP));
        assert!(
            replay.failure.is_none(),
            "seed {seed}: {:?}",
            replay.failure
        );
        assert!(sweep.failure.is_none(), "seed {seed}: {:?}", sweep.failure);
        let text = replay.transcript.text().expect("kept as text");
        assert_eq!(sweep.transcript.text(), Some(text), "seed {seed}");
        restarts += text.matches(" restart => ").count();
    }
    assert!(restarts > 100, "only {restarts} restarts");
}
