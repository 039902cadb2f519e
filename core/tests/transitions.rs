//! Every legal and illegal transition of every command, each result code,
//! capacity edges and the exact window boundaries, against the real state
//! machine. Semantics: docs/semantics.md.

use allocdb_core::{
    Applied, ApplyError, Bundle, ClientId, ClientRequest, Command, Config, DueExpiry, HolderId,
    LeaseEpoch, LeaseId, LeaseState, LogCommand, Lsn, OperationId, Outcome, ResourceId,
    ResourceState, ResultCode, Slot, StateMachine, Usage,
};
use std::collections::BTreeSet;

const ALICE: HolderId = HolderId(1);
const BOB: HolderId = HolderId(2);

/// Drives a state machine with consecutive LSNs and a settable slot, and
/// records every result code it sees.
struct Harness {
    sm: StateMachine,
    lsn: u64,
    slot: u64,
    next_operation: u128,
    seen: BTreeSet<ResultCode>,
}

impl Harness {
    fn new(config: Config) -> Harness {
        Harness {
            sm: StateMachine::new(config).expect("valid config"),
            lsn: 0,
            slot: 0,
            next_operation: 1,
            seen: BTreeSet::new(),
        }
    }

    fn apply(&mut self, command: LogCommand) -> Applied {
        self.lsn += 1;
        let applied = self
            .sm
            .apply(Lsn(self.lsn), Slot(self.slot), &command)
            .expect("in-order apply");
        self.sm.check_invariants().expect("invariants hold");
        self.seen.insert(applied.outcome.code());
        applied
    }

    fn request(&mut self, operation_id: u128, command: Command) -> Applied {
        self.apply(LogCommand::Client(ClientRequest {
            operation_id: OperationId(operation_id),
            client_id: ClientId(7),
            command,
        }))
    }

    /// A client command under a fresh operation id.
    fn run(&mut self, command: Command) -> Outcome {
        let id = self.next_operation;
        self.next_operation += 1;
        let applied = self.request(id, command);
        assert!(!applied.from_retry_cache);
        applied.outcome
    }

    fn create(&mut self, id: u128) -> Outcome {
        self.run(Command::CreateResource {
            resource_id: ResourceId(id),
        })
    }

    fn reserve(&mut self, ids: &[u128], holder: HolderId, ttl: u64) -> Outcome {
        let ids: Vec<ResourceId> = ids.iter().map(|&i| ResourceId(i)).collect();
        self.run(Command::Reserve {
            resources: Bundle::from_slice(&ids).unwrap(),
            holder_id: holder,
            ttl_slots: ttl,
        })
    }

    /// Reserve that must succeed; returns the lease id.
    fn lease(&mut self, ids: &[u128], holder: HolderId, ttl: u64) -> LeaseId {
        match self.reserve(ids, holder, ttl) {
            Outcome::Reserved { lease_id, .. } => lease_id,
            other => panic!("reserve failed: {other:?}"),
        }
    }

    fn activate(&mut self, lease: LeaseId, holder: HolderId, epoch: u64) -> Outcome {
        self.run(Command::Activate {
            lease_id: lease,
            holder_id: holder,
            lease_epoch: LeaseEpoch(epoch),
        })
    }

    fn release(&mut self, lease: LeaseId, holder: HolderId, epoch: u64) -> Outcome {
        self.run(Command::Release {
            lease_id: lease,
            holder_id: holder,
            lease_epoch: LeaseEpoch(epoch),
        })
    }

    fn revoke(&mut self, lease: LeaseId) -> Outcome {
        self.run(Command::Revoke { lease_id: lease })
    }

    fn reclaim(&mut self, lease: LeaseId) -> Outcome {
        self.run(Command::Reclaim { lease_id: lease })
    }

    fn expire(&mut self, lease: LeaseId, deadline: u64) -> Outcome {
        self.apply(LogCommand::Expire {
            lease_id: lease,
            deadline_slot: Slot(deadline),
        })
        .outcome
    }

    /// The maintenance tick: commit one expire per due lease.
    fn tick(&mut self) -> Vec<LeaseId> {
        let mut due = [DueExpiry {
            deadline_slot: Slot(0),
            lease_id: LeaseId(0),
        }; 64];
        let n = self.sm.due_expirations(Slot(self.slot), &mut due);
        let mut expired = Vec::new();
        for entry in &due[..n] {
            let outcome = self.expire(entry.lease_id, entry.deadline_slot.0);
            assert!(matches!(outcome, Outcome::Expired { .. }), "{outcome:?}");
            expired.push(entry.lease_id);
        }
        expired
    }

    fn resource_state(&self, id: u128) -> ResourceState {
        self.sm.get_resource(ResourceId(id)).unwrap().state
    }

    fn lease_state(&self, lease: LeaseId) -> LeaseState {
        self.sm.get_lease(lease).unwrap().state
    }
}

fn rejected(code: ResultCode) -> Outcome {
    Outcome::Rejected(code)
}

fn small() -> Harness {
    Harness::new(Config::small())
}

#[test]
fn create_resource_and_duplicates() {
    let mut h = small();
    assert_eq!(h.create(1), Outcome::ResourceCreated);
    assert_eq!(h.create(1), rejected(ResultCode::AlreadyExists));
    let r = h.sm.get_resource(ResourceId(1)).unwrap();
    assert_eq!(
        (r.state, r.current_lease_id, r.version),
        (ResourceState::Available, None, 0)
    );
}

#[test]
fn reserve_validation_order() {
    let mut h = small(); // max_bundle_size 4, max_ttl 32
    for id in 1..=6 {
        h.create(id);
    }
    assert_eq!(
        h.reserve(&[], ALICE, 5),
        rejected(ResultCode::InvalidRequest)
    );
    // Too large wins over duplicates.
    assert_eq!(
        h.reserve(&[1, 1, 2, 3, 4], ALICE, 5),
        rejected(ResultCode::BundleTooLarge)
    );
    assert_eq!(
        h.reserve(&[1, 2, 1], ALICE, 5),
        rejected(ResultCode::InvalidRequest)
    );
    // Duplicates win over a bad ttl.
    assert_eq!(
        h.reserve(&[1, 1], ALICE, 0),
        rejected(ResultCode::InvalidRequest)
    );
    assert_eq!(
        h.reserve(&[1], ALICE, 0),
        rejected(ResultCode::TtlOutOfRange)
    );
    assert_eq!(
        h.reserve(&[1], ALICE, 33),
        rejected(ResultCode::TtlOutOfRange)
    );
    // Bad ttl wins over a missing resource.
    assert_eq!(
        h.reserve(&[99], ALICE, 33),
        rejected(ResultCode::TtlOutOfRange)
    );
    assert_eq!(
        h.reserve(&[1, 99], ALICE, 5),
        rejected(ResultCode::ResourceNotFound)
    );
    let held = h.lease(&[2], BOB, 5);
    // Not-found wins over busy, wherever they stand in the bundle.
    assert_eq!(
        h.reserve(&[2, 99], ALICE, 5),
        rejected(ResultCode::ResourceNotFound)
    );
    assert_eq!(
        h.reserve(&[1, 2], ALICE, 5),
        rejected(ResultCode::ResourceBusy)
    );
    // A failed bundle is all or nothing: resource 1 is still free.
    assert_eq!(h.resource_state(1), ResourceState::Available);
    assert_eq!(
        h.sm.get_lease(held).unwrap().members.as_slice(),
        &[ResourceId(2)]
    );
}

#[test]
fn reserve_success_fields_and_max_ttl() {
    let mut h = small();
    for id in 1..=4 {
        h.create(id);
    }
    h.slot = 10;
    let outcome = h.reserve(&[3, 1, 4, 2], ALICE, 32);
    let lease_id = LeaseId::new(0, Lsn(h.lsn));
    assert_eq!(
        outcome,
        Outcome::Reserved {
            lease_id,
            lease_epoch: LeaseEpoch(1),
            deadline_slot: Slot(42)
        }
    );
    let lease = h.sm.get_lease(lease_id).unwrap();
    assert_eq!(lease.state, LeaseState::Reserved);
    assert_eq!(lease.holder_id, ALICE);
    assert_eq!(lease.created_lsn, Lsn(h.lsn));
    assert_eq!(lease.retire_after_slot, None);
    let order: Vec<u128> = lease.members.as_slice().iter().map(|r| r.0).collect();
    assert_eq!(order, vec![3, 1, 4, 2], "members keep the client's order");
    for id in 1..=4 {
        let r = h.sm.get_resource(ResourceId(id)).unwrap();
        assert_eq!(r.state, ResourceState::Reserved);
        assert_eq!(r.current_lease_id, Some(lease_id));
        assert_eq!(r.version, 1);
    }
}

#[test]
fn lease_ids_carry_the_shard() {
    let mut h = Harness::new(Config {
        shard_id: 5,
        ..Config::small()
    });
    h.create(1);
    let lease = h.lease(&[1], ALICE, 3);
    assert_eq!(lease.shard_id(), 5);
    assert_eq!(lease.lsn(), Lsn(2));
}

#[test]
fn activate_transitions() {
    let mut h = small();
    h.create(1);
    let lease = h.lease(&[1], ALICE, 5);
    assert_eq!(
        h.activate(lease, BOB, 1),
        rejected(ResultCode::HolderMismatch)
    );
    assert_eq!(
        h.activate(lease, ALICE, 2),
        rejected(ResultCode::StaleEpoch)
    );
    assert_eq!(
        h.activate(lease, ALICE, 1),
        Outcome::Activated {
            lease_id: lease,
            lease_epoch: LeaseEpoch(1)
        }
    );
    assert_eq!(h.lease_state(lease), LeaseState::Active);
    assert_eq!(h.resource_state(1), ResourceState::Active);
    // Active leases never expire by time: they leave the expiry index.
    h.slot = 100;
    assert!(h.tick().is_empty());
    assert_eq!(
        h.activate(lease, ALICE, 1),
        rejected(ResultCode::InvalidState)
    );
    assert_eq!(
        h.revoke(lease),
        Outcome::Revoked {
            lease_id: lease,
            lease_epoch: LeaseEpoch(2)
        }
    );
    assert_eq!(
        h.activate(lease, ALICE, 2),
        rejected(ResultCode::InvalidState)
    );
    assert_eq!(
        h.activate(LeaseId::new(0, Lsn(999)), ALICE, 1),
        rejected(ResultCode::LeaseNotFound)
    );
}

#[test]
fn overdue_reserved_lease_can_still_be_activated() {
    let mut h = small();
    h.create(1);
    let lease = h.lease(&[1], ALICE, 2);
    h.slot = 50;
    assert!(matches!(
        h.activate(lease, ALICE, 1),
        Outcome::Activated { .. }
    ));
    assert!(h.tick().is_empty());
}

#[test]
fn release_transitions() {
    let mut h = small();
    h.create(1);
    h.create(2);
    let reserved = h.lease(&[1], ALICE, 5);
    assert_eq!(
        h.release(reserved, BOB, 1),
        rejected(ResultCode::HolderMismatch)
    );
    assert_eq!(
        h.release(reserved, ALICE, 1),
        Outcome::Released {
            lease_id: reserved,
            lease_epoch: LeaseEpoch(2)
        }
    );
    assert_eq!(h.resource_state(1), ResourceState::Available);
    assert_eq!(
        h.sm.get_resource(ResourceId(1)).unwrap().current_lease_id,
        None
    );
    // The stale holder gets stale_epoch; with the new epoch, invalid_state.
    assert_eq!(
        h.release(reserved, ALICE, 1),
        rejected(ResultCode::StaleEpoch)
    );
    assert_eq!(
        h.release(reserved, ALICE, 2),
        rejected(ResultCode::InvalidState)
    );
    // A released lease left the expiry index.
    h.slot = 10;
    assert!(h.tick().is_empty());

    let active = h.lease(&[2], ALICE, 5);
    h.activate(active, ALICE, 1);
    assert!(matches!(
        h.release(active, ALICE, 1),
        Outcome::Released { .. }
    ));
    let revoking = h.lease(&[2], ALICE, 5);
    h.activate(revoking, ALICE, 1);
    h.revoke(revoking);
    assert_eq!(
        h.release(revoking, ALICE, 2),
        rejected(ResultCode::InvalidState)
    );
    assert_eq!(
        h.release(revoking, ALICE, 1),
        rejected(ResultCode::StaleEpoch)
    );
}

#[test]
fn revoke_and_reclaim_transitions() {
    let mut h = small();
    h.create(1);
    let lease = h.lease(&[1], ALICE, 5);
    assert_eq!(
        h.revoke(lease),
        rejected(ResultCode::InvalidState),
        "reserved cannot be revoked"
    );
    assert_eq!(h.reclaim(lease), rejected(ResultCode::InvalidState));
    h.activate(lease, ALICE, 1);
    assert_eq!(
        h.reclaim(lease),
        rejected(ResultCode::InvalidState),
        "active cannot be reclaimed"
    );
    assert!(matches!(h.revoke(lease), Outcome::Revoked { .. }));
    assert_eq!(h.resource_state(1), ResourceState::Revoking);
    // Revoking keeps the resource unusable.
    assert_eq!(h.reserve(&[1], BOB, 5), rejected(ResultCode::ResourceBusy));
    assert_eq!(h.revoke(lease), rejected(ResultCode::InvalidState));
    // The old holder is fenced off.
    assert_eq!(h.release(lease, ALICE, 1), rejected(ResultCode::StaleEpoch));
    assert_eq!(h.reclaim(lease), Outcome::Reclaimed { lease_id: lease });
    let record = h.sm.get_lease(lease).unwrap();
    assert_eq!(
        (record.state, record.lease_epoch),
        (LeaseState::Revoked, LeaseEpoch(2))
    );
    assert_eq!(h.resource_state(1), ResourceState::Available);
    assert_eq!(h.reclaim(lease), rejected(ResultCode::InvalidState));
    assert_eq!(h.revoke(lease), rejected(ResultCode::InvalidState));
    assert!(matches!(h.reserve(&[1], BOB, 5), Outcome::Reserved { .. }));
}

#[test]
fn expire_only_reserved_at_its_deadline() {
    let mut h = small();
    for id in 1..=3 {
        h.create(id);
    }
    h.slot = 1;
    let lease = h.lease(&[1, 2], ALICE, 4); // deadline 5
    h.slot = 4;
    assert!(h.tick().is_empty(), "nothing due before the deadline");
    assert_eq!(
        h.expire(lease, 5),
        rejected(ResultCode::Noop),
        "deadline in the future"
    );
    h.slot = 5;
    assert_eq!(
        h.expire(lease, 4),
        rejected(ResultCode::Noop),
        "wrong deadline"
    );
    assert_eq!(
        h.resource_state(1),
        ResourceState::Reserved,
        "crossing a deadline frees nothing"
    );
    assert_eq!(h.tick(), vec![lease], "expiry at exactly the deadline slot");
    let record = h.sm.get_lease(lease).unwrap();
    assert_eq!(
        (record.state, record.lease_epoch),
        (LeaseState::Expired, LeaseEpoch(2))
    );
    assert_eq!(h.resource_state(1), ResourceState::Available);
    assert_eq!(h.resource_state(2), ResourceState::Available);
    assert_eq!(
        h.expire(lease, 5),
        rejected(ResultCode::Noop),
        "terminal never expires again"
    );
    assert_eq!(
        h.activate(lease, ALICE, 1),
        rejected(ResultCode::StaleEpoch)
    );
    assert_eq!(
        h.activate(lease, ALICE, 2),
        rejected(ResultCode::InvalidState)
    );
    // Active leases never expire.
    let active = h.lease(&[3], ALICE, 1);
    h.activate(active, ALICE, 1);
    h.slot = 7;
    assert_eq!(h.expire(active, 6), rejected(ResultCode::Noop));
    assert_eq!(
        h.expire(LeaseId::new(0, Lsn(777)), 6),
        rejected(ResultCode::Noop)
    );
}

#[test]
fn tick_is_bounded_and_earliest_deadline_first() {
    let mut h = Harness::new(Config {
        max_expirations_per_tick: 2,
        ..Config::small()
    });
    for id in 1..=5 {
        h.create(id);
    }
    let late = h.lease(&[1], ALICE, 3);
    let early_b = h.lease(&[2], ALICE, 1);
    let early_a = h.lease(&[3], ALICE, 1);
    let middle = h.lease(&[4], ALICE, 2);
    h.slot = 10;
    assert_eq!(
        h.tick(),
        vec![early_b, early_a],
        "deadline 1 first, then by lease id"
    );
    assert_eq!(h.tick(), vec![middle, late]);
    assert!(h.tick().is_empty());
    assert_eq!(h.sm.health(Slot(10)).expiry_backlog, 0);
}

#[test]
fn terminal_leases_never_become_live() {
    let mut h = small();
    h.create(1);
    let lease = h.lease(&[1], ALICE, 5);
    h.release(lease, ALICE, 1);
    for epoch in 1..=3 {
        for holder in [ALICE, BOB] {
            assert!(!h.activate(lease, holder, epoch).is_success());
            assert!(!h.release(lease, holder, epoch).is_success());
        }
    }
    assert!(!h.revoke(lease).is_success());
    assert!(!h.reclaim(lease).is_success());
    assert_eq!(h.lease_state(lease), LeaseState::Released);
}

#[test]
fn idempotent_retry_conflict_and_table_full() {
    let mut h = Harness::new(Config {
        max_operations: 3,
        ..Config::small()
    });
    let create = Command::CreateResource {
        resource_id: ResourceId(1),
    };
    let first = h.request(100, create);
    assert_eq!(
        (first.outcome, first.from_retry_cache),
        (Outcome::ResourceCreated, false)
    );
    let retry = h.request(100, create);
    assert_eq!(
        (retry.outcome, retry.from_retry_cache),
        (Outcome::ResourceCreated, true)
    );
    // A retry that executed again would say already_exists.
    let conflict = h.request(
        100,
        Command::CreateResource {
            resource_id: ResourceId(2),
        },
    );
    assert_eq!(conflict.outcome, rejected(ResultCode::OperationConflict));
    assert!(
        h.sm.get_resource(ResourceId(2)).is_none(),
        "a conflict executes nothing"
    );
    // Failures are stored and replayed too.
    let failed = h.request(101, create);
    assert_eq!(failed.outcome, rejected(ResultCode::AlreadyExists));
    assert!(h.request(101, create).from_retry_cache);
    // A different client with the same operation id is a different command.
    let other_client = h.apply(LogCommand::Client(ClientRequest {
        operation_id: OperationId(100),
        client_id: ClientId(8),
        command: create,
    }));
    assert_eq!(
        other_client.outcome,
        rejected(ResultCode::OperationConflict)
    );
    h.request(
        102,
        Command::CreateResource {
            resource_id: ResourceId(3),
        },
    );
    let full = h.request(
        103,
        Command::CreateResource {
            resource_id: ResourceId(4),
        },
    );
    assert_eq!(full.outcome, rejected(ResultCode::OperationTableFull));
    assert!(
        h.sm.get_resource(ResourceId(4)).is_none(),
        "nothing executes when full"
    );
    assert!(h.sm.get_operation(OperationId(103)).is_none());
}

#[test]
fn dedupe_window_expires_at_exactly_the_boundary_slot() {
    let config = Config::small(); // dedupe window = 32 + 16 = 48
    let window = config.dedupe_window_slots();
    let mut h = Harness::new(config);
    h.slot = 5;
    let create = Command::CreateResource {
        resource_id: ResourceId(1),
    };
    h.request(100, create);
    let record = h.sm.get_operation(OperationId(100)).unwrap();
    assert_eq!(record.retire_after_slot, Slot(5 + window));
    h.slot = 5 + window - 1;
    assert!(
        h.request(100, create).from_retry_cache,
        "last slot of the window"
    );
    h.slot = 5 + window;
    let fresh = h.request(100, create);
    assert!(
        !fresh.from_retry_cache,
        "retired at exactly retire_after_slot"
    );
    assert_eq!(
        fresh.outcome,
        rejected(ResultCode::AlreadyExists),
        "executes afresh"
    );
}

#[test]
fn history_window_retires_at_exactly_the_boundary_slot() {
    let config = Config::small(); // history window 8
    let mut h = Harness::new(config);
    h.create(1);
    h.slot = 3;
    let lease = h.lease(&[1], ALICE, 5);
    h.release(lease, ALICE, 1);
    assert_eq!(
        h.sm.get_lease(lease).unwrap().retire_after_slot,
        Some(Slot(11))
    );
    h.slot = 10;
    h.create(50); // any command applies retirement
    assert_eq!(
        h.lease_state(lease),
        LeaseState::Released,
        "readable through slot 10"
    );
    h.slot = 11;
    h.create(51);
    assert_eq!(h.sm.get_lease(lease), Err(ResultCode::LeaseRetired));
    assert_eq!(
        h.release(lease, ALICE, 2),
        rejected(ResultCode::LeaseRetired)
    );
    assert_eq!(h.revoke(lease), rejected(ResultCode::LeaseRetired));
    assert_eq!(h.sm.retired_watermark(), lease.lsn());
    // Above the watermark or on another shard: not found.
    assert_eq!(
        h.sm.get_lease(LeaseId::new(0, Lsn(h.lsn + 10))),
        Err(ResultCode::LeaseNotFound)
    );
    assert_eq!(
        h.sm.get_lease(LeaseId::new(1, lease.lsn())),
        Err(ResultCode::LeaseNotFound)
    );
    // Its members' records are reused.
    assert_eq!(h.sm.health(Slot(11)).lease_members.used, 0);
}

#[test]
fn each_table_full() {
    let mut h = Harness::new(Config {
        max_resources: 3,
        max_leases: 2,
        max_lease_members: 4,
        max_bundle_size: 3,
        ..Config::small()
    });
    for id in 1..=3 {
        assert_eq!(h.create(id), Outcome::ResourceCreated);
    }
    assert_eq!(h.create(4), rejected(ResultCode::ResourceTableFull));
    let a = h.lease(&[1, 2, 3], ALICE, 5);
    h.release(a, ALICE, 1);
    // 3 of the 4 members the bound allows are still the released lease's history.
    assert_eq!(
        h.reserve(&[1, 2], BOB, 5),
        rejected(ResultCode::LeaseMemberTableFull)
    );
    let b = h.lease(&[1], BOB, 5);
    // Two lease records (one terminal, one live): the table is full.
    assert_eq!(
        h.reserve(&[2], BOB, 5),
        rejected(ResultCode::LeaseTableFull)
    );
    let health = h.sm.health(Slot(0));
    assert_eq!((health.leases.used, health.leases.capacity), (2, 2));
    assert_eq!(
        (health.lease_members.used, health.lease_members.capacity),
        (4, 4)
    );
    // Retiring the history frees both tables.
    h.slot = 8;
    h.release(b, BOB, 1);
    assert!(matches!(
        h.reserve(&[2, 3], BOB, 5),
        Outcome::Reserved { .. }
    ));
}

#[test]
fn expiration_bucket_full() {
    let mut h = Harness::new(Config {
        max_expiration_bucket_len: 2,
        ..Config::small()
    });
    for id in 1..=4 {
        h.create(id);
    }
    h.lease(&[1], ALICE, 5);
    h.lease(&[2], ALICE, 5);
    assert_eq!(
        h.reserve(&[3], ALICE, 5),
        rejected(ResultCode::ExpirationIndexFull)
    );
    assert!(matches!(
        h.reserve(&[3], ALICE, 6),
        Outcome::Reserved { .. }
    ));
    assert_eq!(h.resource_state(4), ResourceState::Available);
}

#[test]
fn slot_overflow_is_a_committed_result() {
    let config = Config::small();
    let mut h = Harness::new(config);
    h.create(1);
    h.slot = config.max_request_slot();
    assert!(matches!(
        h.reserve(&[1], ALICE, 32),
        Outcome::Reserved { .. }
    ));
    h.slot = config.max_request_slot() + 1;
    assert_eq!(h.create(2), rejected(ResultCode::SlotOverflow));
    assert!(h
        .sm
        .get_operation(OperationId(h.next_operation - 1))
        .is_none());
}

#[test]
fn out_of_order_apply_fails_closed_and_changes_nothing() {
    let mut h = small();
    h.slot = 5;
    h.create(1);
    let digest = h.sm.digest();
    let command = LogCommand::Expire {
        lease_id: LeaseId(1),
        deadline_slot: Slot(0),
    };
    assert!(
        matches!(
            h.sm.apply(Lsn(h.lsn), Slot(5), &command),
            Err(ApplyError::LsnNotIncreasing { last, got }) if last == Lsn(h.lsn) && got == Lsn(h.lsn)
        ),
        "same lsn"
    );
    assert!(
        matches!(
            h.sm.apply(Lsn(h.lsn + 1), Slot(4), &command),
            Err(ApplyError::SlotRewound {
                last: Slot(5),
                got: Slot(4)
            })
        ),
        "slot rewound"
    );
    assert_eq!(h.sm.digest(), digest);
    let mut fresh = StateMachine::new(Config::small()).unwrap();
    assert!(
        matches!(
            fresh.apply(Lsn(0), Slot(0), &command),
            Err(ApplyError::LsnNotIncreasing {
                last: Lsn(0),
                got: Lsn(0)
            })
        ),
        "lsn 0 is never valid"
    );
}

/// The tick still expires at the largest safe slot, and nothing past it.
#[test]
fn expire_works_up_to_the_largest_slot_and_not_past_it() {
    let config = Config::small();
    let max = config.max_request_slot();
    let mut h = Harness::new(config);
    h.create(1);
    h.create(2);
    h.slot = max - 5;
    let at_max = h.lease(&[1], ALICE, 5);
    let past_max = h.lease(&[2], ALICE, 6);
    h.slot = max;
    assert!(matches!(h.expire(at_max, max), Outcome::Expired { .. }));
    h.slot = max + 1;
    assert_eq!(h.expire(past_max, max + 1), rejected(ResultCode::Noop));
    assert_eq!(h.lease_state(past_max), LeaseState::Reserved);
}

#[test]
fn usage_per_mille_rounds_down_and_survives_a_zero_capacity() {
    let per_mille = |used, capacity| Usage { used, capacity }.per_mille();
    assert_eq!(per_mille(3, 8), 375);
    assert_eq!(per_mille(1, 3), 333);
    assert_eq!(per_mille(8, 8), 1000);
    assert_eq!(per_mille(0, 0), 0);
}

#[test]
fn versions_count_every_state_change() {
    let mut h = small();
    h.create(1);
    let lease = h.lease(&[1], ALICE, 5);
    h.activate(lease, ALICE, 1);
    h.revoke(lease);
    h.reclaim(lease);
    assert_eq!(h.sm.get_resource(ResourceId(1)).unwrap().version, 4);
}

#[test]
fn digest_tracks_state_not_history_order() {
    // Same records reached through different placement histories.
    let mut a = small();
    let mut b = small();
    for id in [1, 2, 3] {
        a.create(id);
    }
    for id in [3, 2, 1] {
        b.create(id);
    }
    // Operation ids differ in hash only through the command contents.
    assert_ne!(a.sm.digest(), b.sm.digest(), "operation records differ");
    let mut c = small();
    for id in [1, 2, 3] {
        c.create(id);
    }
    assert_eq!(a.sm.digest(), c.sm.digest());
    c.create(4);
    assert_ne!(a.sm.digest(), c.sm.digest());
}

/// Debug output is what a failed assertion or a panic shows of a machine:
/// a summary whose digest is the machine's.
#[test]
fn debug_shows_a_summary_with_the_digest() {
    let mut h = small();
    h.create(1);
    h.create(2);
    let shown = format!("{:?}", h.sm);
    let expected = format!(
        "StateMachine {{ last_applied_lsn: Lsn(2), last_request_slot: Slot(0), \
         resources: 2, leases: 0, operations: 2, digest: {:016x} }}",
        h.sm.digest()
    );
    assert_eq!(shown, expected);
}

#[test]
fn invalid_config_names_the_field() {
    let cases: [(Config, &str); 7] = [
        (
            Config {
                max_resources: 0,
                ..Config::small()
            },
            "max_resources",
        ),
        (
            Config {
                max_bundle_size: 17,
                ..Config::small()
            },
            "max_bundle_size",
        ),
        (
            Config {
                max_lease_members: 2,
                ..Config::small()
            },
            "max_lease_members",
        ),
        (
            Config {
                max_ttl_slots: 0,
                ..Config::small()
            },
            "max_ttl_slots",
        ),
        (
            Config {
                history_window_slots: 0,
                ..Config::small()
            },
            "history_window_slots",
        ),
        (
            Config {
                history_window_slots: 1 << 41,
                ..Config::small()
            },
            "history_window_slots",
        ),
        (
            Config {
                max_ttl_slots: 1 << 30,
                max_expiration_bucket_len: 1 << 10,
                ..Config::small()
            },
            "max_ttl_slots",
        ),
    ];
    for (config, field) in cases {
        let error = StateMachine::new(config).expect_err("rejected");
        assert_eq!(error.field, field);
        assert!(error.to_string().contains(field));
    }
}

#[test]
fn every_result_code_is_produced() {
    let mut h = Harness::new(Config {
        max_resources: 4,
        max_leases: 3,
        max_lease_members: 4,
        max_operations: 40,
        max_expiration_bucket_len: 1,
        ..Config::small()
    });
    h.create(1);
    h.create(1);
    h.create(2);
    h.create(3);
    h.create(4);
    h.create(5);
    h.reserve(&[], ALICE, 1);
    h.reserve(&[1, 2, 3, 4, 5], ALICE, 1);
    h.reserve(&[1], ALICE, 0);
    h.reserve(&[9], ALICE, 1);
    let lease = h.lease(&[1], ALICE, 1);
    h.reserve(&[1], ALICE, 1);
    h.reserve(&[2], ALICE, 1);
    h.activate(lease, BOB, 1);
    h.activate(lease, ALICE, 5);
    h.revoke(lease);
    h.expire(lease, 99);
    h.activate(LeaseId::new(0, Lsn(999)), ALICE, 1);
    h.activate(lease, ALICE, 1);
    h.revoke(lease);
    h.reclaim(lease);
    h.lease(&[2, 3], ALICE, 2);
    h.reserve(&[1, 4], ALICE, 3);
    h.lease(&[1], ALICE, 3);
    h.reserve(&[4], ALICE, 4);
    h.slot = 20;
    h.tick();
    h.create(1);
    h.activate(lease, ALICE, 2);
    h.request(
        5000,
        Command::CreateResource {
            resource_id: ResourceId(1),
        },
    );
    h.request(
        5000,
        Command::CreateResource {
            resource_id: ResourceId(2),
        },
    );
    h.slot = Config::small().max_request_slot() + 1;
    h.create(1);
    let mut full = Harness::new(Config {
        max_operations: 1,
        ..Config::small()
    });
    full.create(1);
    full.create(2);
    let seen: BTreeSet<ResultCode> = h.seen.union(&full.seen).copied().collect();
    let missing: Vec<&str> = ResultCode::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .map(|c| c.name())
        .collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
}
