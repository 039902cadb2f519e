//! The model's running digest follows every kind of write, and a write
//! that skips its update is caught by the audit the driver runs.

use super::Model;
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, Config, HolderId, LeaseEpoch, LogCommand, Lsn,
    OperationId, Outcome, ResourceId, Slot,
};

struct Run {
    model: Model,
    lsn: u64,
}

impl Run {
    fn apply(&mut self, slot: u64, command: Command) -> Outcome {
        self.lsn += 1;
        let request = ClientRequest {
            operation_id: OperationId(u128::from(self.lsn)),
            client_id: ClientId(1),
            command,
        };
        let outcome = self
            .model
            .apply(Lsn(self.lsn), Slot(slot), &LogCommand::Client(request))
            .unwrap()
            .outcome;
        assert_eq!(self.model.audit_digest(), Ok(()), "after lsn {}", self.lsn);
        assert_eq!(self.model.digest(), self.model.digest_recomputed());
        outcome
    }
}

/// Creates, a reserve, an activate, a revoke and a reclaim, a reserve
/// that expires, then slots far enough on that every lease and operation
/// record retires: every write the model makes, each audited.
fn every_kind_of_write() -> Model {
    let config = Config::small();
    let mut run = Run {
        model: Model::new(config),
        lsn: 0,
    };
    for id in 1..=3 {
        run.apply(
            1,
            Command::CreateResource {
                resource_id: ResourceId(id),
            },
        );
    }
    let holder_id = HolderId(7);
    let reserve = |ids: &[u128]| Command::Reserve {
        resources: Bundle::from_slice(&ids.iter().map(|&id| ResourceId(id)).collect::<Vec<_>>())
            .unwrap(),
        holder_id,
        ttl_slots: 2,
    };
    let Outcome::Reserved { lease_id, .. } = run.apply(2, reserve(&[1, 2])) else {
        panic!("the reserve succeeds");
    };
    let activate = Command::Activate {
        lease_id,
        holder_id,
        lease_epoch: LeaseEpoch::INITIAL,
    };
    assert!(matches!(run.apply(2, activate), Outcome::Activated { .. }));
    assert!(matches!(
        run.apply(3, Command::Revoke { lease_id }),
        Outcome::Revoked { .. }
    ));
    assert!(matches!(
        run.apply(3, Command::Reclaim { lease_id }),
        Outcome::Reclaimed { .. }
    ));
    let Outcome::Reserved {
        lease_id: expiring,
        deadline_slot,
        ..
    } = run.apply(3, reserve(&[3]))
    else {
        panic!("the reserve succeeds");
    };
    run.lsn += 1;
    let expire = LogCommand::Expire {
        lease_id: expiring,
        deadline_slot,
    };
    let expired = run
        .model
        .apply(Lsn(run.lsn), deadline_slot, &expire)
        .unwrap();
    assert!(matches!(expired.outcome, Outcome::Expired { .. }));
    assert_eq!(run.model.audit_digest(), Ok(()));
    let far = deadline_slot.0 + config.history_window_slots + 2 * config.dedupe_window_slots();
    run.apply(
        far,
        Command::CreateResource {
            resource_id: ResourceId(4),
        },
    );
    assert_eq!(run.model.leases().count(), 0, "every lease retired");
    assert_eq!(
        run.model.operations().len(),
        1,
        "only the last record is held"
    );
    run.model
}

#[test]
fn the_running_digest_follows_every_kind_of_write() {
    let model = every_kind_of_write();
    assert_eq!(model.resources().count(), 4);
    assert_eq!(model.digest(), model.digest_recomputed());
}

#[test]
fn a_write_that_skips_its_digest_update_is_caught() {
    let mut model = every_kind_of_write();
    let running = model.digest();
    model
        .store
        .change_resource_unrecorded(ResourceId(4), |resource| resource.version += 1);
    assert_eq!(
        model.digest(),
        running,
        "the running digest missed the write"
    );
    let recomputed = model.digest_recomputed();
    assert_ne!(running, recomputed);
    assert_eq!(
        model.audit_digest(),
        Err(format!(
            "the model's running digest {running:016x} over 5 records differs from its recomputation {recomputed:016x} over 5"
        ))
    );
}
