//! Replay equivalence (invariant 7): a live run with checkpoints at random
//! positions, recovery from the WAL alone, from a snapshot alone and from
//! snapshot + WAL all give the same state digest, and re-applying the
//! logged frames gives the same result for every command.

#[path = "support/scratch_dir.rs"]
mod scratch_dir;

use allocdb_core::engine::{Engine, EngineConfig, StartMode};
use allocdb_core::snapshot::load_snapshot;
use allocdb_core::wal::{decode_record, frames, WalRecord, WAL_FILE_NAME};
use allocdb_core::{
    Applied, Bundle, ClientId, ClientRequest, Command, HolderId, LeaseEpoch, LeaseId, Lsn,
    OperationId, Outcome, ResourceId, Slot, StateMachine,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

#[derive(Clone, Debug)]
enum Op {
    Create(u8),
    Reserve(Vec<u8>, u8),
    Activate(u8, bool),
    Release(u8, bool),
    Revoke(u8),
    Reclaim(u8),
    Retry(u8),
    Advance(u8),
    Tick,
    Checkpoint,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..6).prop_map(Op::Create),
        4 => (proptest::collection::vec(0u8..6, 1..3), 1u8..6).prop_map(|(ids, ttl)| Op::Reserve(ids, ttl)),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(l, r)| Op::Activate(l, r)),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(l, r)| Op::Release(l, r)),
        1 => any::<u8>().prop_map(Op::Revoke),
        1 => any::<u8>().prop_map(Op::Reclaim),
        1 => any::<u8>().prop_map(Op::Retry),
        2 => (0u8..4).prop_map(Op::Advance),
        2 => Just(Op::Tick),
        1 => Just(Op::Checkpoint),
    ]
}

struct Run {
    engine: Engine,
    slot: Slot,
    next_operation: u128,
    /// (lease, holder, current epoch) of every lease created.
    leases: Vec<(LeaseId, HolderId, LeaseEpoch)>,
    sent: Vec<ClientRequest>,
    /// Live result of every committed command, by LSN.
    results: BTreeMap<Lsn, Applied>,
    /// Every frame ever written, by LSN, including those a checkpoint
    /// dropped from the WAL: the log a WAL-only recovery would need.
    full_log: BTreeMap<Lsn, Vec<u8>>,
    checkpoints: u32,
}

impl Run {
    fn record(&mut self, applied: Applied) {
        self.results.insert(applied.lsn, applied);
        match applied.outcome {
            Outcome::Reserved {
                lease_id,
                lease_epoch,
                ..
            } => {
                let holder = HolderId(self.leases.len() as u128 % 3);
                self.leases.push((lease_id, holder, lease_epoch));
            }
            Outcome::Released {
                lease_id,
                lease_epoch,
            }
            | Outcome::Revoked {
                lease_id,
                lease_epoch,
            }
            | Outcome::Expired {
                lease_id,
                lease_epoch,
            } => {
                if let Some(entry) = self.leases.iter_mut().find(|e| e.0 == lease_id) {
                    entry.2 = lease_epoch;
                }
            }
            _ => {}
        }
    }

    fn send(&mut self, request: ClientRequest) {
        let applied = self.engine.submit(request, self.slot).unwrap();
        self.sent.push(request);
        self.record(applied);
    }

    fn command(&mut self, command: Command) {
        self.next_operation += 1;
        self.send(ClientRequest {
            operation_id: OperationId(self.next_operation),
            client_id: ClientId(1),
            command,
        });
    }

    fn lease(&self, pick: u8) -> Option<(LeaseId, HolderId, LeaseEpoch)> {
        (!self.leases.is_empty()).then(|| self.leases[pick as usize % self.leases.len()])
    }

    fn capture_log(&mut self) {
        let bytes = fs::read(self.engine.dir().join(WAL_FILE_NAME)).unwrap();
        for frame in frames(&bytes) {
            let frame = frame.unwrap();
            let raw = bytes[frame.offset..frame.end()].to_vec();
            let previous = self.full_log.insert(frame.frame.header.lsn, raw.clone());
            assert!(
                previous.is_none_or(|p| p == raw),
                "an LSN was reused for other bytes"
            );
        }
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Create(id) => self.command(Command::CreateResource {
                resource_id: ResourceId(id.into()),
            }),
            Op::Reserve(ids, ttl) => {
                let ids: Vec<ResourceId> = ids.into_iter().map(|i| ResourceId(i.into())).collect();
                let holder_id = HolderId(self.leases.len() as u128 % 3);
                self.command(Command::Reserve {
                    resources: Bundle::from_slice(&ids).unwrap(),
                    holder_id,
                    ttl_slots: ttl.into(),
                });
            }
            Op::Activate(pick, right) | Op::Release(pick, right) => {
                let Some((lease_id, holder_id, epoch)) = self.lease(pick) else {
                    return;
                };
                let lease_epoch = if right {
                    epoch
                } else {
                    LeaseEpoch(epoch.0 + 1)
                };
                self.command(if matches!(op, Op::Activate(..)) {
                    Command::Activate {
                        lease_id,
                        holder_id,
                        lease_epoch,
                    }
                } else {
                    Command::Release {
                        lease_id,
                        holder_id,
                        lease_epoch,
                    }
                });
            }
            Op::Revoke(pick) => {
                let Some((lease_id, ..)) = self.lease(pick) else {
                    return;
                };
                self.command(Command::Revoke { lease_id });
            }
            Op::Reclaim(pick) => {
                let Some((lease_id, ..)) = self.lease(pick) else {
                    return;
                };
                self.command(Command::Reclaim { lease_id });
            }
            Op::Retry(pick) => {
                if !self.sent.is_empty() {
                    let request = self.sent[pick as usize % self.sent.len()];
                    self.send(request);
                }
            }
            Op::Advance(by) => self.slot = Slot(self.slot.0 + u64::from(by)),
            Op::Tick => {
                let mut committed = Vec::new();
                self.engine
                    .tick_expirations_with(self.slot, |a| committed.push(*a))
                    .unwrap();
                for applied in committed {
                    self.record(applied);
                }
            }
            Op::Checkpoint => {
                self.capture_log();
                self.engine.checkpoint().unwrap();
                self.checkpoints += 1;
            }
        }
        self.engine.state_machine().check_invariants().unwrap();
    }
}

/// Applies logged command frames to `sm` and checks each result against the
/// live one. Returns how many it applied.
fn reapply(sm: &mut StateMachine, log: &[u8], after: Lsn, live: &BTreeMap<Lsn, Applied>) -> usize {
    let mut applied = 0;
    for frame in frames(log) {
        let frame = frame.unwrap().frame;
        let header = frame.header;
        if header.lsn <= after {
            continue;
        }
        let WalRecord::Command(command) = decode_record(header.record_type, frame.payload).unwrap()
        else {
            continue;
        };
        let result = sm.apply(header.lsn, header.request_slot, &command).unwrap();
        assert_eq!(Some(&result), live.get(&header.lsn), "lsn {:?}", header.lsn);
        applied += 1;
    }
    applied
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn check(ops: Vec<Op>) {
    let config = EngineConfig::small();
    let dir = scratch_dir::scratch_dir();
    let (engine, _) = Engine::open(dir.path(), config).unwrap();
    let mut run = Run {
        engine,
        slot: Slot(0),
        next_operation: 0,
        leases: Vec::new(),
        sent: Vec::new(),
        results: BTreeMap::new(),
        full_log: BTreeMap::new(),
        checkpoints: 0,
    };
    for op in ops {
        run.run(op);
    }
    run.capture_log();
    let live_digest = run.engine.state_machine().digest();

    // WAL only: every frame ever written, in a directory with no snapshot.
    let full: Vec<u8> = run.full_log.values().flatten().copied().collect();
    let mut sm = StateMachine::new(config.core).unwrap();
    assert_eq!(
        reapply(&mut sm, &full, Lsn(0), &run.results),
        run.results.len()
    );
    assert_eq!(sm.digest(), live_digest);
    let wal_only = scratch_dir::scratch_dir();
    fs::write(wal_only.path().join(WAL_FILE_NAME), &full).unwrap();
    let (engine, report) = Engine::open(wal_only.path(), config).unwrap();
    let expected_mode = if run.results.is_empty() {
        StartMode::Fresh
    } else {
        StartMode::WalOnly
    };
    assert_eq!(report.mode, expected_mode);
    assert_eq!(engine.state_machine().digest(), live_digest);

    // Snapshot + WAL, as the run left it, when it ever checkpointed.
    let as_left = scratch_dir::scratch_dir();
    copy_dir(dir.path(), as_left.path());
    let (engine, report) = Engine::open(as_left.path(), config).unwrap();
    assert_eq!(engine.state_machine().digest(), live_digest);
    if run.checkpoints > 0 {
        assert!(matches!(
            report.mode,
            StartMode::SnapshotOnly | StartMode::SnapshotAndWal
        ));
        let image = load_snapshot(as_left.path(), &config.core)
            .unwrap()
            .unwrap();
        let mut sm = StateMachine::restore(config.core, &image).unwrap();
        let log = fs::read(as_left.path().join(WAL_FILE_NAME)).unwrap();
        let replayed = reapply(&mut sm, &log, image.last_applied_lsn, &run.results);
        assert_eq!(replayed as u64, report.frames_replayed);
        assert_eq!(sm.digest(), live_digest);
    }

    // Snapshot only: checkpoint at the very end.
    run.engine.checkpoint().unwrap();
    drop(run.engine);
    let (engine, report) = Engine::open(dir.path(), config).unwrap();
    assert_eq!(report.mode, StartMode::SnapshotOnly);
    assert_eq!(report.frames_replayed, 0);
    assert_eq!(engine.state_machine().digest(), live_digest);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn recovery_paths_agree_with_the_live_run(ops in proptest::collection::vec(op(), 0..80)) {
        check(ops);
    }
}
