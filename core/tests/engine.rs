//! The durable engine on real files: write path, reads, recovery modes,
//! checkpoints, torn tails and corruption. No fault seams needed here.

#[path = "support/scratch_dir.rs"]
mod scratch_dir;

use allocdb_core::engine::{Engine, EngineConfig, OpenError, ReadError, StartMode, SubmitError};
use allocdb_core::snapshot::SNAPSHOT_FILE_NAME;
use allocdb_core::wal::{scan, WAL_FILE_NAME};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, HolderId, LeaseEpoch, Lsn, OperationId, Outcome,
    ResourceId, ResourceState, Slot,
};
use std::fs;
use std::path::Path;

fn request(operation: u128, command: Command) -> ClientRequest {
    ClientRequest {
        operation_id: OperationId(operation),
        client_id: ClientId(1),
        command,
    }
}

fn create(id: u128) -> Command {
    Command::CreateResource {
        resource_id: ResourceId(id),
    }
}

fn reserve(ids: &[u128], ttl: u64) -> Command {
    let ids: Vec<ResourceId> = ids.iter().map(|&i| ResourceId(i)).collect();
    Command::Reserve {
        resources: Bundle::from_slice(&ids).unwrap(),
        holder_id: HolderId(1),
        ttl_slots: ttl,
    }
}

fn open(dir: &Path) -> (Engine, allocdb_core::engine::RecoveryReport) {
    Engine::open(dir, EngineConfig::small()).expect("recovery succeeds")
}

/// Writes `n` frames: resources, reserves, activations and an expiry tick.
fn workload(engine: &mut Engine, n: u64) {
    let mut op = 1000;
    for i in 0..n {
        op += 1;
        let slot = Slot(i / 3);
        let command = match i % 4 {
            0 | 1 => create(i as u128),
            2 => reserve(&[(i - 2) as u128], 2),
            _ => create(500 + i as u128),
        };
        engine.submit(request(op, command), slot).unwrap();
    }
}

#[test]
fn write_path_recovery_modes_and_replay_equivalence() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, report) = open(dir.path());
    assert_eq!(report.mode, StartMode::Fresh);
    workload(&mut engine, 12);
    let tick = engine.tick_expirations(Slot(10)).unwrap();
    // The three reserves (i = 2, 6, 10, ttl 2) are all past their deadlines.
    assert_eq!(tick.expired, 3);
    let live_digest = engine.state_machine().digest();
    assert_eq!(
        engine.durable_wal_len(),
        engine.wal_len(),
        "every write is synced"
    );
    drop(engine);

    let (engine, report) = open(dir.path());
    assert_eq!(report.mode, StartMode::WalOnly);
    assert_eq!(report.frames_replayed, 12 + u64::from(tick.expired));
    assert_eq!(engine.state_machine().digest(), live_digest);
    engine.state_machine().check_invariants().unwrap();

    let mut engine = engine;
    let checkpoint = engine.checkpoint().unwrap();
    assert_eq!(
        Some(checkpoint.snapshot_lsn),
        engine.state_machine().last_applied_lsn()
    );
    drop(engine);
    let (mut engine, report) = open(dir.path());
    assert_eq!(report.mode, StartMode::SnapshotOnly);
    assert_eq!(report.snapshot_lsn, Some(checkpoint.snapshot_lsn));
    assert_eq!(engine.state_machine().digest(), live_digest);

    // The marker consumed an LSN; the next command continues after it.
    let applied = engine.submit(request(1, create(9000)), Slot(10)).unwrap();
    assert_eq!(applied.lsn, Lsn(checkpoint.snapshot_lsn.0 + 2));
    let digest = engine.state_machine().digest();
    drop(engine);
    let (engine, report) = open(dir.path());
    assert_eq!(report.mode, StartMode::SnapshotAndWal);
    assert_eq!(report.frames_replayed, 1);
    assert_eq!(engine.state_machine().digest(), digest);
}

#[test]
fn checkpoint_keeps_one_checkpoint_of_overlap() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = open(dir.path());
    workload(&mut engine, 8);
    let first = engine.checkpoint().unwrap();
    assert_eq!(
        first.frames_kept, 9,
        "no earlier snapshot: every frame plus the marker"
    );
    workload_more(&mut engine, 4);
    let second = engine.checkpoint().unwrap();
    // Frames after the first snapshot: its marker, four commands, the new marker.
    assert_eq!(second.frames_kept, 6);
    let digest = engine.state_machine().digest();
    drop(engine);
    let bytes = fs::read(dir.path().join(WAL_FILE_NAME)).unwrap();
    let report = scan(&bytes).unwrap();
    assert_eq!(report.first_lsn, Some(Lsn(first.snapshot_lsn.0 + 1)));
    let (engine, report) = open(dir.path());
    assert_eq!(report.snapshot_lsn, Some(second.snapshot_lsn));
    assert_eq!(engine.state_machine().digest(), digest);
}

fn workload_more(engine: &mut Engine, n: u64) {
    let slot = engine.current_slot();
    for i in 0..n {
        engine
            .submit(request(5000 + i as u128, create(7000 + i as u128)), slot)
            .unwrap();
    }
}

#[test]
fn definite_rejections_write_nothing() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = open(dir.path());
    engine.submit(request(1, create(1)), Slot(5)).unwrap();
    let len = engine.wal_len();
    let cases = [
        (request(0, create(2)), Slot(5)),
        (request(2, create(2)), Slot(4)),
        (request(3, create(2)), Slot(u64::MAX)),
    ];
    for (req, slot) in cases {
        let error = engine.submit(req, slot).unwrap_err();
        assert!(error.is_definite(), "{error}");
    }
    assert!(matches!(
        engine.submit(request(2, create(2)), Slot(4)),
        Err(SubmitError::SlotRewound { .. })
    ));
    assert!(matches!(
        engine.submit(request(2, create(2)), Slot(u64::MAX)),
        Err(SubmitError::SlotOverflow { .. })
    ));
    assert_eq!(engine.wal_len(), len);

    // The bounded queue: full means overloaded, and submit refuses to jump it.
    for i in 0..16 {
        engine
            .enqueue(request(100 + i, create(100 + i)), Slot(5))
            .unwrap();
    }
    assert_eq!(
        engine.enqueue(request(200, create(200)), Slot(5)),
        Err(SubmitError::Overloaded)
    );
    assert_eq!(
        engine.submit(request(200, create(200)), Slot(5)),
        Err(SubmitError::Overloaded)
    );
    let mut committed = 0;
    while let Some((req, result)) = engine.process_next() {
        assert_eq!(result.unwrap().outcome, Outcome::ResourceCreated, "{req:?}");
        committed += 1;
    }
    assert_eq!(committed, 16);
}

/// Queued requests commit in arrival order, also once the queue has wrapped
/// around its end, and the bound counts what is held, not what has passed.
#[test]
fn the_queue_commits_in_arrival_order_across_its_end() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = open(dir.path());
    let bound = EngineConfig::small().max_submission_queue as u128;
    let mut committed = Vec::new();
    let mut commit = |engine: &mut Engine, n: u128| {
        for _ in 0..n {
            let (request, result) = engine.process_next().unwrap();
            assert_eq!(result.unwrap().outcome, Outcome::ResourceCreated);
            committed.push(request.operation_id.0);
        }
    };
    for id in 1..=bound - 3 {
        engine.enqueue(request(id, create(id)), Slot(0)).unwrap();
    }
    commit(&mut engine, bound - 6);
    for id in bound - 2..=2 * bound - 6 {
        engine.enqueue(request(id, create(id)), Slot(0)).unwrap();
    }
    assert_eq!(engine.queue_len() as u128, bound);
    assert_eq!(
        engine.enqueue(request(999, create(999)), Slot(0)),
        Err(SubmitError::Overloaded)
    );
    commit(&mut engine, bound);
    assert!(engine.process_next().is_none());
    assert_eq!(committed, (1..=2 * bound - 6).collect::<Vec<_>>());
}

#[test]
fn reads_are_fenced_by_lsn() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = open(dir.path());
    let applied = engine.submit(request(1, create(1)), Slot(0)).unwrap();
    let resource = engine
        .get_resource(ResourceId(1), Some(applied.lsn))
        .unwrap()
        .unwrap();
    assert_eq!(resource.state, ResourceState::Available);
    assert_eq!(
        engine.get_resource(ResourceId(1), Some(Lsn(applied.lsn.0 + 1))),
        Err(ReadError::FenceNotApplied {
            required: Lsn(2),
            applied: Some(Lsn(1))
        })
    );
    let Outcome::Reserved { lease_id, .. } = engine
        .submit(request(2, reserve(&[1], 3)), Slot(0))
        .unwrap()
        .outcome
    else {
        panic!()
    };
    assert_eq!(
        engine.get_lease(lease_id, None).unwrap().lease_epoch,
        LeaseEpoch(1)
    );
    assert_eq!(
        engine.get_lease(allocdb_core::LeaseId(99), None),
        Err(ReadError::LeaseNotFound)
    );
}

/// Frame boundaries of the WAL in `dir`.
fn boundaries(dir: &Path) -> Vec<usize> {
    let bytes = fs::read(dir.join(WAL_FILE_NAME)).unwrap();
    let mut ends = vec![0];
    for frame in allocdb_core::wal::frames(&bytes) {
        ends.push(frame.unwrap().end());
    }
    ends
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn torn_last_frame_at_every_offset_recovers_and_continues() {
    let base = scratch_dir::scratch_dir();
    let (mut engine, _) = open(base.path());
    workload(&mut engine, 6);
    drop(engine);
    let ends = boundaries(base.path());
    let (last_start, last_end) = (ends[ends.len() - 2], ends[ends.len() - 1]);
    // The durable prefix: the state after five frames.
    let prefix = scratch_dir::scratch_dir();
    copy_dir(base.path(), prefix.path());
    let wal = prefix.path().join(WAL_FILE_NAME);
    let bytes = fs::read(&wal).unwrap();
    fs::write(&wal, &bytes[..last_start]).unwrap();
    let expected = open(prefix.path()).0.state_machine().digest();

    for cut in last_start + 1..last_end {
        let dir = scratch_dir::scratch_dir();
        copy_dir(base.path(), dir.path());
        fs::write(dir.path().join(WAL_FILE_NAME), &bytes[..cut]).unwrap();
        let (mut engine, report) = open(dir.path());
        assert_eq!(report.torn_bytes, (cut - last_start) as u64, "cut at {cut}");
        assert_eq!(engine.state_machine().digest(), expected, "cut at {cut}");
        assert_eq!(engine.wal_len(), last_start as u64);
        // The engine appends after the repaired boundary, and it sticks.
        let applied = engine
            .submit(request(77, create(77)), engine.current_slot())
            .unwrap();
        let digest = engine.state_machine().digest();
        drop(engine);
        let (engine, report) = open(dir.path());
        assert_eq!(report.torn_bytes, 0);
        assert_eq!(engine.state_machine().last_applied_lsn(), Some(applied.lsn));
        assert_eq!(engine.state_machine().digest(), digest);
    }
}

#[test]
fn every_bit_flip_before_the_last_frame_fails_closed_at_its_frame() {
    let base = scratch_dir::scratch_dir();
    let (mut engine, _) = open(base.path());
    workload(&mut engine, 4);
    drop(engine);
    let ends = boundaries(base.path());
    let bytes = fs::read(base.path().join(WAL_FILE_NAME)).unwrap();
    let last_start = ends[ends.len() - 2];
    let dir = scratch_dir::scratch_dir();
    let wal = dir.path().join(WAL_FILE_NAME);
    for byte in 0..bytes.len() {
        let frame_start = *ends.iter().rfind(|&&e| e <= byte).unwrap();
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[byte] ^= 1 << bit;
            fs::write(&wal, &damaged).unwrap();
            let result = Engine::open(dir.path(), EngineConfig::small());
            if byte < last_start {
                match result {
                    Err(OpenError::WalCorruption(c)) => {
                        assert_eq!(c.offset, frame_start, "byte {byte} bit {bit}")
                    }
                    Err(other) => panic!("byte {byte} bit {bit}: wrong error {other}"),
                    Ok(_) => panic!("byte {byte} bit {bit}: corruption accepted"),
                }
            } else {
                // In the last frame: a torn tail (dropped), or corruption if
                // the flip shrank payload_len so that bytes follow the frame.
                match result {
                    Ok((engine, report)) => {
                        assert!(report.torn_bytes > 0, "byte {byte} bit {bit}");
                        assert_eq!(engine.wal_len(), last_start as u64);
                    }
                    Err(OpenError::WalCorruption(c)) => assert_eq!(c.offset, last_start),
                    Err(other) => panic!("byte {byte} bit {bit}: {other}"),
                }
            }
        }
    }
}

#[test]
fn every_snapshot_bit_flip_is_rejected() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = open(dir.path());
    workload(&mut engine, 6);
    engine.checkpoint().unwrap();
    drop(engine);
    let path = dir.path().join(SNAPSHOT_FILE_NAME);
    let bytes = fs::read(&path).unwrap();
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[byte] ^= 1 << bit;
            fs::write(&path, &damaged).unwrap();
            match Engine::open(dir.path(), EngineConfig::small()) {
                Err(OpenError::Snapshot(_)) => {}
                Err(other) => panic!("byte {byte} bit {bit}: wrong error {other}"),
                Ok(_) => panic!("byte {byte} bit {bit}: damaged snapshot accepted"),
            }
        }
    }
    fs::write(&path, &bytes).unwrap();
    open(dir.path());
}

#[test]
fn a_wal_that_skips_lsns_fails_closed() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = open(dir.path());
    workload(&mut engine, 3);
    drop(engine);
    let ends = boundaries(dir.path());
    let wal = dir.path().join(WAL_FILE_NAME);
    let bytes = fs::read(&wal).unwrap();
    // Drop the middle frame: the rest is valid frames with a gap.
    let mut gapped = bytes[..ends[1]].to_vec();
    gapped.extend_from_slice(&bytes[ends[2]..]);
    fs::write(&wal, &gapped).unwrap();
    assert!(matches!(
        Engine::open(dir.path(), EngineConfig::small()),
        Err(OpenError::LsnGap {
            expected: Lsn(2),
            found: Lsn(3),
            ..
        })
    ));
    // Drop the first frame: a log without a snapshot must start at LSN 1.
    fs::write(&wal, &bytes[ends[1]..]).unwrap();
    assert!(matches!(
        Engine::open(dir.path(), EngineConfig::small()),
        Err(OpenError::LsnGap {
            expected: Lsn(1),
            ..
        })
    ));
}

/// A snapshot that exists but cannot be read fails the open: only a
/// snapshot that is not there at all means "start from the WAL alone".
#[test]
fn an_unreadable_snapshot_fails_closed() {
    let dir = scratch_dir::scratch_dir();
    let (mut engine, _) = open(dir.path());
    workload(&mut engine, 3);
    drop(engine);
    fs::create_dir(dir.path().join(SNAPSHOT_FILE_NAME)).unwrap();
    assert!(matches!(
        Engine::open(dir.path(), EngineConfig::small()),
        Err(OpenError::Snapshot(allocdb_core::snapshot::LoadError::Io(
            _
        )))
    ));
}
