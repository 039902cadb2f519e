//! Storage benchmarks: WAL append + sync, recovery replay of a 1,000,000-frame
//! WAL, and snapshot write / load of a 1,000,000-resource state.
//!
//! * `wal_append/{ram,disk}/{sync_each,sync_64}`: one iteration encodes and
//!   appends a fixed batch of [`WAL_BATCH`] command frames (creates and
//!   reserves of 1, 2 or 4 resources) through `WalFile::append`, with one
//!   `WalFile::sync` per frame (what the engine does) or one per batch
//!   (group commit, for comparison). `ram` is a directory in `/dev/shm`
//!   (tmpfs: `fdatasync` is a no-op), `disk` one under the cargo target dir.
//! * `recovery_1M/*`: a WAL of [`REPLAY_FRAMES`] frames is built once in the
//!   RAM directory; `engine_open` is a full `Engine::open` (table allocation,
//!   read, scan, decode, replay through `apply`). The other entries split
//!   that time: `open_empty` (same config, empty directory), `read_file`,
//!   `scan`, `frames_decode` and `apply_only` (pre-decoded commands).
//! * `snapshot_1M/*`: a state machine with 1,000,000 resources (42 MB
//!   encoded); `export`, `encode`, `write_snapshot` of a ready image (RAM
//!   and disk; encode + write + fsync + rename + directory fsync),
//!   `export_write/disk` (a checkpoint's snapshot cost), `load_file`
//!   (`load_snapshot`: read + checksum + decode) and `load_restore`
//!   (`load_snapshot` + `StateMachine::restore`, as recovery does).
//!
//! Run with `cargo bench -p allocdb-core --bench storage`; figures are in
//! `docs/performance.md` (section "Storage").

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use allocdb_core::engine::{Engine, EngineConfig, StartMode, REPLAY_LOOKAHEAD};
use allocdb_core::fs::Directory;
use allocdb_core::machine::Image;
use allocdb_core::snapshot::{format, load_snapshot, write_snapshot, SNAPSHOT_FILE_NAME};
use allocdb_core::wal::{
    decode_record, encode_record_frame, frames, scan, ScanEnd, WalFile, WalRecord, MAX_FRAME_LEN,
    WAL_FILE_NAME,
};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, Config, HolderId, LeaseEpoch, LeaseId, LogCommand,
    Lsn, OperationId, Outcome, ResourceId, Slot, StateMachine,
};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use tempfile::TempDir;

const SHARD: u64 = 1;

/// Frames per `wal_append` iteration; also the group-commit size.
const WAL_BATCH: usize = 64;
/// The RAM WAL is cut back to empty (outside the timed region) past this.
const WAL_RESET_LEN: u64 = 64 << 20;

const REPLAY_FRAMES: u64 = 1_000_000;
/// Resources created at the head of the replay WAL.
const REPLAY_RESOURCES: u64 = 200_000;
/// The request slot advances once per this many frames.
const FRAMES_PER_SLOT: u64 = 1_000;
/// Cycles between a lease's reserve and its activate, and again between its
/// activate and its release.
const LEASE_LAG: usize = 100;

const SNAPSHOT_RESOURCES: u64 = 1_000_000;

/// Tables of 1-2M records. Operation records retire after
/// `max_ttl + retry window` = 128 slots (~128k live records at 1,000 frames
/// per slot); terminal leases after the 64-slot history window.
fn config() -> Config {
    Config {
        shard_id: SHARD,
        max_resources: 1 << 20,
        max_leases: 1 << 20,
        max_bundle_size: 8,
        max_lease_members: 1 << 21,
        max_operations: 1 << 21,
        max_ttl_slots: 64,
        max_client_retry_window_slots: 64,
        history_window_slots: 64,
        max_expiration_bucket_len: 8192,
        max_expirations_per_tick: 1024,
    }
}

fn engine_config() -> EngineConfig {
    EngineConfig {
        core: config(),
        max_submission_queue: 1024,
    }
}

/// A directory in RAM (`/dev/shm`) when there is one, else the system temp dir.
fn ram_dir() -> TempDir {
    let shm = tempfile::Builder::new()
        .prefix("allocdb-bench-")
        .tempdir_in("/dev/shm");
    match shm {
        Ok(dir) => dir,
        Err(_) => {
            eprintln!("storage bench: /dev/shm unavailable, using the system temp dir as `ram`");
            tempfile::tempdir().expect("temp dir")
        }
    }
}

/// A directory on the disk that holds the cargo target dir.
fn disk_dir() -> TempDir {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).expect("target tmp dir");
    tempfile::Builder::new()
        .prefix("allocdb-bench-")
        .tempdir_in(base)
        .expect("disk temp dir")
}

fn client(operation_id: u64, client_id: u64, command: Command) -> LogCommand {
    LogCommand::Client(ClientRequest {
        operation_id: OperationId(u128::from(operation_id)),
        client_id: ClientId(u128::from(client_id)),
        command,
    })
}

fn create(operation_id: u64, resource: u64) -> LogCommand {
    client(
        operation_id,
        1 + operation_id % 64,
        Command::CreateResource {
            resource_id: ResourceId(u128::from(resource)),
        },
    )
}

fn reserve(operation_id: u64, resources: &[u64], holder: u64, ttl_slots: u64) -> LogCommand {
    let mut bundle = Bundle::EMPTY;
    for &id in resources {
        bundle
            .push(ResourceId(u128::from(id)))
            .expect("small bundle");
    }
    client(
        operation_id,
        1 + operation_id % 64,
        Command::Reserve {
            resources: bundle,
            holder_id: HolderId(u128::from(holder)),
            ttl_slots,
        },
    )
}

// ---------------------------------------------------------------------------
// WAL append + sync

/// The fixed batch every `wal_append` iteration writes: creates alternating
/// with reserves of 1, 1, 2 and 4 resources.
fn wal_batch() -> Vec<LogCommand> {
    (0..WAL_BATCH as u64)
        .map(|i| {
            if i % 2 == 0 {
                create(i + 1, i + 1)
            } else {
                let size = [1, 1, 2, 4][(i / 2 % 4) as usize];
                let ids: Vec<u64> = (0..size).map(|k| 1_000 + i * 8 + k).collect();
                reserve(i + 1, &ids, i, 32)
            }
        })
        .collect()
}

fn batch_bytes(batch: &[LogCommand]) -> u64 {
    let mut frame = [0u8; MAX_FRAME_LEN];
    batch
        .iter()
        .map(|command| {
            encode_record_frame(Lsn(1), Slot(0), &WalRecord::Command(*command), &mut frame) as u64
        })
        .sum()
}

fn wal_append(c: &mut Criterion) {
    let batch = wal_batch();
    let bytes = batch_bytes(&batch);
    let mut group = c.benchmark_group("wal_append");
    group
        .throughput(Throughput::ElementsAndBytes {
            elements: WAL_BATCH as u64,
            bytes,
        })
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (location, dir) in [("ram", ram_dir()), ("disk", disk_dir())] {
        for (mode, sync_every) in [("sync_each", 1), ("sync_64", WAL_BATCH)] {
            let path = dir.path().join(mode);
            std::fs::create_dir(&path).expect("bench dir");
            let mut wal = WalFile::open(&path).expect("open WAL");
            let mut frame = [0u8; MAX_FRAME_LEN];
            let mut lsn = 0u64;
            group.bench_function(format!("{location}/{mode}"), |b| {
                b.iter_custom(|iters| {
                    let mut elapsed = Duration::ZERO;
                    for _ in 0..iters {
                        if wal.len() > WAL_RESET_LEN {
                            wal.truncate(0).expect("reset WAL");
                        }
                        let start = Instant::now();
                        for (i, command) in batch.iter().enumerate() {
                            lsn += 1;
                            let record = WalRecord::Command(*command);
                            let slot = Slot(lsn / FRAMES_PER_SLOT);
                            let len = encode_record_frame(Lsn(lsn), slot, &record, &mut frame);
                            wal.append(&frame[..len]).expect("append");
                            if (i + 1) % sync_every == 0 {
                                wal.sync().expect("sync");
                            }
                        }
                        elapsed += start.elapsed();
                    }
                    elapsed
                });
            });
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------
// Recovery replay

type Entry = (Lsn, Slot, LogCommand);

/// The replay workload: [`REPLAY_RESOURCES`] creates, then cycles of
/// reserve (a new lease on 1 resource, or 4 every 8th cycle), activate of
/// the lease reserved [`LEASE_LAG`] cycles earlier, and release of the one
/// reserved `2 * LEASE_LAG` cycles earlier. Every command succeeds.
fn replay_entries() -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::with_capacity(REPLAY_FRAMES as usize);
    /// Appends the next frame's entry; false once the log is full.
    fn push(entries: &mut Vec<Entry>, command: &dyn Fn(u64) -> LogCommand) -> bool {
        let lsn = entries.len() as u64 + 1;
        if lsn > REPLAY_FRAMES {
            return false;
        }
        entries.push((Lsn(lsn), Slot(lsn / FRAMES_PER_SLOT), command(lsn)));
        true
    }
    for resource in 1..=REPLAY_RESOURCES {
        push(&mut entries, &|lsn| create(lsn, resource));
    }
    let mut leases: Vec<(LeaseId, HolderId)> = Vec::new();
    let mut cursor = 0u64;
    for cycle in 0.. {
        let size = if cycle % 8 == 7 { 4 } else { 1 };
        let ids: Vec<u64> = (0..size)
            .map(|k| 1 + (cursor + k) % REPLAY_RESOURCES)
            .collect();
        cursor += size;
        let holder = 1 + cycle as u64 % 1_000;
        let reserved = push(&mut entries, &|lsn| reserve(lsn, &ids, holder, 32));
        if !reserved {
            break;
        }
        let lease_id = LeaseId::new(SHARD, entries.last().expect("pushed").0);
        leases.push((lease_id, HolderId(u128::from(holder))));
        let transition = |cycle: usize, activate: bool| {
            let (lease_id, holder_id) = leases[cycle];
            move |lsn| {
                let lease_epoch = LeaseEpoch::INITIAL;
                let command = if activate {
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
                };
                client(lsn, 1 + lsn % 64, command)
            }
        };
        if cycle >= LEASE_LAG && !push(&mut entries, &transition(cycle - LEASE_LAG, true)) {
            break;
        }
        if cycle >= 2 * LEASE_LAG && !push(&mut entries, &transition(cycle - 2 * LEASE_LAG, false))
        {
            break;
        }
    }
    entries
}

fn encode_wal(entries: &[Entry]) -> Vec<u8> {
    let mut bytes = vec![0u8; entries.len() * MAX_FRAME_LEN];
    let mut at = 0;
    for (lsn, slot, command) in entries {
        at += encode_record_frame(*lsn, *slot, &WalRecord::Command(*command), &mut bytes[at..]);
    }
    bytes.truncate(at);
    bytes
}

/// Applies every entry to a fresh state machine and checks each succeeded.
fn check_workload(entries: &[Entry]) {
    let mut sm = StateMachine::new(config()).expect("valid bench config");
    let mut rejected = 0u64;
    for (lsn, slot, command) in entries {
        let applied = sm.apply(*lsn, *slot, command).expect("applies");
        if matches!(applied.outcome, Outcome::Rejected(_)) {
            rejected += 1;
        }
    }
    let health = sm.health(sm.last_request_slot());
    eprintln!(
        "recovery workload: {} frames, {rejected} rejected; live at the end: {} resources, {} leases, {} operations",
        entries.len(),
        health.resources.used,
        health.leases.used,
        health.operations.used,
    );
    assert_eq!(
        rejected, 0,
        "the replay workload should only hold successes"
    );
}

fn recovery(c: &mut Criterion) {
    let entries = replay_entries();
    assert_eq!(entries.len() as u64, REPLAY_FRAMES);
    check_workload(&entries);
    let bytes = encode_wal(&entries);
    let dir = ram_dir();
    std::fs::write(dir.path().join(WAL_FILE_NAME), &bytes).expect("write WAL");
    let empty = ram_dir();
    eprintln!(
        "recovery WAL: {REPLAY_FRAMES} frames, {} bytes ({:.1} bytes/frame)",
        bytes.len(),
        bytes.len() as f64 / REPLAY_FRAMES as f64
    );
    {
        let (engine, report) = Engine::open(dir.path(), engine_config()).expect("recovers");
        assert_eq!(report.mode, StartMode::WalOnly);
        assert_eq!(report.frames_replayed, REPLAY_FRAMES);
        assert_eq!(report.torn_bytes, 0);
        assert_eq!(
            engine.state_machine().last_applied_lsn(),
            Some(Lsn(REPLAY_FRAMES))
        );
    }

    let mut group = c.benchmark_group("recovery_1M");
    group
        .throughput(Throughput::ElementsAndBytes {
            elements: REPLAY_FRAMES,
            bytes: bytes.len() as u64,
        })
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    // Drops (freeing the tables) happen outside the timed region.
    group.bench_function("engine_open", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let opened = Engine::open(dir.path(), engine_config()).expect("recovers");
                elapsed += start.elapsed();
                assert_eq!(opened.1.frames_replayed, REPLAY_FRAMES);
                drop(black_box(opened));
            }
            elapsed
        });
    });
    group.bench_function("open_empty", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let opened = Engine::open(empty.path(), engine_config()).expect("opens");
                elapsed += start.elapsed();
                drop(black_box(opened));
            }
            elapsed
        });
    });
    group.bench_function("read_file", |b| {
        b.iter(|| std::fs::read(dir.path().join(WAL_FILE_NAME)).expect("read"));
    });
    group.bench_function("scan", |b| {
        b.iter(|| {
            let report = scan(black_box(&bytes)).expect("clean");
            assert_eq!(report.end, ScanEnd::CleanEof);
            report.frame_count
        });
    });
    group.bench_function("frames_decode", |b| {
        b.iter(|| {
            let mut count = 0u64;
            for scanned in frames(black_box(&bytes)) {
                let frame = scanned.expect("clean").frame;
                let record = decode_record(frame.header.record_type, frame.payload);
                black_box(record.expect("decodes"));
                count += 1;
            }
            count
        });
    });
    // `None`: apply alone; `Some(d)`: with the hints recovery gives, `d`
    // commands ahead.
    for (name, hint_distance) in [
        ("apply_only", None),
        ("apply_prefetched", Some(REPLAY_LOOKAHEAD)),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let mut sm = StateMachine::new(config()).expect("valid bench config");
                    let start = Instant::now();
                    for (i, (lsn, slot, command)) in entries.iter().enumerate() {
                        let ahead = hint_distance.and_then(|distance| entries.get(i + distance));
                        if let Some((ahead_lsn, _, ahead)) = ahead {
                            sm.prefetch(*ahead_lsn, ahead);
                        }
                        black_box(sm.apply(*lsn, *slot, command).expect("applies"));
                    }
                    elapsed += start.elapsed();
                    drop(black_box(sm));
                }
                elapsed
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------
// Snapshot write and load

/// A state machine holding [`SNAPSHOT_RESOURCES`] resources and nothing else:
/// the create operations are retired by a final no-op expire past the
/// dedupe window.
fn snapshot_state() -> StateMachine {
    let config = config();
    let mut sm = StateMachine::new(config).expect("valid bench config");
    let per_slot = 10_000;
    for resource in 1..=SNAPSHOT_RESOURCES {
        let applied = sm
            .apply(
                Lsn(resource),
                Slot(resource / per_slot),
                &create(resource, resource),
            )
            .expect("applies");
        assert_eq!(applied.outcome, Outcome::ResourceCreated);
    }
    let last_slot = SNAPSHOT_RESOURCES / per_slot + config.dedupe_window_slots() + 1;
    let noop = LogCommand::Expire {
        lease_id: LeaseId::new(SHARD, Lsn(u64::MAX)),
        deadline_slot: Slot(0),
    };
    sm.apply(Lsn(SNAPSHOT_RESOURCES + 1), Slot(last_slot), &noop)
        .expect("applies");
    sm
}

fn snapshot(c: &mut Criterion) {
    let config = config();
    let sm = snapshot_state();
    let image = sm.export();
    assert_eq!(image.resources.len() as u64, SNAPSHOT_RESOURCES);
    assert!(image.leases.is_empty() && image.operations.is_empty());
    let encoded_len = format::encoded_len(&image) as u64;
    eprintln!("snapshot: {SNAPSHOT_RESOURCES} resources, {encoded_len} bytes");
    let ram = ram_dir();
    let disk = disk_dir();
    let write = |dir: &Path, image: &Image| {
        let dir = Directory::open(dir).expect("open the directory");
        write_snapshot(&dir, SHARD, image, |_| Ok::<(), std::io::Error>(())).expect("write");
    };
    write(ram.path(), &image);
    let on_disk = std::fs::metadata(ram.path().join(SNAPSHOT_FILE_NAME)).expect("written");
    assert_eq!(on_disk.len(), encoded_len);

    let mut group = c.benchmark_group("snapshot_1M");
    group
        .throughput(Throughput::ElementsAndBytes {
            elements: SNAPSHOT_RESOURCES,
            bytes: encoded_len,
        })
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    group.bench_function("export", |b| b.iter(|| sm.export()));
    group.bench_function("encode", |b| {
        b.iter(|| format::encode(SHARD, black_box(&image)))
    });
    for (location, dir) in [("ram", ram.path()), ("disk", disk.path())] {
        group.bench_function(format!("write/{location}"), |b| {
            b.iter(|| write(dir, black_box(&image)));
        });
    }
    // What a checkpoint pays: export (collect + sort) + encode + write.
    group.bench_function("export_write/disk", |b| {
        b.iter(|| write(disk.path(), &sm.export()));
    });
    group.bench_function("load_file/ram", |b| {
        b.iter(|| load_snapshot(ram.path(), &config).expect("loads"));
    });
    group.bench_function("load_restore/ram", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let image = load_snapshot(ram.path(), &config)
                    .expect("loads")
                    .expect("present");
                let restored = StateMachine::restore(config, &image).expect("restores");
                elapsed += start.elapsed();
                drop(black_box((image, restored)));
            }
            elapsed
        });
    });
    group.finish();
}

criterion_group!(benches, wal_append, recovery, snapshot);
criterion_main!(benches);
