//! A fault-free seed's engine calls, made again on an engine of its own,
//! end where the run's engine ended: the floor the `floor` bench times is
//! the same engine work as the run, not less.

use allocdb_core::Slot;
use allocdb_sim::driver::EngineCall;
use allocdb_sim::run::engine_alone::{replay, EngineAloneError};
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::transcript::TranscriptMode;
use allocdb_sim::workload::mix::FaultSelection;

fn fault_free(seed: u64, engine_calls: bool) -> SeedSpec {
    SeedSpec {
        faults: FaultSelection::None,
        transcript: TranscriptMode::Text,
        engine_calls,
        ..SeedSpec::new(seed, 300)
    }
}

/// The digest the transcript's last line gives: the closing restart's.
fn last_digest(text: &str) -> u64 {
    let last = text
        .lines()
        .rev()
        .find_map(|line| line.split(" digest=").nth(1))
        .expect("a line with a digest");
    u64::from_str_radix(last.trim(), 16).expect("a hex digest")
}

#[test]
fn a_fault_free_seed_replayed_alone_ends_in_the_runs_state() {
    for seed in 0..6 {
        let report = run_seed(&fault_free(seed, true));
        assert!(report.failure.is_none(), "seed {seed}");
        let calls = &report.engine_calls;
        assert_eq!(calls.first(), Some(&EngineCall::Open), "the first open");
        assert_eq!(calls.last(), Some(&EngineCall::Open), "the closing restart");
        let kinds = |wanted: fn(&EngineCall) -> bool| calls.iter().filter(|c| wanted(c)).count();
        assert!(
            kinds(|c| matches!(c, EngineCall::Submit { .. })) > 50,
            "seed {seed}"
        );
        let text = report.transcript.text().expect("text mode");
        let digest = replay(report.config, calls).expect("a fault-free seed replays");
        assert_eq!(digest, last_digest(text), "seed {seed}");
    }
}

#[test]
fn keeping_the_calls_changes_nothing_in_the_run() {
    let kept = run_seed(&fault_free(3, true));
    let not = run_seed(&fault_free(3, false));
    assert_eq!(kept.transcript.digest(), not.transcript.digest());
    assert!(not.engine_calls.is_empty());
    assert!(!kept.engine_calls.is_empty());
}

#[test]
fn a_call_before_any_open_is_refused() {
    let config = run_seed(&fault_free(0, false)).config;
    let calls = [EngineCall::Tick { slot: Slot(1) }];
    assert!(matches!(
        replay(config, &calls),
        Err(EngineAloneError::NotOpen { index: 0, .. })
    ));
}
