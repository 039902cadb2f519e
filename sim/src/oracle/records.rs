//! Record by record: every resource, lease and operation record the model
//! holds against the engine's, field by field, read through the engine's
//! public read API. The digest compares the same state cheaply on every
//! step, but through the core's own encoder: a field that encoder leaves
//! out, or a collision, is invisible to it and not to this. Run at every
//! full audit; a difference names the first record and field.

use super::model::Model;
use super::{Oracle, Violation};
use allocdb_core::machine::StateMachine;
use allocdb_core::{Lease, LeaseId, Lsn, Operation, OperationId, Resource, ResourceId, Slot};
use std::collections::BTreeMap;
use std::fmt::Debug;

type Check = Result<(), Violation>;

/// Every record of one side, ordered by id so the first difference is
/// the same on every run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Records {
    pub resources: BTreeMap<ResourceId, Resource>,
    pub leases: BTreeMap<LeaseId, Lease>,
    pub operations: BTreeMap<OperationId, Operation>,
    pub retired_watermark: Lsn,
    pub last_applied_lsn: Option<Lsn>,
    pub last_request_slot: Slot,
}

impl Records {
    pub fn of_engine(sm: &StateMachine) -> Records {
        Records {
            resources: sm.resources().map(|r| (r.resource_id, *r)).collect(),
            leases: sm.leases().map(|l| (l.lease_id, l)).collect(),
            operations: sm.operations().map(|o| (o.operation_id, *o)).collect(),
            retired_watermark: sm.retired_watermark(),
            last_applied_lsn: sm.last_applied_lsn(),
            last_request_slot: sm.last_request_slot(),
        }
    }

    pub fn of_model(model: &Model) -> Records {
        Records {
            resources: model.resources().map(|r| (r.resource_id, *r)).collect(),
            leases: model.leases().map(|l| (l.lease_id, *l)).collect(),
            operations: model.operations().map(|o| (o.operation_id, *o)).collect(),
            retired_watermark: model.retired_watermark(),
            last_applied_lsn: model.last_applied_lsn(),
            last_request_slot: model.last_request_slot(),
        }
    }
}

/// One field that differs.
struct Difference {
    field: &'static str,
    engine: String,
    model: String,
}

fn differ<T: PartialEq + Debug>(field: &'static str, engine: &T, model: &T) -> Option<Difference> {
    (engine != model).then(|| Difference {
        field,
        engine: format!("{engine:?}"),
        model: format!("{model:?}"),
    })
}

fn resource_difference(engine: &Resource, model: &Resource) -> Option<Difference> {
    differ("state", &engine.state, &model.state)
        .or_else(|| {
            differ(
                "current_lease_id",
                &engine.current_lease_id,
                &model.current_lease_id,
            )
        })
        .or_else(|| differ("version", &engine.version, &model.version))
}

fn lease_difference(engine: &Lease, model: &Lease) -> Option<Difference> {
    differ("holder_id", &engine.holder_id, &model.holder_id)
        .or_else(|| differ("state", &engine.state, &model.state))
        .or_else(|| differ("lease_epoch", &engine.lease_epoch, &model.lease_epoch))
        .or_else(|| differ("created_lsn", &engine.created_lsn, &model.created_lsn))
        .or_else(|| differ("deadline_slot", &engine.deadline_slot, &model.deadline_slot))
        .or_else(|| {
            differ(
                "retire_after_slot",
                &engine.retire_after_slot,
                &model.retire_after_slot,
            )
        })
        .or_else(|| {
            differ(
                "members",
                &engine.members.as_slice(),
                &model.members.as_slice(),
            )
        })
}

fn operation_difference(engine: &Operation, model: &Operation) -> Option<Difference> {
    differ("outcome", &engine.outcome, &model.outcome)
        .or_else(|| differ("applied_lsn", &engine.applied_lsn, &model.applied_lsn))
        .or_else(|| {
            differ(
                "retire_after_slot",
                &engine.retire_after_slot,
                &model.retire_after_slot,
            )
        })
        .or_else(|| differ("command_hash", &engine.command_hash, &model.command_hash))
}

/// The first record of one table that differs: one side only, or a field.
fn table<K: Ord + Debug, V>(
    kind: &str,
    engine: &BTreeMap<K, V>,
    model: &BTreeMap<K, V>,
    difference: impl Fn(&V, &V) -> Option<Difference>,
) -> Check {
    let violation = |detail: String| Err(Violation::new(Oracle::StateRecords, detail));
    for (id, model_record) in model {
        let Some(engine_record) = engine.get(id) else {
            return violation(format!(
                "{kind} {id:?}: the model holds it, the engine does not"
            ));
        };
        if let Some(d) = difference(engine_record, model_record) {
            return violation(format!(
                "{kind} {id:?}: field {}: engine {}, model {}",
                d.field, d.engine, d.model
            ));
        }
    }
    if let Some(id) = engine.keys().find(|id| !model.contains_key(id)) {
        return violation(format!(
            "{kind} {id:?}: the engine holds it, the model does not"
        ));
    }
    Ok(())
}

pub fn records_agree(engine: &Records, model: &Records) -> Check {
    table(
        "resource",
        &engine.resources,
        &model.resources,
        resource_difference,
    )?;
    table("lease", &engine.leases, &model.leases, lease_difference)?;
    table(
        "operation",
        &engine.operations,
        &model.operations,
        operation_difference,
    )?;
    let state = |field: &'static str, d: Option<Difference>| match d {
        Some(d) => Err(Violation::new(
            Oracle::StateRecords,
            format!("{field}: engine {}, model {}", d.engine, d.model),
        )),
        None => Ok(()),
    };
    state(
        "retired watermark",
        differ("", &engine.retired_watermark, &model.retired_watermark),
    )?;
    state(
        "last applied lsn",
        differ("", &engine.last_applied_lsn, &model.last_applied_lsn),
    )?;
    state(
        "last request slot",
        differ("", &engine.last_request_slot, &model.last_request_slot),
    )
}

#[cfg(test)]
mod tests {
    //! Fed a deliberately wrong observation (one field of one record
    //! changed, one record missing or extra), the check names it.
    use super::*;
    use allocdb_core::{
        Bundle, ClientId, ClientRequest, Command, Config, HolderId, LeaseEpoch, LogCommand,
        Outcome, ResourceState,
    };

    /// A model after a create and a reserve of resource 7.
    fn model() -> Model {
        let mut model = Model::new(Config::small());
        let mut members = Bundle::EMPTY;
        members.push(ResourceId(7)).unwrap();
        let commands = [
            Command::CreateResource {
                resource_id: ResourceId(7),
            },
            Command::Reserve {
                resources: members,
                holder_id: HolderId(2),
                ttl_slots: 3,
            },
        ];
        for (i, command) in commands.into_iter().enumerate() {
            let request = ClientRequest {
                operation_id: OperationId(i as u128 + 1),
                client_id: ClientId(1),
                command,
            };
            model
                .apply(Lsn(i as u64 + 1), Slot(0), &LogCommand::Client(request))
                .unwrap();
        }
        model
    }

    fn detail(engine: &Records, model: &Records) -> String {
        let violation = records_agree(engine, model).expect_err("they differ");
        assert_eq!(violation.oracle, Oracle::StateRecords);
        violation.detail
    }

    #[test]
    fn equal_records_agree() {
        let records = Records::of_model(&model());
        assert_eq!(records_agree(&records, &records), Ok(()));
    }

    #[test]
    fn one_changed_field_is_named() {
        let model = Records::of_model(&model());
        let mut engine = model.clone();
        engine.resources.get_mut(&ResourceId(7)).unwrap().version += 1;
        assert_eq!(
            detail(&engine, &model),
            "resource ResourceId(7): field version: engine 2, model 1"
        );

        let mut engine = model.clone();
        engine.leases.get_mut(&LeaseId(2)).unwrap().lease_epoch = LeaseEpoch(2);
        assert_eq!(
            detail(&engine, &model),
            "lease LeaseId(2): field lease_epoch: engine LeaseEpoch(2), model LeaseEpoch(1)"
        );

        let mut engine = model.clone();
        engine.operations.get_mut(&OperationId(1)).unwrap().outcome =
            Outcome::Rejected(allocdb_core::ResultCode::AlreadyExists);
        assert_eq!(
            detail(&engine, &model),
            "operation OperationId(1): field outcome: engine Rejected(AlreadyExists), model ResourceCreated"
        );

        let mut engine = model.clone();
        engine.retired_watermark = Lsn(1);
        assert_eq!(
            detail(&engine, &model),
            "retired watermark: engine Lsn(1), model Lsn(0)"
        );
    }

    #[test]
    fn a_record_on_one_side_only_is_named() {
        let model = Records::of_model(&model());
        let mut engine = model.clone();
        engine.leases.remove(&LeaseId(2));
        assert_eq!(
            detail(&engine, &model),
            "lease LeaseId(2): the model holds it, the engine does not"
        );
        let mut engine = model.clone();
        let extra = Resource {
            resource_id: ResourceId(9),
            state: ResourceState::Available,
            current_lease_id: None,
            version: 0,
        };
        engine.resources.insert(ResourceId(9), extra);
        assert_eq!(
            detail(&engine, &model),
            "resource ResourceId(9): the engine holds it, the model does not"
        );
    }

    #[test]
    fn an_engine_and_its_model_agree() {
        let mut sm = StateMachine::new(Config::small()).unwrap();
        let mut model = Model::new(Config::small());
        let request = ClientRequest {
            operation_id: OperationId(1),
            client_id: ClientId(1),
            command: Command::CreateResource {
                resource_id: ResourceId(7),
            },
        };
        let command = LogCommand::Client(request);
        sm.apply(Lsn(1), Slot(0), &command).unwrap();
        model.apply(Lsn(1), Slot(0), &command).unwrap();
        assert_eq!(
            records_agree(&Records::of_engine(&sm), &Records::of_model(&model)),
            Ok(())
        );
    }
}
