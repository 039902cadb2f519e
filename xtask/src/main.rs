//! Project tasks: `cargo xtask <task>` (the alias is in `.cargo/config.toml`).
//!
//! - `ci`: exactly what CI runs (`.ci/run` calls it): format check, clippy
//!   with warnings denied, the tests, the doc tests; fails fast and names the
//!   step that failed.
//! - `bench [core]`: runs the core apply benchmark, prints the median
//!   throughput of each case and the large/small ratio; `--write` refreshes
//!   the figures in `docs/performance.md`.

mod bench;
mod ci;
mod error;
mod process;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{report, Error};

#[derive(Parser, Debug)]
#[command(name = "cargo xtask", about = "AllocDB project tasks", version)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Format check, clippy -D warnings, tests (nextest when installed), doc tests.
    Ci,
    /// Run a benchmark suite and report median throughputs.
    Bench {
        /// Which suite.
        #[arg(value_enum, default_value_t = Suite::Core)]
        suite: Suite,
        /// Also rewrite the figures table in docs/performance.md.
        #[arg(long)]
        write: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Suite {
    /// allocdb-core: `StateMachine::apply` on the mixed workload.
    Core,
}

fn main() -> ExitCode {
    // Bad arguments exit with clap's code 2 here.
    let cli = Cli::parse();
    match run(cli.task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", report(&error));
            ExitCode::FAILURE
        }
    }
}

fn run(task: Task) -> Result<(), Error> {
    match task {
        Task::Ci => ci::run(),
        Task::Bench {
            suite: Suite::Core,
            write,
        } => bench::run_core(write),
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
    fn bench_defaults_to_core() {
        let cli = Cli::try_parse_from(["cargo xtask", "bench"]).unwrap();
        assert!(matches!(
            cli.task,
            Task::Bench {
                suite: Suite::Core,
                write: false
            }
        ));
        let cli = Cli::try_parse_from(["cargo xtask", "bench", "core", "--write"]).unwrap();
        assert!(matches!(cli.task, Task::Bench { write: true, .. }));
        assert!(Cli::try_parse_from(["cargo xtask", "bench", "nope"]).is_err());
    }
}
