//! `cargo xtask replay`: one seed or one scenario file, its transcript on
//! stdout, byte for byte the same every time; the exit status says whether
//! it passed.

use crate::args::{Source, SourceArgs};
use crate::error::Error;
use allocdb_sim::driver::{AuditCadence, Simulator};
use allocdb_sim::run::{run_seed_watched, SeedSpec};
use allocdb_sim::scenario::{load, run_scenario_watched};
use allocdb_sim::transcript::TranscriptMode;

pub struct ReplayArgs {
    pub source: SourceArgs,
    pub until: Option<u64>,
    /// For a seed: the periodic full audit's cadence.
    pub audit: AuditCadence,
    pub verbose: bool,
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
        if let Some(failure) = event.persist_failed {
            outln!("      | persist failure fired: {failure:?}");
        }
        if let Some(report) = event.recovery {
            outln!("      | recovery: {report:?}");
        }
        if let Some(damage) = event.damage {
            outln!("      | damage: {damage:?}");
        }
        let (crash, persist, recovery) = sim.armed();
        if crash.is_some() || persist.is_some() || recovery.is_some() {
            outln!("      | armed: crash {crash:?}, persist {persist:?}, recovery {recovery:?}");
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

/// `Ok(false)` when the run failed.
pub fn run(args: &ReplayArgs) -> Result<bool, Error> {
    let mut printer = Printer {
        printed: 0,
        verbose: args.verbose,
    };
    let until = args.until.unwrap_or(u64::MAX);
    let mut watch = |sim: &Simulator| {
        printer.step(sim);
        sim.steps() < until
    };
    let failure = match args.source.source() {
        Source::File(path) => {
            let scenario = load(path)?;
            let run = run_scenario_watched(&scenario, &mut watch);
            printer.flush(&run.transcript);
            run.result.err().map(|f| f.to_string())
        }
        Source::Seed(seed) => {
            let spec = SeedSpec {
                audit: args.audit,
                transcript: TranscriptMode::Text,
                ..args.source.run.spec(seed)
            };
            let report = run_seed_watched(&spec, &mut watch);
            printer.flush(report.transcript.text().unwrap_or_default());
            report.failure.map(|f| f.to_string())
        }
    };
    match failure {
        Some(failure) => {
            eprintln!("replay FAILED: {failure}");
            Ok(false)
        }
        None => {
            match args.until {
                Some(until) => eprintln!("replay passed (up to step {until})"),
                None => eprintln!("replay passed"),
            }
            Ok(true)
        }
    }
}
