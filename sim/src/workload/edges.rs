//! Values at every bound and one past it: each edge is an exact slot or
//! value worked out from the model and the config, reached by advancing
//! the clock to it when it lies ahead and then sending what the edge is
//! about (the follow-ups, sent on the next steps while the engine is up).
//!
//! - a reserve with ttl 0, 1, the maximum or one more; a bundle of exactly
//!   the bound or one more;
//! - a tick at a reserved lease's deadline or one slot before it;
//! - an operation id re-used (same request or one field away) at the last
//!   slot of its dedupe window or the first slot after it;
//! - a read of a terminal lease at the last slot before it retires or at
//!   its retirement slot, after a commit that retires what is due;
//! - a read fenced at the applied LSN or one past it;
//! - the end of time: the clock at the last request slot, a little before
//!   it, or one past it, where every write must be refused.

use allocdb_core::{LeaseState, ResourceId, BUNDLE_SIZE_LIMIT};

use super::{Workload, COLD_BASE};
use crate::action::{Action, SimCommand};
use crate::fence::Fence;
use crate::oracle::model::windows::last_request_slot;
use crate::rng::SimRng;
use crate::view::SimView;
use allocdb_core::LeaseId;

/// Kinds of edge, picked uniformly.
const EDGE_KINDS: u64 = 6;

impl Workload {
    /// An edge action for this step, with its follow-ups queued; `None`
    /// when the picked edge has nothing to aim at now.
    pub(super) fn edge(&mut self, rng: &mut SimRng, view: &SimView) -> Option<Action> {
        let before = rng.below(2) == 1;
        match rng.below(EDGE_KINDS) {
            0 => Some(self.ttl_edge(rng, view)),
            1 => Some(self.bundle_edge(rng, view)),
            2 => self.deadline_edge(rng, view, before),
            3 => self.window_edge(rng, view, before),
            4 => self.retirement_edge(rng, view, before),
            _ => Some(self.fence_edge(rng)),
        }
    }

    /// The clock to the last request slot, some slots before it, or one
    /// past it; `None` once past it.
    pub(super) fn end_of_time(&self, rng: &mut SimRng, view: &SimView) -> Option<Action> {
        let now = view.slot.0;
        let last = last_request_slot(&self.config);
        let target = match rng.below(3) {
            0 => last,
            1 => last.saturating_sub(rng.between(1, 2 * self.config.max_ttl_slots.max(1))),
            _ => last + 1,
        };
        let target = if target <= now { last + 1 } else { target };
        (target > now).then(|| Action::AdvanceSlot { by: target - now })
    }

    fn ttl_edge(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let max = self.config.max_ttl_slots;
        let ttl = *rng.pick(&[0, 1, max, max.saturating_add(1)]);
        let command = match self.reserve(rng, view) {
            SimCommand::Reserve {
                resources, holder, ..
            } => SimCommand::Reserve {
                resources,
                holder,
                ttl,
            },
            other => other,
        };
        self.fresh(rng, view, command)
    }

    /// Exactly the bound's members (existing resources first, then cold
    /// ids, some never created), or one more when a bundle can hold it.
    fn bundle_edge(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let bound = self.config.max_bundle_size as usize;
        let size = if bound < BUNDLE_SIZE_LIMIT && rng.below(2) == 1 {
            bound + 1
        } else {
            bound
        };
        let mut resources: Vec<u128> = view.model.resources().map(|r| r.resource_id.0).collect();
        rng.shuffle(&mut resources);
        resources.truncate(size);
        let mut cold = COLD_BASE;
        while resources.len() < size {
            if view.model.get_resource(ResourceId(cold)).is_none() && !resources.contains(&cold) {
                resources.push(cold);
            }
            cold += 1;
        }
        let command = SimCommand::Reserve {
            resources,
            holder: self.holder(rng),
            ttl: self.ttl(rng),
        };
        self.fresh(rng, view, command)
    }

    /// A tick at a reserved lease's deadline (or the slot before it).
    fn deadline_edge(&mut self, rng: &mut SimRng, view: &SimView, before: bool) -> Option<Action> {
        let reserved = view
            .model
            .leases()
            .filter(|l| l.state == LeaseState::Reserved);
        let (_, deadline) = pick_ahead(
            rng,
            view,
            reserved.map(|l| (l.lease_id.0, l.deadline_slot.0)),
        )?;
        let target = deadline - u64::from(before);
        Some(self.at_slot(view, target, vec![Action::Tick]))
    }

    /// An operation id re-used at the last slot of its dedupe window (or
    /// the first after it): the same request, or one a field away.
    fn window_edge(
        &mut self,
        rng: &mut SimRng,
        view: &SimView,
        last_inside: bool,
    ) -> Option<Action> {
        let operations = view.model.operations();
        let (operation, retire) = pick_ahead(
            rng,
            view,
            operations.map(|o| (o.operation_id.0, o.retire_after_slot.0)),
        )?;
        let reuse = if rng.below(2) == 1 {
            Action::Retry { operation }
        } else {
            self.near_miss(rng, view, operation)?
        };
        let target = retire - u64::from(last_inside);
        Some(self.at_slot(view, target, vec![reuse]))
    }

    /// A terminal lease read at the last slot before it retires (or at its
    /// retirement slot), after a fresh commit that retires what is due.
    fn retirement_edge(
        &mut self,
        rng: &mut SimRng,
        view: &SimView,
        last_inside: bool,
    ) -> Option<Action> {
        let terminal = view
            .model
            .leases()
            .filter_map(|l| Some((l.lease_id.0, l.retire_after_slot?.0)));
        let (lease, retire) = pick_ahead(rng, view, terminal)?;
        let target = retire - u64::from(last_inside);
        let commit = self.submit_fresh(rng, view);
        // Named by its reserve: the read still aims at it after the lease
        // retires and a shrinker deletes earlier steps.
        let read = Action::ReadLease {
            lease: view.model.lease_names().reference(LeaseId(lease)),
            required_lsn: None,
        };
        Some(self.at_slot(view, target, vec![commit, read]))
    }

    /// A read fenced at the applied LSN or one past it.
    fn fence_edge(&self, rng: &mut SimRng) -> Action {
        let required_lsn = Some(Fence::Applied { plus: rng.below(2) });
        Action::ReadResource {
            resource: *rng.pick(&self.hot),
            required_lsn,
        }
    }

    /// `actions` at `target`: the first now if the clock is there, else an
    /// advance to it with every action following.
    fn at_slot(&mut self, view: &SimView, target: u64, mut actions: Vec<Action>) -> Action {
        let now = view.slot.0;
        if target <= now {
            let first = actions.remove(0);
            self.follow_ups = actions;
            return first;
        }
        self.follow_ups = actions;
        Action::AdvanceSlot { by: target - now }
    }

    fn fresh(&self, rng: &mut SimRng, view: &SimView, command: SimCommand) -> Action {
        Action::Submit {
            client: self.pick_client(rng, view),
            operation: view.next_operation,
            command,
            behind: 0,
        }
    }
}

/// One of `due` (an id and the slot something happens to it) whose slot
/// is still ahead of the clock.
fn pick_ahead(
    rng: &mut SimRng,
    view: &SimView,
    due: impl Iterator<Item = (u128, u64)>,
) -> Option<(u128, u64)> {
    let now = view.slot.0;
    let ahead: Vec<(u128, u64)> = due.filter(|&(_, slot)| slot > now).collect();
    (!ahead.is_empty()).then(|| *rng.pick(&ahead))
}
