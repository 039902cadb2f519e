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
use std::fmt::Debug;

type Check = Result<(), Violation>;

/// The engine's side, read by id. Only a failure lists every id (to name
/// a record the model lacks); a passing check allocates nothing.
pub trait RecordSource {
    fn resource(&self, id: ResourceId) -> Option<Resource>;
    fn lease(&self, id: LeaseId) -> Option<Lease>;
    fn operation(&self, id: OperationId) -> Option<Operation>;
    /// How many resources, leases and operation records there are.
    fn counts(&self) -> [usize; 3];
    fn resource_ids(&self) -> Vec<ResourceId>;
    fn lease_ids(&self) -> Vec<LeaseId>;
    fn operation_ids(&self) -> Vec<OperationId>;
    fn retired_watermark(&self) -> Lsn;
    fn last_applied_lsn(&self) -> Option<Lsn>;
    fn last_request_slot(&self) -> Slot;
}

impl RecordSource for StateMachine {
    fn resource(&self, id: ResourceId) -> Option<Resource> {
        self.get_resource(id)
    }

    fn lease(&self, id: LeaseId) -> Option<Lease> {
        self.get_lease(id).ok()
    }

    fn operation(&self, id: OperationId) -> Option<Operation> {
        self.get_operation(id)
    }

    fn counts(&self) -> [usize; 3] {
        [
            self.resources().count(),
            self.leases().count(),
            self.operations().count(),
        ]
    }

    fn resource_ids(&self) -> Vec<ResourceId> {
        self.resources().map(|r| r.resource_id).collect()
    }

    fn lease_ids(&self) -> Vec<LeaseId> {
        self.leases().map(|l| l.lease_id).collect()
    }

    fn operation_ids(&self) -> Vec<OperationId> {
        self.operations().map(|o| o.operation_id).collect()
    }

    fn retired_watermark(&self) -> Lsn {
        StateMachine::retired_watermark(self)
    }

    fn last_applied_lsn(&self) -> Option<Lsn> {
        StateMachine::last_applied_lsn(self)
    }

    fn last_request_slot(&self) -> Slot {
        StateMachine::last_request_slot(self)
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

fn violation(detail: String) -> Check {
    Err(Violation::new(Oracle::StateRecords, detail))
}

/// One table: every model record (in id order) against the engine's of
/// the same id; then, when the engine holds more, the smallest id it holds
/// that the model does not.
fn table<'m, K: Ord + Copy + Debug + 'm, V: 'm>(
    kind: &str,
    model: impl Iterator<Item = (K, &'m V)>,
    engine_count: usize,
    engine: impl Fn(K) -> Option<V>,
    engine_ids: impl FnOnce() -> Vec<K>,
    model_holds: impl Fn(K) -> bool,
    difference: impl Fn(&V, &V) -> Option<Difference>,
) -> Check {
    let mut model_count = 0;
    for (id, model_record) in model {
        model_count += 1;
        let Some(engine_record) = engine(id) else {
            return violation(format!(
                "{kind} {id:?}: the model holds it, the engine does not"
            ));
        };
        if let Some(d) = difference(&engine_record, model_record) {
            return violation(format!(
                "{kind} {id:?}: field {}: engine {}, model {}",
                d.field, d.engine, d.model
            ));
        }
    }
    if engine_count != model_count {
        let mut ids = engine_ids();
        ids.sort_unstable();
        if let Some(id) = ids.into_iter().find(|&id| !model_holds(id)) {
            return violation(format!(
                "{kind} {id:?}: the engine holds it, the model does not"
            ));
        }
        return violation(format!(
            "{kind}s: the engine counts {engine_count}, the model {model_count}"
        ));
    }
    Ok(())
}

pub fn records_agree(engine: &impl RecordSource, model: &Model) -> Check {
    let [resources, leases, operations] = engine.counts();
    table(
        "resource",
        model.resources().map(|r| (r.resource_id, r)),
        resources,
        |id| engine.resource(id),
        || engine.resource_ids(),
        |id| model.get_resource(id).is_some(),
        resource_difference,
    )?;
    table(
        "lease",
        model.leases().map(|l| (l.lease_id, l)),
        leases,
        |id| engine.lease(id),
        || engine.lease_ids(),
        |id| model.leases().any(|l| l.lease_id == id),
        lease_difference,
    )?;
    table(
        "operation",
        model.operations().map(|o| (o.operation_id, o)),
        operations,
        |id| engine.operation(id),
        || engine.operation_ids(),
        |id| model.get_operation(id).is_some(),
        operation_difference,
    )?;
    let state = |field: &str, d: Option<Difference>| match d {
        Some(d) => violation(format!("{field}: engine {}, model {}", d.engine, d.model)),
        None => Ok(()),
    };
    state(
        "retired watermark",
        differ("", &engine.retired_watermark(), &model.retired_watermark()),
    )?;
    state(
        "last applied lsn",
        differ("", &engine.last_applied_lsn(), &model.last_applied_lsn()),
    )?;
    state(
        "last request slot",
        differ("", &engine.last_request_slot(), &model.last_request_slot()),
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
    use std::collections::BTreeMap;

    /// An engine side made of plain maps, to change one field of.
    #[derive(Clone)]
    struct Records {
        resources: BTreeMap<ResourceId, Resource>,
        leases: BTreeMap<LeaseId, Lease>,
        operations: BTreeMap<OperationId, Operation>,
        retired_watermark: Lsn,
        last_applied_lsn: Option<Lsn>,
        last_request_slot: Slot,
    }

    impl Records {
        fn of_model(model: &Model) -> Records {
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

    impl RecordSource for Records {
        fn resource(&self, id: ResourceId) -> Option<Resource> {
            self.resources.get(&id).copied()
        }
        fn lease(&self, id: LeaseId) -> Option<Lease> {
            self.leases.get(&id).copied()
        }
        fn operation(&self, id: OperationId) -> Option<Operation> {
            self.operations.get(&id).copied()
        }
        fn counts(&self) -> [usize; 3] {
            [
                self.resources.len(),
                self.leases.len(),
                self.operations.len(),
            ]
        }
        fn resource_ids(&self) -> Vec<ResourceId> {
            self.resources.keys().copied().collect()
        }
        fn lease_ids(&self) -> Vec<LeaseId> {
            self.leases.keys().copied().collect()
        }
        fn operation_ids(&self) -> Vec<OperationId> {
            self.operations.keys().copied().collect()
        }
        fn retired_watermark(&self) -> Lsn {
            self.retired_watermark
        }
        fn last_applied_lsn(&self) -> Option<Lsn> {
            self.last_applied_lsn
        }
        fn last_request_slot(&self) -> Slot {
            self.last_request_slot
        }
    }

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

    fn detail(engine: &Records, model: &Model) -> String {
        let violation = records_agree(engine, model).expect_err("they differ");
        assert_eq!(violation.oracle, Oracle::StateRecords);
        violation.detail
    }

    #[test]
    fn equal_records_agree() {
        let model = model();
        assert_eq!(records_agree(&Records::of_model(&model), &model), Ok(()));
    }

    #[test]
    fn one_changed_field_is_named() {
        let model = model();
        let records = Records::of_model(&model);
        let mut engine = records.clone();
        engine.resources.get_mut(&ResourceId(7)).unwrap().version += 1;
        assert_eq!(
            detail(&engine, &model),
            "resource ResourceId(7): field version: engine 2, model 1"
        );

        let mut engine = records.clone();
        engine.leases.get_mut(&LeaseId(2)).unwrap().lease_epoch = LeaseEpoch(2);
        assert_eq!(
            detail(&engine, &model),
            "lease LeaseId(2): field lease_epoch: engine LeaseEpoch(2), model LeaseEpoch(1)"
        );

        let mut engine = records.clone();
        engine.operations.get_mut(&OperationId(1)).unwrap().outcome =
            Outcome::Rejected(allocdb_core::ResultCode::AlreadyExists);
        assert_eq!(
            detail(&engine, &model),
            "operation OperationId(1): field outcome: engine Rejected(AlreadyExists), model ResourceCreated"
        );

        let mut engine = records.clone();
        engine.retired_watermark = Lsn(1);
        assert_eq!(
            detail(&engine, &model),
            "retired watermark: engine Lsn(1), model Lsn(0)"
        );
    }

    #[test]
    fn a_record_on_one_side_only_is_named() {
        let model = model();
        let records = Records::of_model(&model);
        let mut engine = records.clone();
        engine.leases.remove(&LeaseId(2));
        assert_eq!(
            detail(&engine, &model),
            "lease LeaseId(2): the model holds it, the engine does not"
        );
        let mut engine = records.clone();
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
        assert_eq!(records_agree(&sm, &model), Ok(()));
    }
}
