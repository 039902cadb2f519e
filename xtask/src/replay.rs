//! `cargo xtask replay`: one seed or one scenario file, its transcript on
//! stdout, byte for byte the same every time; the exit status says whether
//! it passed.

use crate::args::{Source, SourceArgs};
use crate::error::Error;
use crate::report_files::ReportPaths;
use crate::watchdog::{default_seed_timeout, run_up_to, run_watched, StepMark};
use allocdb_sim::driver::{AuditCadence, RunError, Simulator};
use allocdb_sim::oracle::Oracle;
use allocdb_sim::run::{run_seed_watched, SeedSpec};
use allocdb_sim::scenario::{load, run_scenario_watched, Scenario};
use allocdb_sim::timeline::{step_detail, FailureMark, Recorder, Timeline};
use allocdb_sim::transcript::TranscriptMode;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub struct ReplayArgs {
    pub source: SourceArgs,
    pub until: Option<u64>,
    /// For a seed: the periodic full audit's cadence.
    pub audit: AuditCadence,
    pub verbose: bool,
    /// The watchdog's budget (default: by the run's length).
    pub seed_timeout: Option<Duration>,
    /// Where the run's timeline goes (the HTML report, the trace).
    pub report: ReportPaths,
}

/// Prints what the run adds to its transcript as it goes (with engine
/// detail under each step when verbose), so a long replay streams.
struct Printer {
    printed: usize,
    verbose: bool,
}

impl Printer {
    fn flush(&mut self, transcript: &str) {
        out!("{}", &transcript[self.printed..]);
        self.printed = transcript.len();
    }

    fn step(&mut self, sim: &Simulator) {
        self.flush(sim.transcript().text().unwrap_or_default());
        if !self.verbose {
            return;
        }
        for line in step_detail(sim) {
            outln!("      | {line}");
        }
    }
}

/// What a replay runs.
enum Replayed {
    File(Scenario),
    Seed(SeedSpec),
}

/// `Ok(false)` when the run failed (a step that never returns is named,
/// and fails it).
pub fn run(args: ReplayArgs) -> Result<bool, Error> {
    let replayed = match args.source.source() {
        Source::File(path) => Replayed::File(load(path)?),
        Source::Seed(seed) => Replayed::Seed(SeedSpec {
            audit: args.audit,
            transcript: TranscriptMode::Text,
            ..args.source.run.spec(seed)
        }),
    };
    let steps = match &replayed {
        Replayed::File(scenario) => scenario.actions().len() as u64,
        Replayed::Seed(spec) => spec.steps,
    };
    let budget = args
        .seed_timeout
        .unwrap_or_else(|| default_seed_timeout(steps));
    let (until, verbose) = (args.until, args.verbose);
    let recorder = args
        .report
        .wanted()
        .then(|| Arc::new(Mutex::new(Recorder::new())));
    let watching = recorder.clone();
    let title = match args.source.source() {
        Source::File(path) => file_title(path),
        Source::Seed(seed) => format!("seed {seed}"),
    };
    let titled = title.clone();
    let hung = match run_watched(budget, move |mark| {
        replay(&replayed, until, verbose, mark, watching, &titled)
    }) {
        Ok((passed, timeline)) => {
            if let Some(timeline) = timeline {
                args.report.write(&timeline)?;
            }
            return Ok(passed);
        }
        Err(hung) => hung,
    };
    // The stuck step's action: the file's, or the seed's run again up to it.
    let action = match args.source.source() {
        Source::File(path) => load(path)?.actions().get(hung.step as usize - 1).cloned(),
        Source::Seed(seed) => {
            let spec = args.source.run.spec(seed);
            run_up_to(&spec, hung)
                .actions
                .get(hung.step as usize - 1)
                .cloned()
        }
    };
    let detail = hung.detail(action.as_ref());
    eprintln!(
        "replay FAILED: oracle `{}` failed at step {}: {detail}",
        Oracle::Hang.name(),
        hung.step,
    );
    // The steps that returned, and the one that did not, as the failure.
    if let Some(recorder) = recorder {
        let actions = match args.source.source() {
            Source::File(path) => load(path)?.actions(),
            Source::Seed(seed) => run_up_to(&args.source.run.spec(seed), hung).actions,
        };
        let failure = FailureMark {
            step: Some(hung.step),
            oracle: Oracle::Hang.name().to_string(),
            message: detail,
        };
        args.report
            .write(&taken(&recorder).finish(&title, &actions, "", Some(failure)))?;
    }
    Ok(false)
}

/// The recorder, shared between the watched run and the thread that
/// reports a hang. A panic while it was held (the run's own) leaves it
/// whole: it only appends whole steps.
fn locked(recorder: &Mutex<Recorder>) -> MutexGuard<'_, Recorder> {
    recorder.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the recorder holds, for the timeline to be finished from.
fn taken(recorder: &Mutex<Recorder>) -> Recorder {
    std::mem::take(&mut *locked(recorder))
}

/// A scenario file's report title: its name, never the path it was
/// given by (no absolute path in a report).
fn file_title(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

fn backtrace(error: &RunError) -> Option<String> {
    error.panicked().and_then(|p| p.backtrace.clone())
}

/// The replay itself, publishing each step that returns in `mark`, and
/// with a recorder, the run's timeline.
fn replay(
    replayed: &Replayed,
    until: Option<u64>,
    verbose: bool,
    mark: &StepMark,
    recorder: Option<Arc<Mutex<Recorder>>>,
    title: &str,
) -> (bool, Option<Timeline>) {
    let mut printer = Printer {
        printed: 0,
        verbose,
    };
    let until = until.unwrap_or(u64::MAX);
    let mut watch = |sim: &Simulator| {
        mark.saw(sim);
        printer.step(sim);
        if let Some(recorder) = &recorder {
            locked(recorder).watch(sim);
        }
        sim.steps() < until
    };
    // The failure's line, a panic's backtrace when one was taken, and
    // what the timeline needs to finish.
    let (failure, actions, transcript, mark) = match replayed {
        Replayed::File(scenario) => {
            let run = run_scenario_watched(scenario, &mut watch);
            printer.flush(&run.transcript);
            let mark = run.result.as_ref().err().map(FailureMark::of_scenario);
            let failure = run.result.err().map(|f| {
                let backtrace = f.run_error().and_then(backtrace);
                (f.to_string(), backtrace)
            });
            (failure, scenario.actions(), run.transcript, mark)
        }
        Replayed::Seed(spec) => {
            let report = run_seed_watched(spec, &mut watch);
            let transcript = report.transcript.text().unwrap_or_default().to_string();
            printer.flush(&transcript);
            let mark = report.failure.as_ref().map(FailureMark::of_run);
            let failure = report.failure.map(|f| (f.to_string(), backtrace(&f)));
            (failure, report.actions, transcript, mark)
        }
    };
    let timeline =
        recorder.map(|recorder| taken(&recorder).finish(title, &actions, &transcript, mark));
    let passed = match failure {
        Some((failure, backtrace)) => {
            eprintln!("replay FAILED: {failure}");
            if let Some(backtrace) = backtrace {
                eprintln!("backtrace of the panic:\n{backtrace}");
            }
            false
        }
        None => {
            match until {
                u64::MAX => eprintln!("replay passed"),
                until => eprintln!("replay passed (up to step {until})"),
            }
            true
        }
    };
    (passed, timeline)
}
