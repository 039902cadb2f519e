//! A run written as a scenario is the same run: the file parses back to the
//! same steps, replays to the same transcript lines, and a failing seed's
//! repro fails the same oracle, before and after shrinking.

use allocdb_sim::driver::SelfTest;
use allocdb_sim::repro::{repro, repro_comments};
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::scenario::{parse, run_scenario, to_ron};
use allocdb_sim::shrink::{failing_oracle, shrink};

/// Transcript step lines (the header differs between a seed and a file).
fn step_lines(transcript: &str) -> Vec<&str> {
    transcript.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn seeds_written_as_scenarios_parse_back_and_replay_identically() {
    for seed in 0..12 {
        let report = run_seed(&SeedSpec::new(seed, 300));
        assert!(
            report.failure.is_none(),
            "seed {seed}: {:?}",
            report.failure
        );
        let scenario = repro(seed, None, &report.actions);
        let text = to_ron(&scenario, &["a comment".to_string()]).unwrap();
        let parsed = parse(&text, "written.ron").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(parsed, scenario, "seed {seed}");
        let run = run_scenario(&parsed);
        assert!(run.result.is_ok(), "seed {seed}: {:?}", run.result.err());
        assert_eq!(
            step_lines(&run.transcript),
            step_lines(&report.transcript),
            "seed {seed}"
        );
    }
}

#[test]
fn a_failing_seed_repro_fails_the_same_oracle_and_shrinks() {
    let failing = (0..200)
        .map(|seed| {
            run_seed(&SeedSpec {
                selftest: Some(SelfTest::WrongModel),
                ..SeedSpec::new(seed, 1000)
            })
        })
        .find(|report| report.failure.is_some())
        .expect("the wrong-model self-test fails some seed");
    let failure = failing.failure.as_ref().unwrap();
    let scenario = repro(failing.seed, Some(SelfTest::WrongModel), &failing.actions);
    let text = to_ron(
        &scenario,
        &repro_comments(failing.seed, 1000, &failure.to_string(), "repro.ron"),
    )
    .unwrap();
    let parsed = parse(&text, "repro.ron").unwrap();
    assert_eq!(parsed, scenario);
    let allocdb_sim::driver::RunError::Oracle(oracle_failure) = failure else {
        panic!("not an oracle failure: {failure}");
    };
    let (oracle, step) = failing_oracle(&parsed).unwrap();
    assert_eq!(oracle, oracle_failure.oracle);
    assert_eq!(step, oracle_failure.step);

    let shrunk = shrink(&parsed, 2_000).unwrap();
    assert_eq!(shrunk.oracle, oracle);
    assert!(
        shrunk.steps < failing.actions.len(),
        "{} steps, not fewer than {}",
        shrunk.steps,
        failing.actions.len()
    );
    let (again, _) = failing_oracle(&shrunk.scenario).unwrap();
    assert_eq!(again, oracle);
    let text = to_ron(&shrunk.scenario, &[]).unwrap();
    assert_eq!(parse(&text, "shrunk.ron").unwrap(), shrunk.scenario);
    // The wrong model fails on the first successful reserve: create and
    // reserve are all it takes.
    assert!(
        shrunk.steps <= 3,
        "shrunk to {} steps:\n{text}",
        shrunk.steps
    );
}
