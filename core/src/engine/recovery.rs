//! Recovery: newest snapshot, then the WAL scanned, a torn tail truncated,
//! and every frame past the snapshot replayed through the same `apply` as
//! live execution. Anything else wrong fails closed.

use super::replay_window::{DecodedFrame, ReplayWindow};
use super::{crash_point, Engine, EngineConfig, Lifecycle, OpenError};
use crate::fs::Site;
use crate::ids::Lsn;
use crate::machine::StateMachine;
use crate::ring::Ring;
use crate::snapshot::load_snapshot;
use crate::wal::{ScanEnd, WalFile, WalRecord, MAX_FRAME_LEN};
use std::path::Path;

#[cfg(feature = "fault-injection")]
use super::fault::CrashPoint;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StartMode {
    /// No snapshot and no frames: an empty state.
    Fresh,
    WalOnly,
    /// A snapshot and nothing to replay after it.
    SnapshotOnly,
    SnapshotAndWal,
}

impl StartMode {
    pub const fn name(self) -> &'static str {
        match self {
            StartMode::Fresh => "fresh",
            StartMode::WalOnly => "wal_only",
            StartMode::SnapshotOnly => "snapshot_only",
            StartMode::SnapshotAndWal => "snapshot_and_wal",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryReport {
    pub mode: StartMode,
    pub snapshot_lsn: Option<Lsn>,
    pub frames_replayed: u64,
    /// Bytes cut from a torn tail (0 for a clean end).
    pub torn_bytes: u64,
    pub last_applied_lsn: Option<Lsn>,
}

pub(super) fn recover(
    dir: &Path,
    config: EngineConfig,
    #[cfg(feature = "fault-injection")] faults: super::fault::Faults,
) -> Result<(Engine, RecoveryReport), OpenError> {
    config.core.validate()?;
    let snapshot = load_snapshot(dir, &config.core)?;
    // One state machine, built once: from the snapshot if there is one
    // (a snapshot taken before any command has LSN 0 and still counts),
    // else empty. Its tables are the config's whole capacity, so a second,
    // discarded one would double what a restart allocates and zeroes.
    let (sm, snapshot_lsn) = match &snapshot {
        Some(image) => (
            StateMachine::restore(config.core, image)?,
            Some(image.last_applied_lsn),
        ),
        None => (StateMachine::new(config.core)?, None),
    };
    let wal = WalFile::open(dir)?;
    let mut engine = Engine {
        config,
        dir: dir.to_path_buf(),
        sm,
        wal,
        next_lsn: Some(Lsn(1)),
        snapshot_lsn,
        queue: Ring::with_capacity(config.max_submission_queue.max(1)),
        frame: Box::new([0; MAX_FRAME_LEN]),
        lifecycle: Lifecycle::Running,
        #[cfg(feature = "fault-injection")]
        faults,
    };
    if snapshot.is_some() {
        crash_point!(
            engine,
            CrashPoint::RecoveryAfterSnapshotLoad,
            OpenError::Crashed
        );
    }

    // Two passes over the file, each through one fixed buffer: the scan
    // decides how the log ends (and repairs a torn tail) before the replay
    // applies anything, in the order the storage spec gives.
    let report = engine.wal.reader(Site::WalScan)?.scan()?;
    let mut torn_bytes = 0;
    if let ScanEnd::TornTail { valid_len, .. } = report.end {
        torn_bytes = engine.wal.len() - valid_len as u64;
        engine.wal.truncate(valid_len as u64)?;
        assert_eq!(
            engine.wal.durable_len(),
            valid_len as u64,
            "the repaired log ends, durable, at its last whole frame"
        );
        crash_point!(
            engine,
            CrashPoint::RecoveryAfterTornTailTruncate,
            OpenError::Crashed
        );
    }

    // No command may be missing after the snapshot: the first frame past
    // `S` must be `S + 1` (or `1` without a snapshot) and every later frame
    // the next LSN (commands and markers alike). Frames at or below `S` are
    // covered by the snapshot; gaps among them lose nothing.
    let snapshot_end = snapshot_lsn.map_or(0, |lsn| lsn.0);
    let mut previous: Option<Lsn> = None;
    let mut frames_replayed = 0u64;
    let mut window = ReplayWindow::new(engine.wal.reader(Site::WalReplay)?);
    while let Some(decoded) = window.next(&engine.sm) {
        let DecodedFrame {
            offset,
            header,
            ref record,
        } = *decoded?;
        if header.lsn.0 > snapshot_end {
            let expected = match previous {
                Some(p) if p.0 >= snapshot_end => Lsn(p.0 + 1),
                _ => Lsn(snapshot_end + 1),
            };
            if header.lsn != expected {
                return Err(OpenError::LsnGap {
                    offset,
                    expected,
                    found: header.lsn,
                });
            }
        }
        previous = Some(header.lsn);
        let record = record.as_ref().map_err(|&error| OpenError::BadPayload {
            offset,
            lsn: header.lsn,
            error,
        })?;
        if header.lsn.0 <= snapshot_end {
            continue;
        }
        let WalRecord::Command(command) = record else {
            continue;
        };
        engine
            .sm
            .apply(header.lsn, header.request_slot, command)
            .map_err(|error| OpenError::Replay { offset, error })?;
        frames_replayed += 1;
        crash_point!(
            engine,
            CrashPoint::RecoveryAfterReplayedFrame(frames_replayed),
            OpenError::Crashed
        );
    }
    // The replay read the file again: it must have ended exactly where the
    // scan did, or the file changed between the passes (another writer).
    window.finish(report.valid_len)?;
    let last_lsn = previous.map_or(snapshot_end, |lsn| lsn.0.max(snapshot_end));
    // A log whose last frame took LSN u64::MAX is valid: it leaves no LSN
    // for another frame, and every later write is refused (`LsnExhausted`).
    engine.next_lsn = Lsn(last_lsn).next();
    assert!(
        engine
            .sm
            .last_applied_lsn()
            .is_none_or(|applied| applied.0 <= last_lsn),
        "the next LSN follows everything applied"
    );
    assert_eq!(
        engine.wal.len(),
        report.valid_len as u64,
        "recovery leaves the log as the scan found it, less a torn tail"
    );

    let mode = match (snapshot.is_some(), frames_replayed > 0) {
        (false, false) => StartMode::Fresh,
        (false, true) => StartMode::WalOnly,
        (true, false) => StartMode::SnapshotOnly,
        (true, true) => StartMode::SnapshotAndWal,
    };
    let report = RecoveryReport {
        mode,
        snapshot_lsn,
        frames_replayed,
        torn_bytes,
        last_applied_lsn: engine.sm.last_applied_lsn(),
    };
    Ok((engine, report))
}
