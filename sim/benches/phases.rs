//! Where a step's time goes: the default sweep's seeds run one after
//! another with the phase clock on (`--features phase-clock`); each
//! phase's nanoseconds are printed as JSON, and written to the path after
//! `--out` for `cargo xtask bench sim`, which lays them out.

mod common;

use allocdb_sim::phase_clock::{self, Phase};
use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::transcript::TranscriptMode;
use std::time::Instant;

const SEEDS: u64 = 200;
const STEPS: u64 = 1000;

fn main() {
    let out = common::flag_value("--out");
    let mut totals = [0u64; Phase::ALL.len()];
    let mut steps = 0u64;
    phase_clock::take();
    let started = Instant::now();
    for seed in 0..SEEDS {
        // As a sweep runs it: no transcript for a seed that passes.
        let report = run_seed(&SeedSpec {
            transcript: TranscriptMode::Off,
            ..SeedSpec::new(seed, STEPS)
        });
        assert!(report.failure.is_none(), "seed {seed} failed");
        steps += report.actions.len() as u64;
        for (total, phase) in totals.iter_mut().zip(phase_clock::take()) {
            *total += phase;
        }
    }
    let wall = started.elapsed().as_nanos() as u64;
    let measured: u64 = totals.iter().sum();
    let mut json =
        format!("{{\"seeds\": {SEEDS}, \"steps\": {steps}, \"wall_ns\": {wall}, \"phases\": {{");
    for (phase, total) in Phase::ALL.iter().zip(totals) {
        json.push_str(&format!("\"{}\": {total}, ", phase.name()));
    }
    json.push_str(&format!(
        "\"other\": {}}}}}\n",
        wall.saturating_sub(measured)
    ));
    // The layout is `cargo xtask bench sim`'s (xtask/src/sim_phases.rs).
    print!("{json}");
    if let Some(out) = out {
        if let Err(error) = std::fs::write(&out, json) {
            eprintln!("error: writing {out}: {error}");
            std::process::exit(1);
        }
    }
}
