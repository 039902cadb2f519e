//! `cargo xtask explore FILE.ron`: every crash state of one scenario, each
//! judged by the oracles; a RON repro for every state that fails.

use crate::error::Error;
use crate::repro_file::{default_repro_dir, shown, write_scenario};
use allocdb_sim::explore::{explore, Class};
use allocdb_sim::scenario::load;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub struct ExploreArgs {
    pub file: PathBuf,
    pub jobs: usize,
    pub max_states: Option<usize>,
    pub keep_failures: Option<PathBuf>,
}

/// `Ok(false)` when a state failed.
pub fn run(args: &ExploreArgs) -> Result<bool, Error> {
    let scenario = load(&args.file)?;
    let source = shown(&args.file);
    let exploration =
        explore(&scenario, args.jobs, args.max_states).map_err(|error| Error::Explore {
            file: source.clone(),
            reason: error.to_string(),
        })?;
    let mut classes: BTreeMap<Class, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for result in &exploration.results {
        match &result.outcome {
            Ok(class) => *classes.entry(*class).or_default() += 1,
            Err(error) => failures.push((result, error.to_string())),
        }
    }
    outln!(
        "explore {source}: {} crash states explored, {} failed",
        exploration.results.len(),
        failures.len()
    );
    for class in [Class::Clean, Class::TornTruncated, Class::FailClosed] {
        outln!(
            "  {:<15} {}",
            class.name(),
            classes.get(&class).copied().unwrap_or(0)
        );
    }
    if exploration.results.len() < exploration.enumerated {
        outln!(
            "bound reached: explored {} of {} states (raise --max-states to explore the rest)",
            exploration.results.len(),
            exploration.enumerated
        );
    }
    let dir = args.keep_failures.clone().unwrap_or_else(default_repro_dir);
    let stem = args
        .file
        .file_stem()
        .map_or("scenario".to_string(), |s| s.to_string_lossy().into_owned());
    for (result, error) in &failures {
        let what = result.state.describe();
        let path = write_scenario(
            &dir,
            &format!("{stem}-explore"),
            &scenario.repro_of(&result.actions),
            |path| {
                vec![
                    format!("Crash state of {source} found by `cargo xtask explore`: {what}."),
                    format!("Failure: {error}"),
                    format!("Replay: cargo xtask replay {path}"),
                ]
            },
        )?;
        outln!("FAILED {what}: {error}");
        outln!("  repro: {}", shown(&path));
    }
    Ok(failures.is_empty())
}
