//! Export/restore: a restored state machine is the same state machine, and a
//! bad image is rejected before anything is trusted.

use allocdb_core::machine::{Image, InvariantViolation, RestoreError};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, Config, DueExpiry, HolderId, LeaseEpoch, LeaseId,
    LeaseState, LogCommand, Lsn, OperationId, Outcome, ResourceId, ResourceState, Slot,
    StateMachine,
};

struct Run {
    sm: StateMachine,
    lsn: u64,
    operation: u128,
}

impl Run {
    fn client(&mut self, slot: u64, command: Command) -> Outcome {
        self.lsn += 1;
        self.operation += 1;
        // Ids fall as LSNs rise, so that id order (the image's) is not
        // apply order (the operation store's).
        let request = ClientRequest {
            operation_id: OperationId(1_000 - self.operation),
            client_id: ClientId(1),
            command,
        };
        self.sm
            .apply(Lsn(self.lsn), Slot(slot), &LogCommand::Client(request))
            .unwrap()
            .outcome
    }
}

/// A state with every kind of record: available, reserved, active, revoking
/// resources; live and terminal leases; operation records.
fn populated() -> Run {
    let mut run = Run {
        sm: StateMachine::new(Config::small()).unwrap(),
        lsn: 0,
        operation: 0,
    };
    for id in 1..=6 {
        run.client(
            1,
            Command::CreateResource {
                resource_id: ResourceId(id),
            },
        );
    }
    let reserve = |ids: &[u128]| Command::Reserve {
        resources: Bundle::from_slice(&ids.iter().map(|&i| ResourceId(i)).collect::<Vec<_>>())
            .unwrap(),
        holder_id: HolderId(9),
        ttl_slots: 5,
    };
    let lease_of = |outcome: Outcome| match outcome {
        Outcome::Reserved { lease_id, .. } => lease_id,
        other => panic!("{other:?}"),
    };
    let _reserved = lease_of(run.client(2, reserve(&[1, 2])));
    let active = lease_of(run.client(2, reserve(&[3])));
    run.client(
        3,
        Command::Activate {
            lease_id: active,
            holder_id: HolderId(9),
            lease_epoch: LeaseEpoch(1),
        },
    );
    let revoking = lease_of(run.client(3, reserve(&[4])));
    run.client(
        3,
        Command::Activate {
            lease_id: revoking,
            holder_id: HolderId(9),
            lease_epoch: LeaseEpoch(1),
        },
    );
    run.client(3, Command::Revoke { lease_id: revoking });
    let released = lease_of(run.client(4, reserve(&[5])));
    run.client(
        4,
        Command::Release {
            lease_id: released,
            holder_id: HolderId(9),
            lease_epoch: LeaseEpoch(1),
        },
    );
    run
}

#[test]
fn restore_round_trip_keeps_digest_and_behaviour() {
    let mut original = populated();
    let image = original.sm.export();
    let restored = StateMachine::restore(*original.sm.config(), &image).unwrap();
    assert_eq!(restored.digest(), original.sm.digest());
    assert_eq!(restored.export(), image, "export is canonical");
    let in_store_order = |sm: &StateMachine| -> Vec<OperationId> {
        sm.operations().map(|o| o.operation_id).collect()
    };
    assert_eq!(
        in_store_order(&restored),
        in_store_order(&original.sm),
        "operation records are held in apply order, restored or live"
    );
    let states: Vec<ResourceState> = (1..=6)
        .map(|i| restored.get_resource(ResourceId(i)).unwrap().state)
        .collect();
    use ResourceState::*;
    assert_eq!(
        states,
        vec![Reserved, Reserved, Active, Revoking, Available, Available]
    );

    // The rebuilt wheel and retirement rings behave like the originals.
    let mut copy = Run {
        sm: restored,
        lsn: original.lsn,
        operation: original.operation,
    };
    let mut due = [DueExpiry {
        deadline_slot: Slot(0),
        lease_id: LeaseId(0),
    }; 8];
    assert_eq!(
        copy.sm.due_expirations(Slot(20), &mut due),
        original.sm.due_expirations(Slot(20), &mut due.clone())
    );
    for slot in [5, 12, 13, 60] {
        let a = original.client(
            slot,
            Command::CreateResource {
                resource_id: ResourceId(100 + slot as u128),
            },
        );
        let b = copy.client(
            slot,
            Command::CreateResource {
                resource_id: ResourceId(100 + slot as u128),
            },
        );
        assert_eq!(a, b);
        assert_eq!(original.sm.digest(), copy.sm.digest(), "after slot {slot}");
        copy.sm.check_invariants().unwrap();
    }
    assert!(
        original.sm.retired_watermark() > Lsn(0),
        "the released lease retired in both"
    );
}

fn rejects(image: &Image, check: impl Fn(&RestoreError) -> bool) {
    let error = StateMachine::restore(Config::small(), image).expect_err("image must be rejected");
    assert!(check(&error), "unexpected error: {error}");
}

#[test]
fn bad_images_are_rejected() {
    let good = populated().sm.export();

    let mut duplicate = good.clone();
    duplicate.resources.push(duplicate.resources[0]);
    rejects(&duplicate, |e| {
        matches!(
            e,
            RestoreError::Duplicate {
                table: "resource",
                ..
            }
        )
    });

    // Exactly the bound is fine; one more is not.
    let mut full = good.clone();
    let bound = Config::small().max_resources as usize;
    for i in 0..(bound - good.resources.len()) as u128 {
        full.resources.push(allocdb_core::Resource {
            resource_id: ResourceId(1000 + i),
            state: ResourceState::Available,
            current_lease_id: None,
            version: 0,
        });
    }
    let restored = StateMachine::restore(Config::small(), &full).expect("a full table restores");
    assert!(restored.health(Slot(0)).resources.used == bound as u64);
    let mut over = full;
    over.resources.push(allocdb_core::Resource {
        resource_id: ResourceId(999),
        state: ResourceState::Available,
        current_lease_id: None,
        version: 0,
    });
    rejects(&over, |e| {
        matches!(
            e,
            RestoreError::OverBound {
                table: "resource",
                ..
            }
        )
    });

    let mut orphan = good.clone();
    orphan.leases.retain(|l| l.state != LeaseState::Active);
    rejects(&orphan, |e| matches!(e, RestoreError::Invariant(_)));

    let mut wrong_state = good.clone();
    wrong_state.resources[0].state = ResourceState::Available;
    rejects(&wrong_state, |e| matches!(e, RestoreError::Invariant(_)));

    let mut empty_bundle = good.clone();
    empty_bundle.leases[0].members = Bundle::EMPTY;
    rejects(&empty_bundle, |e| {
        matches!(e, RestoreError::BadBundle { .. })
    });

    let mut overdue = good.clone();
    overdue.last_request_slot = Slot(10_000);
    rejects(&overdue, |e| matches!(e, RestoreError::Invariant(_)));

    let mut future = good.clone();
    future.last_applied_lsn = Lsn(1);
    rejects(&future, |e| matches!(e, RestoreError::Invariant(_)));

    // Found by fuzzing restore (fuzz/regressions/snapshot/): each of these
    // passed the audit and made a later apply panic.
    let invariant = |e: &RestoreError, wanted: fn(&InvariantViolation) -> bool| matches!(e, RestoreError::Invariant(v) if wanted(v));
    let mut version = good.clone();
    version.resources[0].version = u64::MAX;
    rejects(&version, |e| {
        invariant(e, |v| matches!(v, InvariantViolation::VersionAhead { .. }))
    });

    let mut renamed = good.clone();
    let lease = renamed.leases[0].lease_id;
    renamed.leases[0].created_lsn = Lsn(lease.lsn().0 - 1);
    rejects(&renamed, |e| {
        invariant(e, |v| {
            matches!(v, InvariantViolation::LeaseIdMismatch { .. })
        })
    });

    let mut operation_late = good.clone();
    operation_late.operations[0].retire_after_slot = Slot(1 << 37);
    rejects(&operation_late, |e| {
        invariant(e, |v| matches!(v, InvariantViolation::RetireTooLate { .. }))
    });

    // Operation records retire oldest first, so applying later must not
    // mean retiring earlier.
    let mut out_of_order = good.clone();
    let newest = out_of_order
        .operations
        .iter_mut()
        .max_by_key(|o| o.applied_lsn)
        .expect("populated() has operations");
    newest.retire_after_slot = Slot(newest.retire_after_slot.0 - 3);
    rejects(&out_of_order, |e| {
        invariant(e, |v| {
            matches!(v, InvariantViolation::OperationOrder { .. })
        })
    });

    let mut lease_late = good;
    let terminal = lease_late
        .leases
        .iter_mut()
        .find(|l| l.retire_after_slot.is_some())
        .expect("populated() has a terminal lease");
    terminal.retire_after_slot = Some(Slot(1 << 37));
    rejects(&lease_late, |e| {
        invariant(e, |v| matches!(v, InvariantViolation::RetireTooLate { .. }))
    });
}
