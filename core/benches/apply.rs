//! Steady-state `StateMachine::apply` throughput on the shared mixed
//! workload (`tests/support/workload.rs`): create / reserve / activate /
//! release / revoke / reclaim / retries, plus the maintenance tick's expires,
//! with ~20% contention rejections.
//!
//! Two table sizes: 1,000,000 resources and leases (tables far larger than
//! the caches) and 64 (everything in L1/L2). One criterion iteration is a
//! batch of [`BATCH`] commands on a machine that was set up and warmed up
//! before measurement; the machine keeps running across iterations.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p allocdb-core --bench
//! apply -- --noplot`); see `docs/performance.md`.

#[path = "../tests/support/workload.rs"]
mod workload;

use std::hint::black_box;
use std::time::{Duration, Instant};

use allocdb_core::{Config, StateMachine};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use workload::Workload;

/// Commands per criterion iteration.
const BATCH: u64 = 10_000;
const SEED: u64 = 0x5EED_A110_CDB0_0001;

/// 1M resources and leases. The operation table holds every client command
/// of the last `max_ttl + retry window + 1` = 513 slots; the workload picks
/// ~3,900 commands per slot so it stays about half full (~2M records).
fn large() -> Config {
    Config {
        shard_id: 1,
        max_resources: 1_000_000,
        max_leases: 1_000_000,
        max_bundle_size: 8,
        max_lease_members: 2_000_000,
        max_operations: 4_000_000,
        max_ttl_slots: 256,
        max_client_retry_window_slots: 256,
        history_window_slots: 256,
        max_expiration_bucket_len: 8192,
        max_expirations_per_tick: 1024,
    }
}

/// 64 resources and leases: the same mix with every table cache-resident.
fn small() -> Config {
    Config {
        shard_id: 1,
        max_resources: 64,
        max_leases: 64,
        max_bundle_size: 4,
        max_lease_members: 256,
        max_operations: 1024,
        max_ttl_slots: 16,
        max_client_retry_window_slots: 16,
        history_window_slots: 4,
        max_expiration_bucket_len: 16,
        max_expirations_per_tick: 16,
    }
}

fn apply_mixed(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    group.throughput(Throughput::Elements(BATCH));
    for (name, config) in [("cap_1M", large()), ("cap_64", small())] {
        let mut sm = StateMachine::new(config).expect("valid bench config");
        let mut workload = Workload::new(SEED, &config);
        workload.setup(&mut sm);
        // Steady state: every record has been retired and reused at least
        // once (two dedupe windows' worth of slots).
        let warm_slots = 2 * (config.dedupe_window_slots() + config.history_window_slots + 1);
        workload.warm_up(&mut sm, warm_slots * workload.commands_per_slot());

        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters * BATCH {
                    black_box(workload.step(&mut sm));
                }
                start.elapsed()
            });
        });

        let stats = workload.stats();
        eprintln!(
            "{name}: {} commands measured, {} per slot, mix {}, rejection ratio {:.3} ({}), retry-cache hits {}, surprises {}",
            stats.commands,
            workload.commands_per_slot(),
            stats.kind_summary(),
            stats.rejection_ratio(),
            stats.rejection_summary(),
            stats.retry_hits,
            stats.surprises,
        );
        assert_eq!(stats.surprises, 0, "the workload's tracking diverged");
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = apply_mixed
}
criterion_main!(benches);
