//! Prefetch hints for commands about to be applied.

use super::StateMachine;
use crate::command::{Command, LogCommand};
use crate::ids::{LeaseId, Lsn};

impl StateMachine {
    /// Starts loading the table slots that applying `command` at `lsn` will
    /// probe first: its operation record, its resources, its lease and the
    /// lease's members past the first. A caller that holds the next few
    /// commands (recovery) calls this some commands ahead so their cache
    /// misses overlap. A hint: nothing changes, and a stale or wrong hint
    /// only costs a cache line.
    pub fn prefetch(&self, lsn: Lsn, command: &LogCommand) {
        let (lease_id, members) = match command {
            LogCommand::Expire { lease_id, .. } => (*lease_id, 0),
            LogCommand::Client(request) => {
                self.operations.prefetch(&request.operation_id);
                match &request.command {
                    Command::CreateResource { resource_id } => {
                        self.resources.prefetch(resource_id);
                        return;
                    }
                    Command::Reserve { resources, .. } => {
                        for resource_id in resources.as_slice() {
                            self.resources.prefetch(resource_id);
                        }
                        (LeaseId::new(self.config.shard_id, lsn), resources.len())
                    }
                    // The member count is in the lease record, not loaded
                    // yet.
                    Command::Activate { lease_id, .. }
                    | Command::Release { lease_id, .. }
                    | Command::Revoke { lease_id }
                    | Command::Reclaim { lease_id } => (*lease_id, 0),
                }
            }
        };
        self.prefetch_lease(lease_id, members);
    }
}
