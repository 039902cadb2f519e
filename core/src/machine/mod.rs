//! The allocation state machine: one writer, fixed-capacity tables, no clock.
//!
//! `apply` is the only way state changes, for live execution and for replay
//! alike. It allocates nothing: every table, queue and bucket was sized in
//! `new` from the [`Config`].

mod audit;
#[cfg(test)]
mod audit_tests;
mod client;
mod lease_ops;
mod members;
mod prefetch;
mod read;
mod restore;
mod running_digest;

pub use audit::InvariantViolation;
pub use read::{Health, Usage};
pub use restore::{Image, RestoreError};
pub use running_digest::CHANGE_LOG_CAPACITY;

use running_digest::{Changed, RunningDigest};

use crate::command::LogCommand;
use crate::config::{Config, ConfigError};
use crate::ids::{LeaseId, Lsn, OperationId, ResourceId, Slot};
use crate::outcome::Applied;
use crate::record::{LeaseRecord, Operation, Resource};
use crate::retire::RetireQueue;
use crate::table::{FifoTable, FixedTable, MemberKey};
use crate::wheel::ExpiryWheel;

pub use crate::wheel::DueExpiry;

/// How far ahead of the record being retired its successor's slot is loaded.
const RETIRE_PREFETCH_DISTANCE: usize = 8;

/// A log command that cannot be applied in this position: the log itself is
/// wrong, so the caller must stop (fail closed). Nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("lsn {got:?} does not follow the last applied lsn {last:?}")]
    LsnNotIncreasing { last: Lsn, got: Lsn },
    #[error("request slot {got:?} is before the last applied slot {last:?}")]
    SlotRewound { last: Slot, got: Slot },
}

pub struct StateMachine {
    config: Config,
    resources: FixedTable<ResourceId, Resource>,
    leases: FixedTable<LeaseId, LeaseRecord>,
    /// Every lease's members but its first (which is in its record).
    members: FixedTable<MemberKey, ResourceId>,
    /// Members of every stored lease, first ones included; at most
    /// `max_lease_members`.
    lease_members: u32,
    /// Oldest first: operation records retire a fixed window after they
    /// apply, so insertion order is retirement order.
    operations: FifoTable<OperationId, Operation>,
    wheel: ExpiryWheel,
    lease_retirement: RetireQueue<LeaseId>,
    /// Highest `lease_id.lsn()` of any retired lease; lookups of this
    /// shard's missing ids at or below it answer `lease_retired`.
    retired_watermark: Lsn,
    /// `Lsn(0)` before the first command.
    last_applied_lsn: Lsn,
    last_request_slot: Slot,
    running_digest: RunningDigest,
}

impl StateMachine {
    /// Validates the config and allocates every bound. Nothing allocates after.
    pub fn new(config: Config) -> Result<StateMachine, ConfigError> {
        config.validate()?;
        Ok(StateMachine {
            resources: FixedTable::with_capacity(config.max_resources),
            leases: FixedTable::with_capacity(config.max_leases),
            members: FixedTable::with_capacity(config.max_lease_members),
            lease_members: 0,
            operations: FifoTable::with_capacity(config.max_operations),
            wheel: ExpiryWheel::new(config.wheel_slots(), config.max_expiration_bucket_len),
            lease_retirement: RetireQueue::with_capacity(config.max_leases),
            retired_watermark: Lsn(0),
            last_applied_lsn: Lsn(0),
            last_request_slot: Slot(0),
            running_digest: RunningDigest::new(),
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Applies one committed command at `lsn`, as of `request_slot`.
    pub fn apply(
        &mut self,
        lsn: Lsn,
        request_slot: Slot,
        command: &LogCommand,
    ) -> Result<Applied, ApplyError> {
        if lsn <= self.last_applied_lsn {
            return Err(ApplyError::LsnNotIncreasing {
                last: self.last_applied_lsn,
                got: lsn,
            });
        }
        if request_slot < self.last_request_slot {
            return Err(ApplyError::SlotRewound {
                last: self.last_request_slot,
                got: request_slot,
            });
        }
        self.last_applied_lsn = lsn;
        self.last_request_slot = request_slot;
        self.retire_due(request_slot);

        let (outcome, from_retry_cache) = match command {
            LogCommand::Client(request) => self.apply_client(lsn, request_slot, request),
            LogCommand::Expire {
                lease_id,
                deadline_slot,
            } => (self.expire(request_slot, *lease_id, *deadline_slot), false),
        };
        Ok(Applied {
            lsn,
            outcome,
            from_retry_cache,
        })
    }

    /// Retires every terminal lease and operation record whose
    /// `retire_after_slot` has been reached.
    fn retire_due(&mut self, now: Slot) {
        // Each pass removes a record, so neither loop can outrun its table.
        let mut retired = 0u32;
        while let Some(lease_id) = self.lease_retirement.pop_due(now) {
            retired += 1;
            assert!(
                retired <= self.config.max_leases,
                "retirement removed more leases than the table holds"
            );
            if let Some(ahead) = self.lease_retirement.peek(RETIRE_PREFETCH_DISTANCE) {
                // Its member count is in the record, not loaded yet.
                self.prefetch_lease(ahead, 0);
            }
            let lease = self.remove_lease(lease_id);
            assert!(lease.state.is_terminal(), "only terminal leases retire");
            self.retired_watermark = self.retired_watermark.max(lease_id.lsn());
        }
        let mut retired = 0u32;
        while let Some((id, operation)) = self.operations.oldest() {
            if operation.retire_after_slot > now {
                break;
            }
            retired += 1;
            assert!(
                retired <= self.config.max_operations,
                "retirement removed more operations than the table holds"
            );
            let id = *id;
            self.operations.prefetch_oldest(RETIRE_PREFETCH_DISTANCE);
            self.operations.remove_oldest();
            self.running_digest.note(Changed::Operation(id));
        }
    }

    /// Reserved leases with `deadline_slot <= now`, earliest deadline first
    /// then by lease id, at most `min(out.len(), max_expirations_per_tick)`.
    /// The caller commits one `Expire` per entry; only that frees anything.
    pub fn due_expirations(&mut self, now: Slot, out: &mut [DueExpiry]) -> usize {
        let limit = out.len().min(self.config.max_expirations_per_tick as usize);
        self.wheel.due(now, &mut out[..limit])
    }

    pub fn last_applied_lsn(&self) -> Option<Lsn> {
        (self.last_applied_lsn.0 > 0).then_some(self.last_applied_lsn)
    }

    pub fn last_request_slot(&self) -> Slot {
        self.last_request_slot
    }

    pub fn retired_watermark(&self) -> Lsn {
        self.retired_watermark
    }
}

/// A summary: the tables are too large to print whole.
impl core::fmt::Debug for StateMachine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StateMachine")
            .field("last_applied_lsn", &self.last_applied_lsn)
            .field("last_request_slot", &self.last_request_slot)
            .field("resources", &self.resources.len())
            .field("leases", &self.leases.len())
            .field("operations", &self.operations.len())
            .field("digest", &format_args!("{:016x}", self.digest()))
            .finish()
    }
}
