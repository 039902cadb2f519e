//! `cargo xtask shrink`: a failing seed or scenario cut down to the fewest
//! steps that still fail the same oracle, written as a RON scenario.

use crate::args::{Source, SourceArgs};
use crate::error::Error;
use crate::repro_file::{default_repro_dir, shown, write_scenario, write_scenario_at};
use allocdb_sim::repro::repro;
use allocdb_sim::run::run_seed;
use allocdb_sim::scenario::load;
use allocdb_sim::shrink::shrink;
use std::path::PathBuf;

pub struct ShrinkArgs {
    pub source: SourceArgs,
    pub out_dir: Option<PathBuf>,
    /// The exact file to write (it must not exist), e.g. `corpus/NAME.ron`.
    pub into: Option<PathBuf>,
    pub max_runs: u64,
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
            let report = run_seed(&spec);
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
    let shrunk = match shrink(&scenario, args.max_runs) {
        Ok(shrunk) => shrunk,
        Err(error) => {
            eprintln!("shrink: {source}: {error}");
            return Ok(false);
        }
    };
    let dir = args.out_dir.clone().unwrap_or(default_dir);
    let oracle = shrunk.oracle.name();
    let summary = format!(
        "{} steps -> {} steps in {} runs, still failing oracle `{oracle}`",
        shrunk.original_steps, shrunk.steps, shrunk.runs
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
