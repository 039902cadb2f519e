//! `cargo xtask ci`: the ordered list of checks CI runs. Each step is one
//! command; the first failure stops the run and is reported by step name.
//! Adding a check is one more entry in [`steps`]. The tests include every
//! scenario and corpus file; the last steps are a bounded seed sweep and
//! a determinism check on a slice of it.

use crate::error::Error;
use crate::process::Cmd;

pub struct Step {
    pub name: &'static str,
    pub command: Cmd,
}

impl Step {
    fn cargo(name: &'static str, args: &[&str]) -> Step {
        Step {
            name,
            command: Cmd::cargo(args),
        }
    }
}

/// The CI checks, in order. The test runner is chosen here: nextest when
/// `cargo nextest --version` works, else `cargo test`.
///
/// The workspace build has the core's `fault-injection` feature on (the
/// simulator needs it), so two steps look at the core alone, as production
/// builds it: clippy, and the doc tests that prove it has no fault seams.
pub fn steps() -> Vec<Step> {
    let nextest = Cmd::cargo(&["nextest", "--version"]).succeeds_quietly();
    let tests = if nextest {
        Step::cargo("tests", &["nextest", "run", "--workspace"])
    } else {
        Step::cargo("tests", &["test", "--workspace"])
    };
    // Insta variables that would let the snapshot tests pass having
    // checked nothing (a filter), or checked nothing strictly.
    let tests = Step {
        command: tests
            .command
            .without_env("INSTA_GLOB_FILTER")
            .without_env("INSTA_FORCE_PASS")
            .with_env("INSTA_UPDATE", "no"),
        ..tests
    };
    vec![
        Step::cargo("format", &["fmt", "--all", "--", "--check"]),
        Step {
            name: "tidy",
            command: Cmd::xtask(&["tidy"]),
        },
        Step::cargo(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::cargo(
            "clippy (production core)",
            &[
                "clippy",
                "-p",
                "allocdb-core",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::cargo(
            "clippy (phase clock)",
            &[
                "clippy",
                "-p",
                "allocdb-sim",
                "--all-targets",
                "--features",
                "phase-clock",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step {
            name: "browser",
            command: Cmd::xtask(&["browser"]),
        },
        tests,
        Step::cargo(
            "doc tests (production core: no fault seams)",
            &["test", "-p", "allocdb-core", "--doc"],
        ),
        Step::cargo("doc tests", &["test", "--workspace", "--doc"]),
        Step {
            name: "docs",
            command: Cmd::cargo(&[
                "doc",
                "--workspace",
                "--no-deps",
                "--document-private-items",
            ])
            .with_env("RUSTDOCFLAGS", "-D warnings"),
        },
        Step {
            name: "sweep",
            command: Cmd::xtask(&["sweep", "--seeds", CI_SWEEP_SEEDS, "--require-coverage"]),
        },
        Step {
            name: "determinism",
            command: Cmd::xtask(&[
                "sweep",
                "--seeds",
                CI_DETERMINISM_SEEDS,
                "--check-determinism",
            ]),
        },
    ]
}

/// The bounded sweep CI runs on every change: about 20 s on two cores.
/// Wider sweeps belong to a CI matrix (`--shard`, see the README).
pub const CI_SWEEP_SEEDS: &str = "0..2000";

/// A slice of seeds run twice each, their transcripts compared: about 2 s.
pub const CI_DETERMINISM_SEEDS: &str = "0..200";

pub fn run() -> Result<(), Error> {
    let steps = steps();
    let total = steps.len();
    for (index, step) in steps.iter().enumerate() {
        outln!(
            "==> ci [{}/{total}] {}: {}",
            index + 1,
            step.name,
            step.command
        );
        step.command.run().map_err(|source| Error::Step {
            step: step.name,
            source: Box::new(source),
        })?;
    }
    outln!("==> ci: all {total} steps passed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_run_in_the_documented_order() {
        let names: Vec<&str> = steps().iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "format",
                "tidy",
                "clippy",
                "clippy (production core)",
                "clippy (phase clock)",
                "browser",
                "tests",
                "doc tests (production core: no fault seams)",
                "doc tests",
                "docs",
                "sweep",
                "determinism"
            ]
        );
        let commands: Vec<String> = steps().iter().map(|s| s.command.to_string()).collect();
        assert_eq!(commands[0], "cargo fmt --all -- --check");
        assert_eq!(commands[1], "cargo xtask tidy");
        assert_eq!(commands[5], "cargo xtask browser");
        assert_eq!(
            commands[2],
            "cargo clippy --workspace --all-targets -- -D warnings"
        );
        assert_eq!(
            commands[4],
            "cargo clippy -p allocdb-sim --all-targets --features phase-clock -- -D warnings"
        );
        let pinned = "env -u INSTA_GLOB_FILTER -u INSTA_FORCE_PASS INSTA_UPDATE=\"no\" ";
        assert!(
            commands[6] == format!("{pinned}cargo nextest run --workspace")
                || commands[6] == format!("{pinned}cargo test --workspace"),
            "{}",
            commands[6]
        );
        assert_eq!(commands[7], "cargo test -p allocdb-core --doc");
        assert_eq!(
            commands[9],
            "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps --document-private-items"
        );
        assert_eq!(
            commands[10],
            "cargo xtask sweep --seeds 0..2000 --require-coverage"
        );
        assert_eq!(
            commands[11],
            "cargo xtask sweep --seeds 0..200 --check-determinism"
        );
    }
}
