//! Client commands: bounded idempotency around the command itself.

use super::{Changed, StateMachine};
use crate::command::{ClientRequest, Command};
use crate::digest::command_hash;
use crate::ids::{Lsn, Slot};
use crate::outcome::{Outcome, ResultCode};
use crate::record::Operation;

impl StateMachine {
    /// Returns the outcome and whether it came from the retry cache.
    pub(super) fn apply_client(
        &mut self,
        lsn: Lsn,
        slot: Slot,
        request: &ClientRequest,
    ) -> (Outcome, bool) {
        if slot.0 > self.config.max_request_slot() {
            return (Outcome::Rejected(ResultCode::SlotOverflow), false);
        }
        let hash = command_hash(request);
        if let Some(existing) = self.operations.get(&request.operation_id) {
            if existing.command_hash == hash {
                return (existing.outcome, true);
            }
            return (Outcome::Rejected(ResultCode::OperationConflict), false);
        }
        if self.operations.is_full() {
            return (Outcome::Rejected(ResultCode::OperationTableFull), false);
        }

        let outcome = self.execute(lsn, slot, &request.command);

        let retire_after_slot = slot
            .checked_add(self.config.dedupe_window_slots())
            .expect("slot <= max_request_slot leaves room for the dedupe window");
        self.operations
            .insert(
                request.operation_id,
                Operation {
                    operation_id: request.operation_id,
                    command_hash: hash,
                    outcome,
                    applied_lsn: lsn,
                    retire_after_slot,
                },
            )
            .expect("checked above: not present and not full");
        self.running_digest
            .note(Changed::Operation(request.operation_id));
        (outcome, false)
    }

    fn execute(&mut self, lsn: Lsn, slot: Slot, command: &Command) -> Outcome {
        match *command {
            Command::CreateResource { resource_id } => self.create_resource(resource_id),
            Command::Reserve {
                ref resources,
                holder_id,
                ttl_slots,
            } => self.reserve(lsn, slot, resources, holder_id, ttl_slots),
            Command::Activate {
                lease_id,
                holder_id,
                lease_epoch,
            } => self.activate(lease_id, holder_id, lease_epoch),
            Command::Release {
                lease_id,
                holder_id,
                lease_epoch,
            } => self.release(slot, lease_id, holder_id, lease_epoch),
            Command::Revoke { lease_id } => self.revoke(lease_id),
            Command::Reclaim { lease_id } => self.reclaim(slot, lease_id),
        }
    }
}
