//! What the workload generator may look at when it chooses the next action:
//! the simulator's own bookkeeping, never the engine under test.

use crate::action::SimCommand;
use crate::driver::wal_book::WalBook;
use crate::driver::ArmedIo;
use crate::oracle::model::Model;
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::Slot;

/// Whether the engine process is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineStatus {
    /// Running and accepting writes.
    Up,
    /// Running but halted after a storage failure: it needs a restart.
    Halted,
    /// The process is gone (crashed); files may be damaged before restart.
    Down,
}

/// A request that has no definite answer yet: its client will retry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InFlight {
    pub client: u32,
    pub operation: u128,
}

/// The crash point armed in the running engine, and how many steps ran
/// since it was armed without it firing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArmedCrash {
    pub point: CrashPoint,
    pub steps_since: u64,
}

/// What recovery of the files as they are now would do, as far as its
/// crash points care: the one rule for which of them a restart reaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReach {
    /// There is a snapshot to load.
    pub snapshot: bool,
    /// Bytes of a torn last frame that recovery truncates.
    pub torn_bytes: u64,
    /// Whole command frames past the snapshot that recovery replays.
    pub frames_replayed: u64,
}

impl RecoveryReach {
    /// Whether recovery reaches `point` (never a point off its path).
    pub fn reaches(&self, point: CrashPoint) -> bool {
        match point {
            CrashPoint::RecoveryAfterSnapshotLoad => self.snapshot,
            CrashPoint::RecoveryAfterTornTailTruncate => self.torn_bytes > 0,
            // Frames count from 1: k = 0 names no frame.
            CrashPoint::RecoveryAfterReplayedFrame(k) => k >= 1 && self.frames_replayed >= k,
            _ => false,
        }
    }
}

/// Where a view's [`RecoveryReach`] comes from: worked out only when a
/// draw asks for it, since most steps draw no recovery crash point and the
/// count walks the WAL's frames.
pub trait ReachSource {
    fn recovery_reach(&self) -> RecoveryReach;
}

/// What was sent under each operation id: the latest request's client
/// and command (leases by id).
pub trait SentRequests {
    fn sent(&self, operation: u128) -> Option<(u32, SimCommand)>;
}

pub struct SimView<'a> {
    pub slot: Slot,
    pub status: EngineStatus,
    /// The model of the live engine's applied state (resources, leases,
    /// operations). After a crash it still shows the pre-crash state.
    pub model: &'a Model,
    /// Requests awaiting a definite answer, oldest first.
    pub in_flight: &'a [InFlight],
    /// Every operation id submitted so far, oldest first.
    pub submitted: &'a [u128],
    /// The request sent under each of them.
    pub sent: &'a dyn SentRequests,
    /// Frames in the current WAL file (complete or torn), for bit flips.
    pub wal_frames: u32,
    /// Where each of them sits, how long it is and how much of it the file
    /// holds: what a flip, a tear or a partial append can land on.
    pub wal: &'a WalBook,
    /// Size in bytes of the snapshot file, if there is one.
    pub snapshot_len: Option<u64>,
    /// Bytes written to the WAL since the last sync (what a crash can lose).
    pub unsynced_bytes: u64,
    /// Directory entry operations (creates, renames) no directory sync
    /// covers yet: a crash keeps only a prefix of them.
    pub pending_entries: u32,
    /// Unsynced bytes of every file but the WAL.
    pub unsynced_other_bytes: u64,
    /// Next operation id the generator may use (monotonic, never reused).
    pub next_operation: u128,
    /// The crash point armed in the running engine (never a recovery
    /// point: those wait for the next restart).
    pub armed_crash: Option<ArmedCrash>,
    /// The I/O errors armed in the engine's files and not fired.
    pub armed_io: &'a [ArmedIo],
    /// A bit flipped while down that the next restart must fail closed on
    /// (the driver takes one damage at a time).
    pub damage_pending: bool,
    /// Which recovery crash points a restart of the files as they are now
    /// would reach.
    pub recovery: &'a dyn ReachSource,
}
