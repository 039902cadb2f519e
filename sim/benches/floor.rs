//! The floor of a step: fault-free seeds of the default sweep run by the
//! simulator (every oracle, as a sweep runs them), and the same seeds'
//! engine calls made again on an engine alone (`run::engine_alone`), no
//! model, oracle, book or transcript. Both on real files in a run
//! directory on /dev/shm, each seed's two runs back to back so that the
//! machine's drift touches both alike.
//!
//! Then the same for the default mix, every fault kind on. Its calls are
//! made again with the faults left out (no crash state written, no flip,
//! no I/O error), so that line is an estimate: an open the run saw fail
//! closed recovers in full here, and an engine the run saw halt goes on.
//!
//! `cargo bench -p allocdb-sim --bench floor [-- --seeds N]`

mod common;

use allocdb_sim::run::engine_alone::replay;
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::transcript::TranscriptMode;
use allocdb_sim::workload::mix::FaultSelection;
use std::time::{Duration, Instant};

const SEEDS: u64 = 200;
const STEPS: u64 = 1000;

fn main() {
    let seeds = common::flag_value("--seeds").map_or(SEEDS, |n| {
        n.parse()
            .unwrap_or_else(|_| common::fail(&format!("--seeds takes a count, not {n:?}")))
    });
    for (faults, title) in [
        (FaultSelection::None, "fault-free (exact)"),
        (
            FaultSelection::All,
            "default mix (its faults left out of the replay)",
        ),
    ] {
        let floor = measure(seeds, &faults);
        floor.print(title);
    }
}

struct Floor {
    seeds: u64,
    steps: u64,
    calls: u64,
    simulated: Duration,
    alone: Duration,
}

fn measure(seeds: u64, faults: &FaultSelection) -> Floor {
    let mut floor = Floor {
        seeds,
        steps: 0,
        calls: 0,
        simulated: Duration::ZERO,
        alone: Duration::ZERO,
    };
    for seed in 0..seeds {
        let spec = SeedSpec {
            faults: faults.clone(),
            transcript: TranscriptMode::Off,
            ..SeedSpec::new(seed, STEPS)
        };
        let recorded = run_seed(&SeedSpec {
            engine_calls: true,
            ..spec.clone()
        });
        assert!(recorded.failure.is_none(), "seed {seed} failed");

        let started = Instant::now();
        let report = run_seed(&spec);
        floor.simulated += started.elapsed();
        assert!(report.failure.is_none(), "seed {seed} failed");
        floor.steps += report.actions.len() as u64;

        let started = Instant::now();
        replay(recorded.config, &recorded.engine_calls)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        floor.alone += started.elapsed();
        floor.calls += recorded.engine_calls.len() as u64;
    }
    floor
}

impl Floor {
    fn print(&self, title: &str) {
        let micros = |took: Duration| took.as_secs_f64() * 1e6 / self.steps as f64;
        let rate = |took: Duration| self.steps as f64 / took.as_secs_f64();
        println!(
            "{title}: {} seeds, {} steps, {} engine calls",
            self.seeds, self.steps, self.calls
        );
        println!(
            "  simulator, every oracle: {:.2} us a step ({:.0} steps/s)",
            micros(self.simulated),
            rate(self.simulated)
        );
        println!(
            "  engine alone, its calls: {:.2} us a step ({:.0} steps/s), {:.0}% of the run",
            micros(self.alone),
            rate(self.alone),
            100.0 * self.alone.as_secs_f64() / self.simulated.as_secs_f64()
        );
    }
}
