//! `snapshot`: a snapshot file's bytes (`core/src/snapshot/format.rs`),
//! decoded for `FUZZ_CONFIG`, then restored (`machine/restore.rs`).
//! `snapshot::load_snapshot` is `fs::read` followed by this same `decode`,
//! so the file is skipped and the bytes decoded in memory.
//!
//! Properties beyond "no panic":
//! * an accepted snapshot re-encodes (`format::encode`) to exactly the
//!   input: the format is canonical;
//! * restore is lossless: `export()` of the restored machine is the decoded
//!   image;
//! * restore validation is complete enough to run on: a restored machine
//!   takes a maintenance tick, transitions of its first leases, a reserve of
//!   its first resources and a jump past every retention window through
//!   `apply`, and passes the full invariant audit after each command.

use allocdb_core::machine::{Image, RestoreError};
use allocdb_core::snapshot::format::{decode, encode};
use allocdb_core::snapshot::SnapshotError;
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, DueExpiry, LeaseId, LogCommand, Lsn, OperationId,
    Slot, StateMachine,
};

use super::{Outcome, FUZZ_CONFIG};

pub fn run(input: &[u8]) -> Outcome {
    let image = match decode(&FUZZ_CONFIG, input) {
        Ok(image) => image,
        Err(error) => return Outcome::Rejected(snapshot_error_label(&error)),
    };
    let again = encode(FUZZ_CONFIG.shard_id, &image);
    assert!(
        again == input,
        "an accepted snapshot re-encodes to different bytes ({} vs {})",
        again.len(),
        input.len()
    );
    let machine = match StateMachine::restore(FUZZ_CONFIG, &image) {
        Ok(machine) => machine,
        Err(error) => return Outcome::Rejected(restore_error_label(&error)),
    };
    assert!(
        machine.export() == image,
        "restore then export does not give back the image"
    );
    exercise(machine, &image);
    Outcome::Accepted
}

/// Commands on a freshly restored machine, each followed by the audit.
fn exercise(mut machine: StateMachine, image: &Image) {
    let mut driver = Driver {
        machine: &mut machine,
        lsn: image.last_applied_lsn,
        operation: 0,
    };
    let now = image.last_request_slot;
    let _ = driver.machine.digest();
    let _ = driver.machine.health(now);

    let mut due = [DueExpiry {
        deadline_slot: Slot(0),
        lease_id: LeaseId(0),
    }; 8];
    let count = driver.machine.due_expirations(now, &mut due);
    for entry in &due[..count] {
        let expire = LogCommand::Expire {
            lease_id: entry.lease_id,
            deadline_slot: entry.deadline_slot,
        };
        if !driver.apply(now, expire) {
            return;
        }
    }

    for lease in image.leases.iter().take(4) {
        let (lease_id, holder_id, lease_epoch) =
            (lease.lease_id, lease.holder_id, lease.lease_epoch);
        let transitions = [
            Command::Activate {
                lease_id,
                holder_id,
                lease_epoch,
            },
            Command::Revoke { lease_id },
            Command::Release {
                lease_id,
                holder_id,
                lease_epoch,
            },
            Command::Reclaim { lease_id },
        ];
        for command in transitions {
            if !driver.client(now, command) {
                return;
            }
        }
    }

    let mut resources = Bundle::EMPTY;
    for resource in image
        .resources
        .iter()
        .take(FUZZ_CONFIG.max_bundle_size as usize)
    {
        let _ = resources.push(resource.resource_id);
    }
    if !resources.is_empty() {
        let reserve = Command::Reserve {
            resources,
            holder_id: allocdb_core::HolderId(7),
            ttl_slots: 1,
        };
        if !driver.client(now, reserve) {
            return;
        }
    }

    // Past every window, so everything terminal retires in the next apply.
    let windows = FUZZ_CONFIG.max_ttl_slots
        + FUZZ_CONFIG.dedupe_window_slots()
        + FUZZ_CONFIG.history_window_slots
        + 1;
    if let Some(later) = now.checked_add(windows) {
        let create = Command::CreateResource {
            resource_id: allocdb_core::ResourceId(u128::MAX),
        };
        driver.client(later, create);
    }
}

struct Driver<'a> {
    machine: &'a mut StateMachine,
    lsn: Lsn,
    operation: u128,
}

impl Driver<'_> {
    fn client(&mut self, slot: Slot, command: Command) -> bool {
        self.operation += 1;
        let request = ClientRequest {
            // Far from the ids the seeds and their mutations use.
            operation_id: OperationId(u128::MAX - self.operation),
            client_id: ClientId(u128::MAX),
            command,
        };
        self.apply(slot, LogCommand::Client(request))
    }

    /// False when the LSNs ran out (a snapshot at `u64::MAX`).
    fn apply(&mut self, slot: Slot, command: LogCommand) -> bool {
        let Some(lsn) = self.lsn.next() else {
            return false;
        };
        self.lsn = lsn;
        if let Err(error) = self.machine.apply(lsn, slot, &command) {
            panic!("apply after restore refused an in-order command: {error}");
        }
        if let Err(violation) = self.machine.check_invariants() {
            panic!(
                "a restored machine fails the audit after {:?}: {violation}",
                command.kind()
            );
        }
        true
    }
}

fn snapshot_error_label(error: &SnapshotError) -> &'static str {
    match error {
        SnapshotError::TooShort { .. } => "snapshot: too short",
        SnapshotError::Checksum { .. } => "snapshot: checksum mismatch",
        SnapshotError::Magic { .. } => "snapshot: bad magic",
        SnapshotError::Version { .. } => "snapshot: bad version",
        SnapshotError::Field { .. } => "snapshot: bad field",
        SnapshotError::OverBound { .. } => "snapshot: count over bound",
        SnapshotError::Order { .. } => "snapshot: records out of order",
        SnapshotError::Truncated(_) => "snapshot: truncated",
        SnapshotError::TrailingBytes { .. } => "snapshot: trailing bytes",
    }
}

fn restore_error_label(error: &RestoreError) -> &'static str {
    match error {
        RestoreError::Config(_) => "restore: config",
        RestoreError::OverBound { .. } => "restore: over bound",
        RestoreError::Duplicate { .. } => "restore: duplicate",
        RestoreError::BadBundle { .. } => "restore: bad bundle",
        RestoreError::BucketOverflow { .. } => "restore: expiry bucket overflow",
        RestoreError::Invariant(_) => "restore: invariant audit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{last_stats, run_one};
    use crate::seeds::{seeds, workspace_root};
    use crate::targets::Target;

    /// The seed snapshots (up to a full state) stay well inside the bound.
    #[test]
    fn seed_snapshots_fit_the_bound() {
        let bound = Target::Snapshot.alloc_bound();
        for input in seeds(Target::Snapshot, &workspace_root()).unwrap() {
            assert_eq!(run_one(Target::Snapshot, &input), Ok(Outcome::Accepted));
            let peak = last_stats().peak_bytes;
            println!(
                "{} bytes: peak {peak}, bound {}",
                input.len(),
                bound.for_len(input.len())
            );
            assert!(peak <= bound.for_len(input.len()));
        }
    }
}
