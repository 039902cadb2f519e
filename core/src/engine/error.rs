//! Engine errors. A submission error is either definite (rejected before
//! the WAL: nothing happened) or indefinite (the write may or may not be
//! durable; the client retries the same `operation_id` after recovery).

use crate::ids::{Lsn, Slot};
use crate::machine::{ApplyError, RestoreError};
use crate::snapshot::LoadError;
use crate::wal::{Corruption, PayloadError, WalReadError};
use std::io;

#[cfg(feature = "fault-injection")]
use super::fault::CrashPoint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("malformed request: {reason}")]
    Malformed { reason: &'static str },
    #[error("command encodes to {len} bytes, more than a frame holds")]
    CommandTooLarge { len: usize },
    #[error("request slot {slot:?} is beyond the largest safe slot {max}")]
    SlotOverflow { slot: Slot, max: u64 },
    #[error("request slot {slot:?} is before the engine's slot {current:?}")]
    SlotRewound { slot: Slot, current: Slot },
    #[error("the submission queue is full")]
    Overloaded,
    #[error("log sequence numbers are exhausted")]
    LsnExhausted,
    /// Indefinite: a WAL append or sync failed; the engine halted.
    #[error("storage failure ({kind:?}); the write may or may not be durable")]
    StorageFailure { kind: io::ErrorKind },
    /// Indefinite: the engine halted after an earlier storage failure.
    #[error("the engine halted after a storage failure; restart to recover")]
    EngineHalted,
    /// The armed crash point fired; the engine is dead.
    #[cfg(feature = "fault-injection")]
    #[error("crashed at {0:?}")]
    Crashed(CrashPoint),
}

impl SubmitError {
    /// True when the write certainly did not happen.
    pub fn is_definite(&self) -> bool {
        match self {
            SubmitError::Malformed { .. }
            | SubmitError::CommandTooLarge { .. }
            | SubmitError::SlotOverflow { .. }
            | SubmitError::SlotRewound { .. }
            | SubmitError::Overloaded
            | SubmitError::LsnExhausted => true,
            SubmitError::StorageFailure { .. } | SubmitError::EngineHalted => false,
            #[cfg(feature = "fault-injection")]
            SubmitError::Crashed(_) => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the engine halted; reads fail closed until recovery")]
    EngineHalted,
    #[error("required lsn {required:?} is not applied yet (applied: {applied:?})")]
    FenceNotApplied { required: Lsn, applied: Option<Lsn> },
    #[error("lease not found")]
    LeaseNotFound,
    #[error("lease retired")]
    LeaseRetired,
}

/// Why recovery refused to start the engine. Every variant is fail-closed:
/// the files are left exactly as found (except a torn tail, truncated).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("storage I/O failed during recovery: {0}")]
    Io(#[from] io::Error),
    #[error("snapshot: {0}")]
    Snapshot(#[from] LoadError),
    #[error("snapshot restore: {0}")]
    Restore(#[from] RestoreError),
    #[error(transparent)]
    WalCorruption(#[from] Corruption),
    #[error("WAL frame at byte {offset} (lsn {lsn:?}) has a bad payload: {error}")]
    BadPayload {
        offset: usize,
        lsn: Lsn,
        error: PayloadError,
    },
    #[error("WAL frame at byte {offset} cannot be applied: {error}")]
    Replay { offset: usize, error: ApplyError },
    #[error(
        "WAL frame at byte {offset} has lsn {found:?}, expected {expected:?}: frames are missing"
    )]
    LsnGap {
        offset: usize,
        expected: Lsn,
        found: Lsn,
    },
    /// The replay read something other than the `scanned_len` bytes the
    /// scan had checked: the file changed under recovery.
    #[error("the WAL changed while recovery read it (the scan checked {scanned_len} bytes)")]
    WalChanged { scanned_len: usize },
    #[cfg(feature = "fault-injection")]
    #[error("crashed at {0:?}")]
    Crashed(CrashPoint),
}

impl From<WalReadError> for OpenError {
    fn from(error: WalReadError) -> OpenError {
        match error {
            WalReadError::Io(error) => OpenError::Io(error),
            WalReadError::Corruption(corruption) => OpenError::WalCorruption(corruption),
        }
    }
}

/// Why a checkpoint did not complete.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the engine halted; restart before checkpointing")]
    EngineHalted,
    /// No LSN is left for the snapshot marker: nothing was written, and
    /// the engine keeps serving reads (its log ends the LSN space).
    #[error("log sequence numbers are exhausted: no LSN is left for the snapshot marker")]
    LsnExhausted,
    #[error("checkpoint I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("the live WAL is corrupt: {0}")]
    WalCorruption(#[from] Corruption),
    #[cfg(feature = "fault-injection")]
    #[error("crashed at {0:?}")]
    Crashed(CrashPoint),
}
