//! Simulator throughput on the default sweep: one seed of 1,000 steps per
//! iteration (real engine, real files on /dev/shm, every oracle every step).

use allocdb_sim::run::{run_seed, SeedSpec};
use allocdb_sim::transcript::TranscriptMode;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const STEPS: u64 = 1000;

fn sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(STEPS));
    let mut seed = 0u64;
    group.bench_function("seed_1000_steps", |b| {
        b.iter(|| {
            seed += 1;
            // As a sweep runs it: no transcript for a seed that passes.
            let report = run_seed(&SeedSpec {
                transcript: TranscriptMode::Off,
                ..SeedSpec::new(seed, STEPS)
            });
            assert!(report.failure.is_none(), "seed {seed} failed");
            black_box(report.actions.len())
        })
    });
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
