//! `cargo xtask fuzz TARGET --seconds N [--seed S]`: one decoder's mutation
//! loop in this process until the time budget is spent.
//!
//! The budget is wall-clock, so how many inputs run depends on the
//! machine; which input iteration `i` is does not: it is a pure function of
//! the seed and `i` (`allocdb_fuzz::Campaign::input`). Each finding is
//! written as `fuzz/findings/TARGET/<seed>-<iteration>.bin` (the first
//! `FILES_PER_SIGNATURE` inputs of each distinct bug), with a minimised copy
//! of the first as `<seed>-<iteration>.min.bin`. Exit 1 when anything was
//! found.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use allocdb_fuzz::{
    finding_file_name, findings_dir, known_bug, minimise, regressions_dir, Campaign, Finding,
    QuietPanics, SeedError, Target,
};
use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::error::Error;
use crate::process::workspace_root;

/// How many inputs of one bug (one finding signature) are written out.
const FILES_PER_SIGNATURE: usize = 5;
/// Target runs the minimiser may spend on one finding.
const MINIMISE_RUNS: u64 = 20_000;
/// How often a progress line goes to stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// The target argument: the names of `allocdb_fuzz::Target` (clap lists
/// them when an unknown one is given, and exits with 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetArg(pub Target);

const TARGET_ARGS: [TargetArg; 5] = {
    let all: [Target; 5] = Target::ALL;
    [
        TargetArg(all[0]),
        TargetArg(all[1]),
        TargetArg(all[2]),
        TargetArg(all[3]),
        TargetArg(all[4]),
    ]
};

impl ValueEnum for TargetArg {
    fn value_variants<'a>() -> &'a [Self] {
        &TARGET_ARGS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self.0 {
            Target::WalFrame => "one WAL frame and its payload",
            Target::WalScan => "a WAL image: the recovery scan, then replay of its valid prefix",
            Target::Payload => "one frame payload under every record type",
            Target::Snapshot => "a snapshot file: decode, restore, commands on the result",
            Target::Scenario => "RON scenario text: parse, to_ron, parse again",
        };
        Some(PossibleValue::new(self.0.name()).help(help))
    }
}

pub struct FuzzArgs {
    pub target: Target,
    pub seconds: u64,
    pub seed: u64,
}

/// One distinct bug: every input that failed with its signature.
struct Bug {
    first: Finding,
    /// (iteration, input) of the first few inputs.
    inputs: Vec<(u64, Vec<u8>)>,
    count: u64,
}

/// `Ok(false)` when there were findings.
pub fn run(args: &FuzzArgs) -> Result<bool, Error> {
    let root = workspace_root();
    let name = args.target.name();
    let campaign = Campaign::new(args.target, args.seed, &root).map_err(seed_error)?;
    outln!(
        "fuzz {name}: seed {}, {} s, {} seed inputs",
        args.seed,
        args.seconds,
        campaign.seed_inputs()
    );

    let quiet = QuietPanics::install();
    let budget = Duration::from_secs(args.seconds);
    let start = Instant::now();
    let mut next_progress = PROGRESS_EVERY;
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut bugs: BTreeMap<String, Bug> = BTreeMap::new();
    let mut findings = 0u64;
    let mut iteration = 0u64;
    let seed_inputs = campaign.seed_inputs() as u64;
    loop {
        // Every seed input runs at least once, whatever the budget.
        if iteration >= seed_inputs && iteration % 16 == 0 {
            let elapsed = start.elapsed();
            if elapsed >= budget {
                break;
            }
            if elapsed >= next_progress {
                eprintln!(
                    "fuzz {name}: {} s, {iteration} inputs, {findings} findings",
                    elapsed.as_secs()
                );
                next_progress += PROGRESS_EVERY;
            }
        }
        match campaign.run(iteration) {
            Ok(outcome) => *outcomes.entry(outcome.label()).or_default() += 1,
            Err((finding, input)) => {
                findings += 1;
                *outcomes.entry("finding").or_default() += 1;
                let bug = bugs
                    .entry(finding.signature.clone())
                    .or_insert_with(|| Bug {
                        first: finding,
                        inputs: Vec::new(),
                        count: 0,
                    });
                bug.count += 1;
                if bug.inputs.len() < FILES_PER_SIGNATURE {
                    bug.inputs.push((iteration, input));
                }
            }
        }
        iteration += 1;
    }
    let elapsed = start.elapsed();

    // Still quiet: minimising runs the failing inputs again.
    let dir = findings_dir(&root, args.target);
    let mut written = Vec::new();
    for bug in bugs.values() {
        written.push(write_bug(&dir, args.seed, bug)?);
    }
    drop(quiet);

    let seconds = elapsed.as_secs_f64().max(1e-9);
    outln!(
        "fuzz {name}: {iteration} inputs in {:.1} s ({:.0} inputs/s), {findings} findings ({} distinct)",
        elapsed.as_secs_f64(),
        iteration as f64 / seconds,
        bugs.len()
    );
    outln!("outcomes:");
    for (label, count) in &outcomes {
        outln!(
            "  {label:<34} {count:>10} ({:.2}%)",
            *count as f64 * 100.0 / iteration.max(1) as f64
        );
    }
    for (bug, (files, minimised)) in bugs.values().zip(&written) {
        outln!();
        outln!(
            "FINDING {} ({} inputs): {}",
            bug.first.signature,
            bug.count,
            bug.first.message
        );
        if let Some(known) = known_bug(&bug.first) {
            outln!(
                "  known bug ({}): {}",
                regressions_dir(&root, args.target)
                    .join(known.file)
                    .strip_prefix(&root)
                    .map_or_else(|_| known.file.to_string(), |p| p.display().to_string()),
                known.summary
            );
        }
        for file in files {
            outln!("  input:     {}", shown(&root, file));
        }
        outln!("  minimised: {}", shown(&root, minimised));
        outln!(
            "  regenerate: Campaign::new(Target::{:?}, {}, ..).input({})",
            args.target,
            args.seed,
            bug.inputs[0].0
        );
    }
    if bugs.values().any(|bug| known_bug(&bug.first).is_none()) {
        outln!();
        outln!(
            "a new finding that is a real bug becomes a regression: its minimised input goes to fuzz/regressions/{name}/ and an entry to fuzz/src/known.rs"
        );
    }
    Ok(bugs.is_empty())
}

/// Writes a bug's inputs and the minimised first one; returns their paths.
fn write_bug(dir: &Path, seed: u64, bug: &Bug) -> Result<(Vec<PathBuf>, PathBuf), Error> {
    fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for (iteration, input) in &bug.inputs {
        let path = dir.join(finding_file_name(seed, *iteration));
        write(&path, input)?;
        files.push(path);
    }
    let (iteration, input) = &bug.inputs[0];
    let smaller = minimise(bug.first.target, input, &bug.first.signature, MINIMISE_RUNS);
    let path = dir.join(finding_file_name(seed, *iteration).replace(".bin", ".min.bin"));
    write(&path, &smaller)?;
    Ok((files, path))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn seed_error(error: SeedError) -> Error {
    match error {
        SeedError::Read { path, source } => Error::Read { path, source },
        SeedError::NoScenarios { root } => Error::Read {
            source: io::Error::new(io::ErrorKind::NotFound, "no scenario files (*.ron)"),
            path: root,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_is_an_argument() {
        let names: Vec<_> = TargetArg::value_variants()
            .iter()
            .map(|t| t.0.name())
            .collect();
        let all: Vec<_> = Target::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(names, all);
        for target in Target::ALL {
            assert_eq!(
                TargetArg::from_str(target.name(), false),
                Ok(TargetArg(target))
            );
        }
        assert!(TargetArg::from_str("nope", false).is_err());
    }

    #[test]
    fn an_unknown_target_is_a_usage_error_listing_the_targets() {
        use clap::Parser;
        let error = crate::Cli::try_parse_from(["cargo xtask", "fuzz", "nope", "--seconds", "1"])
            .expect_err("nope is not a target");
        assert_eq!(error.kind(), clap::error::ErrorKind::InvalidValue);
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        for target in Target::ALL {
            assert!(text.contains(target.name()), "{text}");
        }
    }

    #[test]
    fn seconds_are_required_and_the_seed_defaults_to_zero() {
        use clap::Parser;
        assert!(crate::Cli::try_parse_from(["cargo xtask", "fuzz", "payload"]).is_err());
        let cli = crate::Cli::try_parse_from(["cargo xtask", "fuzz", "wal_scan", "--seconds", "3"])
            .expect("valid arguments");
        assert!(matches!(
            cli.task,
            crate::Task::Fuzz {
                target: TargetArg(Target::WalScan),
                seconds: 3,
                seed: 0
            }
        ));
    }
}
