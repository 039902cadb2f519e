//! Fault seams for the simulator. Compiled only with the `fault-injection`
//! feature: production builds carry none of this.
//!
//! A crash stops the engine at a named point as if the process died there:
//! the call returns `Crashed`, the engine refuses everything afterwards, and
//! only the files remain. I/O errors are not armed here: every file
//! operation's fault seam is in `crate::fs` (`fs::fault`), where the
//! operation is made.

/// Where an armed crash stops the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CrashPoint {
    /// A client write, before its frame is appended.
    ClientBeforeAppend,
    /// A client write, appended but not synced.
    ClientAfterAppend,
    /// A client write, synced but not applied.
    ClientAfterSync,
    /// A client write, applied but its reply not returned.
    ClientAfterApply,
    /// The same four points for an internal expire committed by the tick.
    ExpireBeforeAppend,
    ExpireAfterAppend,
    ExpireAfterSync,
    ExpireAfterApply,
    /// Checkpoint: new snapshot written to its temp file, not yet renamed.
    CheckpointAfterSnapshotTemp,
    /// Checkpoint: snapshot renamed into place, directory not yet synced.
    CheckpointAfterSnapshotRename,
    /// Checkpoint: snapshot durable, WAL not yet rewritten.
    CheckpointAfterSnapshot,
    /// Checkpoint: WAL rewritten and renamed, directory not yet synced.
    CheckpointAfterWalRename,
    /// Checkpoint: WAL rewrite durable, checkpoint not yet reported.
    CheckpointAfterWalRewrite,
    /// Recovery: snapshot loaded and restored, WAL not yet scanned.
    RecoveryAfterSnapshotLoad,
    /// Recovery: torn tail truncated, nothing replayed yet.
    RecoveryAfterTornTailTruncate,
    /// Recovery: after replaying the k-th frame (1-based) past the snapshot.
    RecoveryAfterReplayedFrame(u64),
}

/// The code path a crash point sits on: which action of the engine
/// reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CrashPath {
    /// A client write (`submit`, or a queued request's `process_next`).
    Client,
    /// An internal expire committed by a tick.
    Expire,
    /// A checkpoint.
    Checkpoint,
    /// Recovery, while the engine opens.
    Recovery,
}

impl CrashPoint {
    /// The path that reaches this point.
    pub const fn path(self) -> CrashPath {
        match self {
            CrashPoint::ClientBeforeAppend
            | CrashPoint::ClientAfterAppend
            | CrashPoint::ClientAfterSync
            | CrashPoint::ClientAfterApply => CrashPath::Client,
            CrashPoint::ExpireBeforeAppend
            | CrashPoint::ExpireAfterAppend
            | CrashPoint::ExpireAfterSync
            | CrashPoint::ExpireAfterApply => CrashPath::Expire,
            CrashPoint::CheckpointAfterSnapshotTemp
            | CrashPoint::CheckpointAfterSnapshotRename
            | CrashPoint::CheckpointAfterSnapshot
            | CrashPoint::CheckpointAfterWalRename
            | CrashPoint::CheckpointAfterWalRewrite => CrashPath::Checkpoint,
            CrashPoint::RecoveryAfterSnapshotLoad
            | CrashPoint::RecoveryAfterTornTailTruncate
            | CrashPoint::RecoveryAfterReplayedFrame(_) => CrashPath::Recovery,
        }
    }

    /// Every point, with frame 1 standing for the replay points.
    pub const ALL: [CrashPoint; 16] = [
        CrashPoint::ClientBeforeAppend,
        CrashPoint::ClientAfterAppend,
        CrashPoint::ClientAfterSync,
        CrashPoint::ClientAfterApply,
        CrashPoint::ExpireBeforeAppend,
        CrashPoint::ExpireAfterAppend,
        CrashPoint::ExpireAfterSync,
        CrashPoint::ExpireAfterApply,
        CrashPoint::CheckpointAfterSnapshotTemp,
        CrashPoint::CheckpointAfterSnapshotRename,
        CrashPoint::CheckpointAfterSnapshot,
        CrashPoint::CheckpointAfterWalRename,
        CrashPoint::CheckpointAfterWalRewrite,
        CrashPoint::RecoveryAfterSnapshotLoad,
        CrashPoint::RecoveryAfterTornTailTruncate,
        CrashPoint::RecoveryAfterReplayedFrame(1),
    ];

    pub const fn name(self) -> &'static str {
        match self {
            CrashPoint::ClientBeforeAppend => "client_before_append",
            CrashPoint::ClientAfterAppend => "client_after_append",
            CrashPoint::ClientAfterSync => "client_after_sync",
            CrashPoint::ClientAfterApply => "client_after_apply",
            CrashPoint::ExpireBeforeAppend => "expire_before_append",
            CrashPoint::ExpireAfterAppend => "expire_after_append",
            CrashPoint::ExpireAfterSync => "expire_after_sync",
            CrashPoint::ExpireAfterApply => "expire_after_apply",
            CrashPoint::CheckpointAfterSnapshotTemp => "checkpoint_after_snapshot_temp",
            CrashPoint::CheckpointAfterSnapshotRename => "checkpoint_after_snapshot_rename",
            CrashPoint::CheckpointAfterSnapshot => "checkpoint_after_snapshot",
            CrashPoint::CheckpointAfterWalRename => "checkpoint_after_wal_rename",
            CrashPoint::CheckpointAfterWalRewrite => "checkpoint_after_wal_rewrite",
            CrashPoint::RecoveryAfterSnapshotLoad => "recovery_after_snapshot_load",
            CrashPoint::RecoveryAfterTornTailTruncate => "recovery_after_torn_tail_truncate",
            CrashPoint::RecoveryAfterReplayedFrame(_) => "recovery_after_replayed_frame",
        }
    }
}

/// What is armed. Each arming fires once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    pub crash: Option<CrashPoint>,
    /// Arrivals at `crash` that pass before it fires: 0 fires at the first.
    /// A tick or a queue of requests reaches a point once per command.
    pub crash_passes: u32,
}

impl Faults {
    /// True (and disarmed) when `point` is the armed crash and no passes
    /// are left.
    pub(crate) fn take_crash(&mut self, point: CrashPoint) -> bool {
        if self.crash != Some(point) {
            return false;
        }
        if self.crash_passes > 0 {
            self.crash_passes -= 1;
            return false;
        }
        self.crash = None;
        true
    }
}
