//! `cargo xtask mutants`: mutation testing of `allocdb-core` with
//! cargo-mutants, and a stable summary of what the tests caught.
//!
//! The suite each mutant faces ([`SUITE_FILTER`], run by nextest over
//! [`TEST_PACKAGES`]): the core's own tests, the simulator's scenario and
//! corpus tests, its crash-state exploration tests and the bounded part of
//! its sweep tests. The 1,000-seed sweep test is left out: it takes about
//! 30 s, ten times the rest of the suite, for every mutant; `cargo xtask ci`
//! still runs it on every change.
//!
//! The task installs cargo-mutants when it is missing, runs that suite once
//! on the unmutated tree (cargo-mutants' own baseline runs only the mutated
//! package's tests) to check it passes and to set the test timeout, runs
//! cargo-mutants with the output in `target/mutants/mutants.out/`, then
//! reads `outcomes.json` and prints, per source file, how many mutants were
//! caught, missed, timed out or unviable, the score caught / (caught +
//! missed + timeout) overall and for the state machine, the WAL and
//! recovery, and every missed mutant.
//!
//! Missed mutants do not fail the task: it is a report. It fails (exit 1)
//! only when the run itself did, e.g. the unmutated suite does not pass.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::error::Error;
use crate::process::{workspace_root, Cmd};

/// Where cargo-mutants writes (`--output`): it adds `mutants.out/`.
const OUTPUT_DIR: &str = "target/mutants";

/// The package whose code is mutated.
const PACKAGE: &str = "allocdb-core";

/// The packages whose tests make the suite (the simulator turns the core's
/// `fault-injection` feature on, as in every workspace build).
const TEST_PACKAGES: [&str; 2] = ["allocdb-core", "allocdb-sim"];

/// The nextest filter that picks the suite out of [`TEST_PACKAGES`].
pub const SUITE_FILTER: &str = "package(allocdb-core) \
    | (package(allocdb-sim) & (binary(scenarios) | binary(explore) | binary(sweep)) \
       - test(=default_sweep_of_1000_seeds_passes_and_exercises_everything))";

/// cargo-mutants' default test timeout multiplier, applied here to the
/// suite's time on the unmutated tree.
const DEFAULT_TIMEOUT_MULTIPLIER: f64 = 5.0;

/// The least test timeout: both jobs share two cores, and a slow run must
/// not pass for a hang.
const MINIMUM_TEST_TIMEOUT_SECONDS: f64 = 60.0;

/// cargo-mutants' exit codes after a complete run: all caught, some missed,
/// some timed out. Anything else means the run itself failed (bad
/// arguments, the baseline failing, an internal error).
const COMPLETED_RUN_CODES: [i32; 3] = [0, 2, 3];

pub struct MutantsArgs {
    /// `--file` globs passed on to cargo-mutants (empty: the whole core).
    pub files: Vec<String>,
    pub jobs: Option<usize>,
    pub timeout_multiplier: Option<f64>,
}

pub fn run(args: &MutantsArgs) -> Result<bool, Error> {
    ensure_installed()?;

    // The suite on the unmutated tree: it must pass, and its time sets the
    // timeout of each mutant's test run.
    let suite = nextest_args();
    let mut build = suite.clone();
    build.push("--no-run".into());
    Cmd::cargo(&as_strs(&build)).run()?;
    let started = Instant::now();
    Cmd::cargo(&as_strs(&suite)).run()?;
    let baseline = started.elapsed().as_secs_f64();
    let multiplier = args
        .timeout_multiplier
        .unwrap_or(DEFAULT_TIMEOUT_MULTIPLIER);
    let timeout = (baseline * multiplier)
        .max(MINIMUM_TEST_TIMEOUT_SECONDS)
        .ceil() as u64;
    outln!(
        "the suite passes on the unmutated tree in {baseline:.1} s; \
         test timeout {timeout} s ({multiplier} x, at least {MINIMUM_TEST_TIMEOUT_SECONDS} s)"
    );

    let command = command_line(args, timeout);
    outln!("running: {}", shown(&command));
    let started = Instant::now();
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(program)
        .args(&command)
        .current_dir(workspace_root())
        .status()
        .map_err(|source| Error::Spawn {
            command: shown(&command),
            source,
        })?;
    let elapsed = started.elapsed();
    if !status
        .code()
        .is_some_and(|c| COMPLETED_RUN_CODES.contains(&c))
    {
        return Err(Error::Status {
            command: shown(&command),
            status,
        });
    }
    let relative = Path::new(OUTPUT_DIR).join("mutants.out/outcomes.json");
    let summary = read_outcomes(&workspace_root().join(&relative))?;
    outln!();
    out!("{summary}");
    outln!(
        "wall time of the cargo-mutants run: {}; outcomes: {}",
        minutes_seconds(elapsed.as_secs()),
        relative.display()
    );
    Ok(true)
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A command line as it can be pasted into a shell.
fn shown(args: &[String]) -> String {
    let mut line = String::from("cargo");
    for arg in args {
        line.push(' ');
        if arg.contains(|c: char| c.is_whitespace() || "*|&()'".contains(c)) {
            line.push_str(&format!("'{arg}'"));
        } else {
            line.push_str(arg);
        }
    }
    line
}

/// Installs cargo-mutants with `cargo install --locked` when
/// `cargo mutants --version` does not work.
fn ensure_installed() -> Result<(), Error> {
    if Cmd::cargo(&["mutants", "--version"]).succeeds_quietly() {
        return Ok(());
    }
    let install = Cmd::cargo(&["install", "cargo-mutants", "--locked"]);
    outln!("cargo-mutants is not installed; installing it: {install}");
    install.run()
}

/// `nextest run` of the suite, in the workspace.
fn nextest_args() -> Vec<String> {
    let mut args: Vec<String> = vec!["nextest".into(), "run".into()];
    for package in TEST_PACKAGES {
        args.push("--package".into());
        args.push(package.into());
    }
    args.push("-E".into());
    args.push(suite_filter());
    args
}

/// [`SUITE_FILTER`] on one line.
fn suite_filter() -> String {
    SUITE_FILTER
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The arguments after `cargo` for the cargo-mutants run.
fn command_line(args: &MutantsArgs, timeout_seconds: u64) -> Vec<String> {
    let mut command: Vec<String> = [
        "mutants",
        "--package",
        PACKAGE,
        "--test-tool",
        "nextest",
        "--test-package",
        &TEST_PACKAGES.join(","),
        "--output",
        OUTPUT_DIR,
        "--timeout",
        &timeout_seconds.to_string(),
    ]
    .map(String::from)
    .to_vec();
    for file in &args.files {
        command.push("--file".into());
        command.push(file.clone());
    }
    if let Some(jobs) = args.jobs {
        command.push("--jobs".into());
        command.push(jobs.to_string());
    }
    command.push("--cargo-test-arg=-E".into());
    command.push(format!("--cargo-test-arg={}", suite_filter()));
    command
}

fn read_outcomes(path: &Path) -> Result<Summary, Error> {
    let read_error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(read_error)?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| read_error(io::Error::new(io::ErrorKind::InvalidData, e)))?;
    Summary::from_outcomes(&json)
        .map_err(|reason| read_error(io::Error::new(io::ErrorKind::InvalidData, reason)))
}

fn minutes_seconds(seconds: u64) -> String {
    format!("{}m {:02}s", seconds / 60, seconds % 60)
}

/// What happened to one mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Caught,
    Missed,
    Timeout,
    Unviable,
}

impl Outcome {
    /// From the `summary` field of one entry of `outcomes.json`; `None` for
    /// the baseline's `Success` or `Failure`.
    fn parse(summary: &str) -> Option<Outcome> {
        match summary {
            "CaughtMutant" => Some(Outcome::Caught),
            "MissedMutant" => Some(Outcome::Missed),
            "Timeout" => Some(Outcome::Timeout),
            "Unviable" => Some(Outcome::Unviable),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    caught: u64,
    missed: u64,
    timeout: u64,
    unviable: u64,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Caught => self.caught += 1,
            Outcome::Missed => self.missed += 1,
            Outcome::Timeout => self.timeout += 1,
            Outcome::Unviable => self.unviable += 1,
        }
    }

    fn merge(&mut self, other: &Counts) {
        self.caught += other.caught;
        self.missed += other.missed;
        self.timeout += other.timeout;
        self.unviable += other.unviable;
    }

    /// caught / (caught + missed + timeout): a timeout is not counted as
    /// caught (a hang is a finding only if something reports it).
    fn score(&self) -> String {
        let judged = self.caught + self.missed + self.timeout;
        if judged == 0 {
            return "no viable mutants run".into();
        }
        let percent = self.caught as f64 * 100.0 / judged as f64;
        format!("{}/{judged} = {percent:.1}%", self.caught)
    }
}

/// The modules with a score of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Module {
    StateMachine,
    Wal,
    Recovery,
}

impl Module {
    const ALL: [Module; 3] = [Module::StateMachine, Module::Wal, Module::Recovery];

    fn name(self) -> &'static str {
        match self {
            Module::StateMachine => "state machine",
            Module::Wal => "WAL",
            Module::Recovery => "recovery",
        }
    }

    fn files(self) -> &'static str {
        match self {
            Module::StateMachine => "core/src/machine/**, table.rs, wheel.rs, retire.rs",
            Module::Wal => "core/src/wal/**",
            Module::Recovery => "core/src/engine/recovery.rs, core/src/snapshot/**",
        }
    }

    /// The module a source file (workspace-relative, `/`-separated) is in.
    fn of(file: &str) -> Option<Module> {
        match file {
            "core/src/table.rs" | "core/src/wheel.rs" | "core/src/retire.rs" => {
                Some(Module::StateMachine)
            }
            "core/src/engine/recovery.rs" => Some(Module::Recovery),
            _ if file.starts_with("core/src/machine/") => Some(Module::StateMachine),
            _ if file.starts_with("core/src/wal/") => Some(Module::Wal),
            _ if file.starts_with("core/src/snapshot/") => Some(Module::Recovery),
            _ => None,
        }
    }
}

/// A mutant the tests did not catch.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Missed {
    file: String,
    line: u64,
    column: u64,
    /// cargo-mutants' description: what was replaced with what, where.
    description: String,
}

#[derive(Debug, Default, PartialEq)]
struct Summary {
    per_file: BTreeMap<String, Counts>,
    missed: Vec<Missed>,
}

impl Summary {
    /// From the parsed `outcomes.json`: every entry but the baseline.
    fn from_outcomes(json: &Value) -> Result<Summary, String> {
        let entries = json
            .get("outcomes")
            .and_then(Value::as_array)
            .ok_or("no `outcomes` array")?;
        let mut summary = Summary::default();
        for entry in entries {
            let Some(mutant) = entry.get("scenario").and_then(|s| s.get("Mutant")) else {
                continue; // the baseline
            };
            let verdict = entry
                .get("summary")
                .and_then(Value::as_str)
                .ok_or("an outcome without a `summary`")?;
            let outcome = Outcome::parse(verdict)
                .ok_or_else(|| format!("unknown mutant outcome `{verdict}`"))?;
            let file = mutant
                .get("file")
                .and_then(Value::as_str)
                .ok_or("a mutant without a `file`")?
                .replace('\\', "/");
            summary
                .per_file
                .entry(file.clone())
                .or_default()
                .add(outcome);
            if outcome == Outcome::Missed {
                let start = mutant.get("span").and_then(|s| s.get("start"));
                let position = |key| {
                    start
                        .and_then(|s| s.get(key))
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                };
                summary.missed.push(Missed {
                    line: position("line"),
                    column: position("column"),
                    description: describe(mutant),
                    file,
                });
            }
        }
        summary.missed.sort();
        Ok(summary)
    }

    fn total(&self) -> Counts {
        let mut total = Counts::default();
        for counts in self.per_file.values() {
            total.merge(counts);
        }
        total
    }

    fn module(&self, module: Module) -> Counts {
        let mut total = Counts::default();
        for (file, counts) in &self.per_file {
            if Module::of(file) == Some(module) {
                total.merge(counts);
            }
        }
        total
    }
}

/// "replace < with <= in Frame::decode" from a mutant's fields.
fn describe(mutant: &Value) -> String {
    let replacement = mutant
        .get("replacement")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let function = mutant
        .get("function")
        .and_then(|f| f.get("function_name"))
        .and_then(Value::as_str);
    let genre = mutant.get("genre").and_then(Value::as_str).unwrap_or("");
    let what = match genre {
        "FnValue" => format!(
            "replace body{} with {replacement}",
            function.map(|f| format!(" of {f}")).unwrap_or_default()
        ),
        _ => {
            let original = mutant
                .get("original")
                .and_then(Value::as_str)
                .map(|o| format!("{o} "))
                .unwrap_or_default();
            let place = function.map(|f| format!(" in {f}")).unwrap_or_default();
            if original.is_empty() {
                format!("replace with {replacement}{place}")
            } else {
                format!("replace {original}with {replacement}{place}")
            }
        }
    };
    mutant
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or(what)
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .per_file
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max("total".len());
        writeln!(
            f,
            "{:width$}  {:>6}  {:>6}  {:>7}  {:>8}",
            "file", "caught", "missed", "timeout", "unviable"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, c: &Counts| {
            writeln!(
                f,
                "{name:width$}  {:>6}  {:>6}  {:>7}  {:>8}",
                c.caught, c.missed, c.timeout, c.unviable
            )
        };
        for (file, counts) in &self.per_file {
            row(f, file, counts)?;
        }
        let total = self.total();
        row(f, "total", &total)?;
        writeln!(f, "score, caught / (caught + missed + timeout):")?;
        writeln!(f, "  {:14} {}", "overall", total.score())?;
        for module in Module::ALL {
            let counts = self.module(module);
            if counts == Counts::default() {
                writeln!(f, "  {:14} not run ({})", module.name(), module.files())?;
            } else {
                writeln!(f, "  {:14} {}", module.name(), counts.score())?;
            }
        }
        if self.missed.is_empty() {
            writeln!(f, "missed: none")?;
        } else {
            writeln!(f, "missed ({}):", self.missed.len())?;
            for missed in &self.missed {
                writeln!(f, "  {}", missed.shown())?;
            }
        }
        Ok(())
    }
}

impl Missed {
    /// `file:line: description`, without repeating the place when the
    /// description (cargo-mutants' `name`) already starts with it.
    fn shown(&self) -> String {
        let place = format!("{}:{}:{}", self.file, self.line, self.column);
        if self.description.starts_with(&place) {
            self.description.clone()
        } else {
            format!("{place}: {}", self.description)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(file: &str, line: u64, replacement: &str, summary: &str) -> Value {
        serde_json::json!({
            "scenario": { "Mutant": {
                "package": "allocdb-core",
                "file": file,
                "function": { "function_name": "decode", "return_type": "-> bool" },
                "span": { "start": { "line": line, "column": 9 }, "end": { "line": line, "column": 20 } },
                "replacement": replacement,
                "genre": "FnValue",
            }},
            "summary": summary,
        })
    }

    fn outcomes() -> Value {
        serde_json::json!({ "outcomes": [
            { "scenario": "Baseline", "summary": "Success" },
            mutant("core/src/wal/scan.rs", 12, "true", "MissedMutant"),
            mutant("core/src/wal/frame.rs", 40, "false", "CaughtMutant"),
            mutant("core/src/wal/frame.rs", 41, "true", "MissedMutant"),
            mutant("core/src/wal/frame.rs", 42, "true", "Timeout"),
            mutant("core/src/snapshot/format.rs", 7, "()", "Unviable"),
            mutant("core/src/table.rs", 3, "true", "CaughtMutant"),
            mutant("core/src/codec.rs", 3, "true", "CaughtMutant"),
        ]})
    }

    #[test]
    fn counts_per_file_and_module_and_sorted_missed() {
        let summary = Summary::from_outcomes(&outcomes()).unwrap();
        assert_eq!(
            summary.per_file["core/src/wal/frame.rs"],
            Counts {
                caught: 1,
                missed: 1,
                timeout: 1,
                unviable: 0
            }
        );
        assert_eq!(summary.total().caught, 3);
        assert_eq!(summary.module(Module::Wal).score(), "1/4 = 25.0%");
        assert_eq!(summary.module(Module::StateMachine).score(), "1/1 = 100.0%");
        assert_eq!(
            summary.module(Module::Recovery).score(),
            "no viable mutants run"
        );
        let shown: Vec<String> = summary.missed.iter().map(Missed::shown).collect();
        assert_eq!(
            shown,
            [
                "core/src/wal/frame.rs:41:9: replace body of decode with true",
                "core/src/wal/scan.rs:12:9: replace body of decode with true",
            ]
        );
        let text = summary.to_string();
        assert!(text.contains("  overall        3/6 = 50.0%\n"), "{text}");
        assert!(text.contains("missed (2):\n"), "{text}");
    }

    #[test]
    fn modules_are_the_documented_files() {
        for (file, module) in [
            ("core/src/machine/lease_ops.rs", Some(Module::StateMachine)),
            ("core/src/wheel.rs", Some(Module::StateMachine)),
            ("core/src/wal/payload.rs", Some(Module::Wal)),
            ("core/src/engine/recovery.rs", Some(Module::Recovery)),
            ("core/src/snapshot/file.rs", Some(Module::Recovery)),
            ("core/src/engine/mod.rs", None),
            ("core/src/digest.rs", None),
        ] {
            assert_eq!(Module::of(file), module, "{file}");
        }
    }

    #[test]
    fn the_command_line_passes_the_options_and_the_suite_on() {
        let args = MutantsArgs {
            files: vec!["core/src/wal/**".into()],
            jobs: Some(2),
            timeout_multiplier: Some(1.5),
        };
        let command = command_line(&args, 60);
        assert_eq!(
            shown(&command),
            "cargo mutants --package allocdb-core --test-tool nextest \
             --test-package allocdb-core,allocdb-sim --output target/mutants --timeout 60 \
             --file 'core/src/wal/**' --jobs 2 --cargo-test-arg=-E \
             '--cargo-test-arg=package(allocdb-core) | (package(allocdb-sim) \
             & (binary(scenarios) | binary(explore) | binary(sweep)) \
             - test(=default_sweep_of_1000_seeds_passes_and_exercises_everything))'"
        );
        assert_eq!(
            nextest_args()[..5],
            ["nextest", "run", "--package", "allocdb-core", "--package"]
        );
    }

    #[test]
    fn an_unknown_outcome_is_an_error() {
        let json =
            serde_json::json!({ "outcomes": [mutant("core/src/wal/scan.rs", 1, "true", "Weird")] });
        assert!(Summary::from_outcomes(&json).is_err());
    }
}
