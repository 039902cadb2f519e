//! `cargo xtask sweep`: many seeds across cores, a summary of what was
//! exercised and how fast, and for each failure the seed, the oracle, the
//! exact replay command and a RON repro.
//!
//! Seeds are claimed in increasing order; on the first failure workers
//! finish the seed they hold and stop. Every seed below the highest one
//! claimed has then run, so the lowest failing seed reported is the same
//! whatever the timing.

use crate::args::{RunArgs, SeedRange, Shard};
use crate::error::Error;
use crate::repro_file::{default_repro_dir, shown, write_repro};
use allocdb_sim::coverage::{probes, unreached, Probe, NOT_YET};
use allocdb_sim::determinism::{run_seed_twice, Divergence};
use allocdb_sim::driver::{AuditCadence, RunError};
use allocdb_sim::run::{run_seed, SeedReport};
use allocdb_sim::stats::RunStats;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone)]
pub struct SweepArgs {
    pub seeds: SeedRange,
    pub run: RunArgs,
    /// The periodic full audit's cadence.
    pub audit: AuditCadence,
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub keep_failures: Option<PathBuf>,
    pub keep_going: bool,
    pub format: Format,
    /// Run each seed twice; transcripts that differ fail the seed.
    pub check_determinism: bool,
    /// A required coverage probe left at 0 fails the sweep.
    pub require_coverage: bool,
}

/// A failed seed, as reported.
struct Failed {
    seed: u64,
    /// Of the (first) run's transcript.
    transcript_digest: u64,
    error: String,
    oracle: Option<&'static str>,
    step: Option<u64>,
    replay: String,
    repro: Option<PathBuf>,
    files: Option<PathBuf>,
}

struct Totals {
    seeds: Vec<u64>,
    steps: u64,
    stats: RunStats,
    failures: Vec<Failed>,
    elapsed: Duration,
}

/// Plain progress lines (not a terminal) every this many seeds at least.
const PLAIN_PROGRESS_EVERY: usize = 500;

/// Runs the sweep; `Ok(false)` when a seed failed.
pub fn run(args: &SweepArgs) -> Result<bool, Error> {
    let seeds: Vec<u64> = (args.seeds.start..args.seeds.end)
        .filter(|&seed| args.shard.is_none_or(|s| s.holds(args.seeds, seed)))
        .collect();
    let jobs = args.jobs.clamp(1, seeds.len().max(1));
    let shard = args.shard.map_or(String::new(), |s| {
        format!(", shard {}/{}", s.index, s.count)
    });
    let twice = if args.check_determinism {
        ", each run twice"
    } else {
        ""
    };
    eprintln!(
        "sweep: {} seeds of {}{shard}, {} steps each, faults {}, {jobs} jobs{twice}",
        seeds.len(),
        args.seeds,
        args.run.steps,
        args.run.faults
    );
    for idle in args.run.faults.idle_kinds() {
        eprintln!("sweep: warning: --faults {}: {idle}", args.run.faults);
    }
    let args = &SweepArgs {
        jobs,
        ..args.clone()
    };
    let totals = sweep(args, &seeds, jobs)?;
    let probes = probes(&totals.stats);
    match args.format {
        Format::Human => print_human(args, &totals, &probes),
        Format::Json => print_json(args, &totals, &probes),
    }
    let covered = !args.require_coverage || unreached(&probes).is_empty();
    Ok(totals.failures.is_empty() && covered)
}

fn sweep(args: &SweepArgs, seeds: &[u64], jobs: usize) -> Result<Totals, Error> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<Ran>();
    let progress = Progress::new(seeds.len(), args.format);
    let started = Instant::now();
    let mut totals = Totals {
        seeds: Vec::with_capacity(seeds.len()),
        steps: 0,
        stats: RunStats::default(),
        failures: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let mut failed_reports = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&seed) = seeds.get(index) else { break };
                    let mut spec = args.run.spec(seed);
                    spec.keep_files = args.keep_failures.is_some();
                    spec.audit = args.audit;
                    let ran = if args.check_determinism {
                        let (report, diverged) = run_seed_twice(&spec);
                        Ran { report, diverged }
                    } else {
                        Ran {
                            report: run_seed(&spec),
                            diverged: None,
                        }
                    };
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
        for ran in receiver {
            let report = &ran.report;
            totals.seeds.push(report.seed);
            totals.steps += report.actions.len() as u64;
            totals.stats.merge(&report.stats);
            progress.seed_done(ran.failed());
            if ran.failed() {
                failed_reports.push(ran);
            }
        }
    });
    totals.elapsed = started.elapsed();
    progress.finish();
    totals.seeds.sort_unstable();
    failed_reports.sort_by_key(|r| r.report.seed);
    if !args.keep_going {
        // Only the lowest failing seed is reported (the others depend on
        // timing); their kept run directories go too.
        for dropped in failed_reports.drain(1.min(failed_reports.len())..) {
            if let Some(dir) = dropped.report.kept_files {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
    for ran in failed_reports {
        totals.failures.push(record_failure(args, ran)?);
    }
    Ok(totals)
}

/// One seed's run (the first, when it ran twice) and how a second run
/// of it differed.
struct Ran {
    report: SeedReport,
    diverged: Option<Divergence>,
}

impl Ran {
    fn failed(&self) -> bool {
        self.report.failure.is_some() || self.diverged.is_some()
    }
}

fn record_failure(args: &SweepArgs, ran: Ran) -> Result<Failed, Error> {
    let Ran { report, diverged } = ran;
    let transcript_digest = report.transcript.digest();
    // A run that is not deterministic is reported as that, whatever else
    // it did: its other failures cannot be trusted to replay.
    let (error, oracle, step) = match (&diverged, &report.failure) {
        (Some(diverged), _) => (diverged.to_string(), Some("determinism"), None),
        (None, Some(failure)) => {
            let (oracle, step) = match failure {
                RunError::Oracle(f) => (Some(f.oracle.name()), Some(f.step)),
                RunError::InvalidAction { step, .. } | RunError::Io { step, .. } => {
                    (None, Some(*step))
                }
            };
            (failure.to_string(), oracle, step)
        }
        (None, None) => unreachable!("only failed runs are recorded"),
    };
    let dir = args.keep_failures.clone().unwrap_or_else(default_repro_dir);
    let selftest = args.run.selftest.map(|s| s.selftest());
    let repro = write_repro(
        &dir,
        &format!("seed-{}", report.seed),
        args.run.steps,
        selftest,
        &report,
        &error,
    )?;
    let files = match report.kept_files {
        Some(kept) => Some(keep_files(
            &kept,
            &dir.join(format!("seed-{}.files", report.seed)),
        )?),
        None => None,
    };
    Ok(Failed {
        seed: report.seed,
        transcript_digest,
        error,
        oracle,
        step,
        replay: format!(
            "cargo xtask replay --seed {} {}",
            report.seed,
            args.run.flags()
        ),
        repro: Some(repro),
        files,
    })
}

/// Moves a failed run's directory (often on /dev/shm) under `to`.
fn keep_files(from: &Path, to: &Path) -> Result<PathBuf, Error> {
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
    let _ = std::fs::remove_dir_all(from);
    Ok(to.to_path_buf())
}

/// A progress bar on a terminal, plain lines on stderr otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
    failed: AtomicUsize,
}

impl Progress {
    fn new(total: usize, format: Format) -> Progress {
        let bar = (format == Format::Human && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} seeds  {per_sec}  eta {eta}  {msg}",
                )
                .expect("the template is valid"),
            );
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    fn seed_done(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failed = self
            .failed
            .fetch_add(usize::from(failed), Ordering::Relaxed)
            + usize::from(failed);
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                if failed > 0 {
                    bar.set_message(format!("{failed} failed"));
                }
            }
            None => {
                let every = (self.total / 10).clamp(1, PLAIN_PROGRESS_EVERY);
                if done % every == 0 {
                    eprintln!("sweep: {done}/{} seeds, {failed} failed", self.total);
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn rates(totals: &Totals) -> (f64, f64) {
    let seconds = totals.elapsed.as_secs_f64().max(1e-9);
    (
        totals.seeds.len() as f64 / seconds,
        totals.steps as f64 / seconds,
    )
}

fn print_human(args: &SweepArgs, totals: &Totals, probes: &[Probe]) {
    let (seeds_per_second, steps_per_second) = rates(totals);
    let verdict = if totals.failures.is_empty() {
        "passed"
    } else {
        "FAILED"
    };
    outln!(
        "sweep {verdict}: {} seeds, {} steps in {:.1} s ({seeds_per_second:.1} seeds/s, {steps_per_second:.0} steps/s, {} jobs)",
        totals.seeds.len(),
        totals.steps,
        totals.elapsed.as_secs_f64(),
        args.jobs
    );
    outln!("exercised:");
    for line in totals.stats.report() {
        outln!("  {line}");
    }
    print_coverage(args, probes);
    for failure in &totals.failures {
        outln!();
        outln!("FAILED seed {}: {}", failure.seed, failure.error);
        if let Some(oracle) = failure.oracle {
            outln!("  oracle: {oracle}");
        }
        outln!("  replay: {}", failure.replay);
        if let Some(repro) = &failure.repro {
            outln!("  repro:  {}", shown(repro));
            outln!(
                "  shrink: cargo xtask shrink {} --into corpus/seed-{}.ron",
                shown(repro),
                failure.seed
            );
        }
        if let Some(files) = &failure.files {
            outln!("  files:  {}", shown(files));
        }
    }
    if !totals.failures.is_empty() && !args.keep_going {
        outln!("(stopped at the first failure; --keep-going runs every seed)");
    }
}

/// The probes' verdict: how many of the required ones were reached, which
/// were not, and those not required yet.
fn print_coverage(args: &SweepArgs, probes: &[Probe]) {
    let missed = unreached(probes);
    let required = probes.iter().filter(|p| p.required()).count();
    outln!(
        "coverage: {} of {required} required probes reached{}",
        required - missed.len(),
        if args.require_coverage {
            " (--require-coverage)"
        } else {
            ""
        }
    );
    for probe in &missed {
        outln!("  UNREACHED {}", probe.name);
    }
    for (name, why) in NOT_YET {
        let count = probes
            .iter()
            .find(|p| p.name == *name)
            .map_or(0, |p| p.count);
        outln!("  not required yet: {name} {count} ({why})");
    }
    if args.require_coverage && !missed.is_empty() {
        outln!(
            "coverage gate FAILED: {} required probes never reached",
            missed.len()
        );
    }
}

fn print_json(args: &SweepArgs, totals: &Totals, probes: &[Probe]) {
    let (seeds_per_second, steps_per_second) = rates(totals);
    let mut counts = serde_json::Map::new();
    for line in totals.stats.report() {
        if let Some((name, count)) = line.rsplit_once(' ') {
            let count: u64 = count.parse().unwrap_or(0);
            counts.insert(name.to_string(), count.into());
        }
    }
    let failures: Vec<serde_json::Value> = totals
        .failures
        .iter()
        .map(|f| {
            serde_json::json!({
                "seed": f.seed,
                "transcript_digest": format!("{:016x}", f.transcript_digest),
                "error": f.error,
                "oracle": f.oracle,
                "step": f.step,
                "replay": f.replay,
                "repro": f.repro.as_deref().map(shown),
                "files": f.files.as_deref().map(shown),
            })
        })
        .collect();
    let summary = serde_json::json!({
        "passed": totals.failures.is_empty(),
        "seed_range": args.seeds.to_string(),
        "shard": args.shard.map(|s| format!("{}/{}", s.index, s.count)),
        "steps_per_seed": args.run.steps,
        "faults": args.run.faults.to_string(),
        "jobs": args.jobs,
        "check_determinism": args.check_determinism,
        "seeds_run": totals.seeds,
        "steps": totals.steps,
        "elapsed_seconds": totals.elapsed.as_secs_f64(),
        "seeds_per_second": seeds_per_second,
        "steps_per_second": steps_per_second,
        "counts": counts,
        "coverage": probes
            .iter()
            .map(|p| (p.name.clone(), serde_json::Value::from(p.count)))
            .collect::<serde_json::Map<_, _>>(),
        "unreached": unreached(probes).iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        "require_coverage": args.require_coverage,
        "failures": failures,
    });
    outln!(
        "{}",
        serde_json::to_string_pretty(&summary).expect("json values serialise")
    );
}
