//! The full invariant audit. Run by tests and by the simulator after every
//! step; O(records), so never on the production hot path.

use super::StateMachine;
use crate::ids::{LeaseId, Lsn, OperationId, ResourceId, Slot};
use crate::record::{LeaseState, Operation, ResourceState};
use crate::table::TableFault;

/// A broken invariant, naming the invariant (numbered as in the semantics
/// spec where it has a number) and the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    #[error("invariant 1: resource {resource:?} points at lease {lease:?}, which is missing or not live")]
    ResourceLeaseNotLive {
        resource: ResourceId,
        lease: LeaseId,
    },
    #[error(
        "invariant 1: resource {resource:?} points at lease {lease:?}, which does not list it"
    )]
    ResourceNotMember {
        resource: ResourceId,
        lease: LeaseId,
    },
    #[error("invariant 1: live lease {lease:?} lists resource {resource:?}, which is missing or held by another lease")]
    MemberNotHeld {
        lease: LeaseId,
        resource: ResourceId,
    },
    #[error("invariant 2: resource {resource:?} is {resource_state:?} but its lease {lease:?} is {lease_state:?}")]
    StateMismatch {
        resource: ResourceId,
        resource_state: ResourceState,
        lease: LeaseId,
        lease_state: LeaseState,
    },
    #[error("invariant 2: resource {resource:?} is {state:?} with lease {lease:?}; available exactly when no lease")]
    AvailabilityMismatch {
        resource: ResourceId,
        state: ResourceState,
        lease: Option<LeaseId>,
    },
    #[error("invariant 3: lease {lease:?} has a bad bundle (member {ordinal} missing, duplicated or out of range)")]
    BadBundle { lease: LeaseId, ordinal: u8 },
    #[error("invariant 4: reserved lease {lease:?} is not in the expiry index at its deadline")]
    ExpiryMissing { lease: LeaseId },
    #[error("invariant 4: expiry index holds {lease:?} at {deadline:?}, which is not a reserved lease with that deadline")]
    ExpiryStale { lease: LeaseId, deadline: Slot },
    #[error("invariant 4: expiry index structure: {0}")]
    ExpiryStructure(&'static str),
    #[error("invariant 5: {table} table: {fault}")]
    Table {
        table: &'static str,
        fault: TableFault,
    },
    #[error("invariant 5: member table holds {members} records but leases list {listed} past their first members")]
    MemberCount { members: u32, listed: u64 },
    #[error("invariant 5: the member count says {counted} but leases list {listed} members")]
    MemberTotal { counted: u32, listed: u64 },
    #[error(
        "invariant 5: {queue} retirement queue holds {queued} records but {expected} are retirable"
    )]
    RetirementQueue {
        queue: &'static str,
        queued: usize,
        expected: usize,
    },
    #[error("invariant 5: operation {operation:?} (applied at {applied_lsn:?}, retiring at {retire_after:?}) is held after one applied at {previous_lsn:?}, retiring at {previous_retire_after:?}: apply order must be retirement order")]
    OperationOrder {
        operation: OperationId,
        applied_lsn: Lsn,
        retire_after: Slot,
        previous_lsn: Lsn,
        previous_retire_after: Slot,
    },
    #[error("retention: lease {lease:?} is terminal exactly when it has a retire slot; retire slot {retire_after:?}, state {state:?}")]
    RetireSlot {
        lease: LeaseId,
        state: LeaseState,
        retire_after: Option<Slot>,
    },
    #[error(
        "retention: lease {lease:?} should have retired at {retire_after:?} (last slot {now:?})"
    )]
    LeaseOverdue {
        lease: LeaseId,
        retire_after: Slot,
        now: Slot,
    },
    #[error("retention: operation {operation:?} should have retired at {retire_after:?} (last slot {now:?})")]
    OperationOverdue {
        operation: OperationId,
        retire_after: Slot,
        now: Slot,
    },
    #[error("invariant 6: record {lsn:?} is after the last applied lsn {last:?}")]
    FutureLsn { lsn: Lsn, last: Lsn },
    #[error("fencing: lease {lease:?} has epoch 0")]
    EpochZero { lease: LeaseId },
    #[error("lease {lease:?} was created at {created:?}, which names another lease id")]
    LeaseIdMismatch { lease: LeaseId, created: Lsn },
    #[error("resource {resource:?} has version {version}, more changes than the commands after its creation up to {last:?}")]
    VersionAhead {
        resource: ResourceId,
        version: u64,
        last: Lsn,
    },
    #[error("digest: the running digest {running:016x} differs from {recomputed:016x}, recomputed from every record (a change was not noted)")]
    DigestDrift { running: u64, recomputed: u64 },
    #[error("retention: {record} retires at {retire_after:?}, later than any slot so far allows ({latest:?})")]
    RetireTooLate {
        record: &'static str,
        retire_after: Slot,
        latest: Slot,
    },
}

type Audit = Result<(), InvariantViolation>;

impl StateMachine {
    /// Checks every invariant. Ok means the state is internally consistent.
    pub fn check_invariants(&self) -> Audit {
        self.audit_tables()?;
        self.audit_resources()?;
        self.audit_leases()?;
        self.audit_expiry_index()?;
        self.audit_retention()?;
        self.audit_digest()
    }

    /// Only while the running digest keeps books: until a digest is read
    /// (a restore, production) it would be built from the records, which
    /// is the recomputation itself.
    fn audit_digest(&self) -> Audit {
        if !self.running_digest.is_kept() {
            return Ok(());
        }
        let (running, recomputed) = (self.digest(), self.digest_recomputed());
        if running != recomputed {
            return Err(InvariantViolation::DigestDrift {
                running,
                recomputed,
            });
        }
        Ok(())
    }

    fn audit_tables(&self) -> Audit {
        let table = |table, fault| InvariantViolation::Table { table, fault };
        self.resources.audit().map_err(|f| table("resource", f))?;
        self.leases.audit().map_err(|f| table("lease", f))?;
        self.members.audit().map_err(|f| table("lease member", f))?;
        self.operations.audit().map_err(|f| table("operation", f))?;
        self.wheel
            .audit()
            .map_err(InvariantViolation::ExpiryStructure)
    }

    fn audit_resources(&self) -> Audit {
        for resource in self.resources() {
            let id = resource.resource_id;
            // A command changes a resource at most once, and the command
            // that created it left version 0: so every version is below the
            // count of commands applied.
            if resource.version >= self.last_applied_lsn.0 {
                return Err(InvariantViolation::VersionAhead {
                    resource: id,
                    version: resource.version,
                    last: self.last_applied_lsn,
                });
            }
            let Some(lease_id) = resource.current_lease_id else {
                if resource.state != ResourceState::Available {
                    return Err(InvariantViolation::AvailabilityMismatch {
                        resource: id,
                        state: resource.state,
                        lease: None,
                    });
                }
                continue;
            };
            if resource.state == ResourceState::Available {
                return Err(InvariantViolation::AvailabilityMismatch {
                    resource: id,
                    state: resource.state,
                    lease: Some(lease_id),
                });
            }
            let Some(lease) = self
                .leases
                .get(&lease_id)
                .filter(|l| !l.state.is_terminal())
            else {
                return Err(InvariantViolation::ResourceLeaseNotLive {
                    resource: id,
                    lease: lease_id,
                });
            };
            if lease.state.member_state() != Some(resource.state) {
                return Err(InvariantViolation::StateMismatch {
                    resource: id,
                    resource_state: resource.state,
                    lease: lease_id,
                    lease_state: lease.state,
                });
            }
            let listed =
                (0..lease.member_count).any(|ordinal| self.member(lease, ordinal) == Some(id));
            if !listed {
                return Err(InvariantViolation::ResourceNotMember {
                    resource: id,
                    lease: lease_id,
                });
            }
        }
        Ok(())
    }

    fn audit_leases(&self) -> Audit {
        let mut listed = 0u64;
        for (&lease_id, lease) in self.leases.iter() {
            if lease.lease_epoch.0 == 0 {
                return Err(InvariantViolation::EpochZero { lease: lease_id });
            }
            if lease.created_lsn > self.last_applied_lsn {
                return Err(InvariantViolation::FutureLsn {
                    lsn: lease.created_lsn,
                    last: self.last_applied_lsn,
                });
            }
            if lease_id != LeaseId::new(self.config.shard_id, lease.created_lsn) {
                return Err(InvariantViolation::LeaseIdMismatch {
                    lease: lease_id,
                    created: lease.created_lsn,
                });
            }
            if lease.state.is_terminal() != lease.retire_after_slot.is_some() {
                return Err(InvariantViolation::RetireSlot {
                    lease: lease_id,
                    state: lease.state,
                    retire_after: lease.retire_after_slot,
                });
            }
            let bad_bundle = |ordinal| InvariantViolation::BadBundle {
                lease: lease_id,
                ordinal,
            };
            let count = lease.member_count;
            if count == 0 || usize::from(count) > self.config.max_bundle_size as usize {
                return Err(bad_bundle(count));
            }
            for ordinal in 0..count {
                let Some(resource_id) = self.member(lease, ordinal) else {
                    return Err(bad_bundle(ordinal));
                };
                let duplicate =
                    (0..ordinal).any(|earlier| self.member(lease, earlier) == Some(resource_id));
                if duplicate {
                    return Err(bad_bundle(ordinal));
                }
                if !lease.state.is_terminal() {
                    let held = self
                        .resources
                        .get(&resource_id)
                        .is_some_and(|r| r.current_lease_id == Some(lease_id));
                    if !held {
                        return Err(InvariantViolation::MemberNotHeld {
                            lease: lease_id,
                            resource: resource_id,
                        });
                    }
                }
            }
            listed += u64::from(count);
        }
        // Every member record belongs to a listed ordinal of an existing
        // lease, so equal counts mean no orphans. Each lease (with at least
        // one member, checked above) keeps its first in its record.
        let listed_past_first = listed - u64::from(self.leases.len());
        if u64::from(self.members.len()) != listed_past_first {
            return Err(InvariantViolation::MemberCount {
                members: self.members.len(),
                listed: listed_past_first,
            });
        }
        if u64::from(self.lease_members) != listed {
            return Err(InvariantViolation::MemberTotal {
                counted: self.lease_members,
                listed,
            });
        }
        Ok(())
    }

    fn audit_expiry_index(&self) -> Audit {
        let mut reserved = 0u64;
        for (&lease_id, lease) in self.leases.iter() {
            if lease.state == LeaseState::Reserved {
                reserved += 1;
                if !self.wheel.contains(lease.deadline_slot, lease_id) {
                    return Err(InvariantViolation::ExpiryMissing { lease: lease_id });
                }
            }
        }
        for entry in self.wheel.iter() {
            let matches = self.leases.get(&entry.lease_id).is_some_and(|l| {
                l.state == LeaseState::Reserved && l.deadline_slot == entry.deadline_slot
            });
            if !matches {
                return Err(InvariantViolation::ExpiryStale {
                    lease: entry.lease_id,
                    deadline: entry.deadline_slot,
                });
            }
        }
        // Each reserved lease is present, each entry is a distinct reserved
        // lease (buckets are strictly sorted), so equal counts mean exactly once.
        if self.wheel.len() != reserved {
            return Err(InvariantViolation::ExpiryStructure(
                "entry count differs from reserved lease count",
            ));
        }
        Ok(())
    }

    fn audit_retention(&self) -> Audit {
        let now = self.last_request_slot;
        // Retire slots are set at a slot no later than `now`, one window
        // on: a later one would break the retirement queues' order.
        let too_late = |record, retire_after: Slot, window: u64| {
            let latest = Slot(now.0.saturating_add(window));
            (retire_after > latest).then_some(InvariantViolation::RetireTooLate {
                record,
                retire_after,
                latest,
            })
        };
        let mut terminal = 0usize;
        for (&lease_id, lease) in self.leases.iter() {
            if let Some(retire_after) = lease.retire_after_slot {
                terminal += 1;
                if let Some(violation) =
                    too_late("a lease", retire_after, self.config.history_window_slots)
                {
                    return Err(violation);
                }
                if retire_after <= now {
                    return Err(InvariantViolation::LeaseOverdue {
                        lease: lease_id,
                        retire_after,
                        now,
                    });
                }
            }
        }
        let queued_leases_match = self.lease_retirement.iter().all(|(slot, id)| {
            self.leases
                .get(id)
                .is_some_and(|l| l.retire_after_slot == Some(*slot))
        });
        if !queued_leases_match || self.lease_retirement.len() != terminal {
            return Err(InvariantViolation::RetirementQueue {
                queue: "lease",
                queued: self.lease_retirement.len(),
                expected: terminal,
            });
        }
        // Oldest first: retirement removes from the front only, so the
        // records must be in apply order and that must be retirement order.
        let mut previous: Option<&Operation> = None;
        for (&operation_id, operation) in self.operations.iter() {
            if let Some(previous) = previous {
                if operation.applied_lsn <= previous.applied_lsn
                    || operation.retire_after_slot < previous.retire_after_slot
                {
                    return Err(InvariantViolation::OperationOrder {
                        operation: operation_id,
                        applied_lsn: operation.applied_lsn,
                        retire_after: operation.retire_after_slot,
                        previous_lsn: previous.applied_lsn,
                        previous_retire_after: previous.retire_after_slot,
                    });
                }
            }
            previous = Some(operation);
            if let Some(violation) = too_late(
                "an operation record",
                operation.retire_after_slot,
                self.config.dedupe_window_slots(),
            ) {
                return Err(violation);
            }
            if operation.retire_after_slot <= now {
                return Err(InvariantViolation::OperationOverdue {
                    operation: operation_id,
                    retire_after: operation.retire_after_slot,
                    now,
                });
            }
            if operation.applied_lsn > self.last_applied_lsn {
                return Err(InvariantViolation::FutureLsn {
                    lsn: operation.applied_lsn,
                    last: self.last_applied_lsn,
                });
            }
        }
        Ok(())
    }
}
