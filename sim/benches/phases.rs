//! Where a step's time goes: the default sweep's seeds run one after
//! another with the phase clock on (`--features phase-clock`), and each
//! phase's share of the wall time is printed, and written as JSON to the
//! path after `--out` for `cargo xtask bench sim`.

use allocdb_sim::phase_clock::{self, Phase};
use allocdb_sim::run::{run_seed, SeedSpec};
use std::time::Instant;

const SEEDS: u64 = 200;
const STEPS: u64 = 1000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1));
    let mut totals = [0u64; Phase::ALL.len()];
    let mut steps = 0u64;
    phase_clock::take();
    let started = Instant::now();
    for seed in 0..SEEDS {
        let report = run_seed(&SeedSpec::new(seed, STEPS));
        assert!(report.failure.is_none(), "seed {seed} failed");
        steps += report.actions.len() as u64;
        for (total, phase) in totals.iter_mut().zip(phase_clock::take()) {
            *total += phase;
        }
    }
    let wall = started.elapsed().as_nanos() as u64;
    let measured: u64 = totals.iter().sum();
    let rest = wall.saturating_sub(measured);
    let per_step = |ns: u64| ns as f64 / steps as f64 / 1000.0;
    println!(
        "sim phases: {SEEDS} seeds, {steps} steps, {:.2} us a step ({:.0} steps/s with the clock on)",
        per_step(wall),
        steps as f64 / (wall as f64 / 1e9)
    );
    let mut json =
        format!("{{\"seeds\": {SEEDS}, \"steps\": {steps}, \"wall_ns\": {wall}, \"phases\": {{");
    for (i, phase) in Phase::ALL.iter().enumerate() {
        println!(
            "  {:<10} {:>6.2} us {:>5.1}%",
            phase.name(),
            per_step(totals[i]),
            100.0 * totals[i] as f64 / wall as f64
        );
        json.push_str(&format!("\"{}\": {}, ", phase.name(), totals[i]));
    }
    println!(
        "  {:<10} {:>6.2} us {:>5.1}%",
        "other",
        per_step(rest),
        100.0 * rest as f64 / wall as f64
    );
    json.push_str(&format!("\"other\": {rest}}}}}\n"));
    if let Some(out) = out {
        std::fs::write(out, json).unwrap_or_else(|e| panic!("writing {out}: {e}"));
    }
}
