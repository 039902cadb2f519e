//! `cargo xtask replay`: one seed or one scenario file, its transcript on
//! stdout, byte for byte the same every time; the exit status says whether
//! it passed.

use crate::args::{Source, SourceArgs};
use crate::error::Error;
use crate::watchdog::{default_seed_timeout, run_up_to, run_watched, StepMark};
use allocdb_sim::driver::{AuditCadence, RunError, Simulator};
use allocdb_sim::oracle::Oracle;
use allocdb_sim::run::{run_seed_watched, SeedSpec};
use allocdb_sim::scenario::{load, run_scenario_watched, Scenario};
use allocdb_sim::transcript::{describe_io_failure, TranscriptMode};
use std::time::Duration;

pub struct ReplayArgs {
    pub source: SourceArgs,
    pub until: Option<u64>,
    /// For a seed: the periodic full audit's cadence.
    pub audit: AuditCadence,
    pub verbose: bool,
    /// The watchdog's budget (default: by the run's length).
    pub seed_timeout: Option<Duration>,
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
        let event = sim.event();
        for (operation, answer) in &event.answers {
            outln!("      | op{operation} answered {answer:?}");
        }
        if let Some(point) = event.crashed_at {
            outln!("      | crash point fired: {}", point.name());
        }
        if let Some(failure) = event.io_failed {
            outln!("      | I/O error fired: {}", describe_io_failure(failure));
        }
        if let Some(report) = event.recovery {
            outln!("      | recovery: {report:?}");
        }
        if let Some(damage) = event.damage {
            outln!("      | damage: {damage:?}");
        }
        let armed = sim.armed();
        if armed.crash.is_some() || !armed.io.is_empty() || armed.recovery.is_some() {
            let io: Vec<_> = armed.io.iter().map(|a| a.fault).collect();
            outln!(
                "      | armed: crash {:?}, I/O errors {io:?}, recovery {:?}",
                armed.crash,
                armed.recovery
            );
        }
        if let Some(engine) = sim.live_engine() {
            outln!(
                "      | engine: wal {} bytes ({} synced), last applied {:?}",
                engine.wal_len(),
                engine.durable_wal_len(),
                engine.state_machine().last_applied_lsn()
            );
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
    let hung = match run_watched(budget, move |mark| replay(&replayed, until, verbose, mark)) {
        Ok(passed) => return Ok(passed),
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
    eprintln!(
        "replay FAILED: oracle `{}` failed at step {}: {}",
        Oracle::Hang.name(),
        hung.step,
        hung.detail(action.as_ref())
    );
    Ok(false)
}

fn backtrace(error: &RunError) -> Option<String> {
    error.panicked().and_then(|p| p.backtrace.clone())
}

/// The replay itself, publishing each step that returns in `mark`.
fn replay(replayed: &Replayed, until: Option<u64>, verbose: bool, mark: &StepMark) -> bool {
    let mut printer = Printer {
        printed: 0,
        verbose,
    };
    let until = until.unwrap_or(u64::MAX);
    let mut watch = |sim: &Simulator| {
        mark.saw(sim);
        printer.step(sim);
        sim.steps() < until
    };
    // The failure's line, and a panic's backtrace when one was taken.
    let failure = match replayed {
        Replayed::File(scenario) => {
            let run = run_scenario_watched(scenario, &mut watch);
            printer.flush(&run.transcript);
            run.result.err().map(|f| {
                let backtrace = f.run_error().and_then(backtrace);
                (f.to_string(), backtrace)
            })
        }
        Replayed::Seed(spec) => {
            let report = run_seed_watched(spec, &mut watch);
            printer.flush(report.transcript.text().unwrap_or_default());
            report.failure.map(|f| (f.to_string(), backtrace(&f)))
        }
    };
    match failure {
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
    }
}
