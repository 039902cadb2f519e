//! A run written as a scenario is the same run: the file parses back to the
//! same steps, replays to the same transcript lines, and a failing seed's
//! repro fails the same oracle, before and after shrinking.

use allocdb_sim::action::{Action, FlipTarget, SimCommand};
use allocdb_sim::driver::SelfTest;
use allocdb_sim::lease_ref::LeaseRef;
use allocdb_sim::repro::{repro, repro_comments};
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::scenario::{parse, run_scenario, to_ron};
use allocdb_sim::shrink::{failing as how_it_fails, shrink};
use allocdb_sim::transcript::TranscriptMode;
use allocdb_sim::workload::config::ConfigChoice;

/// Transcript step lines (the header differs between a seed and a file).
fn step_lines(transcript: &str) -> Vec<&str> {
    transcript.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn seeds_written_as_scenarios_parse_back_and_replay_identically() {
    let mut references = 0;
    for seed in 0..12 {
        let report = run_seed(&SeedSpec {
            transcript: TranscriptMode::Text,
            ..SeedSpec::new(seed, 300)
        });
        assert!(
            report.failure.is_none(),
            "seed {seed}: {:?}",
            report.failure
        );
        let scenario = repro(seed, None, &report.config, &report.actions);
        let text = to_ron(&scenario, &["a comment".to_string()]).unwrap();
        references += text.matches("Of(op:").count();
        let parsed = parse(&text, "written.ron").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(parsed, scenario, "seed {seed}");
        let run = run_scenario(&parsed);
        assert!(run.result.is_ok(), "seed {seed}: {:?}", run.result.err());
        assert_eq!(
            step_lines(&run.transcript),
            step_lines(report.transcript.text().expect("asked for the text")),
            "seed {seed}"
        );
    }
    // The workload names the leases it aims at by their reserves.
    assert!(references > 12, "{references} leases named by reserve");
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
    let scenario = repro(
        failing.seed,
        Some(SelfTest::WrongModel),
        &failing.config,
        &failing.actions,
    );
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
    let failing_parsed = how_it_fails(&parsed).unwrap();
    let oracle = failing_parsed.signature.oracle;
    assert_eq!(oracle, oracle_failure.oracle);
    assert_eq!(failing_parsed.step, oracle_failure.step);

    let shrunk = shrink(&parsed, 2_000).unwrap();
    assert_eq!(shrunk.signature.oracle, oracle);
    assert!(
        shrunk.steps < failing.actions.len(),
        "{} steps, not fewer than {}",
        shrunk.steps,
        failing.actions.len()
    );
    let again = how_it_fails(&shrunk.scenario).unwrap().signature.oracle;
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

/// The shrinker cuts requests out of a burst, reports a spent budget, and
/// without one runs to a fixpoint: shrinking its result again changes
/// nothing.
#[test]
fn shrinking_cuts_bursts_reports_a_spent_budget_and_reaches_a_fixpoint() {
    let text = "Scenario(selftest: WrongModel, strict: false, steps: [
        Submit(client: 1, operation: 1, command: CreateResource(resource: 7)),
        Burst([
            Submit(client: 2, operation: 2, command: CreateResource(resource: 8)),
            Submit(client: 3, operation: 3, command: CreateResource(resource: 9)),
            Submit(client: 4, operation: 4, command: Reserve(resources: [7], holder: 2, ttl: 1)),
            Submit(client: 5, operation: 5, command: CreateResource(resource: 10)),
        ]),
    ])";
    let scenario = parse(text, "burst.ron").unwrap();
    let tiny = shrink(&scenario, 2).unwrap();
    assert!(tiny.budget_spent && tiny.runs == 2);
    let shrunk = shrink(&scenario, 5_000).unwrap();
    assert!(!shrunk.budget_spent);
    assert_eq!(shrunk.steps, 2, "{:?}", shrunk.scenario.actions());
    assert!(
        !shrunk
            .scenario
            .actions()
            .iter()
            .any(|a| matches!(a, allocdb_sim::action::Action::Burst(_))),
        "{:?}",
        shrunk.scenario.actions()
    );
    let again = shrink(&shrunk.scenario, 5_000).unwrap();
    assert_eq!(again.scenario.actions(), shrunk.scenario.actions());
}

/// The repro of the first of seeds 0..200 that `selftest` fails at step
/// `at_least` or later, and the oracle it fails.
fn late_failing_repro(
    selftest: SelfTest,
    at_least: usize,
) -> (allocdb_sim::scenario::Scenario, allocdb_sim::oracle::Oracle) {
    // The small fixed config: the tests are about references, and its
    // bounds are the ones the step counts below were set for.
    late_failing_repro_on(selftest, at_least, ConfigChoice::Fixed)
}

fn late_failing_repro_on(
    selftest: SelfTest,
    at_least: usize,
    config: ConfigChoice,
) -> (allocdb_sim::scenario::Scenario, allocdb_sim::oracle::Oracle) {
    late_failing_repro_where(selftest, at_least, config, |_| true)
}

/// [`late_failing_repro_on`], of the first seed whose steps `wanted` takes.
fn late_failing_repro_where(
    selftest: SelfTest,
    at_least: usize,
    config: ConfigChoice,
    wanted: impl Fn(&[Action]) -> bool,
) -> (allocdb_sim::scenario::Scenario, allocdb_sim::oracle::Oracle) {
    let failing = (0..200)
        .map(|seed| {
            run_seed(&SeedSpec {
                selftest: Some(selftest),
                config,
                ..SeedSpec::new(seed, 1000)
            })
        })
        .find(|report| {
            report.failure.is_some() && report.actions.len() >= at_least && wanted(&report.actions)
        })
        .unwrap_or_else(|| panic!("{selftest:?} fails no seed at step {at_least} or later"));
    let Some(allocdb_sim::driver::RunError::Oracle(failure)) = failing.failure else {
        panic!("not an oracle failure: {:?}", failing.failure);
    };
    (
        repro(
            failing.seed,
            Some(selftest),
            &failing.config,
            &failing.actions,
        ),
        failure.oracle,
    )
}

/// A failure that needs a lease reserved long before: the activate names
/// it as `Of(op: N)`, so the shrinker can delete every step in between
/// (with the id, each deletion of a committed step renamed the lease).
#[test]
fn a_lease_named_by_its_reserve_survives_shrinking() {
    let (scenario, oracle) = late_failing_repro(SelfTest::WrongActivate, 40);
    let before = scenario.actions().len();
    let shrunk = shrink(&scenario, 2_000).unwrap();
    assert_eq!(shrunk.signature.oracle, oracle);
    assert_eq!(
        how_it_fails(&shrunk.scenario).unwrap().signature.oracle,
        oracle
    );
    let actions = shrunk.scenario.actions();
    // Create, reserve, activate: nothing else is needed.
    assert!(actions.len() <= 3, "{before} -> {actions:?}");
    let Some(Action::Submit {
        command:
            SimCommand::Activate {
                lease: LeaseRef::Of { op },
                ..
            },
        ..
    }) = actions.last()
    else {
        panic!("the last step is not an activate of a lease by reference: {actions:?}");
    };
    assert!(
        actions.iter().any(|a| matches!(
            a,
            Action::Submit { operation, command: SimCommand::Reserve { .. }, .. } if operation == op
        )),
        "the reserve of op {op} is kept: {actions:?}"
    );
}

/// Under a drawn config (the first seed that fails late holds one lease
/// at a time, so every earlier reserve and release is entangled with the
/// one the activate names) the failing step with what it needs by name is
/// tried first: create, reserve, activate, in a few runs. Delta debugging
/// alone left 87 of 242 steps after 2,000 runs.
#[test]
fn a_late_failure_under_a_drawn_config_shrinks_to_what_it_names() {
    let (scenario, oracle) =
        late_failing_repro_on(SelfTest::WrongActivate, 200, ConfigChoice::Swarm);
    let before = scenario.actions().len();
    let shrunk = shrink(&scenario, 2_000).unwrap();
    assert_eq!(shrunk.signature.oracle, oracle);
    // Create, reserve, activate, and the clock moves a config this small
    // needs between them (an operation table of one record frees it only
    // when the record retires).
    let actions = shrunk.scenario.actions();
    let submits = actions
        .iter()
        .filter(|a| matches!(a, Action::Submit { .. }))
        .count();
    let advances = actions
        .iter()
        .filter(|a| matches!(a, Action::AdvanceSlot { .. }))
        .count();
    assert!(
        submits <= 3 && submits + advances == actions.len() && advances <= 2,
        "{before} -> {actions:?}"
    );
    assert!(
        !shrunk.budget_spent && shrunk.runs <= 100,
        "{} runs",
        shrunk.runs
    );
}

/// A failure that needs a flip in the last frames of the WAL or the
/// snapshot: the flip counts from the file's end, so deleting earlier
/// steps keeps it on the frame it damaged (counted from the start, it
/// moved onto another frame or past the end).
#[test]
fn a_flip_counted_from_the_end_survives_shrinking() {
    // The first seed whose failing flip counts from the end (one in a
    // header counts from the start, which deleting steps does not move).
    let (scenario, oracle) = late_failing_repro_where(
        SelfTest::CallDamageLegal,
        100,
        ConfigChoice::Fixed,
        |actions| {
            matches!(
                actions
                    .iter()
                    .rev()
                    .find(|a| matches!(a, Action::FlipBit { .. })),
                Some(Action::FlipBit {
                    target: FlipTarget::WalFrameFromEnd { .. } | FlipTarget::SnapshotFromEnd { .. },
                    ..
                })
            )
        },
    );
    let before = scenario.actions().len();
    let shrunk = shrink(&scenario, 2_000).unwrap();
    assert_eq!(shrunk.signature.oracle, oracle);
    let actions = shrunk.scenario.actions();
    // Something written, the process down (a crash, or a restart that a
    // read fault stops), the flip, and at most a restart.
    assert!(actions.len() <= 5, "{before} -> {actions:?}");
    assert!(
        actions.iter().any(|a| matches!(
            a,
            Action::FlipBit {
                target: FlipTarget::WalFrameFromEnd { .. } | FlipTarget::SnapshotFromEnd { .. },
                ..
            }
        )),
        "{actions:?}"
    );
    // The restart that meets the damage may be the liveness phase's, which
    // every repro ends with.
    assert_eq!(
        how_it_fails(&shrunk.scenario).unwrap().signature.oracle,
        oracle
    );
}
