//! Who sends what while the engine is up: fresh submits, retries and
//! conflicting re-uses of old operation ids, bursts through the submission
//! queue, the clients they come from, slot advances and reads.

use allocdb_core::Lease;

use super::{Workload, UNKNOWN_RESOURCE_BASE};
use crate::action::Action;
use crate::fence::Fence;
use crate::rng::SimRng;
use crate::view::SimView;

/// Re-used operation ids come mostly from this many latest submissions, so
/// that they are still inside the dedupe window.
const RECENT_OPERATIONS: usize = 16;
/// A flooding burst holds up to this many requests more than the
/// submission queue takes.
pub(super) const BURST_OVERFLOW_MAX: u64 = 4;

impl Workload {
    /// A new request, now and then from a buggy caller (operation id 0)
    /// or stamped behind the clock.
    pub(super) fn submit_fresh(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let client = self.pick_client(rng, view);
        let command = self.command(rng, view);
        let operation = if rng.chance(self.mix.malformed_per_mille) {
            0
        } else {
            view.next_operation
        };
        Action::Submit {
            client,
            operation,
            command,
            behind: self.stamp_behind(rng, view),
        }
    }

    /// How far behind the clock a fresh request is stamped: mostly not at
    /// all; else not behind the engine's last request slot (a request
    /// queued before a tick that ran first: legal) or behind it (a stale
    /// caller's: `slot_rewound`).
    fn stamp_behind(&self, rng: &mut SimRng, view: &SimView) -> u64 {
        if view.slot.0 == 0 || !rng.chance(self.mix.stale_stamp_per_mille) {
            return 0;
        }
        let last = view.model.last_request_slot().0.min(view.slot.0);
        let legal = view.slot.0 - last;
        if legal > 0 && rng.chance(500) {
            rng.between(1, legal)
        } else {
            legal.saturating_add(rng.between(1, 3)).min(view.slot.0)
        }
    }

    /// A client, preferably one without a request in flight.
    pub(super) fn pick_client(&self, rng: &mut SimRng, view: &SimView) -> u32 {
        let mut client = rng.below(u64::from(self.clients)) as u32;
        for _ in 0..4 {
            if !view.in_flight.iter().any(|f| f.client == client) {
                break;
            }
            client = rng.below(u64::from(self.clients)) as u32;
        }
        client
    }

    /// An operation id submitted before, mostly a recent one.
    /// `conflict`: one with no request in flight, to be re-used with
    /// another command.
    pub(super) fn old_operation(
        &self,
        rng: &mut SimRng,
        view: &SimView,
        conflict: bool,
    ) -> Option<u128> {
        let submitted = view.submitted;
        let pool = if rng.chance(self.mix.rates.recent_operation_per_mille) {
            &submitted[submitted.len().saturating_sub(RECENT_OPERATIONS)..]
        } else {
            submitted
        };
        for _ in 0..4 {
            if pool.is_empty() {
                return None;
            }
            let operation = *rng.pick(pool);
            if !conflict || !view.in_flight.iter().any(|f| f.operation == operation) {
                return Some(operation);
            }
        }
        None
    }

    pub(super) fn advance_by(&self, rng: &mut SimRng) -> u64 {
        let max_ttl = self.config.max_ttl_slots.max(1);
        if rng.chance(self.mix.advance_jump_per_mille) {
            let window = self
                .config
                .dedupe_window_slots()
                .max(self.config.history_window_slots);
            window + rng.between(1, max_ttl)
        } else if rng.chance(self.mix.rates.short_advance_per_mille) || max_ttl < 3 {
            rng.between(1, 2)
        } else {
            rng.between(3, max_ttl)
        }
    }

    /// Requests that reach the engine at the same slot: 2 to `burst_max`
    /// of them (at most the queue bound), or (the mix's flood rate) the queue bound plus 0 to
    /// [`BURST_OVERFLOW_MAX`]. Operation ids are distinct but for an echo
    /// (a retry of a request listed earlier in the burst); fresh ones
    /// count up from `next_operation` in listed order.
    pub(super) fn burst(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let queue = u64::from(self.queue_bound);
        let size = if rng.chance(self.mix.burst_flood_per_mille) {
            queue + rng.between(0, BURST_OVERFLOW_MAX)
        } else {
            // Within the queue, unless it cannot take even two.
            rng.between(2, u64::from(self.mix.burst_max).clamp(2, queue.max(2)))
        } as usize;
        let clients = self.burst_clients(rng, view);
        let mut in_flight: Vec<u128> = view.in_flight.iter().map(|f| f.operation).collect();
        let mut used: Vec<u128> = Vec::with_capacity(size);
        let mut fresh: Vec<u128> = Vec::new();
        let mut next_operation = view.next_operation;
        let mut requests = Vec::with_capacity(size);
        while requests.len() < size {
            in_flight.retain(|op| !used.contains(op));
            if !in_flight.is_empty() && rng.chance(self.mix.rates.burst_in_flight_per_mille) {
                let operation = *rng.pick(&in_flight);
                used.push(operation);
                requests.push(Action::Retry { operation });
                continue;
            }
            if rng.chance(self.mix.rates.burst_old_per_mille) {
                if let Some(action) = self.burst_old(rng, view, &used) {
                    if let Action::Retry { operation } | Action::Submit { operation, .. } = action {
                        used.push(operation);
                    }
                    requests.push(action);
                    continue;
                }
            }
            if !fresh.is_empty() && rng.chance(self.mix.rates.burst_echo_per_mille) {
                requests.push(Action::Retry {
                    operation: *rng.pick(&fresh),
                });
                continue;
            }
            let client = clients[fresh.len() % clients.len()];
            // A buggy caller's request (operation id 0) is never echoed.
            let operation = if rng.chance(self.mix.malformed_per_mille) {
                0
            } else {
                next_operation += 1;
                used.push(next_operation - 1);
                fresh.push(next_operation - 1);
                next_operation - 1
            };
            requests.push(Action::Submit {
                client,
                operation,
                command: self.command(rng, view),
                behind: 0,
            });
        }
        Action::Burst(requests)
    }

    /// Clients in the order a burst's fresh submits use them: those without
    /// a request in flight first, each group shuffled.
    fn burst_clients(&self, rng: &mut SimRng, view: &SimView) -> Vec<u32> {
        let busy = |client: &u32| view.in_flight.iter().any(|f| f.client == *client);
        let (mut idle, mut waiting): (Vec<u32>, Vec<u32>) =
            (0..self.clients).partition(|c| !busy(c));
        rng.shuffle(&mut idle);
        rng.shuffle(&mut waiting);
        idle.extend(waiting);
        idle
    }

    /// An old operation id re-sent in a burst, as the mix's retry rates
    /// allow: byte for byte or (an operation not in flight) one field
    /// away. `None` when the mix re-sends nothing or the pick is already
    /// in the burst.
    fn burst_old(&self, rng: &mut SimRng, view: &SimView, used: &[u128]) -> Option<Action> {
        let same = self.mix.retry_same_per_mille;
        let conflict = self.mix.retry_conflict_per_mille;
        if same + conflict == 0 {
            return None;
        }
        let action = if rng.below(u64::from(same + conflict)) < u64::from(same) {
            Action::Retry {
                operation: self.old_operation(rng, view, false)?,
            }
        } else {
            let operation = self.old_operation(rng, view, true)?;
            self.near_miss(rng, view, operation)?
        };
        match &action {
            Action::Retry { operation } | Action::Submit { operation, .. }
                if used.contains(operation) =>
            {
                None
            }
            _ => Some(action),
        }
    }

    pub(super) fn read(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let rates = &self.mix.rates;
        let fence = rng.below(10);
        // Relative to what is applied when the read runs, so a shrinker
        // that deletes earlier commits keeps the read where it was.
        let required_lsn = if fence < rates.read_unfenced_per_ten {
            None
        } else if fence < rates.read_unfenced_per_ten + rates.read_fenced_at_applied_per_ten {
            let applied = view.model.last_applied_lsn().map_or(0, |lsn| lsn.0);
            Some(if applied == 0 {
                Fence::Lsn(1)
            } else {
                Fence::Applied { plus: 0 }
            })
        } else {
            // Not applied yet: fence_not_applied.
            Some(Fence::Applied {
                plus: rng.between(1, 3),
            })
        };
        if rng.chance(self.mix.rates.read_resource_per_mille) {
            let roll = rng.below(10);
            let resource = if roll < rates.read_hot_resource_per_ten {
                *rng.pick(&self.hot)
            } else if roll < rates.read_hot_resource_per_ten + rates.read_known_resource_per_ten {
                let all: Vec<u128> = view.model.resources().map(|r| r.resource_id.0).collect();
                if all.is_empty() {
                    *rng.pick(&self.hot)
                } else {
                    *rng.pick(&all)
                }
            } else {
                UNKNOWN_RESOURCE_BASE + u128::from(rng.below(100))
            };
            Action::ReadResource {
                resource,
                required_lsn,
            }
        } else {
            let leases: Vec<&Lease> = view.model.leases().collect();
            let lease =
                if !leases.is_empty() && rng.chance(self.mix.rates.read_live_lease_per_mille) {
                    super::commands::name(view, rng.pick::<&Lease>(&leases))
                } else {
                    self.dead_lease(rng, view)
                };
            Action::ReadLease {
                lease,
                required_lsn,
            }
        }
    }
}
