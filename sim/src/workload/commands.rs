//! Building each command kind: which client op to send, creates, reserves
//! (good and aimed at an error path), holder commands (activate, release),
//! observer commands (revoke, reclaim), dead lease ids, ttls and holders.

use allocdb_core::BUNDLE_SIZE_LIMIT;
use allocdb_core::{Lease, LeaseId, LeaseState, Lsn, ResourceId, ResourceState};

use super::{Workload, COLD_BASE, HOT_BASE, UNKNOWN_RESOURCE_BASE};
use crate::action::SimCommand;
use crate::lease_ref::LeaseRef;
use crate::rng::SimRng;
use crate::view::SimView;
use crate::workload::mix::ClientOp;

impl Workload {
    pub(super) fn command(&self, rng: &mut SimRng, view: &SimView) -> SimCommand {
        let missing_hot = self.hot.iter().any(|&id| !exists(view, id));
        let op = if missing_hot && rng.chance(self.mix.rates.create_first_per_mille) {
            ClientOp::Create
        } else {
            self.weighted_op(rng)
        };
        let command = match op {
            ClientOp::Create => Some(self.create(rng, view)),
            ClientOp::Reserve => None,
            ClientOp::Activate => self.holder_command(rng, view, false),
            ClientOp::Release => self.holder_command(rng, view, true),
            ClientOp::Revoke => self.observer_command(rng, view, false),
            ClientOp::Reclaim => self.observer_command(rng, view, true),
        };
        command.unwrap_or_else(|| self.reserve(rng, view))
    }

    fn weighted_op(&self, rng: &mut SimRng) -> ClientOp {
        let total: u64 = ClientOp::ALL
            .iter()
            .map(|&op| u64::from(self.mix.weight(op)))
            .sum();
        let mut roll = rng.below(total.max(1));
        for op in ClientOp::ALL {
            let weight = u64::from(self.mix.weight(op));
            if roll < weight {
                return op;
            }
            roll -= weight;
        }
        ClientOp::Reserve
    }

    fn create(&self, rng: &mut SimRng, view: &SimView) -> SimCommand {
        let missing: Vec<u128> = self
            .hot
            .iter()
            .copied()
            .filter(|&id| !exists(view, id))
            .collect();
        let resource =
            if !missing.is_empty() && rng.chance(self.mix.rates.create_missing_hot_per_mille) {
                *rng.pick(&missing)
            } else if rng.chance(self.mix.rates.create_hot_per_mille) {
                *rng.pick(&self.hot)
            } else {
                COLD_BASE + u128::from(rng.below(self.cold_span))
            };
        SimCommand::CreateResource { resource }
    }

    pub(super) fn ttl(&self, rng: &mut SimRng) -> u64 {
        let max_ttl = self.config.max_ttl_slots.max(1);
        if rng.chance(self.mix.fixed_ttl_per_mille) {
            self.mix.fixed_ttl.clamp(1, max_ttl)
        } else if rng.chance(self.mix.rates.short_ttl_per_mille) {
            rng.between(1, max_ttl.min(3))
        } else {
            rng.between(1, max_ttl)
        }
    }

    pub(super) fn holder(&self, rng: &mut SimRng) -> u128 {
        u128::from(rng.between(1, u64::from(self.mix.holders.max(1))))
    }

    /// A holder other than `holder`.
    pub(super) fn other_holder(&self, rng: &mut SimRng, holder: u128) -> u128 {
        let other = self.holder(rng);
        if other == holder {
            holder + 1
        } else {
            other
        }
    }

    pub(super) fn reserve(&self, rng: &mut SimRng, view: &SimView) -> SimCommand {
        let holder = self.holder(rng);
        let ttl = self.ttl(rng);
        if rng.chance(self.mix.invalid_per_mille) {
            return self.bad_reserve(rng, view, holder, ttl);
        }
        let mut pool: Vec<u128> = if rng.chance(self.mix.spread_per_mille) {
            view.model
                .resources()
                .map(|resource| resource.resource_id.0)
                .collect()
        } else {
            Vec::new()
        };
        if pool.is_empty() {
            pool.clone_from(&self.hot);
        }
        // Aim at what is free (progress) or at the whole pool (contention).
        if rng.chance(self.mix.rates.reserve_free_per_mille) {
            let free: Vec<u128> = pool
                .iter()
                .copied()
                .filter(|&id| {
                    view.model
                        .get_resource(ResourceId(id))
                        .is_some_and(|r| r.state == ResourceState::Available)
                })
                .collect();
            if !free.is_empty() {
                pool = free;
            }
        }
        let max = (self.config.max_bundle_size as usize).max(1);
        let size = if rng.chance(self.mix.large_bundle_per_mille) {
            max as u64
        } else if rng.chance(self.mix.single_bundle_per_mille) {
            1
        } else if rng.chance(self.mix.rates.small_bundle_per_mille) {
            rng.between(1, max.min(4) as u64)
        } else {
            rng.between(1, max as u64)
        } as usize;
        rng.shuffle(&mut pool);
        pool.truncate(size);
        SimCommand::Reserve {
            resources: pool,
            holder,
            ttl,
        }
    }

    /// A reserve aimed at one of its error paths.
    fn bad_reserve(&self, rng: &mut SimRng, view: &SimView, holder: u128, ttl: u64) -> SimCommand {
        let max = self.config.max_bundle_size as usize;
        let max_ttl = self.config.max_ttl_slots;
        let some_resource = |rng: &mut SimRng| *rng.pick(&self.hot);
        let (resources, ttl) = match rng.below(5) {
            // invalid_request: empty bundle.
            0 => (Vec::new(), ttl),
            // bundle_too_large (when a bundle can hold one more).
            1 if max < BUNDLE_SIZE_LIMIT => {
                ((0..=max as u128).map(|i| HOT_BASE + i).collect(), ttl)
            }
            // resource_not_found: one member never created.
            2 => {
                let mut ids = vec![UNKNOWN_RESOURCE_BASE + u128::from(rng.below(100))];
                if max >= 2 && rng.chance(self.mix.rates.unknown_after_known_per_mille) {
                    ids.insert(0, some_resource(rng));
                }
                (ids, ttl)
            }
            // ttl_out_of_range.
            3 => {
                let ttl = if rng.chance(self.mix.rates.ttl_zero_per_mille) {
                    0
                } else {
                    max_ttl.saturating_add(1)
                };
                (vec![some_resource(rng)], ttl)
            }
            // invalid_request: a duplicate member.
            _ => {
                let id = some_resource(rng);
                let mut ids = vec![id, id];
                if max >= 3 && rng.chance(self.mix.rates.duplicate_apart_per_mille) {
                    let other = view
                        .model
                        .resources()
                        .map(|r| r.resource_id.0)
                        .find(|&other| other != id);
                    if let Some(other) = other {
                        ids.insert(1, other);
                    }
                }
                (ids, ttl)
            }
        };
        SimCommand::Reserve {
            resources,
            holder,
            ttl,
        }
    }

    /// Activate (`release == false`) or release, by the lease's holder with
    /// its current epoch; with the mix's invalid rate, misdirected.
    /// `None` when there is no lease to aim at.
    fn holder_command(
        &self,
        rng: &mut SimRng,
        view: &SimView,
        release: bool,
    ) -> Option<SimCommand> {
        let leases: Vec<&Lease> = view.model.leases().collect();
        if rng.chance(self.mix.invalid_per_mille) {
            return Some(self.misdirected_holder_command(rng, view, &leases, release));
        }
        let candidates: Vec<&Lease> = leases
            .into_iter()
            .filter(|l| match l.state {
                LeaseState::Reserved => true,
                LeaseState::Active => release,
                _ => false,
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let lease = *rng.pick(&candidates);
        Some(holder_build(
            release,
            name(view, lease),
            lease.holder_id.0,
            lease.lease_epoch.0,
        ))
    }

    /// An activate or release aimed at an error path: the wrong holder, a
    /// stale epoch, the wrong state, or a lease id that names no lease.
    fn misdirected_holder_command(
        &self,
        rng: &mut SimRng,
        view: &SimView,
        leases: &[&Lease],
        release: bool,
    ) -> SimCommand {
        let build =
            |lease: LeaseRef, holder: u128, epoch: u64| holder_build(release, lease, holder, epoch);
        let variant = rng.below(5);
        if variant < 3 && !leases.is_empty() {
            let lease = **rng.pick(leases);
            let id = name(view, &lease);
            let epoch = lease.lease_epoch.0;
            let holder = lease.holder_id.0;
            return match variant {
                // holder_mismatch.
                0 => build(id, self.other_holder(rng, holder), epoch),
                // stale_epoch: what the holder knew before the last
                // bump (a revoke, a release, an expiry) or a future one.
                1 => {
                    let revoking: Vec<&Lease> = leases
                        .iter()
                        .copied()
                        .filter(|l| l.state == LeaseState::Revoking)
                        .collect();
                    let lease = if !revoking.is_empty()
                        && rng.chance(self.mix.rates.stale_revoking_per_mille)
                    {
                        **rng.pick(&revoking)
                    } else {
                        lease
                    };
                    let epoch = lease.lease_epoch.0;
                    let stale = if epoch > 1 { epoch - 1 } else { epoch + 1 };
                    build(name(view, &lease), lease.holder_id.0, stale)
                }
                // invalid_state, mostly: the right credentials on a
                // lease in any state.
                _ => build(id, holder, epoch),
            };
        }
        let holder = self.holder(rng);
        build(self.dead_lease(rng, view), holder, 1)
    }

    /// Revoke (`reclaim == false`: of an active lease) or reclaim (of a
    /// revoking one); with the invalid rate, of any lease or a dead id.
    fn observer_command(
        &self,
        rng: &mut SimRng,
        view: &SimView,
        reclaim: bool,
    ) -> Option<SimCommand> {
        let build = |lease: LeaseRef| {
            if reclaim {
                SimCommand::Reclaim { lease }
            } else {
                SimCommand::Revoke { lease }
            }
        };
        let leases: Vec<&Lease> = view.model.leases().collect();
        if rng.chance(self.mix.invalid_per_mille) {
            if !leases.is_empty() && rng.chance(self.mix.rates.misdirected_live_lease_per_mille) {
                return Some(build(name(view, rng.pick::<&Lease>(&leases))));
            }
            return Some(build(self.dead_lease(rng, view)));
        }
        let wanted = if reclaim {
            LeaseState::Revoking
        } else {
            LeaseState::Active
        };
        let candidates: Vec<&Lease> = leases.into_iter().filter(|l| l.state == wanted).collect();
        if candidates.is_empty() {
            return None;
        }
        Some(build(name(view, rng.pick::<&Lease>(&candidates))))
    }

    /// A lease that is not in the table: a retired one (below the
    /// watermark: named by the reserve that made it, when one did, so a
    /// shrinker keeps that reserve and nothing else), LSN 0, another
    /// shard's, or one not yet created.
    pub(super) fn dead_lease(&self, rng: &mut SimRng, view: &SimView) -> LeaseRef {
        let shard = self.config.shard_id;
        let watermark = view.model.retired_watermark().0;
        let id = match rng.below(4) {
            0 | 1 if watermark > 0 => {
                let retired = LeaseId::new(shard, Lsn(rng.between(1, watermark)));
                return view.model.lease_names().reference(retired);
            }
            2 => LeaseId::new(shard.wrapping_add(1), Lsn(rng.between(1, 8))).0,
            3 => LeaseId::new(shard, Lsn(0)).0,
            _ => {
                let last = view.model.last_applied_lsn().map_or(0, |lsn| lsn.0);
                LeaseId::new(shard, Lsn(last.saturating_add(rng.between(1_000, 2_000)))).0
            }
        };
        LeaseRef::Id(id)
    }
}

/// How a generated step names a lease the model holds: by the reserve
/// that made it, which survives a shrinker deleting earlier steps.
pub(super) fn name(view: &SimView, lease: &Lease) -> LeaseRef {
    view.model.lease_names().reference(lease.lease_id)
}

fn exists(view: &SimView, id: u128) -> bool {
    view.model.get_resource(ResourceId(id)).is_some()
}

/// Release (`release`) or activate `lease` as `holder` at `epoch`.
fn holder_build(release: bool, lease: LeaseRef, holder: u128, epoch: u64) -> SimCommand {
    if release {
        SimCommand::Release {
            lease,
            holder,
            epoch,
        }
    } else {
        SimCommand::Activate {
            lease,
            holder,
            epoch,
        }
    }
}
