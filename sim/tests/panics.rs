//! A panic is a failure like any oracle's: a seed that panics (in the
//! simulator, or in one of the engine's own assertions) fails with oracle
//! `panic` naming the seed, the step, where it panicked and whose code it
//! was; its repro replays to the same panic and shrinks; exploration and
//! the determinism check report it like any other failure.

use allocdb_sim::driver::{RunError, SelfTest};
use allocdb_sim::explore::explore;
use allocdb_sim::oracle::{Oracle, OracleFailure, PanicOrigin};
use allocdb_sim::repro::repro;
use allocdb_sim::run::{run_seed, SeedReport, SeedSpec};
use allocdb_sim::scenario::parse;
use allocdb_sim::shrink::{failing, shrink};

fn panicking_seed(selftest: SelfTest) -> (SeedReport, OracleFailure) {
    (0..50)
        .find_map(|seed| {
            let report = run_seed(&SeedSpec {
                selftest: Some(selftest),
                ..SeedSpec::new(seed, 1000)
            });
            let failure = match &report.failure {
                Some(RunError::Oracle(failure)) => Some(failure.clone()),
                Some(other) => panic!("{selftest:?}: seed {seed}: not an oracle: {other}"),
                None => None,
            };
            failure.map(|failure| (report, failure))
        })
        .unwrap_or_else(|| panic!("{selftest:?}: 50 seeds passed"))
}

#[test]
fn a_panic_fails_the_seed_with_where_and_whose_and_shrinks() {
    for (selftest, origin, file) in [
        (
            SelfTest::SimulatorPanic,
            PanicOrigin::Simulator,
            "sim/src/driver/maintenance.rs:",
        ),
        (
            SelfTest::EngineAssertion,
            PanicOrigin::Engine,
            "core/src/fs/observer.rs:",
        ),
    ] {
        let (report, failure) = panicking_seed(selftest);
        assert_eq!(failure.oracle, Oracle::Panic, "{failure}");
        assert_eq!(failure.seed, report.seed);
        assert_eq!(
            failure.step,
            report.actions.len() as u64,
            "the last step panicked"
        );
        let panicked = failure.panic.clone().expect("a panic says what panicked");
        assert_eq!(panicked.origin, origin, "{selftest:?}");
        assert!(panicked.location.starts_with(file), "{}", panicked.location);
        assert!(
            failure.detail.contains(&panicked.location),
            "{}",
            failure.detail
        );

        // The repro panics the same way at the same step, and shrinks.
        let scenario = repro(report.seed, Some(selftest), &report.config, &report.actions);
        let replayed = failing(&scenario).expect("the repro fails");
        assert_eq!(replayed.signature, failure.signature());
        assert_eq!(replayed.step, failure.step);
        let shrunk = shrink(&scenario, 500).expect("it shrinks");
        assert_eq!(shrunk.signature, failure.signature());
        assert!(shrunk.steps <= 3, "{selftest:?}: {} steps", shrunk.steps);
        assert_eq!(
            failing(&shrunk.scenario).unwrap().signature,
            failure.signature()
        );
    }
}

#[test]
fn a_panic_is_deterministic_and_its_seed_runs_on() {
    let (report, failure) = panicking_seed(SelfTest::EngineAssertion);
    let spec = SeedSpec {
        selftest: Some(SelfTest::EngineAssertion),
        ..SeedSpec::new(report.seed, 1000)
    };
    let (again, diverged) = allocdb_sim::determinism::run_seed_twice(&spec);
    assert_eq!(
        diverged, None,
        "a panicking seed writes the same transcript twice"
    );
    match again.failure {
        Some(RunError::Oracle(f)) => assert_eq!(f.signature(), failure.signature()),
        other => panic!("{other:?}"),
    }
    // The thread that ran it runs the next seed as if nothing happened.
    let next = run_seed(&SeedSpec::new(report.seed, 300));
    assert!(next.failure.is_none(), "{:?}", next.failure);
}

#[test]
fn exploration_reports_a_panicking_crash_state_as_failing() {
    let scenario = parse(
        r#"Scenario(
            selftest: EngineAssertion,
            steps: [
                Submit(client: 1, operation: 1, command: CreateResource(resource: 7)),
                Submit(client: 1, operation: 2, command: CreateResource(resource: 8)),
            ],
        )"#,
        "panics.ron",
    )
    .unwrap();
    let exploration = explore(&scenario, 2, None).unwrap();
    assert!(exploration.enumerated > 0);
    for result in &exploration.results {
        match &result.outcome {
            Err(RunError::Oracle(f)) if f.oracle == Oracle::Panic => {
                assert_eq!(f.panic.as_ref().unwrap().origin, PanicOrigin::Engine);
            }
            other => panic!("{:?}: {other:?}", result.state),
        }
    }
}
