//! The seeded workload generator: one [`Action`] at a time, chosen from the
//! seed's [`Mix`], the simulator's [`SimView`] and nothing else.
//!
//! Contention is the point. A handful of hot resources (fewer than the
//! resource table holds) is fought over by many holders, so reserves collide
//! (`resource_busy`), leases move through every state, and holders come back
//! with the wrong identity or an old epoch (`holder_mismatch`,
//! `stale_epoch`), e.g. the epoch they held before an observer revoked the
//! lease. Cold resources fill the resource table; slot advances cross TTLs
//! and, now and then, jump past the dedupe and history windows so records
//! retire. Old operation ids come back with the same request (retry cache)
//! or one a single field away (`operation_conflict` while the original's
//! record is retained).
//!
//! Bursts send several requests that reach the engine at the same slot and
//! go through its bounded submission queue: mostly fresh submits from
//! distinct clients, sometimes retries of requests in flight, old operation
//! ids or a second copy of a request in the same burst. Rarely a burst fills
//! the queue to its bound or past it, so some requests get `overloaded`.
//!
//! Faults follow the engine's status: while up, the mix's rates arm crash
//! points, persist failures and I/O errors or kill the process; while halted, the
//! engine is restarted or killed; while down, files may be torn or flipped
//! and a restart always follows within a few actions. Requests in flight
//! (indefinite outcomes) are retried with high probability whenever the
//! engine is up: that is how each is resolved exactly once.
//!
//! Determinism: the only inputs are the rng, the mix and the view; the model
//! is read through its ordered maps; nothing here iterates a hash map or
//! reads a clock.

//!
//! Where things are: this file holds the [`Workload`] and picks by engine
//! status and, while up, by a roll over the mix's rates;
//! `traffic.rs` is who sends what (fresh submits, retries, conflicts,
//! bursts, clients, old operation ids, slot advances, reads); `commands.rs`
//! builds each command kind; `near_miss.rs` the one-field conflicts; `faults.rs` schedules faults and what happens
//! while halted or down; `io_errors.rs` picks the I/O errors; `fake.rs` is a toy driver for `tests.rs`.
//!
//! Every probability is a field of the [`Mix`]: drawn for the seed, or one
//! of the fixed [`crate::workload::mix::FixedRates`] in `mix.rates`.

use allocdb_core::engine::EngineConfig;
use allocdb_core::Config;

use crate::action::Action;
use crate::rng::SimRng;
use crate::view::{EngineStatus, SimView};
pub use mix::{FaultKind, FaultSelection, Mix};

mod commands;
pub mod config;
mod edges;
#[cfg(test)]
mod fake;
mod faults;
mod io_errors;
pub mod mix;
mod near_miss;
#[cfg(test)]
mod tests;
mod traffic;

/// Hot resource ids are `HOT_BASE..HOT_BASE + hot`.
const HOT_BASE: u128 = 1;
/// Cold resource ids are `COLD_BASE..COLD_BASE + 2 * max_resources`: enough
/// distinct ids to fill the resource table, few enough to repeat.
const COLD_BASE: u128 = 1_000;
/// Resource ids from here on are never created.
const UNKNOWN_RESOURCE_BASE: u128 = 900_000;

pub struct Workload {
    mix: Mix,
    config: Config,
    /// Requests the engine's submission queue holds (at least 1).
    queue_bound: u32,
    clients: u32,
    hot: Vec<u128>,
    cold_span: u64,
    /// Actions generated since the engine went down (or last restarted).
    down_actions: u32,
    /// Actions generated since the engine halted.
    halted_actions: u32,
    /// What an edge sends after the advance that reaches its slot, in
    /// order; dropped when the engine stops being up.
    follow_ups: Vec<Action>,
}

/// What a roll of the workload dice picked while the engine is up.
#[derive(Clone, Copy)]
enum UpChoice {
    RetrySame,
    Conflict,
    Advance,
    Tick,
    Checkpoint,
    Read,
    Burst,
}

impl Workload {
    /// `clients` is how many client ids (`0..clients`) submit requests.
    /// The engine config gives the core's bounds and the submission queue's.
    pub fn new(mix: Mix, config: &EngineConfig, clients: u32) -> Workload {
        let queue_bound = config.max_submission_queue.max(1);
        let config = &config.core;
        let hot_count = mix
            .hot_resources
            .min(config.max_resources.saturating_sub(1))
            .max(1);
        let hot = (0..u128::from(hot_count)).map(|i| HOT_BASE + i).collect();
        Workload {
            mix,
            config: *config,
            queue_bound,
            clients: clients.max(1),
            hot,
            cold_span: u64::from(config.max_resources.max(1)) * 2,
            down_actions: 0,
            halted_actions: 0,
            follow_ups: Vec::new(),
        }
    }

    pub fn mix(&self) -> &Mix {
        &self.mix
    }

    /// The resource ids the workload fights over.
    pub fn hot_resources(&self) -> &[u128] {
        &self.hot
    }

    /// The next action, given what the simulator currently sees.
    pub fn next(&mut self, rng: &mut SimRng, view: &SimView) -> Action {
        match view.status {
            EngineStatus::Up => {
                self.down_actions = 0;
                self.halted_actions = 0;
                if !self.follow_ups.is_empty() {
                    return self.follow_ups.remove(0);
                }
                if rng.chance(self.mix.end_of_time_per_mille) {
                    if let Some(action) = self.end_of_time(rng, view) {
                        return action;
                    }
                }
                if rng.chance(self.mix.edge_per_mille) {
                    if let Some(action) = self.edge(rng, view) {
                        return action;
                    }
                }
                self.next_up(rng, view)
            }
            EngineStatus::Halted => {
                self.down_actions = 0;
                self.follow_ups.clear();
                self.next_halted(rng, view)
            }
            EngineStatus::Down => {
                self.follow_ups.clear();
                self.next_down(rng, view)
            }
        }
    }

    fn next_up(&self, rng: &mut SimRng, view: &SimView) -> Action {
        if !view.in_flight.is_empty() && rng.chance(self.mix.in_flight_retry_per_mille) {
            return Action::Retry {
                operation: rng.pick(view.in_flight).operation,
            };
        }
        if let Some(action) = self.up_fault(rng, view) {
            return action;
        }
        if let Some(action) = self.reach_armed_point(rng, view) {
            return action;
        }
        // Clients told the operation table is full back off while records
        // retire: time moves on, so a slow seed is not stuck there.
        if view.model.operations().len() >= self.config.max_operations as usize
            && rng.chance(self.mix.rates.operations_full_advance_per_mille)
        {
            return advance(view, rng.between(1, 2));
        }
        let roll = rng.below(1000) as u32;
        let mut edge = 0;
        for (rate, choice) in [
            (self.mix.retry_same_per_mille, UpChoice::RetrySame),
            (self.mix.retry_conflict_per_mille, UpChoice::Conflict),
            (self.mix.advance_per_mille, UpChoice::Advance),
            (self.mix.tick_per_mille, UpChoice::Tick),
            (self.mix.checkpoint_per_mille, UpChoice::Checkpoint),
            (self.mix.read_per_mille, UpChoice::Read),
            (self.mix.burst_per_mille, UpChoice::Burst),
        ] {
            edge += rate;
            if roll < edge {
                if let Some(action) = self.up_choice(rng, view, choice) {
                    return action;
                }
                break;
            }
        }
        self.submit_fresh(rng, view)
    }

    fn up_choice(&self, rng: &mut SimRng, view: &SimView, choice: UpChoice) -> Option<Action> {
        match choice {
            UpChoice::RetrySame => {
                let operation = self.old_operation(rng, view, false)?;
                Some(Action::Retry { operation })
            }
            UpChoice::Conflict => {
                let operation = self.old_operation(rng, view, true)?;
                self.near_miss(rng, view, operation)
            }
            UpChoice::Advance => Some(advance(view, self.advance_by(rng))),
            UpChoice::Tick => Some(Action::Tick),
            UpChoice::Checkpoint => Some(Action::Checkpoint),
            UpChoice::Read => Some(self.read(rng, view)),
            UpChoice::Burst => Some(self.burst(rng, view)),
        }
    }
}

/// An advance by `by` slots, or as far as the slot goes: near the end of
/// time a drawn advance must not overflow it.
fn advance(view: &SimView, by: u64) -> Action {
    Action::AdvanceSlot {
        by: by.min(u64::MAX - view.slot.0),
    }
}
