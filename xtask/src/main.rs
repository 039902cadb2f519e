//! Project tasks: `cargo xtask <task>` (the alias is in `.cargo/config.toml`).
//!
//! - `ci`: exactly what CI runs (`.ci/run` calls it): format check, `tidy`,
//!   clippy with warnings denied, the tests, the doc tests, a bounded sweep;
//!   fails fast and names the step that failed.
//! - `bench [all|core|storage|sim]`: runs the criterion benchmarks, prints
//!   medians, confidence intervals and ratios to the targets; `--write`
//!   refreshes each suite's generated block in `docs/performance.md`.
//! - `sweep`, `replay`, `shrink`, `explore`: the simulator's workflows, run
//!   in this process (the simulator is optimised even in this dev build).
//! - `fuzz TARGET --seconds N`: the seeded mutation fuzzer of `fuzz/`.
//! - `tidy`: checks that `docs/architecture.md`, the map of the code, names
//!   only paths that exist and every top-level module of the crates it maps
//!   (the rules are in [`tidy`]).
//! - `format-fixtures`: writes the WAL and snapshot fixtures of this version
//!   into `corpus/format/v1/`.
//! - `mutants [--file GLOB ...]`: cargo-mutants over the core with the
//!   suite of `.cargo/mutants.toml`; prints the score per module and every
//!   missed mutant.
//!
//! Exit codes: 0 passed, 1 a run or check failed, 2 bad arguments or a bad
//! scenario file.

#[macro_use]
mod out;

mod args;
mod bench;
mod browser;
mod ci;
#[allow(unsafe_code)]
mod cpu_time;
mod error;
mod explore;
mod format_fixtures;
mod fuzz;
#[allow(unsafe_code)]
mod heap;
mod mutants;
mod process;
mod replay;
mod report_files;
mod repro_file;
mod shrink;
mod sim_phases;
mod sweep;
mod tidy;
mod watchdog;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::args::{
    audit_every, duration, existing_file, RunArgs, SeedsArg, Shard, SourceArgs, WatchdogArgs,
};
use crate::error::{report, Error};
use allocdb_sim::driver::AuditCadence;

#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "AllocDB project tasks",
    version
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Format check, tidy, clippy -D warnings, tests (nextest when installed),
    /// doc tests.
    Ci,
    /// Check that docs/architecture.md names only paths that exist and
    /// lists every top-level module of the crates it maps.
    Tidy,
    /// Make sure a Chromium is here for the report's browser test
    /// (installs Debian's chromium with apt-get when none is found).
    Browser,
    /// Write the on-disk format fixtures of this version into
    /// corpus/format/v1/ (only for a new fixture version)
    FormatFixtures,
    /// Run benchmark suites and report medians and ratios.
    Bench {
        /// Which suite (default: all of them, in the order core, storage, sim).
        #[arg(value_enum, default_value_t = Suite::All)]
        suite: Suite,
        /// Also rewrite each suite's generated block in docs/performance.md.
        #[arg(long)]
        write: bool,
    },
    /// Run a seed sweep across cores; on failure print the replay command
    /// and write a RON repro.
    Sweep {
        /// Seeds to run: START..END (END excluded; default 0..10000),
        /// START.. (with --for), or `random` (a base seed drawn from the
        /// OS and printed first, with the 10,000 seeds from it).
        #[arg(long, value_parser = SeedsArg::parse)]
        seeds: Option<SeedsArg>,
        /// Run seeds until this much time has passed (e.g. 90s, 30m, 2h),
        /// from the range's start on (and not past its end, if it has one).
        #[arg(long = "for", value_name = "DURATION", value_parser = duration)]
        run_for: Option<std::time::Duration>,
        #[command(flatten)]
        watchdog: WatchdogArgs,
        #[command(flatten)]
        run: RunArgs,
        /// The full audit (the core's invariants and running digest, the
        /// model's running digest, every record against the model's) every
        /// Nth step, besides every restart, checkpoint and fault action and
        /// each seed's last step.
        #[arg(long, value_name = "N", default_value = "32", value_parser = audit_every)]
        audit_every: AuditCadence,
        /// Worker threads (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only share I of N of the seeds (for a CI matrix), e.g. 2/4.
        #[arg(long, value_parser = Shard::parse)]
        shard: Option<Shard>,
        /// Where repros (and the failed runs' files) go; default:
        /// target/repros/ (repros only), outside the tracked tree.
        #[arg(long, value_name = "DIR")]
        keep_failures: Option<PathBuf>,
        /// Run every seed even after a failure.
        #[arg(long)]
        keep_going: bool,
        #[arg(long, value_enum, default_value_t = sweep::Format::Human)]
        format: sweep::Format,
        /// Run each seed twice and fail it when the two transcripts differ
        /// (naming the first line that does).
        #[arg(long)]
        check_determinism: bool,
        /// Fail when a required coverage probe was never reached (the
        /// summary lists every probe's count either way).
        #[arg(long)]
        require_coverage: bool,
        /// Also write the summary as an HTML page: every exercised count
        /// and every coverage probe as bars, each failure with a link to
        /// its report.
        #[arg(long, value_name = "OUT.html")]
        html: Option<PathBuf>,
    },
    /// Replay one seed or one scenario file: its transcript, every time the same.
    Replay {
        #[command(flatten)]
        source: SourceArgs,
        /// Stop after this step.
        #[arg(long, value_name = "STEP")]
        until: Option<u64>,
        /// For a seed: the full audit every Nth step instead of after every
        /// step (restarts, checkpoints, fault actions and the last step
        /// are audited either way). Scenario files audit every step.
        #[arg(long, value_name = "N", default_value = "1", value_parser = audit_every)]
        audit_every: AuditCadence,
        /// Engine-level detail under each step.
        #[arg(long)]
        verbose: bool,
        /// Also write the run as a timeline report: one self-contained
        /// HTML page (the engine's state, the LSNs, every fault, each
        /// client operation, the failure marked).
        #[arg(long, value_name = "OUT.html")]
        html: Option<PathBuf>,
        /// Also write the run as a Chrome trace (Perfetto opens it), the
        /// step as the time unit.
        #[arg(long, value_name = "OUT.json")]
        trace: Option<PathBuf>,
        #[command(flatten)]
        watchdog: WatchdogArgs,
    },
    /// Crash a scenario at every storage event it passes, in every way the
    /// unsynced bytes can fare, and judge each recovery.
    Explore {
        #[arg(value_parser = existing_file)]
        file: PathBuf,
        /// Worker threads (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Explore at most this many crash states.
        #[arg(long)]
        max_states: Option<usize>,
        /// Where repros of failing states go; default: target/repros/.
        #[arg(long, value_name = "DIR")]
        keep_failures: Option<PathBuf>,
    },
    /// Shrink a failing seed or scenario to the fewest steps that fail the
    /// same oracle, and write it as a scenario.
    Shrink {
        #[command(flatten)]
        source: SourceArgs,
        /// Directory for the shrunk file (default: next to FILE, or
        /// target/repros/ for a seed).
        #[arg(long, value_name = "DIR", conflicts_with = "into")]
        out_dir: Option<PathBuf>,
        /// Write the shrunk file as exactly this path, which must not exist
        /// (e.g. corpus/NAME.ron to keep it as a regression test).
        #[arg(long, value_name = "FILE")]
        into: Option<PathBuf>,
        /// Most candidate runs to try.
        #[arg(long, default_value_t = 5000)]
        max_runs: u64,
        #[command(flatten)]
        watchdog: WatchdogArgs,
    },
    /// Fuzz one decoder in this process for a time budget; each finding
    /// goes to fuzz/findings/TARGET/SEED-ITERATION.bin (exit 1).
    Fuzz {
        /// The decoder to fuzz.
        #[arg(value_enum)]
        target: fuzz::TargetArg,
        /// Wall-clock budget; every input is still derived from the seed.
        #[arg(long, value_name = "N")]
        seconds: u64,
        /// Seed of the mutation engine (ChaCha8).
        #[arg(long, value_name = "S", default_value_t = 0)]
        seed: u64,
    },
    /// Mutation testing of allocdb-core (cargo-mutants, installed if
    /// missing): caught / missed / timeout / unviable per file, the score per
    /// module and every missed mutant. Missed mutants do not fail the task.
    Mutants {
        /// Mutate only files matching this glob (repeatable), e.g.
        /// 'core/src/wal/**'; default: the whole core.
        #[arg(long = "file", value_name = "GLOB")]
        files: Vec<String>,
        /// Mutants built and tested at once (cargo-mutants' default: 1).
        #[arg(long)]
        jobs: Option<usize>,
        /// Test timeout as a multiple of the unmutated suite's time.
        #[arg(long, value_name = "X")]
        timeout_multiplier: Option<f64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Suite {
    /// core, storage and sim, in that order.
    All,
    /// allocdb-core: `StateMachine::apply` on the mixed workload.
    Core,
    /// allocdb-core: WAL append + sync, recovery replay, snapshot write/load.
    Storage,
    /// allocdb-sim: steps/s of the default sweep on one core.
    Sim,
}

fn main() -> ExitCode {
    heap::keep_freed_memory();
    // Bad arguments exit with clap's code 2 here.
    let cli = Cli::parse();
    match run(cli.task) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("{}", report(&error));
            ExitCode::from(error.exit_code())
        }
    }
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `Ok(false)`: the task ran and found a failure (it has said which).
fn run(task: Task) -> Result<bool, Error> {
    match task {
        Task::Ci => ci::run().map(|()| true),
        Task::Tidy => tidy::run(),
        Task::Browser => browser::run(),
        Task::FormatFixtures => format_fixtures::run(),
        Task::Bench { suite, write } => bench::run(suite, write).map(|()| true),
        Task::Sweep {
            seeds,
            run_for,
            watchdog,
            run,
            audit_every,
            jobs,
            shard,
            keep_failures,
            keep_going,
            format,
            check_determinism,
            require_coverage,
            html,
        } => sweep::run(&sweep::SweepArgs {
            plan: sweep::SeedPlan::new(seeds, shard, run_for.is_some())?,
            run_for,
            seed_timeout: watchdog.seed_timeout(run.steps),
            run,
            audit: audit_every,
            jobs: jobs.unwrap_or_else(default_jobs),
            keep_failures,
            keep_going,
            format,
            check_determinism,
            require_coverage,
            html,
        }),
        Task::Replay {
            source,
            until,
            audit_every,
            verbose,
            html,
            trace,
            watchdog,
        } => replay::run(replay::ReplayArgs {
            source,
            until,
            audit: audit_every,
            verbose,
            seed_timeout: watchdog.seed_timeout,
            report: report_files::ReportPaths { html, trace },
        }),
        Task::Explore {
            file,
            jobs,
            max_states,
            keep_failures,
        } => explore::run(&explore::ExploreArgs {
            file,
            jobs: jobs.unwrap_or_else(default_jobs),
            max_states,
            keep_failures,
        }),
        Task::Shrink {
            source,
            out_dir,
            into,
            max_runs,
            watchdog,
        } => shrink::run(&shrink::ShrinkArgs {
            source,
            out_dir,
            into,
            max_runs,
            seed_timeout: watchdog.seed_timeout,
        }),
        Task::Fuzz {
            target,
            seconds,
            seed,
        } => fuzz::run(&fuzz::FuzzArgs {
            target: target.0,
            seconds,
            seed,
        }),
        Task::Mutants {
            files,
            jobs,
            timeout_multiplier,
        } => mutants::run(&mutants::MutantsArgs {
            files,
            jobs,
            timeout_multiplier,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bench_defaults_to_all() {
        let cli = Cli::try_parse_from(["cargo xtask", "bench"]).unwrap();
        assert!(matches!(
            cli.task,
            Task::Bench {
                suite: Suite::All,
                write: false
            }
        ));
        for (name, suite) in [
            ("all", Suite::All),
            ("core", Suite::Core),
            ("storage", Suite::Storage),
            ("sim", Suite::Sim),
        ] {
            let cli = Cli::try_parse_from(["cargo xtask", "bench", name, "--write"]).unwrap();
            assert!(
                matches!(cli.task, Task::Bench { suite: s, write: true } if s == suite),
                "{name}"
            );
        }
        assert!(Cli::try_parse_from(["cargo xtask", "bench", "nope"]).is_err());
    }

    #[test]
    fn tidy_takes_no_arguments() {
        let cli = Cli::try_parse_from(["cargo xtask", "tidy"]).unwrap();
        assert!(matches!(cli.task, Task::Tidy));
        let error = Cli::try_parse_from(["cargo xtask", "tidy", "extra"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }
}
