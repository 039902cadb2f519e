//! The whole applied state as plain records, and its validated restore.
//! Snapshots encode an [`Image`]; recovery restores one before replay.

use super::{InvariantViolation, StateMachine};
use crate::config::{Config, ConfigError};
use crate::ids::{Lsn, Slot};
use crate::record::{Lease, LeaseRecord, LeaseState, Operation, Resource};
use crate::table::InsertError;

/// Everything the state machine holds, in canonical (sorted by id) order.
/// Derived structures (expiry wheel, retirement rings) are not in it: they
/// are rebuilt from the records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub last_applied_lsn: Lsn,
    pub last_request_slot: Slot,
    pub retired_watermark: Lsn,
    pub resources: Vec<Resource>,
    pub leases: Vec<Lease>,
    pub operations: Vec<Operation>,
}

/// Why an image cannot become a state machine. Nothing is trusted until
/// every record passed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{table} table: {count} records exceed the configured bound {bound}")]
    OverBound {
        table: &'static str,
        count: usize,
        bound: u32,
    },
    #[error("{table} table: duplicate id {id:#x}")]
    Duplicate { table: &'static str, id: u128 },
    #[error("lease {id:#x} has {members} members, outside 1..=max_bundle_size")]
    BadBundle { id: u128, members: usize },
    #[error("expiry bucket overflows for lease {id:#x}")]
    BucketOverflow { id: u128 },
    #[error("records fail the invariant audit: {0}")]
    Invariant(#[from] InvariantViolation),
}

impl StateMachine {
    /// The state as canonical records. Allocates: for checkpoints, not apply.
    pub fn export(&self) -> Image {
        let mut resources: Vec<Resource> = self.resources().copied().collect();
        resources.sort_by_key(|r| r.resource_id);
        let mut leases: Vec<Lease> = self.leases().collect();
        leases.sort_by_key(|l| l.lease_id);
        let mut operations: Vec<Operation> = self.operations().copied().collect();
        operations.sort_by_key(|o| o.operation_id);
        Image {
            last_applied_lsn: self.last_applied_lsn,
            last_request_slot: self.last_request_slot,
            retired_watermark: self.retired_watermark,
            resources,
            leases,
            operations,
        }
    }

    /// Rebuilds a state machine from `image`, checking bounds, duplicates and
    /// then the full invariant audit before returning it.
    pub fn restore(config: Config, image: &Image) -> Result<StateMachine, RestoreError> {
        let mut sm = StateMachine::new(config)?;
        let over = |table, count: usize, bound: u32| {
            (count > bound as usize).then_some(RestoreError::OverBound {
                table,
                count,
                bound,
            })
        };
        let member_total: usize = image.leases.iter().map(|l| l.members.len()).sum();
        let over_bound = [
            over("resource", image.resources.len(), config.max_resources),
            over("lease", image.leases.len(), config.max_leases),
            over("lease member", member_total, config.max_lease_members),
            over("operation", image.operations.len(), config.max_operations),
        ];
        if let Some(error) = over_bound.into_iter().flatten().next() {
            return Err(error);
        }
        let duplicate = |table, id| {
            move |e| match e {
                InsertError::Exists => RestoreError::Duplicate { table, id },
                InsertError::Full => unreachable!("counts were checked against the bounds"),
            }
        };

        // Each index grows once to its final size, not by doubling as the
        // records arrive.
        sm.resources.reserve_index(image.resources.len());
        sm.leases.reserve_index(image.leases.len());
        // Each lease keeps its first member in its record.
        sm.members
            .reserve_index(member_total.saturating_sub(image.leases.len()));
        sm.operations.reserve_index(image.operations.len());

        sm.last_applied_lsn = image.last_applied_lsn;
        sm.last_request_slot = image.last_request_slot;
        sm.retired_watermark = image.retired_watermark;
        for resource in &image.resources {
            sm.resources
                .insert(resource.resource_id, *resource)
                .map_err(duplicate("resource", resource.resource_id.0))?;
        }

        let mut terminal: Vec<(Slot, _)> = Vec::new();
        for lease in &image.leases {
            let id = lease.lease_id;
            let members = lease.members.as_slice();
            if members.is_empty() || members.len() > config.max_bundle_size as usize {
                return Err(RestoreError::BadBundle {
                    id: id.0,
                    members: members.len(),
                });
            }
            let record = LeaseRecord {
                lease_id: id,
                holder_id: lease.holder_id,
                state: lease.state,
                lease_epoch: lease.lease_epoch,
                created_lsn: lease.created_lsn,
                deadline_slot: lease.deadline_slot,
                retire_after_slot: lease.retire_after_slot,
                member_count: members.len() as u8,
                first_member: members[0],
            };
            sm.insert_lease(record, members)
                .map_err(duplicate("lease", id.0))?;
            if lease.state == LeaseState::Reserved {
                sm.wheel
                    .insert(lease.deadline_slot, id)
                    .map_err(|_| RestoreError::BucketOverflow { id: id.0 })?;
            }
            if let Some(retire_after) = lease.retire_after_slot {
                terminal.push((retire_after, id));
            }
        }
        // Ties keep id order, so the rebuilt rings are canonical too.
        terminal.sort();
        for (retire_after, id) in terminal {
            sm.lease_retirement.push(retire_after, id);
        }

        // The operation store holds records in the order they applied,
        // which the audit below checks is also the order they retire in.
        let mut in_apply_order: Vec<&Operation> = image.operations.iter().collect();
        in_apply_order.sort_by_key(|o| (o.applied_lsn, o.operation_id));
        for operation in in_apply_order {
            let id = operation.operation_id;
            sm.operations
                .insert(id, *operation)
                .map_err(duplicate("operation", id.0))?;
        }

        sm.check_invariants()?;
        Ok(sm)
    }
}
