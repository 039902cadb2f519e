//! `cargo xtask sweep`: many seeds across cores, a summary of what was
//! exercised and how fast, and for each failure the seed, the oracle, the
//! exact replay command and a RON repro.
//!
//! Seeds are claimed in increasing order; on the first failure workers
//! finish the seed they hold and stop. Every seed below the highest one
//! claimed has then run, so the lowest failing seed reported is the same
//! whatever the timing. A time budget (`--for`) stops the claiming the
//! same way. A seed that outlives `--seed-timeout` has hung: the sweep
//! names it, writes its repro and ends the process (`hang.rs`).
//!
//! Rooms: `plan.rs` which seeds run, `hang.rs` the watchdog,
//! `report.rs` the summary and the progress shown while it runs.

mod hang;
mod plan;
mod report;

pub use plan::SeedPlan;

use crate::args::RunArgs;
use crate::cpu_time::CpuTime;
use crate::error::Error;
use crate::report_files::write_file;
use crate::repro_file::{default_repro_dir, write_repro};
use allocdb_sim::coverage::{probes, unreached};
use allocdb_sim::determinism::{run_seed_twice_watched, Divergence};
use allocdb_sim::driver::{AuditCadence, RunError, Simulator};
use allocdb_sim::oracle::Panicked;
use allocdb_sim::run::{run_seed_watched, SeedReport, SeedSpec};
use allocdb_sim::run_dir::KeptRun;
use allocdb_sim::stats::RunStats;
use allocdb_sim::timeline::{record_seed, render_html, Timeline};
use allocdb_sim::transcript::TranscriptMode;
use clap::ValueEnum;
use hang::{Slot, Workers};
use report::Progress;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone)]
pub struct SweepArgs {
    pub plan: SeedPlan,
    /// Claim no seed after this much wall-clock time.
    pub run_for: Option<Duration>,
    /// A seed running longer than this has hung.
    pub seed_timeout: Duration,
    pub run: RunArgs,
    /// The periodic full audit's cadence.
    pub audit: AuditCadence,
    pub jobs: usize,
    pub keep_failures: Option<PathBuf>,
    pub keep_going: bool,
    pub format: Format,
    /// Run each seed twice; transcripts that differ fail the seed.
    pub check_determinism: bool,
    /// A required coverage probe left at 0 fails the sweep.
    pub require_coverage: bool,
    /// Where the summary page goes, if asked for.
    pub html: Option<PathBuf>,
}

impl SweepArgs {
    /// A passing seed's transcript is read by nobody: the sweep writes
    /// none, and runs a failed seed again for it (as for its timeline).
    /// Run twice, each run writes its digest to be compared.
    fn spec(&self, seed: u64) -> SeedSpec {
        SeedSpec {
            keep_files: self.keep_failures.is_some(),
            audit: self.audit,
            transcript: TranscriptMode::Off,
            ..self.run.spec(seed)
        }
    }

    /// How long one seed may run: both runs of it when it runs twice.
    fn seed_budget(&self) -> Duration {
        self.seed_timeout * if self.check_determinism { 2 } else { 1 }
    }

    fn replay_command(&self, seed: u64) -> String {
        format!("cargo xtask replay --seed {seed} {}", self.run.flags())
    }
}

/// A failed seed, as reported.
pub(crate) struct Failed {
    seed: u64,
    /// Of the (first) run's transcript; none for a hang.
    transcript_digest: Option<u64>,
    error: String,
    oracle: Option<&'static str>,
    step: Option<u64>,
    /// For a panic: what panicked (its backtrace is shown once, here).
    panic: Option<Panicked>,
    replay: String,
    repro: Option<PathBuf>,
    /// The failed run's timeline report, beside its repro.
    report: Option<PathBuf>,
    files: Option<PathBuf>,
}

struct Totals {
    seeds: Vec<u64>,
    steps: u64,
    stats: RunStats,
    failures: Vec<Failed>,
    elapsed: Duration,
    cpu: CpuTime,
    /// The seed that took longest, and how long.
    slowest: Option<(u64, Duration)>,
}

impl Totals {
    fn new() -> Totals {
        Totals {
            seeds: Vec::new(),
            steps: 0,
            stats: RunStats::default(),
            failures: Vec::new(),
            elapsed: Duration::ZERO,
            cpu: CpuTime::default(),
            slowest: None,
        }
    }

    fn add(&mut self, ran: &Ran) {
        let report = &ran.report;
        self.seeds.push(report.seed);
        self.steps += report.actions.len() as u64;
        self.stats.merge(&report.stats);
        if self.slowest.is_none_or(|(_, took)| ran.took > took) {
            self.slowest = Some((report.seed, ran.took));
        }
    }
}

/// Runs the sweep; `Ok(false)` when a seed failed.
pub fn run(args: &SweepArgs) -> Result<bool, Error> {
    let jobs = match args.plan.len() {
        Some(len) => args
            .jobs
            .clamp(1, usize::try_from(len).unwrap_or(usize::MAX).max(1)),
        None => args.jobs.max(1),
    };
    let twice = if args.check_determinism {
        ", each run twice"
    } else {
        ""
    };
    let budget = args
        .run_for
        .map_or(String::new(), |d| format!(", for {} s", d.as_secs()));
    if args.plan.drawn {
        eprintln!(
            "sweep: --seeds random drew base seed {}: --seeds {} runs these seeds again",
            args.plan.start,
            args.plan.seeds_flag()
        );
    }
    eprintln!(
        "sweep: seeds {}{budget}, {} steps each, faults {}, {jobs} jobs{twice}, seed timeout {} s",
        args.plan,
        args.run.steps,
        args.run.faults,
        args.seed_timeout.as_secs()
    );
    for idle in args.run.faults.idle_kinds() {
        eprintln!("sweep: warning: --faults {}: {idle}", args.run.faults);
    }
    let args = &SweepArgs {
        jobs,
        ..args.clone()
    };
    let totals = sweep(args)?;
    report::print(args, &totals);
    report::write_page(args, &totals)?;
    let covered = !args.require_coverage || unreached(&probes(&totals.stats)).is_empty();
    Ok(totals.failures.is_empty() && covered)
}

/// One seed's run (the first, when it ran twice), how a second run of
/// it differed, and how long it took.
struct Ran {
    report: SeedReport,
    diverged: Option<Divergence>,
    took: Duration,
}

impl Ran {
    fn failed(&self) -> bool {
        self.report.failure.is_some() || self.diverged.is_some()
    }
}

/// How often the main thread looks for a hung seed while results come in.
const WATCH_EVERY: Duration = Duration::from_millis(100);

fn sweep(args: &SweepArgs) -> Result<Totals, Error> {
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<Ran>();
    let progress = Progress::new(args.plan.len(), args.run_for, args.format);
    let workers = Workers::new(args.jobs);
    let clock = Clock::start();
    let mut totals = Totals::new();
    let mut failed = Vec::new();
    std::thread::scope(|scope| {
        for worker in 0..args.jobs {
            let sender = sender.clone();
            let (next, stop, workers) = (&next, &stop, &workers);
            scope.spawn(move || {
                let out_of_time = || args.run_for.is_some_and(|budget| clock.elapsed() >= budget);
                while !stop.load(Ordering::Relaxed) && !out_of_time() {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(seed) = args.plan.nth(index) else {
                        break;
                    };
                    let ran = run_one(args, seed, workers.begin(worker, seed));
                    workers.end(worker);
                    if ran.failed() && !args.keep_going {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if sender.send(ran).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut watched = Instant::now();
        loop {
            match receiver.recv_timeout(WATCH_EVERY) {
                Ok(ran) => {
                    totals.add(&ran);
                    progress.seed_done(ran.failed());
                    if ran.failed() {
                        failed.push(ran);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if watched.elapsed() < WATCH_EVERY {
                continue;
            }
            watched = Instant::now();
            if let Some(stuck) = workers.hung(args.seed_budget()) {
                // The scope would wait for the stuck worker forever: the
                // report is made here, and the process ends after it.
                let failed = std::mem::take(&mut failed);
                end_hung(
                    args,
                    &mut totals,
                    failed,
                    &clock,
                    &progress,
                    &workers,
                    stuck,
                );
            }
        }
    });
    finish(args, &mut totals, failed, &clock, &progress)?;
    Ok(totals)
}

/// Reports a sweep a seed of which hung, and ends the process: the stuck
/// thread cannot be stopped.
fn end_hung(
    args: &SweepArgs,
    totals: &mut Totals,
    failed: Vec<Ran>,
    clock: &Clock,
    progress: &Progress,
    workers: &Workers,
    stuck: hang::Stuck,
) -> ! {
    let reported =
        finish(args, totals, failed, clock, progress).and_then(|()| hang::record(args, stuck));
    match reported {
        Ok(hang) => {
            totals.failures.push(hang);
            report::print(args, totals);
            if let Err(error) = report::write_page(args, totals) {
                eprintln!("{}", crate::error::report(&error));
            }
        }
        Err(error) => eprintln!("{}", crate::error::report(&error)),
    }
    workers.abandon();
    std::process::exit(1);
}

/// When the sweep started, by the wall clock and the CPU's.
#[derive(Clone, Copy)]
struct Clock {
    wall: Instant,
    cpu: CpuTime,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: CpuTime::now(),
        }
    }

    fn elapsed(&self) -> Duration {
        self.wall.elapsed()
    }
}

/// The totals of the seeds that ran, with their failures recorded.
fn finish(
    args: &SweepArgs,
    totals: &mut Totals,
    mut failed: Vec<Ran>,
    clock: &Clock,
    progress: &Progress,
) -> Result<(), Error> {
    totals.elapsed = clock.elapsed();
    totals.cpu = CpuTime::now().since(clock.cpu);
    progress.finish();
    totals.seeds.sort_unstable();
    failed.sort_by_key(|r| r.report.seed);
    if !args.keep_going {
        // Only the lowest failing seed is reported (the others depend on
        // timing); their kept run directories go too.
        for dropped in failed.drain(1.min(failed.len())..) {
            if let Some(kept) = dropped.report.kept_files {
                let _ = std::fs::remove_dir_all(kept.root);
            }
        }
    }
    for ran in failed {
        totals.failures.push(record_failure(args, ran)?);
    }
    Ok(())
}

/// One seed, watched: its slot says where it runs and which step it is on.
fn run_one(args: &SweepArgs, seed: u64, slot: &Slot) -> Ran {
    let started = Instant::now();
    let spec = args.spec(seed);
    let mut watch = |sim: &Simulator| {
        slot.mark().saw(sim);
        true
    };
    let (report, diverged) = if args.check_determinism {
        run_seed_twice_watched(&spec, &mut watch)
    } else {
        (run_seed_watched(&spec, &mut watch), None)
    };
    Ran {
        report,
        diverged,
        took: started.elapsed(),
    }
}

fn record_failure(args: &SweepArgs, ran: Ran) -> Result<Failed, Error> {
    let Ran {
        report, diverged, ..
    } = ran;
    // The timeline's run of the seed writes the transcript's text; a run
    // that wrote only a digest (twice, for determinism) keeps its own.
    let (timeline, again) = record_seed(&args.spec(report.seed));
    let transcript_digest = report
        .transcript
        .digest()
        .or_else(|| again.transcript.digest());
    // A run that is not deterministic is reported as that, whatever else
    // it did: its other failures cannot be trusted to replay.
    let (error, oracle, step, panic) = match (&diverged, &report.failure) {
        (Some(diverged), _) => (diverged.to_string(), Some("determinism"), None, None),
        (None, Some(failure)) => {
            let (oracle, step, panic) = match failure {
                RunError::Oracle(f) => (
                    Some(f.oracle.name()),
                    Some(f.step),
                    f.panic.as_deref().cloned(),
                ),
                RunError::InvalidAction { step, .. } | RunError::Io { step, .. } => {
                    (None, Some(*step), None)
                }
            };
            (failure.to_string(), oracle, step, panic)
        }
        (None, None) => unreachable!("only failed runs are recorded"),
    };
    let dir = args.keep_failures.clone().unwrap_or_else(default_repro_dir);
    let repro = write_seed_repro(&dir, args, &report, &error)?;
    let files = keep_files_of(&dir, &report)?;
    let timeline_report = write_report_beside(&repro, &timeline)?;
    Ok(Failed {
        seed: report.seed,
        transcript_digest,
        error,
        oracle,
        step,
        panic,
        replay: args.replay_command(report.seed),
        repro: Some(repro),
        report: Some(timeline_report),
        files,
    })
}

/// A failed seed's timeline report beside its repro (`seed-N.html` for
/// `seed-N.ron`); the timeline is the seed run again as the sweep ran it.
fn write_report_beside(repro: &Path, timeline: &Timeline) -> Result<PathBuf, Error> {
    let path = repro.with_extension("html");
    write_file(&path, &render_html(timeline))?;
    Ok(path)
}

/// The repro of a failed seed, `seed-N.ron` in `dir`.
fn write_seed_repro(
    dir: &Path,
    args: &SweepArgs,
    report: &SeedReport,
    error: &str,
) -> Result<PathBuf, Error> {
    let selftest = args.run.selftest.map(|s| s.selftest());
    write_repro(
        dir,
        &format!("seed-{}", report.seed),
        args.run.steps,
        selftest,
        report,
        error,
    )
}

/// The run's kept directory, moved beside the repros.
fn keep_files_of(dir: &Path, report: &SeedReport) -> Result<Option<PathBuf>, Error> {
    let Some(kept) = &report.kept_files else {
        return Ok(None);
    };
    keep_files(kept, &dir.join(format!("seed-{}.files", report.seed))).map(Some)
}

/// Moves a failed run's files (often on /dev/shm) under `to`, and removes
/// the rest of its directory.
fn keep_files(kept: &KeptRun, to: &Path) -> Result<PathBuf, Error> {
    let from = &kept.engine;
    let write = |source| Error::Write {
        path: to.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(to).map_err(write)?;
    let entries = std::fs::read_dir(from).map_err(|source| Error::Read {
        path: from.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(write)?;
        std::fs::copy(entry.path(), to.join(entry.file_name())).map_err(write)?;
    }
    let _ = std::fs::remove_dir_all(&kept.root);
    Ok(to.to_path_buf())
}
