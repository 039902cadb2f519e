//! `cargo xtask shrink`: a failing seed or scenario cut down to the fewest
//! steps that still fail the same way, written as a RON scenario.
//!
//! A run whose step never returns cannot be judged in this process: the
//! stuck thread could not be stopped. So the scenario is first run in a
//! child process (`cargo xtask replay` under its watchdog); when that
//! hangs, every candidate is judged the same way, and one that hangs
//! too fails the same way (oracle `hang`). Otherwise candidates run here.

use crate::args::{Source, SourceArgs};
use crate::error::Error;
use crate::repro_file::{default_repro_dir, shown, write_scenario, write_scenario_at};
use crate::watchdog::{default_seed_timeout, default_shrink_timeout, run_up_to, run_watched};
use allocdb_sim::oracle::{FailureSignature, Oracle};
use allocdb_sim::repro::repro;
use allocdb_sim::run::run_seed_watched;
use allocdb_sim::scenario::{load, to_ron, Scenario};
use allocdb_sim::shrink::{shrink, shrink_judged, Failing};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct ShrinkArgs {
    pub source: SourceArgs,
    pub out_dir: Option<PathBuf>,
    /// The exact file to write (it must not exist), e.g. `corpus/NAME.ron`.
    pub into: Option<PathBuf>,
    pub max_runs: u64,
    /// The watchdog's budget for one run (default: by the run's length).
    pub seed_timeout: Option<Duration>,
}

/// `Ok(false)` when there is nothing to shrink (the run passes).
pub fn run(args: &ShrinkArgs) -> Result<bool, Error> {
    let run = &args.source.run;
    let (scenario, source, default_dir, stem) = match args.source.source() {
        Source::File(path) => {
            let scenario = load(path)?;
            let stem = path
                .file_stem()
                .map_or("scenario".to_string(), |s| s.to_string_lossy().into_owned());
            let dir = path
                .parent()
                .map_or_else(|| PathBuf::from("."), |p| p.to_path_buf());
            (scenario, shown(path), dir, format!("{stem}-shrunk"))
        }
        Source::Seed(seed) => {
            let spec = run.spec(seed);
            let budget = args
                .seed_timeout
                .unwrap_or_else(|| default_seed_timeout(spec.steps));
            let watched = spec.clone();
            let report = match run_watched(budget, move |mark| {
                run_seed_watched(&watched, &mut |sim| {
                    mark.saw(sim);
                    true
                })
            }) {
                Ok(report) => report,
                // Its actions up to the one that hung (the stuck run stays
                // where it is: nothing can stop it).
                Err(hung) => run_up_to(&spec, hung),
            };
            let scenario = repro(seed, spec.selftest, &report.config, &report.actions);
            let source = format!("seed {seed} ({})", run.flags());
            (
                scenario,
                source,
                default_repro_dir(),
                format!("seed-{seed}-shrunk"),
            )
        }
    };
    let budget = args
        .seed_timeout
        .unwrap_or_else(|| default_shrink_timeout(scenario.actions().len() as u64));
    let hang = judge_in_child(&scenario, budget)
        .ok()
        .filter(|failing| failing.signature.oracle == Oracle::Hang);
    let shrunk = match hang {
        Some(original) => {
            outln!(
                "shrink: {source} hangs (a step does not return within {} s): each candidate runs in a child process",
                budget.as_secs()
            );
            shrink_judged(&scenario, original, args.max_runs, &mut |candidate| {
                judge_in_child(candidate, budget)
            })
        }
        None => shrink(&scenario, args.max_runs),
    };
    let shrunk = match shrunk {
        Ok(shrunk) => shrunk,
        Err(error) => {
            eprintln!("shrink: {source}: {error}");
            return Ok(false);
        }
    };
    let dir = args.out_dir.clone().unwrap_or(default_dir);
    let summary = format!(
        "{} steps -> {} steps in {} runs, still failing {}",
        shrunk.original_steps, shrunk.steps, shrunk.runs, shrunk.signature
    );
    let comments = |path: &str| {
        vec![
            format!("Shrunk by `cargo xtask shrink` from {source}: {summary}."),
            format!("Replay: cargo xtask replay {path}"),
            "Once the bug is fixed this file passes and stays as a regression test.".to_string(),
        ]
    };
    let path = match &args.into {
        Some(into) => write_scenario_at(into, &shrunk.scenario, comments)?,
        None => write_scenario(&dir, &stem, &shrunk.scenario, comments)?,
    };
    outln!("shrink: {source}: {summary}");
    if shrunk.budget_spent {
        outln!(
            "shrink: the budget of {} runs ended before shrinking was done; shrink the result again or raise --max-runs to go on",
            args.max_runs
        );
    }
    outln!("wrote {}", shown(&path));
    outln!("replay: cargo xtask replay {}", shown(&path));
    Ok(true)
}

/// How long a child may take past its own watchdog's budget before it is
/// killed here (it ends itself when a step hangs).
const CHILD_GRACE: Duration = Duration::from_secs(10);

/// Runs `scenario` in a child process (`replay` under the watchdog):
/// `Ok` with oracle `hang` when a step did not return, `Err` when it
/// passed or failed some other way.
fn judge_in_child(scenario: &Scenario, budget: Duration) -> Result<Failing, String> {
    let file = tempfile::Builder::new()
        .prefix("shrink-candidate-")
        .suffix(".ron")
        .tempfile()
        .map_err(|e| format!("cannot write a candidate: {e}"))?;
    let text = to_ron(scenario, &[]).map_err(|e| format!("cannot write a candidate: {e}"))?;
    std::fs::write(file.path(), text).map_err(|e| format!("cannot write a candidate: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut child = Command::new(exe)
        .arg("replay")
        .arg(file.path())
        .args(["--seed-timeout", &budget.as_secs().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a child: {e}"))?;
    let started = Instant::now();
    let hang = FailureSignature {
        oracle: Oracle::Hang,
        panicked_at: None,
    };
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > budget + CHILD_GRACE => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(Failing {
                    signature: hang,
                    step: scenario.actions().len() as u64,
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for a child: {e}")),
        }
    }
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    let prefix = format!(
        "replay FAILED: oracle `{}` failed at step ",
        Oracle::Hang.name()
    );
    let step = stderr
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(':').next())
        .and_then(|step| step.parse().ok());
    match step {
        Some(step) => Ok(Failing {
            signature: hang,
            step,
        }),
        None => Err(format!(
            "does not hang: {}",
            stderr.lines().last().unwrap_or("(nothing said)")
        )),
    }
}
