//! What is armed, and what it must do: the crash point in the running
//! engine, the I/O errors armed in its files, and the recovery crash point
//! for the next restart. From the arms alone the simulator predicts how a
//! write that passed its door fares (crashed at which point, failed how,
//! committed), how many bytes of its frame reach the file, and where a
//! checkpoint stops, so an armed fault that should fire and does not, or
//! fires where it should not, is an engine failure, never taken on the
//! engine's word.
//!
//! A write's path, as the engine documents it (`core/src/engine/mod.rs`):
//! the point before the append; the append (an I/O error there writes
//! nothing, a short one `min(bytes, len - 1)`); the point after the
//! append; the sync (the whole frame written); the points after the sync
//! and after the apply. A checkpoint's is [`CHECKPOINT_PATH`]. A crash
//! point armed with `passes` lets that many arrivals through; an I/O error
//! lets `passes` operations of its kind at its site through.
//!
//! An I/O error belongs to a process: the one running when it was armed,
//! or, armed while none runs, the next one (its recovery first). It dies
//! with its process.

use crate::coverage::matrix::State;
use crate::view::ArmedCrash;
use allocdb_core::engine::fault::{CrashPath, CrashPoint};
use allocdb_core::fs::fault::{IoEffect, IoErrorKind, IoFault};
use allocdb_core::fs::{FsOpKind, Site};

#[derive(Clone, Debug, Default)]
pub struct Arms {
    crash: Option<ArmedPoint>,
    pub recovery: Option<CrashPoint>,
    /// I/O errors armed and not fired, in the order armed, each with the
    /// passes it has left.
    io: Vec<ArmedIo>,
}

#[derive(Clone, Copy, Debug)]
struct ArmedPoint {
    point: CrashPoint,
    /// Arrivals still to let through.
    passes: u32,
    /// The step that armed it.
    armed_at: u64,
}

/// An I/O error armed, and the step that armed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArmedIo {
    pub fault: IoFault,
    pub armed_at: u64,
}

/// An I/O error that fired: the operation it failed and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoFailure {
    pub site: Site,
    pub op: FsOpKind,
    pub effect: IoEffect,
}

impl IoFailure {
    /// The kind of the error the failed operation returned: a short write
    /// ends in `ENOSPC`, a short pass of reads in the reader's
    /// `UnexpectedEof` (it knows how long the file is).
    pub fn error_kind(self) -> std::io::ErrorKind {
        match (self.effect, self.op) {
            (IoEffect::Fail(kind), _) => kind.error().kind(),
            (IoEffect::Short { .. }, FsOpKind::Read) => std::io::ErrorKind::UnexpectedEof,
            (IoEffect::Short { .. }, _) => IoErrorKind::Enospc.error().kind(),
        }
    }

    /// Whether `error` is the one the failed operation returns.
    pub fn matches(self, error: &std::io::Error) -> bool {
        match (self.effect, self.op) {
            (IoEffect::Fail(kind), _) => IoErrorKind::of(error) == Some(kind),
            (IoEffect::Short { .. }, FsOpKind::Read) => {
                error.kind() == std::io::ErrorKind::UnexpectedEof
            }
            (IoEffect::Short { .. }, _) => IoErrorKind::of(error) == Some(IoErrorKind::Enospc),
        }
    }

    /// Whether the failure fails its operation: a short pass of reads over
    /// `read` bytes fails only when it delivers fewer; every other one does.
    pub fn fails(self, read: u64) -> bool {
        match (self.effect, self.op) {
            (IoEffect::Short { bytes }, FsOpKind::Read) => u64::from(bytes) < read,
            _ => true,
        }
    }

    /// The state a running engine is left in when this failure halts it.
    pub fn halted_state(self) -> State {
        match (self.site, self.effect) {
            (Site::WalAppend, IoEffect::Fail(_)) => State::HaltedAppendFails,
            (Site::WalAppend, IoEffect::Short { .. }) => State::HaltedPartialAppend,
            (Site::WalSync, _) => State::HaltedSyncFails,
            _ => State::HaltedCheckpoint,
        }
    }
}

/// How a write that passed its door ends, as the arms say it must.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Committed,
    /// Stopped at the armed point (after its apply for an after-apply
    /// point: the command is applied, its reply lost).
    Crashed(CrashPoint),
    /// An armed I/O error fired: the engine halts.
    Failed(IoFailure),
}

/// One step of a checkpoint: a file operation, or a crash point between
/// two of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointStep {
    Op(Site, FsOpKind),
    Point(CrashPoint),
}

/// A checkpoint's path, as `core/src/engine/checkpoint.rs` and the
/// snapshot and WAL writers it calls make it (the old log is read only
/// when it has bytes).
pub const CHECKPOINT_PATH: [CheckpointStep; 16] = {
    use CheckpointStep::{Op, Point};
    use FsOpKind::*;
    [
        Op(Site::SnapshotTemp, Create),
        Op(Site::SnapshotTemp, Write),
        Point(CrashPoint::CheckpointAfterSnapshotTemp),
        Op(Site::SnapshotTemp, Sync),
        Op(Site::SnapshotRename, Rename),
        Point(CrashPoint::CheckpointAfterSnapshotRename),
        Op(Site::SnapshotDirectory, SyncDirectory),
        Point(CrashPoint::CheckpointAfterSnapshot),
        Op(Site::WalRewriteRead, Read),
        Op(Site::WalRewriteTemp, Create),
        Op(Site::WalRewriteTemp, Write),
        Op(Site::WalRewriteTemp, Sync),
        Op(Site::WalRewriteRename, Rename),
        Point(CrashPoint::CheckpointAfterWalRename),
        Op(Site::WalDirectory, SyncDirectory),
        Point(CrashPoint::CheckpointAfterWalRewrite),
    ]
};

/// Where a checkpoint stopped short of its end, and how far it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointStop {
    pub fate: Fate,
    /// The new snapshot was renamed into place.
    pub snapshot_renamed: bool,
    /// The rewritten log was renamed into place.
    pub wal_renamed: bool,
}

impl Arms {
    pub fn arm_crash(&mut self, point: CrashPoint, passes: u32, step: u64) {
        self.crash = Some(ArmedPoint {
            point,
            passes,
            armed_at: step,
        });
    }

    pub fn crash(&self) -> Option<CrashPoint> {
        self.crash.map(|armed| armed.point)
    }

    /// The armed crash point as the workload sees it at `step`.
    pub fn crash_at(&self, step: u64) -> Option<ArmedCrash> {
        self.crash.map(|armed| ArmedCrash {
            point: armed.point,
            steps_since: step - armed.armed_at,
        })
    }

    pub fn arm_io(&mut self, fault: IoFault, step: u64) {
        self.io.push(ArmedIo {
            fault,
            armed_at: step,
        });
    }

    /// The I/O errors armed and not fired, in the order armed.
    pub fn io(&self) -> &[ArmedIo] {
        &self.io
    }

    /// Sets the I/O errors aside (the open of damaged files meets none of
    /// them); [`Arms::resume_io`] puts them back.
    pub fn suspend_io(&mut self) -> Vec<ArmedIo> {
        std::mem::take(&mut self.io)
    }

    pub fn resume_io(&mut self, io: Vec<ArmedIo>) {
        assert!(
            self.io.is_empty(),
            "nothing is armed while errors are set aside"
        );
        self.io = io;
    }

    /// The process died: its crash point and its I/O errors die with it
    /// (returned, those never fired); the recovery point waits for the
    /// restart.
    pub fn process_died(&mut self) -> Vec<ArmedIo> {
        self.crash = None;
        std::mem::take(&mut self.io)
    }

    /// One arrival at `point`: true (and disarmed) when the armed crash
    /// fires here.
    pub fn arrive(&mut self, point: CrashPoint) -> bool {
        let Some(armed) = self.crash.as_mut().filter(|armed| armed.point == point) else {
            return false;
        };
        if armed.passes > 0 {
            armed.passes -= 1;
            return false;
        }
        self.crash = None;
        true
    }

    /// One operation `op` at `site`: the failure of the I/O error that
    /// fires there, if one does (the first armed for it spends a pass or
    /// fires, as the core's seam does).
    pub fn operate(&mut self, site: Site, op: FsOpKind) -> Option<IoFailure> {
        let at = self
            .io
            .iter()
            .position(|armed| armed.fault.site == site && armed.fault.op == op)?;
        let fault = &mut self.io[at].fault;
        if fault.passes > 0 {
            fault.passes -= 1;
            return None;
        }
        let effect = fault.effect;
        self.io.remove(at);
        Some(IoFailure { site, op, effect })
    }

    /// The fate of a write of a `len`-byte frame on `path` (a client write
    /// or an expire) that passed its door, and the bytes of its frame the
    /// file gets; the arms it meets are spent.
    pub fn write(&mut self, path: CrashPath, len: u64) -> (Fate, u64) {
        let [before_append, after_append, after_sync, after_apply] = match path {
            CrashPath::Expire => [
                CrashPoint::ExpireBeforeAppend,
                CrashPoint::ExpireAfterAppend,
                CrashPoint::ExpireAfterSync,
                CrashPoint::ExpireAfterApply,
            ],
            _ => [
                CrashPoint::ClientBeforeAppend,
                CrashPoint::ClientAfterAppend,
                CrashPoint::ClientAfterSync,
                CrashPoint::ClientAfterApply,
            ],
        };
        if self.arrive(before_append) {
            return (Fate::Crashed(before_append), 0);
        }
        if let Some(failure) = self.operate(Site::WalAppend, FsOpKind::Write) {
            let written = match failure.effect {
                IoEffect::Fail(_) => 0,
                IoEffect::Short { bytes } => u64::from(bytes).min(len - 1),
            };
            return (Fate::Failed(failure), written);
        }
        if self.arrive(after_append) {
            return (Fate::Crashed(after_append), len);
        }
        if let Some(failure) = self.operate(Site::WalSync, FsOpKind::Sync) {
            return (Fate::Failed(failure), len);
        }
        for point in [after_sync, after_apply] {
            if self.arrive(point) {
                return (Fate::Crashed(point), len);
            }
        }
        (Fate::Committed, len)
    }

    /// Where a checkpoint of a `wal_len`-byte log must stop, if anywhere:
    /// the first armed point or I/O error on its path that fails it.
    pub fn checkpoint(&mut self, wal_len: u64) -> Option<CheckpointStop> {
        let mut snapshot_renamed = false;
        let mut wal_renamed = false;
        for step in CHECKPOINT_PATH {
            let fate = match step {
                CheckpointStep::Point(point) => self.arrive(point).then_some(Fate::Crashed(point)),
                // An empty log is not read: nothing to keep of it.
                CheckpointStep::Op(_, FsOpKind::Read) if wal_len == 0 => None,
                CheckpointStep::Op(site, op) => self
                    .operate(site, op)
                    .filter(|failure| failure.fails(wal_len))
                    .map(Fate::Failed),
            };
            if let Some(fate) = fate {
                return Some(CheckpointStop {
                    fate,
                    snapshot_renamed,
                    wal_renamed,
                });
            }
            match step {
                CheckpointStep::Op(Site::SnapshotRename, _) => snapshot_renamed = true,
                CheckpointStep::Op(Site::WalRewriteRename, _) => wal_renamed = true,
                _ => {}
            }
        }
        None
    }

    /// The first I/O error that fails one of `ops`, a recovery's
    /// operations in order (each with the bytes a read reads): its index
    /// there and its failure.
    pub fn recovery(&mut self, ops: &[(Site, FsOpKind, u64)]) -> Option<(usize, IoFailure)> {
        ops.iter().enumerate().find_map(|(at, &(site, op, read))| {
            self.operate(site, op)
                .filter(|failure| failure.fails(read))
                .map(|failure| (at, failure))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::PersistFailure;

    #[test]
    fn a_write_meets_its_arms_in_the_documented_order() {
        let mut arms = Arms::default();
        assert_eq!(arms.write(CrashPath::Client, 90), (Fate::Committed, 90));
        arms.arm_io(PersistFailure::PartialAppend { bytes: 200 }.fault(), 1);
        let short = IoFailure {
            site: Site::WalAppend,
            op: FsOpKind::Write,
            effect: IoEffect::Short { bytes: 200 },
        };
        assert_eq!(arms.write(CrashPath::Client, 90), (Fate::Failed(short), 89));
        arms.arm_io(PersistFailure::SyncFails.fault(), 1);
        arms.arm_crash(CrashPoint::ClientAfterAppend, 0, 1);
        assert_eq!(
            arms.write(CrashPath::Client, 90),
            (Fate::Crashed(CrashPoint::ClientAfterAppend), 90),
            "the point after the append comes before the sync"
        );
        let sync = PersistFailure::SyncFails.fault();
        assert_eq!(
            arms.write(CrashPath::Client, 90),
            (
                Fate::Failed(IoFailure {
                    site: sync.site,
                    op: sync.op,
                    effect: sync.effect
                }),
                90
            ),
            "the persist failure waits for the next write"
        );
    }

    #[test]
    fn passes_let_arrivals_through_and_other_paths_pass_by() {
        let mut arms = Arms::default();
        arms.arm_crash(CrashPoint::ExpireAfterApply, 1, 1);
        assert_eq!(arms.write(CrashPath::Client, 50), (Fate::Committed, 50));
        assert_eq!(arms.write(CrashPath::Expire, 50), (Fate::Committed, 50));
        let (fate, written) = arms.write(CrashPath::Expire, 50);
        assert_eq!(fate, Fate::Crashed(CrashPoint::ExpireAfterApply));
        assert_eq!(written, 50);
        assert_eq!(arms.crash(), None);
        arms.arm_crash(CrashPoint::CheckpointAfterWalRename, 0, 2);
        assert_eq!(
            arms.checkpoint(100),
            Some(CheckpointStop {
                fate: Fate::Crashed(CrashPoint::CheckpointAfterWalRename),
                snapshot_renamed: true,
                wal_renamed: true,
            })
        );
        assert_eq!(arms.checkpoint(100), None);
    }

    #[test]
    fn a_checkpoint_stops_at_its_first_failing_operation_having_renamed_what_came_before() {
        let mut arms = Arms::default();
        let fault = |site, op, passes| IoFault {
            site,
            op,
            passes,
            effect: IoEffect::Fail(IoErrorKind::Enospc),
        };
        arms.arm_io(fault(Site::WalDirectory, FsOpKind::SyncDirectory, 0), 1);
        arms.arm_io(
            fault(Site::SnapshotDirectory, FsOpKind::SyncDirectory, 1),
            1,
        );
        let stop = arms.checkpoint(100).unwrap();
        assert_eq!(
            (stop.snapshot_renamed, stop.wal_renamed),
            (true, true),
            "the snapshot's directory sync let one through"
        );
        let stop = arms.checkpoint(100).unwrap();
        assert_eq!(
            stop.fate,
            Fate::Failed(IoFailure {
                site: Site::SnapshotDirectory,
                op: FsOpKind::SyncDirectory,
                effect: IoEffect::Fail(IoErrorKind::Enospc)
            })
        );
        assert_eq!((stop.snapshot_renamed, stop.wal_renamed), (true, false));
        assert!(arms.io().is_empty());
        arms.arm_io(fault(Site::WalSync, FsOpKind::Sync, 0), 1);
        assert_eq!(arms.checkpoint(100), None, "not a checkpoint's operation");
        assert_eq!(arms.process_died().len(), 1, "it dies with the process");
    }
}
