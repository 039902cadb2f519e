//! Checkpoint: write the snapshot, then rewrite the WAL.
//!
//! 1. Snapshot of the applied state at `snapshot_lsn`, atomically.
//! 2. The WAL replaced (temp + fsync + rename + directory fsync) by the
//!    frames after the *previous* snapshot's LSN (one checkpoint of overlap)
//!    plus a snapshot-marker frame.
//!
//! A crash between any two steps recovers to the same state: before the
//! rename the old snapshot and the full WAL; after it the new snapshot,
//! whose LSN the old and the new WAL both reach.

use super::{crash_point, CheckpointError, Engine, Lifecycle};
use crate::ids::Lsn;
use crate::snapshot::write_snapshot;
use crate::wal::{encode_record_frame, frames, WalRecord, MAX_FRAME_LEN};

#[cfg(feature = "fault-injection")]
use {super::fault::CrashPoint, crate::snapshot::WriteStep};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointReport {
    pub snapshot_lsn: Lsn,
    /// Frames kept in the rewritten WAL, the marker included.
    pub frames_kept: u64,
    pub wal_bytes: u64,
}

impl Engine {
    /// Writes a checkpoint. Any failure halts the engine: what is on disk is
    /// then only trusted through recovery.
    pub fn checkpoint(&mut self) -> Result<CheckpointReport, CheckpointError> {
        match self.lifecycle {
            Lifecycle::Running => {}
            Lifecycle::Halted => return Err(CheckpointError::EngineHalted),
            #[cfg(feature = "fault-injection")]
            Lifecycle::Crashed(point) => return Err(CheckpointError::Crashed(point)),
        }
        let result = self.checkpoint_steps();
        if matches!(
            result,
            Err(CheckpointError::Io(_) | CheckpointError::WalCorruption(_))
        ) {
            self.lifecycle = Lifecycle::Halted;
        }
        result
    }

    fn checkpoint_steps(&mut self) -> Result<CheckpointReport, CheckpointError> {
        // The marker takes the next LSN: without one, write nothing.
        let marker_lsn = self.next_lsn.ok_or(CheckpointError::LsnExhausted)?;
        let image = self.sm.export();
        let snapshot_lsn = image.last_applied_lsn;
        assert_eq!(
            Some(snapshot_lsn).filter(|lsn| lsn.0 > 0),
            self.sm.last_applied_lsn(),
            "the snapshot is of everything applied"
        );
        let previous = self.snapshot_lsn.unwrap_or(Lsn(0));
        write_snapshot(
            self.wal.directory(),
            self.config.core.shard_id,
            &image,
            |step| {
                #[cfg(feature = "fault-injection")]
                {
                    let point = match step {
                        WriteStep::TempWritten => Some(CrashPoint::CheckpointAfterSnapshotTemp),
                        WriteStep::Renamed => Some(CrashPoint::CheckpointAfterSnapshotRename),
                        WriteStep::DirectorySynced => Some(CrashPoint::CheckpointAfterSnapshot),
                        WriteStep::TempSynced => None,
                    };
                    if let Some(point) = point {
                        crash_point!(self, point, CheckpointError::Crashed);
                    }
                }
                let _ = step;
                Ok::<(), CheckpointError>(())
            },
        )?;
        self.snapshot_lsn = Some(snapshot_lsn);

        let old = self.wal.read_all()?;
        let mut rewritten = Vec::with_capacity(old.len() + MAX_FRAME_LEN);
        let mut frames_kept = 0u64;
        for scanned in frames(&old) {
            let scanned = scanned?;
            if scanned.frame.header.lsn > previous {
                rewritten.extend_from_slice(&old[scanned.offset..scanned.end()]);
                frames_kept += 1;
            }
        }
        self.next_lsn = marker_lsn.next();
        let mut frame = [0u8; MAX_FRAME_LEN];
        let len = encode_record_frame(
            marker_lsn,
            self.sm.last_request_slot(),
            &WalRecord::SnapshotMarker { snapshot_lsn },
            &mut frame,
        );
        rewritten.extend_from_slice(&frame[..len]);
        frames_kept += 1;
        self.wal.replace(&rewritten, || {
            crash_point!(
                self,
                CrashPoint::CheckpointAfterWalRename,
                CheckpointError::Crashed
            );
            Ok::<(), CheckpointError>(())
        })?;
        assert_eq!(
            (self.wal.len(), self.wal.durable_len()),
            (rewritten.len() as u64, rewritten.len() as u64),
            "the rewritten log is on disk whole and durable"
        );
        assert_eq!(
            self.next_lsn,
            marker_lsn.next(),
            "the marker took the next LSN"
        );
        crash_point!(
            self,
            CrashPoint::CheckpointAfterWalRewrite,
            CheckpointError::Crashed
        );
        Ok(CheckpointReport {
            snapshot_lsn,
            frames_kept,
            wal_bytes: rewritten.len() as u64,
        })
    }
}
