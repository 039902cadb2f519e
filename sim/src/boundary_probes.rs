//! Which bound a step meets exactly, for the coverage gate: a value at a
//! bound or one past it, a slot at a window's last slot or the first after
//! it. Worked out from the model (before the step) and the config's own
//! fields, never from the engine, so a generator that stops reaching an
//! edge is seen whatever the engine does there.

use crate::action::{Action, SimCommand};
use crate::fence::Fence;
use crate::oracle::model::windows::last_request_slot;
use crate::oracle::model::Model;
use allocdb_core::{LeaseId, LeaseState, OperationId, Slot};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Boundary {
    TtlZero,
    TtlOne,
    TtlMax,
    TtlPastMax,
    BundleAtBound,
    BundlePastBound,
    TickAtDeadline,
    TickBeforeDeadline,
    ReuseAtWindowEnd,
    ReuseAfterWindow,
    LeaseReadBeforeRetirement,
    LeaseReadAtRetirement,
    ReadFencedAtApplied,
    ReadFencedPastApplied,
    WriteAtLastSlot,
    WritePastLastSlot,
    /// A request stamped behind the clock, at the engine's last request
    /// slot exactly (the oldest stamp it takes).
    StampAtLastRequestSlot,
    /// One slot before it (the newest it refuses as rewound).
    StampBeforeLastRequestSlot,
    /// A reserve stamped so far behind that its deadline is already behind
    /// the clock: the timing wheel takes a deadline below where its search
    /// may have moved on to.
    DeadlineBehindClock,
}

impl Boundary {
    pub const ALL: [Boundary; 19] = [
        Boundary::TtlZero,
        Boundary::TtlOne,
        Boundary::TtlMax,
        Boundary::TtlPastMax,
        Boundary::BundleAtBound,
        Boundary::BundlePastBound,
        Boundary::TickAtDeadline,
        Boundary::TickBeforeDeadline,
        Boundary::ReuseAtWindowEnd,
        Boundary::ReuseAfterWindow,
        Boundary::LeaseReadBeforeRetirement,
        Boundary::LeaseReadAtRetirement,
        Boundary::ReadFencedAtApplied,
        Boundary::ReadFencedPastApplied,
        Boundary::WriteAtLastSlot,
        Boundary::WritePastLastSlot,
        Boundary::StampAtLastRequestSlot,
        Boundary::StampBeforeLastRequestSlot,
        Boundary::DeadlineBehindClock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Boundary::TtlZero => "ttl_zero",
            Boundary::TtlOne => "ttl_one",
            Boundary::TtlMax => "ttl_max",
            Boundary::TtlPastMax => "ttl_past_max",
            Boundary::BundleAtBound => "bundle_at_bound",
            Boundary::BundlePastBound => "bundle_past_bound",
            Boundary::TickAtDeadline => "tick_at_deadline",
            Boundary::TickBeforeDeadline => "tick_one_before_deadline",
            Boundary::ReuseAtWindowEnd => "reuse_at_last_window_slot",
            Boundary::ReuseAfterWindow => "reuse_first_slot_after_window",
            Boundary::LeaseReadBeforeRetirement => "lease_read_last_slot_before_retirement",
            Boundary::LeaseReadAtRetirement => "lease_read_at_retirement",
            Boundary::ReadFencedAtApplied => "read_fenced_at_applied",
            Boundary::ReadFencedPastApplied => "read_fenced_one_past_applied",
            Boundary::WriteAtLastSlot => "write_at_last_request_slot",
            Boundary::WritePastLastSlot => "write_one_past_last_request_slot",
            Boundary::StampAtLastRequestSlot => "stamp_at_last_request_slot",
            Boundary::StampBeforeLastRequestSlot => "stamp_one_before_last_request_slot",
            Boundary::DeadlineBehindClock => "reserve_deadline_behind_the_clock",
        }
    }
}

/// The bounds `action` meets at `slot`, the model as it was before it.
pub fn met(action: &Action, model: &Model, slot: Slot, hit: &mut impl FnMut(Boundary)) {
    let config = model.config();
    let last = last_request_slot(config);
    let writes = matches!(
        action,
        Action::Submit { .. } | Action::Retry { .. } | Action::Burst(_)
    ) || (matches!(action, Action::Tick)
        && !model.due_expirations(slot, 1).is_empty());
    if writes && slot.0 == last {
        hit(Boundary::WriteAtLastSlot);
    }
    if writes && slot.0 == last.saturating_add(1) {
        hit(Boundary::WritePastLastSlot);
    }
    match action {
        Action::Submit {
            operation,
            command,
            behind,
            ..
        } => {
            reuse(model, slot, *operation, hit);
            let stamp = slot.0.saturating_sub(*behind);
            let last_request = model.last_request_slot().0;
            if *behind > 0 && stamp == last_request {
                hit(Boundary::StampAtLastRequestSlot);
            }
            if *behind > 0 && stamp.checked_add(1) == Some(last_request) {
                hit(Boundary::StampBeforeLastRequestSlot);
            }
            if let SimCommand::Reserve { resources, ttl, .. } = command {
                if *behind > 0
                    && stamp >= last_request
                    && stamp
                        .checked_add(*ttl)
                        .is_some_and(|deadline| deadline < slot.0)
                {
                    hit(Boundary::DeadlineBehindClock);
                }
                let max_ttl = config.max_ttl_slots;
                for (value, boundary) in [
                    (0, Boundary::TtlZero),
                    (1, Boundary::TtlOne),
                    (max_ttl, Boundary::TtlMax),
                    (max_ttl.saturating_add(1), Boundary::TtlPastMax),
                ] {
                    if *ttl == value {
                        hit(boundary);
                    }
                }
                let bound = config.max_bundle_size as usize;
                if resources.len() == bound {
                    hit(Boundary::BundleAtBound);
                } else if resources.len() == bound + 1 {
                    hit(Boundary::BundlePastBound);
                }
            }
        }
        Action::Retry { operation } => reuse(model, slot, *operation, hit),
        Action::Tick => {
            let reserved = || model.leases().filter(|l| l.state == LeaseState::Reserved);
            if reserved().any(|l| l.deadline_slot == slot) {
                hit(Boundary::TickAtDeadline);
            }
            if reserved().any(|l| l.deadline_slot.0 == slot.0.saturating_add(1)) {
                hit(Boundary::TickBeforeDeadline);
            }
        }
        Action::ReadLease {
            lease,
            required_lsn,
        } => {
            fence(model, *required_lsn, hit);
            let retire = lease
                .id()
                .and_then(|id| model.get_lease(LeaseId(id)).ok())
                .and_then(|l| l.retire_after_slot);
            if let Some(retire) = retire {
                if slot.0.saturating_add(1) == retire.0 {
                    hit(Boundary::LeaseReadBeforeRetirement);
                }
                if slot == retire {
                    hit(Boundary::LeaseReadAtRetirement);
                }
            }
        }
        Action::ReadResource { required_lsn, .. } => fence(model, *required_lsn, hit),
        _ => {}
    }
}

/// An operation id sent again at its window's last slot or the first after.
fn reuse(model: &Model, slot: Slot, operation: u128, hit: &mut impl FnMut(Boundary)) {
    let Some(record) = model.get_operation(OperationId(operation)) else {
        return;
    };
    let retire = record.retire_after_slot.0;
    if slot.0.saturating_add(1) == retire {
        hit(Boundary::ReuseAtWindowEnd);
    }
    if slot.0 == retire {
        hit(Boundary::ReuseAfterWindow);
    }
}

/// A read fenced at the applied LSN or one past it (`required_lsn` as
/// resolved: a relative fence counts from the same applied LSN).
fn fence(model: &Model, required_lsn: Option<Fence>, hit: &mut impl FnMut(Boundary)) {
    let applied = model.last_applied_lsn().map_or(0, |lsn| lsn.0);
    let Some(required) = required_lsn
        .map(|f| f.resolve(applied))
        .and_then(Fence::lsn)
    else {
        return;
    };
    if required == applied {
        hit(Boundary::ReadFencedAtApplied);
    }
    if required == applied + 1 {
        hit(Boundary::ReadFencedPastApplied);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease_ref::LeaseRef;
    use allocdb_core::{ClientId, ClientRequest, Config, LogCommand, Lsn, OperationId};

    /// The small config: max ttl 32, bundles of 4, dedupe window 48.
    fn model_with(commands: &[(u64, SimCommand)]) -> Model {
        let mut model = Model::new(Config::small());
        for (i, (slot, command)) in commands.iter().enumerate() {
            let request = ClientRequest {
                operation_id: OperationId(i as u128 + 1),
                client_id: ClientId(1),
                command: command.to_command().unwrap(),
            };
            model
                .apply(Lsn(i as u64 + 1), Slot(*slot), &LogCommand::Client(request))
                .unwrap();
        }
        model
    }

    fn met_at(action: &Action, model: &Model, slot: u64) -> Vec<Boundary> {
        let mut hits = Vec::new();
        met(action, model, Slot(slot), &mut |b| hits.push(b));
        hits
    }

    fn reserve(resources: Vec<u128>, ttl: u64) -> SimCommand {
        SimCommand::Reserve {
            resources,
            holder: 7,
            ttl,
        }
    }

    fn submit(operation: u128, command: SimCommand) -> Action {
        Action::Submit {
            client: 1,
            operation,
            command,
            behind: 0,
        }
    }

    #[test]
    fn ttls_and_bundles_at_their_bounds_and_one_past() {
        let model = model_with(&[]);
        let at = |command| met_at(&submit(9, command), &model, 0);
        assert_eq!(at(reserve(vec![1], 0)), [Boundary::TtlZero]);
        assert_eq!(at(reserve(vec![1], 1)), [Boundary::TtlOne]);
        assert_eq!(at(reserve(vec![1], 32)), [Boundary::TtlMax]);
        assert_eq!(at(reserve(vec![1], 33)), [Boundary::TtlPastMax]);
        assert_eq!(at(reserve(vec![1], 2)), []);
        assert_eq!(at(reserve(vec![1, 2, 3, 4], 2)), [Boundary::BundleAtBound]);
        assert_eq!(
            at(reserve(vec![1, 2, 3, 4, 5], 2)),
            [Boundary::BundlePastBound]
        );
    }

    #[test]
    fn a_tick_at_a_deadline_and_one_slot_before() {
        // Reserved at slot 10 with ttl 5: deadline 15.
        let model = model_with(&[
            (10, SimCommand::CreateResource { resource: 1 }),
            (10, reserve(vec![1], 5)),
        ]);
        assert_eq!(
            met_at(&Action::Tick, &model, 15),
            [Boundary::TickAtDeadline]
        );
        assert_eq!(
            met_at(&Action::Tick, &model, 14),
            [Boundary::TickBeforeDeadline]
        );
        assert_eq!(met_at(&Action::Tick, &model, 13), []);
        assert_eq!(met_at(&Action::Tick, &model, 16), []);
    }

    #[test]
    fn an_operation_reused_at_its_window_end_and_the_slot_after() {
        // Operation 1 at slot 10: retires at 10 + 48 = 58.
        let model = model_with(&[(10, SimCommand::CreateResource { resource: 1 })]);
        let retry = Action::Retry { operation: 1 };
        assert_eq!(met_at(&retry, &model, 57), [Boundary::ReuseAtWindowEnd]);
        assert_eq!(met_at(&retry, &model, 58), [Boundary::ReuseAfterWindow]);
        assert_eq!(met_at(&retry, &model, 56), []);
        let conflict = submit(1, SimCommand::CreateResource { resource: 2 });
        assert_eq!(met_at(&conflict, &model, 58), [Boundary::ReuseAfterWindow]);
    }

    #[test]
    fn a_lease_read_before_and_at_retirement_and_fenced_reads() {
        // Lease 2 reserved at slot 10, released at 12: retires at 12 + 8.
        let model = model_with(&[
            (10, SimCommand::CreateResource { resource: 1 }),
            (10, reserve(vec![1], 5)),
            (
                12,
                SimCommand::Release {
                    lease: LeaseRef::Id(2),
                    holder: 7,
                    epoch: 1,
                },
            ),
        ]);
        let read = |required_lsn| Action::ReadLease {
            lease: LeaseRef::Id(2),
            required_lsn,
        };
        assert_eq!(
            met_at(&read(None), &model, 19),
            [Boundary::LeaseReadBeforeRetirement]
        );
        assert_eq!(
            met_at(&read(None), &model, 20),
            [Boundary::LeaseReadAtRetirement]
        );
        assert_eq!(
            met_at(&read(Some(Fence::Lsn(3))), &model, 0),
            [Boundary::ReadFencedAtApplied]
        );
        assert_eq!(
            met_at(&read(Some(Fence::Applied { plus: 1 })), &model, 0),
            [Boundary::ReadFencedPastApplied]
        );
        assert_eq!(met_at(&read(Some(Fence::Lsn(5))), &model, 0), []);
    }

    #[test]
    fn writes_at_the_last_request_slot_and_one_past() {
        let model = model_with(&[]);
        let last = u64::MAX - 48;
        let create = submit(1, SimCommand::CreateResource { resource: 1 });
        assert_eq!(met_at(&create, &model, last), [Boundary::WriteAtLastSlot]);
        assert_eq!(
            met_at(&create, &model, last + 1),
            [Boundary::WritePastLastSlot]
        );
        assert_eq!(met_at(&create, &model, last + 2), []);
        // A tick writes only when an expiry is due.
        assert_eq!(met_at(&Action::Tick, &model, last), []);
    }
}
