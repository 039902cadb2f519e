//! The workload tests, run against the toy driver in `fake.rs`.

use std::collections::BTreeSet;

use allocdb_core::engine::EngineConfig;
use allocdb_core::ResultCode;

use super::fake::{client_frame_len, expire_frame_len, Fake};
use super::faults::MAX_DOWN_ACTIONS;
use super::Workload;
use crate::action::{Action, ActionKind};
use crate::rng::SimRng;
use crate::view::EngineStatus;
use crate::workload::mix::{FaultSelection, Mix};

fn setup(seed: u64, selection: &FaultSelection) -> (Workload, SimRng, Fake) {
    let config = EngineConfig::small();
    let mut rng = SimRng::new(seed);
    let mix = Mix::swarm(&mut rng, selection);
    (Workload::new(mix, &config, 4), rng, Fake::new(config))
}

#[test]
fn no_faults_selected_means_no_fault_actions() {
    for seed in 0..20 {
        let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::None);
        fake.run(&mut workload, &mut rng, 3_000);
        for kind in ActionKind::FAULTS {
            assert!(!fake.kinds.contains(&kind), "seed {seed}: {kind:?}");
        }
        assert_eq!(fake.status, EngineStatus::Up);
    }
    // Even shown a halted or dead engine, a fault-free mix only restarts.
    let (mut workload, mut rng, mut fake) = setup(3, &FaultSelection::None);
    fake.run(&mut workload, &mut rng, 200);
    for status in [EngineStatus::Halted, EngineStatus::Down] {
        fake.status = status;
        fake.leave_unsynced(100);
        fake.snapshot_len = Some(300);
        for _ in 0..500 {
            assert_eq!(workload.next(&mut rng, &fake.view()), Action::Restart);
        }
    }
}

#[test]
fn same_seed_same_actions() {
    let run = |seed| {
        let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::All);
        let actions = fake.run(&mut workload, &mut rng, 2_000);
        (format!("{actions:?}"), fake.model.digest())
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}

#[test]
fn every_reachable_kind_shows_up_and_restarts_come_quickly() {
    let selections = [
        FaultSelection::All,
        FaultSelection::parse("crash,tear_last_frame").unwrap(),
        FaultSelection::parse("persist_failure").unwrap(),
        FaultSelection::parse("arm_crash,flip_wal_bit,flip_snapshot_bit").unwrap(),
        FaultSelection::parse("arm_crash").unwrap(),
        FaultSelection::parse("persist_failure,crash,tear_last_frame").unwrap(),
    ];
    for selection in &selections {
        for seed in 0..24 {
            let (mut workload, mut rng, mut fake) = setup(seed, selection);
            let reachable = workload.mix().reachable_kinds();
            let mut steps = 0;
            while !reachable.is_subset(&fake.kinds) && steps < 40_000 {
                fake.run(&mut workload, &mut rng, 500);
                steps += 500;
            }
            // Past the end of time every write is refused, so what needs a
            // write (a tail to tear, an operation to re-send) may never
            // come again: a seed that can get there need not show it all.
            let missing: Vec<_> = reachable.difference(&fake.kinds).collect();
            assert!(
                missing.is_empty() || workload.mix().end_of_time_per_mille > 0,
                "{selection} seed {seed}: {missing:?} never seen in {steps} steps; mix:\n{}",
                workload.mix().describe()
            );
            assert!(
                fake.kinds.is_subset(&reachable),
                "{selection} seed {seed}: {:?} not announced as reachable",
                fake.kinds.difference(&reachable).collect::<Vec<_>>()
            );
            assert!(fake.longest_down_run <= MAX_DOWN_ACTIONS, "seed {seed}");
        }
    }
}

#[test]
fn bursts_fill_the_queue_and_overflow_it_now_and_then() {
    let (mut bursts, mut requests, mut largest, mut overloaded) = (0, 0, 0, 0);
    let (mut in_flight_retries, mut old, mut echoes) = (0, 0, 0);
    let mut actions = 0;
    for seed in 0..24 {
        let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::All);
        fake.run(&mut workload, &mut rng, 4_000);
        actions += 4_000;
        if workload.mix().burst_per_mille == 0 {
            assert_eq!(fake.bursts, 0, "seed {seed}");
        }
        if workload.mix().burst_flood_per_mille == 0 {
            assert!(fake.largest_burst <= 8, "seed {seed}");
            assert_eq!(fake.overloaded, 0, "seed {seed}");
        }
        bursts += fake.bursts;
        requests += fake.burst_requests;
        largest = largest.max(fake.largest_burst);
        overloaded += fake.overloaded;
        in_flight_retries += fake.burst_in_flight_retries;
        old += fake.burst_old;
        echoes += fake.burst_echoes;
    }
    let queue = EngineConfig::small().max_submission_queue as usize;
    assert!(largest > queue, "largest burst {largest}");
    assert!(overloaded > 0);
    assert!(in_flight_retries > 0 && old > 0 && echoes > 0);
    // Mostly fresh submits, and rare enough to leave the mix alone.
    assert!(in_flight_retries + old + echoes < requests / 4);
    assert!(bursts > 0 && bursts * 20 < actions, "{bursts} of {actions}");
}

#[test]
fn contention_reaches_the_error_paths() {
    let mut codes = BTreeSet::new();
    let mut retry_cache_hits = 0;
    for seed in 0..24 {
        let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::None);
        fake.run(&mut workload, &mut rng, 4_000);
        codes.extend(fake.codes.keys().copied());
        retry_cache_hits += fake.retry_cache_hits;
    }
    assert!(retry_cache_hits > 0);
    let missing: Vec<_> = ResultCode::ALL
        .into_iter()
        .filter(|code| !codes.contains(code))
        .collect();
    // Slot overflow: past the last request slot the engine (and the fake)
    // refuses before apply; a noop needs an expire that lost a race, which
    // a tick of due leases never commits.
    assert_eq!(
        missing,
        vec![ResultCode::Noop, ResultCode::SlotOverflow],
        "never produced"
    );
}

#[test]
fn the_fake_books_frames_at_their_lengths_in_the_format() {
    // The lengths the fake used to hard-code: a create frame, an expire
    // frame, and the shortest frame of all, a snapshot marker.
    assert_eq!(client_frame_len(), 81);
    assert_eq!(expire_frame_len(), 57);
    assert_eq!(crate::driver::wal_book::marker_frame_len(), 41);
}

/// Clients cannot know the process is down: now and then one sends a
/// request then, which goes unanswered and stays in flight.
#[test]
fn requests_reach_a_down_engine_now_and_then() {
    let mut undelivered = 0;
    for seed in 0..24 {
        let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::All);
        fake.run(&mut workload, &mut rng, 4_000);
        undelivered += fake.undelivered;
    }
    assert!(undelivered > 0);
    let (mut workload, mut rng, mut fake) = setup(0, &FaultSelection::None);
    fake.run(&mut workload, &mut rng, 4_000);
    assert_eq!(fake.undelivered, 0, "no fault, never down");
}

/// While the engine is down, an I/O error goes to the torn tail's
/// truncation about half the time when the log ends in a partial frame
/// (only such a log is truncated), and only as one site among six when
/// it ends whole.
#[test]
fn a_torn_tail_draws_errors_to_its_truncation() {
    use allocdb_core::fs::Site;
    let truncations = |torn: bool| {
        let (workload, mut rng, mut fake) = setup(5, &FaultSelection::All);
        fake.leave_unsynced(client_frame_len());
        if torn {
            fake.leave_partial(client_frame_len(), 7);
        }
        fake.status = EngineStatus::Down;
        (0..1_000)
            .filter(|_| {
                let action = workload.io_error(&mut rng, &fake.view(), true);
                matches!(
                    action,
                    Some(Action::ArmIoError {
                        site: Site::WalTruncate,
                        ..
                    })
                )
            })
            .count()
    };
    let torn = truncations(true);
    let whole = truncations(false);
    assert!((500..700).contains(&torn), "torn tail: {torn} of 1,000");
    assert!((100..250).contains(&whole), "whole log: {whole} of 1,000");
}
