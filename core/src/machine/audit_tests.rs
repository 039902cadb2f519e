//! The audit is an oracle: each violation it names is produced here by one
//! deliberate corruption of an otherwise sound state, at the boundary where
//! the check must start to fire. Corruptions reach into the tables
//! directly; no command sequence can produce them.

use super::{InvariantViolation as V, StateMachine};
use crate::command::{Bundle, ClientRequest, Command, LogCommand};
use crate::config::Config;
use crate::ids::{ClientId, HolderId, LeaseEpoch, LeaseId, Lsn, OperationId, ResourceId, Slot};
use crate::outcome::Outcome;
use crate::record::{LeaseState, ResourceState};
use crate::table::MemberKey;

const HOLDER: HolderId = HolderId(9);

/// The leases of [`populated`], by what happened to them.
struct Leases {
    /// Reserved over resources 1 and 2.
    reserved: LeaseId,
    /// Active over resource 3.
    active: LeaseId,
    /// Released over resources 4 and 5 (terminal, not yet retired).
    released: LeaseId,
    /// Reserved over resource 6 by the last command.
    newest: LeaseId,
}

struct Driver {
    sm: StateMachine,
    lsn: u64,
}

impl Driver {
    fn new() -> Driver {
        Driver {
            sm: StateMachine::new(Config::small()).unwrap(),
            lsn: 0,
        }
    }

    fn run(&mut self, slot: u64, command: Command) -> Outcome {
        self.lsn += 1;
        let request = ClientRequest {
            operation_id: OperationId(u128::from(self.lsn)),
            client_id: ClientId(1),
            command,
        };
        let applied = self
            .sm
            .apply(Lsn(self.lsn), Slot(slot), &LogCommand::Client(request))
            .unwrap();
        applied.outcome
    }

    fn reserve(&mut self, slot: u64, ids: &[u128]) -> LeaseId {
        let ids: Vec<ResourceId> = ids.iter().map(|&id| ResourceId(id)).collect();
        let outcome = self.run(
            slot,
            Command::Reserve {
                resources: Bundle::from_slice(&ids).unwrap(),
                holder_id: HOLDER,
                ttl_slots: 5,
            },
        );
        match outcome {
            Outcome::Reserved { lease_id, .. } => lease_id,
            other => panic!("{other:?}"),
        }
    }

    fn create(&mut self, slot: u64, id: u128) {
        self.run(
            slot,
            Command::CreateResource {
                resource_id: ResourceId(id),
            },
        );
    }
}

/// Resources 1..=7 (7 stays available) and one lease in each kind of state.
/// The last command is a reserve, so a lease and an operation record were
/// made at exactly the last applied LSN.
fn populated() -> (StateMachine, Leases) {
    let mut d = Driver::new();
    for id in 1..=7 {
        d.create(1, id);
    }
    let reserved = d.reserve(2, &[1, 2]);
    let active = d.reserve(2, &[3]);
    let epoch = LeaseEpoch(1);
    d.run(
        2,
        Command::Activate {
            lease_id: active,
            holder_id: HOLDER,
            lease_epoch: epoch,
        },
    );
    let released = d.reserve(2, &[4, 5]);
    d.run(
        3,
        Command::Release {
            lease_id: released,
            holder_id: HOLDER,
            lease_epoch: epoch,
        },
    );
    let newest = d.reserve(3, &[6]);
    assert_eq!(newest.lsn(), Lsn(d.lsn));
    d.sm.check_invariants().unwrap();
    let leases = Leases {
        reserved,
        active,
        released,
        newest,
    };
    (d.sm, leases)
}

/// One resource created at slot 1: a single operation record, no leases.
fn one_operation() -> StateMachine {
    let mut d = Driver::new();
    d.create(1, 1);
    d.sm.check_invariants().unwrap();
    d.sm
}

fn violation(sm: &StateMachine) -> V {
    sm.check_invariants()
        .expect_err("the corruption is noticed")
}

fn last(sm: &StateMachine) -> Lsn {
    sm.last_applied_lsn
}

#[test]
fn resources_point_at_live_leases_that_list_them_in_the_matching_state() {
    let (mut sm, l) = populated();
    let r1 = ResourceId(1);
    sm.resource_mut(r1).unwrap().current_lease_id = None;
    assert_eq!(
        violation(&sm),
        V::AvailabilityMismatch {
            resource: r1,
            state: ResourceState::Reserved,
            lease: None
        }
    );

    let (mut sm, _) = populated();
    sm.resource_mut(r1).unwrap().state = ResourceState::Available;
    assert!(matches!(
        violation(&sm),
        V::AvailabilityMismatch {
            state: ResourceState::Available,
            lease: Some(_),
            ..
        }
    ));

    let (mut sm, _) = populated();
    sm.resource_mut(r1).unwrap().state = ResourceState::Active;
    assert_eq!(
        violation(&sm),
        V::StateMismatch {
            resource: r1,
            resource_state: ResourceState::Active,
            lease: l.reserved,
            lease_state: LeaseState::Reserved
        }
    );

    // Resource 7 is free; point it at a terminal, a missing and a live
    // lease that does not list it.
    let r7 = ResourceId(7);
    let claim = |sm: &mut StateMachine, lease| {
        let resource = sm.resource_mut(r7).unwrap();
        resource.state = ResourceState::Reserved;
        resource.current_lease_id = Some(lease);
    };
    for lease in [l.released, LeaseId(9_999)] {
        let (mut sm, _) = populated();
        claim(&mut sm, lease);
        assert_eq!(
            violation(&sm),
            V::ResourceLeaseNotLive {
                resource: r7,
                lease
            }
        );
    }
    let (mut sm, _) = populated();
    claim(&mut sm, l.reserved);
    assert_eq!(
        violation(&sm),
        V::ResourceNotMember {
            resource: r7,
            lease: l.reserved
        }
    );
}

#[test]
fn versions_stay_below_the_count_of_commands() {
    // Creation takes a command and leaves version 0, so a version equal to
    // the last applied LSN is already one change too many.
    let (mut sm, _) = populated();
    let r1 = ResourceId(1);
    sm.resource_mut(r1).unwrap().version = last(&sm).0 - 1;
    sm.check_invariants().unwrap();
    sm.resource_mut(r1).unwrap().version = last(&sm).0;
    assert_eq!(
        violation(&sm),
        V::VersionAhead {
            resource: r1,
            version: last(&sm).0,
            last: last(&sm)
        }
    );
}

#[test]
fn lease_records_are_consistent_with_their_id_epoch_and_lsn() {
    let (mut sm, l) = populated();
    sm.lease_mut(l.reserved).unwrap().lease_epoch = LeaseEpoch(0);
    assert_eq!(violation(&sm), V::EpochZero { lease: l.reserved });

    let (mut sm, l) = populated();
    let future = Lsn(last(&sm).0 + 1);
    sm.lease_mut(l.newest).unwrap().created_lsn = future;
    assert_eq!(
        violation(&sm),
        V::FutureLsn {
            lsn: future,
            last: last(&sm)
        }
    );

    let (mut sm, l) = populated();
    let earlier = Lsn(l.reserved.lsn().0 - 1);
    sm.lease_mut(l.reserved).unwrap().created_lsn = earlier;
    assert_eq!(
        violation(&sm),
        V::LeaseIdMismatch {
            lease: l.reserved,
            created: earlier
        }
    );

    let (mut sm, l) = populated();
    sm.lease_mut(l.released).unwrap().retire_after_slot = None;
    assert_eq!(
        violation(&sm),
        V::RetireSlot {
            lease: l.released,
            state: LeaseState::Released,
            retire_after: None
        }
    );
    let (mut sm, l) = populated();
    sm.lease_mut(l.active).unwrap().retire_after_slot = Some(Slot(50));
    assert_eq!(
        violation(&sm),
        V::RetireSlot {
            lease: l.active,
            state: LeaseState::Active,
            retire_after: Some(Slot(50))
        }
    );
}

#[test]
fn bundles_are_complete_distinct_bounded_and_held() {
    let bundle = |sm: &StateMachine, lease, ordinal| {
        assert_eq!(violation(sm), V::BadBundle { lease, ordinal });
    };
    let (mut sm, l) = populated();
    sm.lease_mut(l.released).unwrap().member_count = 0;
    bundle(&sm, l.released, 0);

    let (mut sm, l) = populated();
    let over = Config::small().max_bundle_size as u8 + 1;
    sm.lease_mut(l.released).unwrap().member_count = over;
    bundle(&sm, l.released, over);

    // Within the bound, but ordinal 2 was never written.
    let (mut sm, l) = populated();
    sm.lease_mut(l.released).unwrap().member_count = 3;
    bundle(&sm, l.released, 2);

    let (mut sm, l) = populated();
    let second = MemberKey {
        lease_id: l.released,
        ordinal: 1,
    };
    *sm.members.get_mut(&second).unwrap() = ResourceId(4);
    bundle(&sm, l.released, 1);

    // The first member lives in the lease record itself.
    let (mut sm, l) = populated();
    sm.lease_mut(l.released).unwrap().first_member = ResourceId(5);
    bundle(&sm, l.released, 1);
    let (mut sm, l) = populated();
    sm.lease_mut(l.reserved).unwrap().first_member = ResourceId(7);
    assert_eq!(
        violation(&sm),
        V::ResourceNotMember {
            resource: ResourceId(1),
            lease: l.reserved
        }
    );

    // A live lease's member that is gone from the resource table.
    let (mut sm, l) = populated();
    assert!(sm.resources.remove(&ResourceId(2)));
    assert_eq!(
        violation(&sm),
        V::MemberNotHeld {
            lease: l.reserved,
            resource: ResourceId(2)
        }
    );

    // A member record no lease lists.
    let (mut sm, l) = populated();
    let members = sm.members.len();
    let orphan = MemberKey {
        lease_id: l.active,
        ordinal: 1,
    };
    sm.members.insert(orphan, ResourceId(7)).unwrap();
    assert_eq!(
        violation(&sm),
        V::MemberCount {
            members: members + 1,
            listed: u64::from(members)
        }
    );

    // The count of every lease's members, which the member bound is
    // checked against.
    let (mut sm, _) = populated();
    let counted = sm.lease_members;
    assert_eq!(counted, 6, "the populated leases list 6 members");
    sm.lease_members += 1;
    assert_eq!(
        violation(&sm),
        V::MemberTotal {
            counted: counted + 1,
            listed: u64::from(counted)
        }
    );
}

#[test]
fn the_expiry_index_holds_exactly_the_reserved_leases_at_their_deadlines() {
    let (mut sm, l) = populated();
    let deadline = sm.leases.get(&l.reserved).unwrap().deadline_slot;
    assert!(sm.wheel.remove(deadline, l.reserved));
    assert_eq!(violation(&sm), V::ExpiryMissing { lease: l.reserved });

    let (mut sm, l) = populated();
    sm.wheel.insert(Slot(6), l.active).unwrap();
    assert_eq!(
        violation(&sm),
        V::ExpiryStale {
            lease: l.active,
            deadline: Slot(6)
        }
    );

    // The right lease at the wrong deadline, beside the right entry.
    let (mut sm, l) = populated();
    let wrong = Slot(deadline.0 + 1);
    sm.wheel.insert(wrong, l.reserved).unwrap();
    assert_eq!(
        violation(&sm),
        V::ExpiryStale {
            lease: l.reserved,
            deadline: wrong
        }
    );
}

#[test]
fn table_and_wheel_structure_are_audited() {
    let table = |sm: &StateMachine| match violation(sm) {
        V::Table { table, .. } => table,
        other => panic!("not a table fault: {other:?}"),
    };
    let (mut sm, _) = populated();
    sm.resources.corrupt_len();
    assert_eq!(table(&sm), "resource");
    let (mut sm, _) = populated();
    sm.leases.corrupt_len();
    assert_eq!(table(&sm), "lease");
    let (mut sm, _) = populated();
    sm.members.corrupt_len();
    assert_eq!(table(&sm), "lease member");
    let (mut sm, _) = populated();
    sm.operations.corrupt_len();
    assert_eq!(table(&sm), "operation");
    let (mut sm, _) = populated();
    sm.wheel.corrupt_len();
    assert!(matches!(violation(&sm), V::ExpiryStructure(_)));
}

#[test]
fn the_lease_retirement_queue_holds_exactly_the_retirable_leases() {
    // One entry too many.
    let (mut sm, l) = populated();
    sm.lease_retirement.push(Slot(1_000), l.active);
    assert_eq!(
        violation(&sm),
        V::RetirementQueue {
            queue: "lease",
            queued: 2,
            expected: 1
        }
    );
    // The right count, the wrong lease.
    let (mut sm, l) = populated();
    let retire = sm.lease_retirement.pop_due(Slot(u64::MAX)).unwrap();
    assert_eq!(retire, l.released);
    let slot = sm
        .leases
        .get(&l.released)
        .unwrap()
        .retire_after_slot
        .unwrap();
    sm.lease_retirement.push(slot, l.active);
    assert!(matches!(
        violation(&sm),
        V::RetirementQueue { queue: "lease", .. }
    ));
    // The right lease, the wrong slot.
    let (mut sm, _) = populated();
    let retire = sm.lease_retirement.pop_due(Slot(u64::MAX)).unwrap();
    sm.lease_retirement.push(Slot(slot.0 + 1), retire);
    assert!(matches!(
        violation(&sm),
        V::RetirementQueue { queue: "lease", .. }
    ));
}

/// Retirement removes operation records from the front of their store
/// only, so the store must hold them in apply order, and that order must
/// be retirement order.
#[test]
fn operation_records_are_held_in_apply_order_which_is_retirement_order() {
    let (sm, _) = populated();
    let held: Vec<(OperationId, Lsn, Slot)> = sm
        .operations
        .iter()
        .map(|(&id, o)| (id, o.applied_lsn, o.retire_after_slot))
        .collect();
    assert!(held.len() >= 3);
    assert!(held.windows(2).all(|w| w[0].1 < w[1].1 && w[0].2 <= w[1].2));

    // Applied at the same LSN as the record before it.
    let (mut sm, _) = populated();
    let ((_, first_lsn, first_retire), (second, _, second_retire)) = (held[0], held[1]);
    sm.operations.get_mut(&second).unwrap().applied_lsn = first_lsn;
    assert_eq!(
        violation(&sm),
        V::OperationOrder {
            operation: second,
            applied_lsn: first_lsn,
            retire_after: second_retire,
            previous_lsn: first_lsn,
            previous_retire_after: first_retire,
        }
    );

    // Retiring before the record before it.
    let (mut sm, _) = populated();
    let (_, before_lsn, before_retire) = held[held.len() - 2];
    let (newest, newest_lsn, _) = held[held.len() - 1];
    let early = Slot(before_retire.0 - 1);
    sm.operations.get_mut(&newest).unwrap().retire_after_slot = early;
    assert_eq!(
        violation(&sm),
        V::OperationOrder {
            operation: newest,
            applied_lsn: newest_lsn,
            retire_after: early,
            previous_lsn: before_lsn,
            previous_retire_after: before_retire,
        }
    );
}

#[test]
fn nothing_outlives_its_retire_slot() {
    let (mut sm, l) = populated();
    let retire = sm
        .leases
        .get(&l.released)
        .unwrap()
        .retire_after_slot
        .unwrap();
    sm.last_request_slot = Slot(retire.0 - 1);
    sm.check_invariants().unwrap();
    sm.last_request_slot = retire;
    assert_eq!(
        violation(&sm),
        V::LeaseOverdue {
            lease: l.released,
            retire_after: retire,
            now: retire
        }
    );

    let mut sm = one_operation();
    let (&id, operation) = sm.operations.iter().next().unwrap();
    let retire = operation.retire_after_slot;
    sm.last_request_slot = Slot(retire.0 - 1);
    sm.check_invariants().unwrap();
    sm.last_request_slot = retire;
    assert_eq!(
        violation(&sm),
        V::OperationOverdue {
            operation: id,
            retire_after: retire,
            now: retire
        }
    );
}

#[test]
fn retire_slots_are_at_most_one_window_ahead() {
    // A lease may retire exactly one history window after the last slot.
    let (mut sm, l) = populated();
    let window = sm.config.history_window_slots;
    let latest = Slot(sm.last_request_slot.0 + window);
    let set_lease_retire = |sm: &mut StateMachine, slot| {
        sm.lease_mut(l.released).unwrap().retire_after_slot = Some(slot);
        sm.lease_retirement.pop_due(Slot(u64::MAX)).unwrap();
        sm.lease_retirement.push(slot, l.released);
    };
    set_lease_retire(&mut sm, latest);
    sm.check_invariants().unwrap();
    set_lease_retire(&mut sm, Slot(latest.0 + 1));
    assert_eq!(
        violation(&sm),
        V::RetireTooLate {
            record: "a lease",
            retire_after: Slot(latest.0 + 1),
            latest
        }
    );

    let mut sm = one_operation();
    let window = sm.config.dedupe_window_slots();
    let latest = Slot(sm.last_request_slot.0 + window);
    let id = OperationId(1);
    let set_operation_retire = |sm: &mut StateMachine, slot| {
        sm.operations.get_mut(&id).unwrap().retire_after_slot = slot;
    };
    set_operation_retire(&mut sm, latest);
    sm.check_invariants().unwrap();
    set_operation_retire(&mut sm, Slot(latest.0 + 1));
    assert_eq!(
        violation(&sm),
        V::RetireTooLate {
            record: "an operation record",
            retire_after: Slot(latest.0 + 1),
            latest
        }
    );
}

#[test]
fn operation_records_are_not_from_the_future() {
    // The newest record was applied at exactly the last LSN: allowed.
    let (mut sm, l) = populated();
    let newest = OperationId(u128::from(l.newest.lsn().0));
    assert_eq!(sm.operations.get(&newest).unwrap().applied_lsn, last(&sm));
    let future = Lsn(last(&sm).0 + 1);
    sm.operations.get_mut(&newest).unwrap().applied_lsn = future;
    assert_eq!(
        violation(&sm),
        V::FutureLsn {
            lsn: future,
            last: last(&sm)
        }
    );
}

#[test]
fn a_change_the_running_digest_was_not_told_of_is_a_drift() {
    let (mut sm, _) = populated();
    let running = sm.digest();
    sm.check_invariants().unwrap();
    // Written past `resource_mut`, so no change is noted.
    let r1 = ResourceId(1);
    sm.resources.get_mut(&r1).unwrap().version = last(&sm).0 - 1;
    let recomputed = sm.digest_recomputed();
    assert_ne!(running, recomputed);
    assert_eq!(
        violation(&sm),
        V::DigestDrift {
            running,
            recomputed
        }
    );
    // Told of it, the running digest catches up.
    sm.resource_mut(r1).unwrap();
    assert_eq!(sm.digest(), recomputed);
    sm.check_invariants().unwrap();
}
