//! An exhaustive corruption sweep over real engine files.
//!
//! The real engine writes a WAL and a snapshot: resources, reserves (single
//! and bundled), activations, releases, a retry answered from the retry
//! cache, rejections, a revoke and reclaim, and maintenance ticks that
//! expire leases, with two checkpoints. The second checkpoint's snapshot is
//! the snapshot file; its WAL rewrite kept the frames after the first
//! snapshot (the overlap the snapshot also covers) and appended a marker,
//! and more commands follow it.
//!
//! Then every single-bit flip of the WAL, every truncation of the WAL (to
//! each length `0..len`) and every single-bit flip of the snapshot is
//! recovered through [`Engine::open`] on a fresh copy of the files, and
//! classified:
//!
//! * `recovered_exact`: recovery succeeded with exactly the durable state
//!   the damage allows (see [`Pristine::expected`]), the repaired log ends
//!   at the right frame boundary, and it accepts the next write and recovers
//!   it again.
//! * `silently_accepted_wrong`: recovery succeeded with anything else, or
//!   succeeded where the torn-tail rule demands failing closed (damage to
//!   a frame that is not the last, a flip that shrank the last frame's
//!   length, any snapshot damage). Must be 0.
//! * `failed_closed`: recovery refused where the rule demands it, naming
//!   the damaged frame's start offset (WAL damage) or with the snapshot's
//!   checksum error (a single flip fails the whole-file CRC, checked first).
//! * `failed_closed_wrong_place`: recovery refused where the rule reads a
//!   torn tail, or named anything else. Must be 0.
//!
//! Each case has one expected outcome: a flip in the last frame is a torn
//! tail unless it shrank `payload_len`, every truncation is a torn tail.
//!
//! A WAL cut before the snapshot's LSN still recovers the snapshot's state:
//! the snapshot is intact durable state, and the engine accepts a WAL that
//! does not reach it (see `a_torn_frame_the_snapshot_covers_loses_nothing`
//! in `engine_faults.rs`). Such cases are counted separately in the report.
//!
//! Expected states are computed independently of recovery: the frames of
//! the complete log (LSN 1 onwards) are replayed through a fresh
//! [`StateMachine`], recording the digest and `last_applied_lsn` after every
//! LSN, and cross-checked against digests recorded live while the engine
//! wrote the log.

#[path = "support/scratch_dir.rs"]
mod scratch_dir;

use allocdb_core::engine::{Engine, EngineConfig, OpenError};
use allocdb_core::snapshot::format::SnapshotError;
use allocdb_core::snapshot::{LoadError, SNAPSHOT_FILE_NAME};
use allocdb_core::wal::{decode_record, frames, CorruptionKind, WalRecord, WAL_FILE_NAME};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, HolderId, LeaseEpoch, LeaseId, Lsn, OperationId,
    Outcome, ResourceId, ResultCode, Slot, StateMachine,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Instant;

/// Where a frame header's `payload_len` starts (`docs/storage-format.md`).
const PAYLOAD_LEN_AT: usize = 24;

/// Frames the final WAL must hold at least.
const MIN_FRAMES: usize = 50;

fn config() -> EngineConfig {
    EngineConfig::small()
}

// --- building the log with the real engine ----------------------------------

/// Drives the engine and records the digest after every command it commits
/// one by one (ticks record only their last expire).
struct Builder {
    engine: Engine,
    operation: u128,
    slot: u64,
    /// LSN -> (digest, last_applied_lsn) observed live.
    live: BTreeMap<u64, (u64, Option<Lsn>)>,
}

#[derive(Clone, Copy, Debug)]
struct Held {
    lease_id: LeaseId,
    holder_id: HolderId,
    epoch: LeaseEpoch,
}

impl Builder {
    fn record(&mut self, lsn: Lsn) {
        let sm = self.engine.state_machine();
        self.live
            .insert(lsn.0, (sm.digest(), sm.last_applied_lsn()));
    }

    fn submit_as(&mut self, operation: u128, command: Command) -> Outcome {
        let request = ClientRequest {
            operation_id: OperationId(operation),
            client_id: ClientId(7),
            command,
        };
        let applied = self
            .engine
            .submit(request, Slot(self.slot))
            .expect("the engine accepts the command");
        self.record(applied.lsn);
        applied.outcome
    }

    fn submit(&mut self, command: Command) -> Outcome {
        self.operation += 1;
        self.submit_as(self.operation, command)
    }

    fn create(&mut self, ids: std::ops::RangeInclusive<u128>) {
        for id in ids {
            let outcome = self.submit(Command::CreateResource {
                resource_id: ResourceId(id),
            });
            assert_eq!(outcome, Outcome::ResourceCreated, "create {id}");
        }
    }

    fn try_reserve(&mut self, ids: &[u128], ttl_slots: u64, holder: u128) -> Outcome {
        let ids: Vec<ResourceId> = ids.iter().map(|&id| ResourceId(id)).collect();
        self.submit(Command::Reserve {
            resources: Bundle::from_slice(&ids).expect("a small bundle"),
            holder_id: HolderId(holder),
            ttl_slots,
        })
    }

    fn reserve(&mut self, ids: &[u128], ttl_slots: u64, holder: u128) -> Held {
        match self.try_reserve(ids, ttl_slots, holder) {
            Outcome::Reserved {
                lease_id,
                lease_epoch,
                ..
            } => Held {
                lease_id,
                holder_id: HolderId(holder),
                epoch: lease_epoch,
            },
            other => panic!("reserve {ids:?}: {other:?}"),
        }
    }

    fn activate_cmd(held: Held, epoch: LeaseEpoch) -> Command {
        Command::Activate {
            lease_id: held.lease_id,
            holder_id: held.holder_id,
            lease_epoch: epoch,
        }
    }

    fn release_cmd(held: Held) -> Command {
        Command::Release {
            lease_id: held.lease_id,
            holder_id: held.holder_id,
            lease_epoch: held.epoch,
        }
    }

    /// Activates `held`; the lease as the holder now knows it.
    fn activate(&mut self, held: Held) -> Held {
        match self.submit(Self::activate_cmd(held, held.epoch)) {
            Outcome::Activated { lease_epoch, .. } => Held {
                epoch: lease_epoch,
                ..held
            },
            other => panic!("activate: {other:?}"),
        }
    }

    fn release(&mut self, held: Held) {
        let outcome = self.submit(Self::release_cmd(held));
        assert!(
            matches!(outcome, Outcome::Released { .. }),
            "release: {outcome:?}"
        );
    }

    fn revoke_and_reclaim(&mut self, held: Held) {
        let outcome = self.submit(Command::Revoke {
            lease_id: held.lease_id,
        });
        assert!(matches!(outcome, Outcome::Revoked { .. }), "{outcome:?}");
        let outcome = self.submit(Command::Reclaim {
            lease_id: held.lease_id,
        });
        assert!(matches!(outcome, Outcome::Reclaimed { .. }), "{outcome:?}");
    }

    /// Moves to `slot` and runs the maintenance tick there.
    fn tick_at(&mut self, slot: u64) -> u32 {
        self.slot = slot;
        let report = self
            .engine
            .tick_expirations(Slot(slot))
            .expect("the tick commits");
        if let Some(lsn) = report.last_lsn {
            self.record(lsn);
        }
        report.expired
    }
}

/// The pristine files and everything needed to judge a damaged copy.
struct Pristine {
    wal: Vec<u8>,
    snapshot: Vec<u8>,
    /// `(start, end, lsn)` of every frame of `wal`, in order.
    frames: Vec<(usize, usize, u64)>,
    snapshot_lsn: u64,
    /// Indexed by LSN (0 = empty state): digest and `last_applied_lsn`
    /// after every frame up to that LSN, from an independent replay.
    reference: Vec<(u64, Option<Lsn>)>,
}

impl Pristine {
    /// The state recovery must produce when the WAL keeps exactly the frames
    /// up to `wal_lsn` (`None`: no complete frame) and the snapshot is
    /// intact: a snapshot is durable state, so frames it covers are not lost
    /// when the WAL loses them; nothing past `wal_lsn` survives in either.
    fn expected(&self, wal_lsn: Option<u64>) -> Recovered {
        let wal_lsn = wal_lsn.unwrap_or(0);
        let (digest, last_applied) = self.reference[wal_lsn.max(self.snapshot_lsn) as usize];
        Recovered {
            digest,
            last_applied,
            wal_short_of_snapshot: wal_lsn < self.snapshot_lsn,
        }
    }

    /// Index of the frame containing byte `byte`.
    fn frame_at(&self, byte: usize) -> usize {
        self.frames
            .iter()
            .position(|&(start, end, _)| start <= byte && byte < end)
            .expect("every byte of the pristine WAL is in a frame")
    }
}

fn build(dir: &Path) -> Pristine {
    let (engine, _) = Engine::open(dir, config()).expect("a fresh engine");
    let mut b = Builder {
        engine,
        operation: 1000,
        slot: 1,
        live: BTreeMap::new(),
    };

    // Phase A: resources and a first pair of leases, then checkpoint 1.
    b.create(1..=8);
    let a = b.reserve(&[1], 30, 11);
    let _abandoned_b = b.reserve(&[2], 3, 12);
    let a = b.activate(a);
    let first = b.engine.checkpoint().expect("checkpoint 1");

    // Phase B: bundles, a retry, rejections, revoke/reclaim and a tick.
    b.slot = 2;
    b.create(9..=12);
    let c = b.reserve(&[3, 4], 25, 13);
    let c = b.activate(c);
    let d = b.reserve(&[5], 2, 14);
    let _abandoned_e = b.reserve(&[6, 7, 8], 3, 15);
    b.operation += 1;
    let release_a = b.operation;
    let outcome = b.submit_as(release_a, Builder::release_cmd(a));
    assert!(matches!(outcome, Outcome::Released { .. }), "{outcome:?}");
    // The same operation again: answered from the retry cache, still a frame.
    assert_eq!(b.submit_as(release_a, Builder::release_cmd(a)), outcome);
    b.slot = 3;
    let f = b.reserve(&[1], 20, 16);
    assert_eq!(
        b.submit(Builder::activate_cmd(f, f.epoch.bumped())),
        Outcome::Rejected(ResultCode::StaleEpoch)
    );
    let f = b.activate(f);
    assert_eq!(
        b.try_reserve(&[3], 5, 17),
        Outcome::Rejected(ResultCode::ResourceBusy)
    );
    b.revoke_and_reclaim(c);
    assert_eq!(b.tick_at(6), 3, "b, d and e expire");
    // A late activation of an expired lease.
    let late = b.submit(Builder::activate_cmd(d, d.epoch));
    assert!(!late.is_success(), "{late:?}");
    b.create(13..=16);

    let before_second = fs::read(dir.join(WAL_FILE_NAME)).expect("the WAL");
    let second = b.engine.checkpoint().expect("checkpoint 2");
    assert!(second.snapshot_lsn > first.snapshot_lsn);

    // Phase C: frames after the snapshot and its marker.
    b.slot = 7;
    b.create(17..=20);
    let g = b.reserve(&[9], 2, 18);
    let h = b.reserve(&[10, 11], 4, 19);
    let i = b.reserve(&[12], 30, 20);
    let i = b.activate(i);
    b.release(f);
    b.slot = 8;
    b.create(21..=24);
    assert_eq!(
        b.try_reserve(&[2, 9], 5, 21),
        Outcome::Rejected(ResultCode::ResourceBusy)
    );
    assert_eq!(b.tick_at(12), 2, "g and h expire");
    let _ = (g, h);
    let j = b.reserve(&[9, 10], 10, 22);
    let j = b.activate(j);
    b.release(j);
    b.revoke_and_reclaim(i);
    let late = b.submit(Builder::release_cmd(i));
    assert!(!late.is_success(), "{late:?}");
    b.slot = 13;
    b.create(25..=26);
    let k = b.reserve(&[13, 14], 6, 23);
    let _ = b.activate(k);

    let final_digest = b.engine.state_machine().digest();
    let live = std::mem::take(&mut b.live);
    drop(b);

    let wal = fs::read(dir.join(WAL_FILE_NAME)).expect("the WAL");
    let snapshot = fs::read(dir.join(SNAPSHOT_FILE_NAME)).expect("the snapshot");
    let frame_list: Vec<(usize, usize, u64)> = frames(&wal)
        .map(|f| {
            let f = f.expect("the pristine WAL is valid");
            (f.offset, f.end(), f.frame.header.lsn.0)
        })
        .collect();
    assert_eq!(frame_list.last().map(|f| f.1), Some(wal.len()));
    assert!(
        frame_list.len() >= MIN_FRAMES,
        "only {} frames in the WAL",
        frame_list.len()
    );
    // The overlap: the WAL starts with the first checkpoint's marker, right
    // after its snapshot, and holds the second marker in the middle.
    assert_eq!(frame_list[0].2, first.snapshot_lsn.0 + 1);
    let markers: Vec<u64> = frames(&wal)
        .map(Result::unwrap)
        .filter_map(
            |f| match decode_record(f.frame.header.record_type, f.frame.payload) {
                Ok(WalRecord::SnapshotMarker { snapshot_lsn }) => Some(snapshot_lsn.0),
                _ => None,
            },
        )
        .collect();
    assert_eq!(
        markers,
        vec![first.snapshot_lsn.0, second.snapshot_lsn.0],
        "two snapshot markers"
    );

    let reference = replay_reference(&before_second, &wal);
    assert_eq!(reference.len() as u64, frame_list.last().unwrap().2 + 1);
    for (lsn, state) in &live {
        assert_eq!(reference[*lsn as usize], *state, "live state at LSN {lsn}");
    }
    assert_eq!(reference.last().unwrap().0, final_digest);

    Pristine {
        wal,
        snapshot,
        frames: frame_list,
        snapshot_lsn: second.snapshot_lsn.0,
        reference,
    }
}

/// Replays the complete log (LSN 1 onwards: the WAL as it was before the
/// second checkpoint, then the final WAL's later frames) through a fresh
/// state machine, recording the state after every LSN.
fn replay_reference(before_second: &[u8], wal: &[u8]) -> Vec<(u64, Option<Lsn>)> {
    let mut sm = StateMachine::new(config().core).expect("a valid config");
    let mut states = vec![(sm.digest(), sm.last_applied_lsn())];
    for log in [before_second, wal] {
        for scanned in frames(log) {
            let frame = scanned.expect("a valid log").frame;
            let lsn = frame.header.lsn.0;
            if lsn < states.len() as u64 {
                continue; // already replayed from the earlier log
            }
            assert_eq!(lsn, states.len() as u64, "the complete log has every LSN");
            match decode_record(frame.header.record_type, frame.payload).expect("payload") {
                WalRecord::Command(command) => {
                    sm.apply(frame.header.lsn, frame.header.request_slot, &command)
                        .expect("the reference replay applies");
                }
                WalRecord::SnapshotMarker { .. } => {}
            }
            states.push((sm.digest(), sm.last_applied_lsn()));
        }
    }
    states
}

// --- the sweep --------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    RecoveredExact,
    SilentlyAcceptedWrong,
    FailedClosed,
    FailedClosedWrongPlace,
}

const CLASSES: [Class; 4] = [
    Class::RecoveredExact,
    Class::SilentlyAcceptedWrong,
    Class::FailedClosed,
    Class::FailedClosedWrongPlace,
];

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::RecoveredExact => "recovered_exact",
            Class::SilentlyAcceptedWrong => "silently_accepted_wrong",
            Class::FailedClosed => "failed_closed",
            Class::FailedClosedWrongPlace => "failed_closed_wrong_place",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    WalBitFlip,
    WalTruncation,
    SnapshotBitFlip,
}

/// A state recovery may produce.
#[derive(Clone, Copy, Debug)]
struct Recovered {
    digest: u64,
    last_applied: Option<Lsn>,
    /// The WAL no longer reaches the snapshot's LSN: the state comes from
    /// the snapshot alone.
    wal_short_of_snapshot: bool,
}

/// What recovery of a damaged copy must produce: one outcome, by the
/// torn-tail rule of `core/src/wal/scan.rs`.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Recovery must succeed with this state and log length (a torn tail
    /// cut, or nothing damaged).
    Recover { state: Recovered, wal_len: usize },
    /// Recovery must fail closed naming the frame starting at `offset`.
    WalFailClosed { offset: usize },
    /// A single flip anywhere in the snapshot: its whole-file checksum,
    /// checked before anything else, refuses it.
    SnapshotFailClosed,
}

#[derive(Default)]
struct Tally {
    counts: BTreeMap<(Kind, Class), usize>,
    /// Exact recoveries whose WAL no longer reached the snapshot's LSN.
    exact_via_snapshot: usize,
    /// Why recovery refused, by error variant.
    errors: BTreeMap<(Kind, String), usize>,
    /// Failed recoveries that changed the files anyway.
    failed_but_changed_files: usize,
    /// The first 20 bad cases, described.
    bad: Vec<String>,
    tried: usize,
}

impl Tally {
    fn add(&mut self, kind: Kind, class: Class, detail: impl FnOnce() -> String) {
        self.tried += 1;
        *self.counts.entry((kind, class)).or_default() += 1;
        if matches!(
            class,
            Class::SilentlyAcceptedWrong | Class::FailedClosedWrongPlace
        ) && self.bad.len() < 20
        {
            self.bad
                .push(format!("{kind:?} {}: {}", class.name(), detail()));
        }
    }

    fn count(&self, class: Class) -> usize {
        self.counts
            .iter()
            .filter(|((_, c), _)| *c == class)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The frame-start offset an error names, for the variants that name one.
/// `Corruption::offset` is the start of the offending frame; `BadPayload`,
/// `Replay` and `LsnGap` carry the start of the frame they reject. All are
/// positions in the file (recovery scans it from byte 0).
fn wal_offset(error: &OpenError) -> Option<usize> {
    match error {
        OpenError::WalCorruption(c) => Some(c.offset),
        OpenError::BadPayload { offset, .. }
        | OpenError::Replay { offset, .. }
        | OpenError::LsnGap { offset, .. } => Some(*offset),
        _ => None,
    }
}

fn error_variant(error: &OpenError) -> String {
    let head = |s: String| {
        s.split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    match error {
        OpenError::WalCorruption(c) => match c.kind {
            CorruptionKind::BadFrame { error, not_torn } => format!(
                "WalCorruption/BadFrame/{}/{}",
                head(format!("{error:?}")),
                head(format!("{not_torn:?}"))
            ),
            kind => format!("WalCorruption/{}", head(format!("{kind:?}"))),
        },
        OpenError::Snapshot(LoadError::Invalid(e)) => {
            format!("Snapshot/Invalid/{}", head(format!("{e:?}")))
        }
        other => head(format!("{other:?}")),
    }
}

/// One damaged copy of the files and what recovery must make of it.
struct Case<'a> {
    kind: Kind,
    wal: &'a [u8],
    snapshot: &'a [u8],
    expect: Expect,
}

/// Recovers the case's files from a fresh copy in `dir` and classifies.
fn run_case(dir: &Path, case: Case<'_>, tally: &mut Tally, what: &dyn Fn() -> String) {
    let Case {
        kind,
        wal,
        snapshot,
        expect,
    } = case;
    let wal_path = dir.join(WAL_FILE_NAME);
    let snapshot_path = dir.join(SNAPSHOT_FILE_NAME);
    fs::write(&wal_path, wal).expect("write the WAL copy");
    fs::write(&snapshot_path, snapshot).expect("write the snapshot copy");

    let result = Engine::open(dir, config());
    let class = match result {
        Ok((engine, report)) => {
            let got = (
                engine.state_machine().digest(),
                engine.state_machine().last_applied_lsn(),
            );
            match expect {
                Expect::Recover { state, wal_len } => {
                    if got != (state.digest, state.last_applied)
                        || engine.wal_len() != wal_len as u64
                    {
                        tally.add(kind, Class::SilentlyAcceptedWrong, || {
                            format!(
                                "{}: recovered {got:?} wal_len {} ({report:?}), expected {state:?} wal_len {wal_len}",
                                what(),
                                engine.wal_len()
                            )
                        });
                        return;
                    }
                    if let Err(problem) = continues(engine, dir) {
                        tally.add(kind, Class::SilentlyAcceptedWrong, || {
                            format!("{}: recovered, but {problem}", what())
                        });
                        return;
                    }
                    if state.wal_short_of_snapshot {
                        tally.exact_via_snapshot += 1;
                    }
                    Class::RecoveredExact
                }
                Expect::WalFailClosed { .. } | Expect::SnapshotFailClosed => {
                    tally.add(kind, Class::SilentlyAcceptedWrong, || {
                        format!("{}: accepted {got:?} ({report:?})", what())
                    });
                    return;
                }
            }
        }
        Err(error) => {
            *tally
                .errors
                .entry((kind, error_variant(&error)))
                .or_default() += 1;
            let unchanged = fs::read(&wal_path).ok().as_deref() == Some(wal)
                && fs::read(&snapshot_path).ok().as_deref() == Some(snapshot);
            if !unchanged {
                tally.failed_but_changed_files += 1;
            }
            let right_place = match expect {
                // A refusal where the rule reads a torn tail is wrong.
                Expect::Recover { .. } => false,
                Expect::WalFailClosed { offset } => wal_offset(&error) == Some(offset),
                Expect::SnapshotFailClosed => matches!(
                    error,
                    OpenError::Snapshot(LoadError::Invalid(SnapshotError::Checksum { .. }))
                ),
            };
            if right_place {
                Class::FailedClosed
            } else {
                tally.add(kind, Class::FailedClosedWrongPlace, || {
                    format!("{}: {error} (expected {expect:?})", what())
                });
                return;
            }
        }
    };
    tally.add(kind, class, String::new);
}

/// The recovered engine accepts the next write, and a restart recovers it.
fn continues(mut engine: Engine, dir: &Path) -> Result<(), String> {
    let request = ClientRequest {
        operation_id: OperationId(900_000),
        client_id: ClientId(9),
        command: Command::CreateResource {
            resource_id: ResourceId(9_000),
        },
    };
    let applied = engine
        .submit(request, engine.current_slot())
        .map_err(|e| format!("the next write failed: {e}"))?;
    let digest = engine.state_machine().digest();
    drop(engine);
    let (engine, _) = Engine::open(dir, config())
        .map_err(|e| format!("the restart after a write failed: {e}"))?;
    let sm = engine.state_machine();
    if sm.digest() != digest || sm.last_applied_lsn() != Some(applied.lsn) {
        return Err(format!(
            "the restart after a write recovered {:?} at {:?}, not the write at {:?}",
            sm.digest(),
            sm.last_applied_lsn(),
            applied.lsn
        ));
    }
    Ok(())
}

#[test]
fn every_bit_flip_and_truncation_recovers_exactly_or_fails_closed_at_the_damage() {
    let started = Instant::now();
    let base = scratch_dir::scratch_dir();
    let pristine = build(base.path());
    let work = scratch_dir::scratch_dir();
    let dir = work.path();
    let frames = &pristine.frames;
    let last = frames.len() - 1;
    let (last_start, _, last_lsn) = frames[last];
    let build_time = started.elapsed();

    // The undamaged files recover the complete state.
    let mut tally = Tally::default();
    run_case(
        dir,
        Case {
            kind: Kind::WalTruncation,
            wal: &pristine.wal,
            snapshot: &pristine.snapshot,
            expect: Expect::Recover {
                state: pristine.expected(Some(last_lsn)),
                wal_len: pristine.wal.len(),
            },
        },
        &mut tally,
        &|| "pristine".to_string(),
    );
    assert_eq!(
        tally.count(Class::RecoveredExact),
        1,
        "the pristine files: {:?}",
        tally.bad
    );
    let mut tally = Tally::default();

    let sweep_started = Instant::now();
    // Every single-bit flip of the WAL.
    let mut damaged = pristine.wal.clone();
    for byte in 0..pristine.wal.len() {
        let index = pristine.frame_at(byte);
        let (start, _, lsn) = frames[index];
        for bit in 0..8 {
            // The last frame is read as a torn tail (the state before it),
            // unless the flip shrank its length: then bytes follow the end
            // it claims, which no torn write leaves. Any other frame: the
            // frames after it are valid, so it fails closed at its start.
            let payload_len = start + PAYLOAD_LEN_AT..start + PAYLOAD_LEN_AT + 4;
            let shrank =
                payload_len.contains(&byte) && (damaged[byte] ^ (1 << bit)) < damaged[byte];
            let expect = if index == last && !shrank {
                Expect::Recover {
                    state: pristine.expected(Some(lsn - 1)),
                    wal_len: start,
                }
            } else {
                Expect::WalFailClosed { offset: start }
            };
            damaged[byte] ^= 1 << bit;
            run_case(
                dir,
                Case {
                    kind: Kind::WalBitFlip,
                    wal: &damaged,
                    snapshot: &pristine.snapshot,
                    expect,
                },
                &mut tally,
                &|| format!("byte {byte} bit {bit} (frame {index} at {start}, lsn {lsn})"),
            );
            damaged[byte] ^= 1 << bit;
        }
    }
    assert_eq!(damaged, pristine.wal);

    // Every truncation of the WAL.
    for cut in 0..pristine.wal.len() {
        let kept = frames.iter().take_while(|f| f.1 <= cut).last();
        let boundary = kept.map_or(0, |f| f.1);
        // A cut inside a frame leaves a prefix of it: a torn tail, always
        // (it reaches the end, fits one frame, hides no valid frame).
        let expect = Expect::Recover {
            state: pristine.expected(kept.map(|f| f.2)),
            wal_len: boundary,
        };
        run_case(
            dir,
            Case {
                kind: Kind::WalTruncation,
                wal: &pristine.wal[..cut],
                snapshot: &pristine.snapshot,
                expect,
            },
            &mut tally,
            &|| format!("cut at {cut} (boundary {boundary})"),
        );
    }

    // Every single-bit flip of the snapshot.
    let mut damaged = pristine.snapshot.clone();
    for byte in 0..pristine.snapshot.len() {
        for bit in 0..8 {
            damaged[byte] ^= 1 << bit;
            run_case(
                dir,
                Case {
                    kind: Kind::SnapshotBitFlip,
                    wal: &pristine.wal,
                    snapshot: &damaged,
                    expect: Expect::SnapshotFailClosed,
                },
                &mut tally,
                &|| format!("snapshot byte {byte} bit {bit}"),
            );
            damaged[byte] ^= 1 << bit;
        }
    }
    let sweep_time = sweep_started.elapsed();

    let leftovers: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != WAL_FILE_NAME && name != SNAPSHOT_FILE_NAME)
        .collect();
    assert!(leftovers.is_empty(), "recovery left files: {leftovers:?}");

    // The report.
    let wal_flips = pristine.wal.len() * 8;
    let truncations = pristine.wal.len();
    let snapshot_flips = pristine.snapshot.len() * 8;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "corruption sweep: WAL {} bytes in {} frames (LSN {}..={}, last frame at byte {last_start}), \
         snapshot {} bytes at LSN {}",
        pristine.wal.len(),
        frames.len(),
        frames[0].2,
        last_lsn,
        pristine.snapshot.len(),
        pristine.snapshot_lsn,
    );
    let _ = writeln!(
        out,
        "cases: {wal_flips} WAL bit flips, {truncations} WAL truncations, {snapshot_flips} snapshot bit flips"
    );
    for kind in [Kind::WalBitFlip, Kind::WalTruncation, Kind::SnapshotBitFlip] {
        let _ = write!(out, "  {kind:?}:");
        for class in CLASSES {
            let n = tally.counts.get(&(kind, class)).copied().unwrap_or(0);
            let _ = write!(out, " {}={n}", class.name());
        }
        let _ = writeln!(out);
    }
    for class in CLASSES {
        let _ = writeln!(out, "{}: {}", class.name(), tally.count(class));
    }
    let _ = writeln!(out, "total: {}", tally.tried);
    let _ = writeln!(
        out,
        "recovered_exact where the WAL no longer reaches the snapshot's LSN: {}",
        tally.exact_via_snapshot
    );
    let _ = writeln!(
        out,
        "failed recoveries that changed the files: {}",
        tally.failed_but_changed_files
    );
    let _ = writeln!(out, "errors by variant:");
    for ((kind, variant), n) in &tally.errors {
        let _ = writeln!(out, "  {kind:?} {variant}: {n}");
    }
    for bad in &tally.bad {
        let _ = writeln!(out, "BAD {bad}");
    }
    let _ = writeln!(
        out,
        "time: build {:.2?}, sweep {:.2?}, {:.1} us per case",
        build_time,
        sweep_time,
        sweep_time.as_secs_f64() * 1e6 / tally.tried.max(1) as f64
    );
    eprint!("{out}");

    assert_eq!(tally.tried, wal_flips + truncations + snapshot_flips);
    assert_eq!(
        CLASSES.iter().map(|c| tally.count(*c)).sum::<usize>(),
        tally.tried,
        "every case is classified once"
    );
    assert_eq!(tally.count(Class::SilentlyAcceptedWrong), 0, "{out}");
    assert_eq!(tally.count(Class::FailedClosedWrongPlace), 0, "{out}");
    assert_eq!(tally.failed_but_changed_files, 0, "{out}");
    // The spec's torn-tail rule makes every truncation a clean end or a torn
    // tail: none may fail closed.
    assert_eq!(
        tally
            .counts
            .get(&(Kind::WalTruncation, Class::RecoveredExact))
            .copied()
            .unwrap_or(0),
        truncations,
        "{out}"
    );
}
