//! What a sweep shows: progress while it runs (a bar on a terminal, plain
//! lines otherwise), then the summary (human or JSON): speed and CPU
//! split, every exercised count, the coverage gate, and each failure with
//! its replay command and repro.

use super::{Format, SweepArgs, Totals};
use crate::error::Error;
use crate::report_files::write_file;
use crate::repro_file::shown;
use allocdb_sim::coverage::{probes, unreached, Probe};
use allocdb_sim::timeline::{render_sweep_page, SweepFailure, SweepPage};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Plain progress lines (not a terminal) every this many seeds at least.
const PLAIN_PROGRESS_EVERY: usize = 500;

/// A progress bar on a terminal, plain lines on stderr otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Seeds to run, when the range has an end and no time budget cuts it.
    total: Option<usize>,
    done: AtomicUsize,
    failed: AtomicUsize,
}

impl Progress {
    pub fn new(seeds: Option<u64>, run_for: Option<Duration>, format: Format) -> Progress {
        let total = seeds
            .filter(|_| run_for.is_none())
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let bar = (format == Format::Human && std::io::stderr().is_terminal()).then(|| {
            let (bar, template) = match total {
                Some(total) => (
                    ProgressBar::new(total as u64),
                    "{bar:40} {pos}/{len} seeds  {per_sec}  eta {eta}  {msg}",
                ),
                None => (
                    ProgressBar::no_length(),
                    "{spinner} {pos} seeds  {per_sec}  {elapsed} of the time budget  {msg}",
                ),
            };
            bar.set_style(ProgressStyle::with_template(template).expect("the template is valid"));
            bar
        });
        Progress {
            bar,
            total,
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    pub fn seed_done(&self, failed: bool) {
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
                let every = self.total.map_or(PLAIN_PROGRESS_EVERY, |total| {
                    (total / 10).clamp(1, PLAIN_PROGRESS_EVERY)
                });
                if done % every == 0 {
                    match self.total {
                        Some(total) => eprintln!("sweep: {done}/{total} seeds, {failed} failed"),
                        None => eprintln!("sweep: {done} seeds, {failed} failed"),
                    }
                }
            }
        }
    }

    pub fn finish(&self) {
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

/// CPU time per step in microseconds: (user, system).
fn cpu_per_step(totals: &Totals) -> (f64, f64) {
    let steps = totals.steps.max(1) as f64;
    (
        totals.cpu.user.as_secs_f64() * 1e6 / steps,
        totals.cpu.system.as_secs_f64() * 1e6 / steps,
    )
}

pub fn print(args: &SweepArgs, totals: &Totals) {
    let probes = probes(&totals.stats);
    match args.format {
        Format::Human => print_human(args, totals, &probes),
        Format::Json => print_json(args, totals, &probes),
    }
}

/// The summary's first lines: the verdict and speed, the CPU split, the
/// seeds run, the slowest seed.
fn summary_lines(args: &SweepArgs, totals: &Totals) -> Vec<String> {
    let (seeds_per_second, steps_per_second) = rates(totals);
    let verdict = if totals.failures.is_empty() {
        "passed"
    } else {
        "FAILED"
    };
    let mut lines = vec![format!(
        "sweep {verdict}: {} seeds, {} steps in {:.1} s ({seeds_per_second:.1} seeds/s, {steps_per_second:.0} steps/s, {} jobs)",
        totals.seeds.len(),
        totals.steps,
        totals.elapsed.as_secs_f64(),
        args.jobs
    )];
    if totals.steps > 0 {
        let (user, system) = cpu_per_step(totals);
        lines.push(format!(
            "cpu: {user:.2} us user + {system:.2} us system per step ({:.0}% in the kernel)",
            100.0 * system / (user + system).max(1e-9)
        ));
    }
    if let (Some(first), Some(last)) = (totals.seeds.first(), totals.seeds.last()) {
        if args.run_for.is_some() || args.plan.drawn {
            lines.push(format!("seeds run: {first} to {last}"));
        }
    }
    if let Some((seed, took)) = totals.slowest {
        lines.push(format!(
            "slowest seed: {seed} in {:.2} s (seed timeout {} s)",
            took.as_secs_f64(),
            args.seed_timeout.as_secs()
        ));
    }
    lines
}

/// The summary as an HTML page, where `--html` asked for it; each
/// failure links to its report by a path relative to the page.
pub fn write_page(args: &SweepArgs, totals: &Totals) -> Result<(), Error> {
    let Some(path) = &args.html else {
        return Ok(());
    };
    let probes = probes(&totals.stats);
    let page_dir = path.parent().unwrap_or(Path::new(""));
    // The page's directory must exist for links to be made relative to it.
    std::fs::create_dir_all(if page_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        page_dir
    })
    .map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    let failures = totals
        .failures
        .iter()
        .map(|f| SweepFailure {
            seed: f.seed,
            oracle: f.oracle.map(str::to_string),
            message: f.error.clone(),
            replay: f.replay.clone(),
            report: f.report.as_deref().map(|r| relative_to(page_dir, r)),
            repro: f.repro.as_deref().map(shown),
        })
        .collect();
    let page = SweepPage {
        title: format!(
            "sweep: seeds {}, {} steps each, faults {}",
            args.plan, args.run.steps, args.run.faults
        ),
        lines: summary_lines(args, totals),
        exercised: totals.stats.report(),
        probes: &probes,
        failures,
    };
    write_file(path, &render_sweep_page(&page))?;
    eprintln!("summary page: {}", path.display());
    Ok(())
}

/// `target` as a link from a page in `dir`: relative when both resolve
/// (`../repros/seed-3.html`), else as given.
fn relative_to(dir: &Path, target: &Path) -> String {
    let resolve = |p: &Path| {
        std::fs::canonicalize(if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        })
    };
    let (Ok(dir), Ok(target)) = (resolve(dir), resolve(target)) else {
        return target.display().to_string();
    };
    let common = dir
        .components()
        .zip(target.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = dir.components().count() - common;
    let mut link: Vec<String> = vec!["..".to_string(); ups];
    link.extend(
        target
            .components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    link.join("/")
}

fn print_human(args: &SweepArgs, totals: &Totals, probes: &[Probe]) {
    for line in summary_lines(args, totals) {
        outln!("{line}");
    }
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
        if let Some(panic) = &failure.panic {
            outln!(
                "  panicked: {} code, at {}",
                panic.origin.name(),
                panic.location
            );
            outln!("  message: {}", panic.message);
            match &panic.backtrace {
                Some(backtrace) => outln!("  backtrace:\n{backtrace}"),
                None => outln!("  (RUST_BACKTRACE=1 before the command shows its backtrace)"),
            }
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
        if let Some(report) = &failure.report {
            outln!("  report: {}", shown(report));
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
    // Grouped by reason: one reason often covers a row of the matrix.
    let mut reasons: Vec<&str> = Vec::new();
    for why in probes.iter().filter_map(|p| p.why_not) {
        if !reasons.contains(&why) {
            reasons.push(why);
        }
    }
    for why in reasons {
        let named: Vec<String> = probes
            .iter()
            .filter(|p| p.why_not == Some(why))
            .map(|p| format!("{} {}", p.name, p.count))
            .collect();
        outln!("  not required: {} ({why})", named.join(", "));
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
    let (user, system) = cpu_per_step(totals);
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
                "transcript_digest": f.transcript_digest.map(|d| format!("{d:016x}")),
                "error": f.error,
                "oracle": f.oracle,
                "step": f.step,
                "panic": f.panic.as_ref().map(|p| serde_json::json!({
                    "origin": p.origin.name(),
                    "location": p.location,
                    "message": p.message,
                })),
                "replay": f.replay,
                "repro": f.repro.as_deref().map(shown),
                "report": f.report.as_deref().map(shown),
                "files": f.files.as_deref().map(shown),
            })
        })
        .collect();
    let summary = serde_json::json!({
        "passed": totals.failures.is_empty(),
        "seed_range": args.plan.seeds_flag(),
        "random_base_seed": args.plan.drawn.then_some(args.plan.start),
        "shard": args.plan.shard.map(|s| format!("{}/{}", s.index, s.count)),
        "run_for_seconds": args.run_for.map(|d| d.as_secs()),
        "seed_timeout_seconds": args.seed_timeout.as_secs(),
        "steps_per_seed": args.run.steps,
        "faults": args.run.faults.to_string(),
        "jobs": args.jobs,
        "check_determinism": args.check_determinism,
        "seeds_run": totals.seeds,
        "seeds_failed": totals.failures.iter().map(|f| f.seed).collect::<Vec<_>>(),
        "steps": totals.steps,
        "elapsed_seconds": totals.elapsed.as_secs_f64(),
        "seeds_per_second": seeds_per_second,
        "steps_per_second": steps_per_second,
        "cpu_user_us_per_step": (totals.steps > 0).then_some(user),
        "cpu_system_us_per_step": (totals.steps > 0).then_some(system),
        "slowest_seed": totals.slowest.map(|(seed, took)| serde_json::json!({
            "seed": seed,
            "seconds": took.as_secs_f64(),
        })),
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
