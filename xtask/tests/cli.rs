//! End-to-end tests of `cargo xtask sweep | replay | shrink`: the real
//! binary, its exit codes (0 passed, 1 a run failed, 2 bad arguments or a
//! bad scenario file), what it prints and the files it writes.
//!
//! Every run is small (a few seeds of 200 steps) and every file a run may
//! write goes to a temporary directory (`--keep-failures`, `--out-dir`); the
//! binary also runs from that directory, never from the repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use allocdb_sim::driver::{AuditCadence, SelfTest};
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::transcript::{transcript_digest, TranscriptMode};
use allocdb_sim::workload::mix::FaultSelection;
use tempfile::TempDir;

const STEPS: &str = "200";
const JOBS: &str = "2";
const ORACLE: &str = "model_agreement";

/// One finished run of the binary.
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// What to show when an assertion about this run fails.
    fn shown(&self) -> String {
        format!(
            "xtask {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}\n{}",
            self.shown()
        );
        self
    }

    fn expect_stdout(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks `{needle}`\n{}",
            self.shown()
        );
        self
    }

    fn expect_stderr(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks `{needle}`\n{}",
            self.shown()
        );
        self
    }

    /// The rest of the stdout line that starts (after indentation) with
    /// `label`, trimmed.
    fn stdout_field(&self, label: &str) -> String {
        self.stdout
            .lines()
            .find_map(|line| line.trim_start().strip_prefix(label))
            .unwrap_or_else(|| panic!("no `{label}` line in stdout\n{}", self.shown()))
            .trim()
            .to_string()
    }
}

/// Runs the xtask binary with `args` (the subcommand and its arguments)
/// from `cwd`.
fn xtask(cwd: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the xtask binary starts");
    Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("xtask-cli-")
        .tempdir()
        .expect("a temporary directory")
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A path as xtask prints it: relative ones are relative to the workspace.
fn printed_path(shown: &str) -> PathBuf {
    let path = PathBuf::from(shown);
    if path.is_absolute() {
        path
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask is inside the workspace")
            .join(path)
    }
}

/// The names in the repository's `corpus/` (where repros once went).
fn corpus_listing() -> BTreeSet<String> {
    let corpus = printed_path("corpus");
    match std::fs::read_dir(&corpus) {
        Ok(entries) => entries
            .map(|e| {
                e.expect("corpus entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// A sweep of seeds 0..4 under the wrong-model self-test, its repros kept
/// in `dir`: it must fail.
fn failing_sweep(dir: &Path) -> Run {
    failing_sweep_with(dir, &["--keep-failures", text(dir)])
}

/// The failing sweep (the wrong-model self-test) run in `cwd` with
/// `extra` arguments.
fn failing_sweep_with(cwd: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["--selftest", "wrong-model"];
    args.extend_from_slice(extra);
    let run = small_sweep(cwd, &args);
    run.expect_code(1);
    run
}

/// A sweep of seeds 0..4, `STEPS` steps each, run in `cwd` with `extra`
/// arguments.
fn small_sweep(cwd: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["sweep", "--seeds", "0..4", "--steps", STEPS, "--jobs", JOBS];
    args.extend_from_slice(extra);
    xtask(cwd, &args)
}

/// The repro file a failing sweep named on its `repro:` line.
fn repro_of(sweep: &Run) -> PathBuf {
    printed_path(&sweep.stdout_field("repro:"))
}

#[test]
fn a_small_sweep_passes() {
    let dir = tempdir();
    small_sweep(dir.path(), &["--keep-failures", text(dir.path())])
        .expect_code(0)
        .expect_stdout("sweep passed");
}

#[test]
fn the_coverage_gate_fails_a_sweep_that_leaves_a_probe_unreached() {
    let dir = tempdir();
    // Without faults no crash point, persist failure or torn tail is
    // reached: the gate names them and the sweep exits 1.
    small_sweep(dir.path(), &["--faults", "none", "--require-coverage"])
        .expect_code(1)
        .expect_stdout("coverage gate FAILED")
        .expect_stdout("UNREACHED crash_point.client_after_sync")
        .expect_stdout("UNREACHED fault.torn_tail_recovered");
    // Without the gate the same sweep passes, and still lists them.
    small_sweep(dir.path(), &["--faults", "none"])
        .expect_code(0)
        .expect_stdout("UNREACHED crash_point.client_after_sync");
}

#[test]
fn a_determinism_check_runs_each_seed_twice_and_reports_transcript_digests() {
    let dir = tempdir();
    small_sweep(dir.path(), &["--check-determinism"])
        .expect_code(0)
        .expect_stderr("each run twice")
        .expect_stdout("sweep passed");
    let json = failing_sweep_with(
        dir.path(),
        &[
            "--check-determinism",
            "--format",
            "json",
            "--keep-failures",
            text(dir.path()),
        ],
    );
    let summary: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(summary["check_determinism"], true);
    let failure = &summary["failures"][0];
    // The run was the same twice: the failure is the oracle's, with the
    // transcript's digest (16 hex digits).
    assert_eq!(failure["oracle"], "model_agreement");
    let digest = failure["transcript_digest"].as_str().unwrap();
    assert!(
        digest.len() == 16 && digest.chars().all(|c| c.is_ascii_hexdigit()),
        "{digest}"
    );
}

/// A sweep keeps only each transcript's digest; the digest it reports is
/// that of the text its replay command prints, with or without the
/// determinism check.
#[test]
fn a_failing_sweep_reports_the_digest_of_the_transcript_its_replay_prints() {
    let dir = tempdir();
    for extra in [&[][..], &["--check-determinism"][..]] {
        let mut args = vec![
            "sweep",
            "--seeds",
            "1..2",
            "--steps",
            STEPS,
            "--selftest",
            "wrong-model",
            "--format",
            "json",
            "--keep-failures",
            text(dir.path()),
        ];
        args.extend_from_slice(extra);
        let sweep = xtask(dir.path(), &args);
        sweep.expect_code(1);
        let summary: serde_json::Value = serde_json::from_str(&sweep.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", sweep.shown()));
        let failure = &summary["failures"][0];
        assert_eq!(failure["oracle"], ORACLE, "{}", sweep.shown());
        let reported = failure["transcript_digest"].as_str().unwrap_or_default();
        let replay = failure["replay"].as_str().unwrap_or_default();
        let replay_args: Vec<&str> = replay
            .strip_prefix("cargo xtask ")
            .unwrap_or_else(|| panic!("replay command `{replay}`\n{}", sweep.shown()))
            .split_whitespace()
            .collect();
        let replayed = xtask(dir.path(), &replay_args);
        replayed.expect_code(1);
        assert_eq!(
            format!("{:016x}", transcript_digest(&replayed.stdout)),
            reported,
            "{extra:?}: the sweep's digest is not the replayed text's\n{}",
            replayed.shown()
        );
    }
}

/// For seeds with and without faults and one that fails: a run keeping
/// only the digest reports the digest of the text the same run keeping
/// the text writes, and that text is what `replay` prints.
#[test]
fn a_seed_run_keeping_its_digest_or_its_text_writes_what_replay_prints() {
    let dir = tempdir();
    let cases = [
        (0, FaultSelection::All, None),
        (7, FaultSelection::All, None),
        (3, FaultSelection::None, None),
        (1, FaultSelection::All, Some(SelfTest::WrongModel)),
    ];
    for (seed, faults, selftest) in cases {
        let spec = SeedSpec {
            faults: faults.clone(),
            selftest,
            // What replay runs by default.
            audit: AuditCadence::EVERY_STEP,
            ..SeedSpec::new(seed, STEPS.parse().expect("a step count"))
        };
        let run = |transcript| {
            run_seed(&SeedSpec {
                transcript,
                ..spec.clone()
            })
        };
        let digest = run(TranscriptMode::Digest);
        let text = run(TranscriptMode::Text);
        let written = text.transcript.text().expect("asked for the text");
        assert_eq!(digest.transcript.digest(), Some(transcript_digest(written)));

        let seed = seed.to_string();
        let mut args = vec!["replay", "--seed", &seed, "--steps", STEPS];
        if faults == FaultSelection::None {
            args.extend(["--faults", "none"]);
        }
        if selftest.is_some() {
            args.extend(["--selftest", "wrong-model"]);
        }
        let replayed = xtask(dir.path(), &args);
        replayed.expect_code(if text.failure.is_some() { 1 } else { 0 });
        assert!(
            replayed.stdout == written,
            "seed {seed}: replay printed another text\n{}",
            replayed.shown()
        );
    }
}

#[test]
fn a_failing_sweep_names_the_seed_the_oracle_and_a_replay_that_reproduces_it() {
    let corpus_before = corpus_listing();
    let dir = tempdir();
    let sweep = failing_sweep(dir.path());

    // `FAILED seed N: <error>`, then the oracle, the replay command and the repro.
    let failed = sweep.stdout_field("FAILED seed ");
    let (seed, error) = failed
        .split_once(": ")
        .unwrap_or_else(|| panic!("`FAILED seed N: error` expected\n{}", sweep.shown()));
    let seed: u64 = seed
        .parse()
        .unwrap_or_else(|_| panic!("`{seed}` is not a seed\n{}", sweep.shown()));
    assert!(seed < 4, "seed {seed} is outside 0..4\n{}", sweep.shown());
    assert!(
        error.contains(&format!("oracle `{ORACLE}` failed")),
        "the failure is not the model oracle's\n{}",
        sweep.shown()
    );
    assert_eq!(
        sweep.stdout_field("oracle:"),
        ORACLE,
        "oracle line\n{}",
        sweep.shown()
    );
    // The step the oracle fired at, to check the repro fails at it too.
    let step = error
        .split_once(" failed at step ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|step| step.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no `failed at step K` in the error\n{}", sweep.shown()));

    // The printed replay command, run through the binary, fails the same way.
    let replay = sweep.stdout_field("replay:");
    let replay_args: Vec<&str> = replay
        .strip_prefix("cargo xtask ")
        .unwrap_or_else(|| panic!("replay command `{replay}` is not `cargo xtask ...`"))
        .split_whitespace()
        .collect();
    assert_eq!(
        replay_args[..3],
        ["replay", "--seed", &seed.to_string()],
        "replay command `{replay}`"
    );
    for flag in ["--steps 200", "--selftest wrong-model"] {
        assert!(
            replay.contains(flag),
            "replay command `{replay}` lacks `{flag}`"
        );
    }
    xtask(dir.path(), &replay_args)
        .expect_code(1)
        .expect_stderr(&format!("replay FAILED: {error}"));

    // The repro was written into --keep-failures, and replaying it fails the
    // same oracle at the same step.
    let repro = repro_of(&sweep);
    assert!(
        repro.starts_with(dir.path()),
        "repro {} is not in --keep-failures {}",
        repro.display(),
        dir.path().display()
    );
    assert!(repro.is_file(), "repro {} is not a file", repro.display());
    assert_eq!(
        repro.file_name().and_then(|n| n.to_str()),
        Some(format!("seed-{seed}.ron").as_str())
    );
    xtask(dir.path(), &["replay", text(&repro)])
        .expect_code(1)
        .expect_stderr("replay FAILED")
        .expect_stderr(&format!("step {step} "))
        .expect_stderr(&format!("oracle `{ORACLE}` failed"));

    assert_eq!(
        corpus_listing(),
        corpus_before,
        "the sweep wrote into the repository's corpus/"
    );
}

#[test]
fn shrink_writes_a_shorter_repro_that_still_fails_the_same_oracle() {
    let dir = tempdir();
    let sweep = failing_sweep(dir.path());
    let repro = repro_of(&sweep);
    let out_dir = dir.path().join("shrunk");

    let shrink = xtask(
        dir.path(),
        &["shrink", text(&repro), "--out-dir", text(&out_dir)],
    );
    shrink
        .expect_code(0)
        .expect_stdout(&format!("still failing oracle `{ORACLE}`"));

    // Exactly one file, in --out-dir, the one `wrote` names.
    let written: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap_or_else(|e| {
            panic!(
                "no --out-dir {}: {e}\n{}",
                out_dir.display(),
                shrink.shown()
            )
        })
        .map(|e| e.expect("out-dir entry").path())
        .collect();
    assert_eq!(written.len(), 1, "files in --out-dir: {written:?}");
    let shrunk = printed_path(&shrink.stdout_field("wrote "));
    assert_eq!(shrunk, written[0], "`wrote` names another file");

    let original = allocdb_sim::scenario::load(&repro).expect("the repro loads");
    let shrunk_scenario = allocdb_sim::scenario::load(&shrunk).expect("the shrunk file loads");
    assert!(
        shrunk_scenario.steps.len() < original.steps.len(),
        "shrunk to {} steps from {}",
        shrunk_scenario.steps.len(),
        original.steps.len()
    );
    assert!(!shrunk_scenario.steps.is_empty(), "shrunk to nothing");

    xtask(dir.path(), &["replay", text(&shrunk)])
        .expect_code(1)
        .expect_stderr("replay FAILED")
        .expect_stderr(&format!("oracle `{ORACLE}` failed"));
}

#[test]
fn shards_split_the_seeds_without_overlap() {
    let dir = tempdir();
    let mut seen = BTreeSet::new();
    for index in 1..=3 {
        let shard = format!("{index}/3");
        let run = xtask(
            dir.path(),
            &[
                "sweep",
                "--seeds",
                "0..10",
                "--steps",
                STEPS,
                "--jobs",
                JOBS,
                "--shard",
                &shard,
                "--format",
                "json",
                "--keep-going",
                "--keep-failures",
                text(dir.path()),
            ],
        );
        run.expect_code(0);
        let summary: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", run.shown()));
        assert_eq!(summary["shard"], shard.as_str(), "{}", run.shown());
        assert_eq!(summary["passed"], true, "{}", run.shown());
        let seeds: Vec<u64> = summary["seeds_run"]
            .as_array()
            .unwrap_or_else(|| panic!("no `seeds_run` list\n{}", run.shown()))
            .iter()
            .map(|seed| seed.as_u64().expect("seeds are numbers"))
            .collect();
        assert!(!seeds.is_empty(), "shard {shard} ran no seed");
        for seed in seeds {
            assert!(seen.insert(seed), "seed {seed} ran in two shards");
        }
    }
    assert_eq!(seen, (0..10).collect::<BTreeSet<u64>>());
}

#[test]
fn replaying_a_seed_is_byte_for_byte_the_same() {
    let dir = tempdir();
    let replay = |seed: &str| {
        let run = xtask(dir.path(), &["replay", "--seed", seed, "--steps", STEPS]);
        run.expect_code(0);
        run.stdout
    };
    let first = replay("3");
    assert!(!first.is_empty(), "replay printed no transcript");
    assert!(
        first == replay("3"),
        "two replays of seed 3 printed different transcripts"
    );
    assert_ne!(
        first,
        replay("4"),
        "seeds 3 and 4 printed the same transcript"
    );
}

#[test]
fn bad_arguments_and_bad_files_exit_with_2_and_say_why() {
    let dir = tempdir();
    let keep = text(dir.path());
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--steps",
            STEPS,
            "--jobs",
            JOBS,
            "--keep-failures",
            keep,
        ];
        args.extend_from_slice(extra);
        xtask(dir.path(), &args)
    };

    sweep(&["--seeds", "5..2"])
        .expect_code(2)
        .expect_stderr("5..2")
        .expect_stderr("is empty");
    sweep(&["--shard", "4/3"])
        .expect_code(2)
        .expect_stderr("4/3")
        .expect_stderr("is not a shard");
    xtask(dir.path(), &["replay", "does/not/exist.ron"])
        .expect_code(2)
        .expect_stderr("does/not/exist.ron")
        .expect_stderr("does not exist");
    xtask(dir.path(), &["replay"])
        .expect_code(2)
        .expect_stderr("required")
        .expect_stderr("--seed");
    xtask(dir.path(), &["tidy", "extra"])
        .expect_code(2)
        .expect_stderr("unexpected argument 'extra'");

    // A syntax error: a comma missing after `client: 1`; the error points
    // at the token the parser could not take (`operation`, line 3 column 26).
    let bad = dir.path().join("bad.ron");
    std::fs::write(
        &bad,
        "Scenario(\n    steps: [\n        Submit(client: 1 operation: 4),\n    ],\n)\n",
    )
    .expect("write the bad scenario");
    let location = format!("{}:3:26:", bad.display());
    xtask(dir.path(), &["replay", text(&bad)])
        .expect_code(2)
        .expect_stderr(&location);
    xtask(
        dir.path(),
        &["shrink", text(&bad), "--out-dir", &format!("{keep}/out")],
    )
    .expect_code(2)
    .expect_stderr(&location);
}

/// `git status --porcelain` of the workspace, or `None` outside a git
/// checkout (or without git).
fn git_status() -> Option<String> {
    let output = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(printed_path("."))
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Without `--keep-failures`, a failing sweep writes its repro under
/// `target/repros/` and names the shrink command that keeps it in
/// `corpus/`: the tracked tree is left as it was.
#[test]
fn a_failing_sweep_leaves_the_tracked_tree_clean() {
    let (corpus_before, status_before) = (corpus_listing(), git_status());
    let dir = tempdir();
    let sweep = failing_sweep_with(dir.path(), &[]);
    let repro = repro_of(&sweep);
    let repros = printed_path("target/repros");
    assert!(
        repro.starts_with(&repros) && repro.is_file(),
        "repro {} is not a file under {}",
        repro.display(),
        repros.display()
    );
    let shrink = sweep.stdout_field("shrink:");
    let name = repro.file_name().and_then(|n| n.to_str()).unwrap();
    assert!(
        shrink.starts_with("cargo xtask shrink target/repros/")
            && shrink.contains(&format!("/{name} --into corpus/seed-")),
        "{shrink}"
    );
    std::fs::remove_file(&repro).unwrap();
    assert_eq!(corpus_listing(), corpus_before);
    assert_eq!(git_status(), status_before, "the sweep changed git status");
}

/// A panic in one of the engine's own assertions is a failure like any
/// oracle's: the sweep names seed, step, oracle `panic`, where it panicked
/// and whose code it was; its repro replays to the same panic and shrinks.
#[test]
fn a_panicking_sweep_names_the_panic_and_its_repro_shrinks() {
    let dir = tempdir();
    let sweep = small_sweep(
        dir.path(),
        &[
            "--selftest",
            "engine-assertion",
            "--keep-failures",
            text(dir.path()),
        ],
    );
    sweep
        .expect_code(1)
        .expect_stdout("oracle `panic` failed at step ")
        .expect_stdout("the engine panicked at core/src/fs/observer.rs:")
        .expect_stdout("panicked: engine code, at core/src/fs/observer.rs:");
    assert_eq!(sweep.stdout_field("oracle:"), "panic", "{}", sweep.shown());
    assert!(
        !sweep.stderr.contains("thread '"),
        "the default hook printed the panic\n{}",
        sweep.shown()
    );
    let repro = repro_of(&sweep);
    xtask(dir.path(), &["replay", text(&repro)])
        .expect_code(1)
        .expect_stdout("=> FAILED")
        .expect_stderr("oracle `panic` failed: the engine panicked at core/src/fs/observer.rs:");
    let out_dir = dir.path().join("shrunk");
    xtask(
        dir.path(),
        &["shrink", text(&repro), "--out-dir", text(&out_dir)],
    )
    .expect_code(0)
    .expect_stdout("still failing oracle `panic` at core/src/fs/observer.rs:");
}

/// A step that never returns: the watchdog names the seed and the step,
/// writes the repro up to and including it and ends the process (exit 1);
/// a replay of the repro names the same step; shrinking judges each
/// candidate in a child process. Each run bounds its own time.
#[test]
fn a_hung_seed_is_named_by_the_watchdog_and_its_repro_shrinks() {
    let dir = tempdir();
    let started = std::time::Instant::now();
    let sweep = small_sweep(
        dir.path(),
        &[
            "--selftest",
            "hang",
            "--seed-timeout",
            "1",
            "--keep-failures",
            text(dir.path()),
        ],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the watchdog took {:?}",
        started.elapsed()
    );
    sweep
        .expect_code(1)
        .expect_stdout("did not return within 1 s: checkpoint");
    assert_eq!(sweep.stdout_field("oracle:"), "hang", "{}", sweep.shown());
    let failed = sweep.stdout_field("FAILED seed ");
    let step = failed
        .split_once(" failed at step ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no step\n{}", sweep.shown()))
        .to_string();
    let repro = repro_of(&sweep);
    let repro_text = std::fs::read_to_string(&repro).unwrap();
    assert!(
        repro_text.contains("        Checkpoint,\n    ],"),
        "the repro ends with the step that hung\n{repro_text}"
    );
    xtask(dir.path(), &["replay", text(&repro), "--seed-timeout", "1"])
        .expect_code(1)
        .expect_stderr(&format!(
            "replay FAILED: oracle `hang` failed at step {step}: step {step} did not return within 1 s: checkpoint"
        ));
    // The report beside the repro shows the steps that returned and marks
    // the one that did not.
    let report = std::fs::read_to_string(printed_path(&sweep.stdout_field("report:"))).unwrap();
    assert!(
        report.contains(&format!("\"step\":{step},\"oracle\":\"hang\"")),
        "the hang is not the report's failure"
    );
    let out_dir = dir.path().join("shrunk");
    xtask(
        dir.path(),
        &[
            "shrink",
            text(&repro),
            "--out-dir",
            text(&out_dir),
            "--seed-timeout",
            "1",
        ],
    )
    .expect_code(0)
    .expect_stdout("each candidate runs in a child process")
    .expect_stdout("steps -> 1 steps")
    .expect_stdout("still failing oracle `hang`");
}

/// `--for` runs seeds until the budget ends and says which ran; `--seeds
/// random` draws a base seed, prints it first, and the JSON summary says
/// which seeds ran and which failed.
#[test]
fn a_time_boxed_random_sweep_says_which_seeds_ran() {
    let dir = tempdir();
    let timed = xtask(
        dir.path(),
        &[
            "sweep", "--seeds", "random", "--for", "2s", "--steps", STEPS, "--jobs", JOBS,
            "--format", "json",
        ],
    );
    timed
        .expect_code(0)
        .expect_stderr("sweep: --seeds random drew base seed ");
    let summary: serde_json::Value = serde_json::from_str(&timed.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", timed.shown()));
    let base = summary["random_base_seed"]
        .as_u64()
        .unwrap_or_else(|| panic!("no base seed\n{}", timed.shown()));
    assert!(
        timed.stderr.contains(&format!("--seeds {base}..")),
        "{}",
        timed.shown()
    );
    assert_eq!(summary["run_for_seconds"], 2);
    let ran: Vec<u64> = summary["seeds_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    assert!(!ran.is_empty(), "{}", timed.shown());
    assert_eq!(
        ran,
        (base..base + ran.len() as u64).collect::<Vec<_>>(),
        "seeds run in order from the base, none skipped"
    );
    assert_eq!(summary["seeds_failed"], serde_json::json!([]));
    assert!(summary["cpu_user_us_per_step"].as_f64().unwrap() > 0.0);

    // A failing time-boxed run with --keep-going names every failure.
    let failing = xtask(
        dir.path(),
        &[
            "sweep",
            "--seeds",
            "0..",
            "--for",
            "1s",
            "--steps",
            STEPS,
            "--jobs",
            JOBS,
            "--selftest",
            "wrong-model",
            "--keep-going",
            "--keep-failures",
            text(dir.path()),
            "--format",
            "json",
        ],
    );
    failing.expect_code(1);
    let summary: serde_json::Value = serde_json::from_str(&failing.stdout).unwrap();
    let failed = summary["seeds_failed"].as_array().unwrap();
    assert!(!failed.is_empty(), "{}", failing.shown());
    assert_eq!(failed.len(), summary["failures"].as_array().unwrap().len());

    // An open range needs a budget; a budget needs a unit.
    xtask(dir.path(), &["sweep", "--seeds", "5.."])
        .expect_code(2)
        .expect_stderr("has no end");
    xtask(dir.path(), &["sweep", "--for", "90"])
        .expect_code(2)
        .expect_stderr("has no unit");
}

/// A failing sweep writes each failed seed's report beside its repro, and
/// `--html` a summary page linking to it; `replay --html --trace` writes
/// the same report and a trace from the command line, the same bytes
/// every time.
#[test]
fn reports_go_beside_repros_and_replay_writes_them_on_demand() {
    let dir = tempdir();
    let page = dir.path().join("pages").join("sweep.html");
    let sweep = failing_sweep_with(
        dir.path(),
        &[
            "--keep-failures",
            text(&dir.path().join("repros")),
            "--html",
            text(&page),
        ],
    );
    let report = printed_path(&sweep.stdout_field("report:"));
    assert_eq!(
        report,
        repro_of(&sweep).with_extension("html"),
        "{}",
        sweep.shown()
    );
    let from_sweep = std::fs::read_to_string(&report).expect("the report");
    assert!(from_sweep.contains("\"oracle\":\"model_agreement\""));
    let summary = std::fs::read_to_string(&page).expect("the summary page");
    assert!(
        summary.contains("href=\"../repros/seed-0.html\""),
        "{summary}"
    );
    assert!(summary.contains("required probes reached"));

    let replayed = dir.path().join("replayed.html");
    let trace = dir.path().join("trace.json");
    let replay = |html: &Path| {
        let mut args = vec![
            "replay",
            "--seed",
            "0",
            "--steps",
            STEPS,
            "--selftest",
            "wrong-model",
        ];
        args.extend([
            "--audit-every",
            "32",
            "--html",
            text(html),
            "--trace",
            text(&trace),
        ]);
        xtask(dir.path(), &args)
            .expect_code(1)
            .expect_stderr("report: ");
    };
    replay(&replayed);
    let first = std::fs::read(&replayed).unwrap();
    replay(&replayed);
    assert_eq!(
        std::fs::read(&replayed).unwrap(),
        first,
        "same run, same bytes"
    );
    assert_eq!(
        first,
        from_sweep.as_bytes(),
        "the sweep's report is the replay's"
    );
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).expect("JSON");
    assert!(trace["traceEvents"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));
}

/// `cargo xtask browser` refuses a Chromium named by ALLOCDB_CHROMIUM that
/// is not there, with exit code 2 and the name.
#[test]
fn a_browser_named_that_is_not_there_is_refused() {
    let dir = tempdir();
    let missing = dir.path().join("no-chromium");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("browser")
        .env("ALLOCDB_CHROMIUM", &missing)
        .current_dir(dir.path())
        .output()
        .expect("the xtask binary starts");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ALLOCDB_CHROMIUM names") && stderr.contains("no-chromium"),
        "{stderr}"
    );
}
