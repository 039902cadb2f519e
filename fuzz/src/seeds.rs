//! Valid seed inputs, built by encoding real things: the commands a
//! deterministic workload applies to a real `StateMachine` (as payloads,
//! frames and WAL images) and its exported state at several points (as
//! snapshots); for scenarios, the repository's `scenarios/**/*.ron` and
//! `corpus/**/*.ron` files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use allocdb_core::snapshot::format::encode as encode_snapshot;
use allocdb_core::wal::{encode_record, encode_record_frame, WalRecord, MAX_FRAME_LEN};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, DueExpiry, HolderId, LeaseEpoch, LeaseId, LogCommand,
    Lsn, OperationId, Outcome as CoreOutcome, ResourceId, Slot, StateMachine,
};

use crate::mutate::FuzzRng;
use crate::targets::{Target, FUZZ_CONFIG};

/// Why the scenario seed files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("no scenario files (*.ron) under {}", root.display())]
    NoScenarios { root: PathBuf },
}

/// The workspace root, where `scenarios/` and `corpus/` are.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The seed inputs of `target`; scenario files are read from `root`.
pub fn seeds(target: Target, root: &Path) -> Result<Vec<Vec<u8>>, SeedError> {
    Ok(match target {
        Target::WalFrame => {
            let history = History::record();
            history.frames.clone()
        }
        Target::WalScan => History::record().wal_images(),
        Target::Payload => History::record().payloads(),
        Target::Snapshot => History::record().snapshots,
        Target::Scenario => scenario_files(root)?,
    })
}

/// What the workload did: every frame it logged, in order, and snapshots
/// of the state at a few points.
struct History {
    records: Vec<(Lsn, Slot, WalRecord)>,
    frames: Vec<Vec<u8>>,
    snapshots: Vec<Vec<u8>>,
}

/// Steps of the workload; the state is snapshotted after these many.
const STEPS: u64 = 160;
const SNAPSHOT_AT: [u64; 5] = [0, 8, 40, 100, STEPS];

impl History {
    /// A fixed workload (ChaCha8, seed 0) over every command kind, with
    /// contention, retries, wrong holders and epochs, expiry and
    /// retirement, applied to a real machine for `FUZZ_CONFIG`.
    fn record() -> History {
        let mut machine = StateMachine::new(FUZZ_CONFIG).expect("FUZZ_CONFIG is valid");
        let mut rng = FuzzRng::for_iteration(0, u64::MAX);
        let mut history = History {
            records: Vec::new(),
            frames: Vec::new(),
            snapshots: Vec::new(),
        };
        let mut lsn = Lsn(0);
        let mut slot = Slot(0);
        let mut leases: Vec<(LeaseId, HolderId, LeaseEpoch)> = Vec::new();
        let mut sent: Vec<ClientRequest> = Vec::new();
        for step in 0..=STEPS {
            if SNAPSHOT_AT.contains(&step) {
                history
                    .snapshots
                    .push(encode_snapshot(FUZZ_CONFIG.shard_id, &machine.export()));
            }
            if step == STEPS {
                break;
            }
            slot = Slot(slot.0 + rng.below(3) as u64);
            let mut due = [DueExpiry {
                deadline_slot: Slot(0),
                lease_id: LeaseId(0),
            }; 4];
            let count = machine.due_expirations(slot, &mut due);
            for entry in &due[..count] {
                let expire = LogCommand::Expire {
                    lease_id: entry.lease_id,
                    deadline_slot: entry.deadline_slot,
                };
                history.apply(&mut machine, &mut lsn, slot, expire);
            }
            let request = if !sent.is_empty() && rng.one_in(10) {
                // A retry: the same request again.
                *rng.pick(&sent)
            } else {
                let command = next_command(&mut rng, &leases);
                ClientRequest {
                    operation_id: OperationId(u128::from(step) + 1),
                    client_id: ClientId(1 + rng.below(4) as u128),
                    command,
                }
            };
            sent.push(request);
            let outcome = history.apply(&mut machine, &mut lsn, slot, LogCommand::Client(request));
            match (request.command, outcome) {
                (
                    Command::Reserve { holder_id, .. },
                    CoreOutcome::Reserved {
                        lease_id,
                        lease_epoch,
                        ..
                    },
                ) => leases.push((lease_id, holder_id, lease_epoch)),
                (
                    _,
                    CoreOutcome::Revoked {
                        lease_id,
                        lease_epoch,
                    },
                ) => {
                    for lease in leases.iter_mut().filter(|l| l.0 == lease_id) {
                        lease.2 = lease_epoch;
                    }
                }
                _ => {}
            }
        }
        // A checkpoint's marker closes the log, as after a WAL rewrite.
        let marker = WalRecord::SnapshotMarker { snapshot_lsn: lsn };
        history.log(&mut lsn, slot, marker);
        history
    }

    fn apply(
        &mut self,
        machine: &mut StateMachine,
        lsn: &mut Lsn,
        slot: Slot,
        command: LogCommand,
    ) -> CoreOutcome {
        let at = self.log(lsn, slot, WalRecord::Command(command));
        machine
            .apply(at, slot, &command)
            .expect("the workload applies in order")
            .outcome
    }

    fn log(&mut self, lsn: &mut Lsn, slot: Slot, record: WalRecord) -> Lsn {
        *lsn = Lsn(lsn.0 + 1);
        let mut frame = [0u8; MAX_FRAME_LEN];
        let len = encode_record_frame(*lsn, slot, &record, &mut frame);
        self.frames.push(frame[..len].to_vec());
        self.records.push((*lsn, slot, record));
        *lsn
    }

    /// WAL images: the empty log, prefixes of a few lengths, the whole log,
    /// and the whole log with a torn last append.
    fn wal_images(&self) -> Vec<Vec<u8>> {
        let prefix = |frames: usize| self.frames[..frames.min(self.frames.len())].concat();
        let mut images: Vec<Vec<u8>> = [0, 1, 2, 5, 12, 30].into_iter().map(prefix).collect();
        let whole = self.frames.concat();
        let mut torn = whole.clone();
        if let Some(last) = self.frames.last() {
            torn.extend_from_slice(&last[..last.len() / 2]);
        }
        images.push(whole);
        images.push(torn);
        images
    }

    /// One payload of every distinct shape: each record's, deduplicated.
    fn payloads(&self) -> Vec<Vec<u8>> {
        let mut payloads: Vec<Vec<u8>> = Vec::new();
        for (_, _, record) in &self.records {
            let mut out = [0u8; MAX_FRAME_LEN];
            let len = encode_record(record, &mut out);
            let payload = out[..len].to_vec();
            if !payloads.contains(&payload) {
                payloads.push(payload);
            }
        }
        // Dozens of near-identical payloads add nothing; keep a spread.
        let step = (payloads.len() / 40).max(1);
        payloads.into_iter().step_by(step).collect()
    }
}

/// A client command of a random kind; lease commands name a lease the
/// workload saw reserved, with the right holder and epoch most of the time.
fn next_command(rng: &mut FuzzRng, leases: &[(LeaseId, HolderId, LeaseEpoch)]) -> Command {
    let resource = |rng: &mut FuzzRng| ResourceId(1 + rng.below(24) as u128);
    let kind = if leases.is_empty() {
        rng.below(2)
    } else {
        rng.below(7)
    };
    if kind == 0 {
        return Command::CreateResource {
            resource_id: resource(rng),
        };
    }
    if kind == 1 {
        let mut resources = Bundle::EMPTY;
        for _ in 0..1 + rng.below(FUZZ_CONFIG.max_bundle_size as usize) {
            let _ = resources.push(resource(rng));
        }
        return Command::Reserve {
            resources,
            holder_id: HolderId(1 + rng.below(5) as u128),
            ttl_slots: 1 + rng.below(12) as u64,
        };
    }
    let &(lease_id, holder, epoch) = rng.pick(leases);
    let holder_id = if rng.one_in(8) {
        HolderId(holder.0 + 1)
    } else {
        holder
    };
    let lease_epoch = if rng.one_in(8) {
        LeaseEpoch(epoch.0 + 1)
    } else {
        epoch
    };
    match kind {
        2 | 3 => Command::Activate {
            lease_id,
            holder_id,
            lease_epoch,
        },
        4 => Command::Release {
            lease_id,
            holder_id,
            lease_epoch,
        },
        5 => Command::Revoke { lease_id },
        _ => Command::Reclaim { lease_id },
    }
}

/// Every `*.ron` under `root/scenarios` and `root/corpus`, sorted by path.
fn scenario_files(root: &Path) -> Result<Vec<Vec<u8>>, SeedError> {
    let mut paths = Vec::new();
    for dir in ["scenarios", "corpus"] {
        collect_ron(&root.join(dir), &mut paths)?;
    }
    if paths.is_empty() {
        return Err(SeedError::NoScenarios {
            root: root.to_path_buf(),
        });
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| fs::read(&path).map_err(|source| SeedError::Read { path, source }))
        .collect()
}

fn collect_ron(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SeedError> {
    let read = |source| SeedError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(read(error)),
    };
    for entry in entries {
        let path = entry.map_err(read)?.path();
        if path.is_dir() {
            collect_ron(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "ron") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Outcome;

    #[test]
    fn every_seed_input_is_accepted() {
        for target in Target::ALL {
            let inputs = seeds(target, &workspace_root()).unwrap();
            assert!(
                inputs.len() >= 5,
                "{}: {} seeds",
                target.name(),
                inputs.len()
            );
            for (i, input) in inputs.iter().enumerate() {
                let outcome = crate::harness::check(target, input);
                let expected_rejections: &[&str] = match target {
                    // The empty log and the torn one are valid logs that do
                    // not count as accepted.
                    Target::WalScan => &["scan: empty", "scan: torn tail cut"],
                    _ => &[],
                };
                assert!(
                    outcome == Outcome::Accepted || expected_rejections.contains(&outcome.label()),
                    "{} seed {i}: {outcome:?}",
                    target.name()
                );
            }
        }
    }

    #[test]
    fn the_workload_reaches_every_command_kind_and_fills_snapshots() {
        let history = History::record();
        let mut kinds: Vec<_> = history
            .records
            .iter()
            .filter_map(|(_, _, r)| match r {
                WalRecord::Command(c) => Some(c.kind()),
                WalRecord::SnapshotMarker { .. } => None,
            })
            .collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(
            kinds.len(),
            allocdb_core::CommandKind::ALL.len(),
            "{kinds:?}"
        );
        let last = history.snapshots.last().unwrap();
        assert!(last.len() > 1000, "{}", last.len());
    }
}
