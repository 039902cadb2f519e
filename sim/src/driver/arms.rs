//! What is armed, and what it must do: the crash point and persist
//! failure in the running engine, the recovery crash point and read fault
//! for the next restart. From the arms alone the simulator predicts how a
//! write that passed its door fares (crashed at which point, failed how,
//! committed) and how many bytes of its frame reach the file, so an armed
//! fault that should fire and does not, or fires where it should not, is
//! an engine failure, never taken on the engine's word.
//!
//! A write's path, as the engine documents it (`core/src/engine/mod.rs`):
//! the point before the append; the append (where `AppendFails` writes
//! nothing and `PartialAppend { bytes }` writes `min(bytes, len - 1)`);
//! the point after the append; the sync (where `SyncFails` fires, the
//! whole frame written); the points after the sync and after the apply.
//! A crash point armed with `passes` lets that many arrivals through.

use crate::view::ArmedCrash;
use allocdb_core::engine::fault::{CrashPath, CrashPoint, PersistFailure};
use allocdb_core::fs::ReadFault;

#[derive(Clone, Copy, Debug, Default)]
pub struct Arms {
    crash: Option<ArmedPoint>,
    pub persist: Option<PersistFailure>,
    pub recovery: Option<CrashPoint>,
    /// A read fault for the next restart's reads.
    pub read: Option<ReadFault>,
}

#[derive(Clone, Copy, Debug)]
struct ArmedPoint {
    point: CrashPoint,
    /// Arrivals still to let through.
    passes: u32,
    /// The step that armed it.
    armed_at: u64,
}

/// How a write that passed its door ends, as the arms say it must.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Committed,
    /// Stopped at the armed point (after its apply for an after-apply
    /// point: the command is applied, its reply lost).
    Crashed(CrashPoint),
    /// The armed persist failure fired: the engine halts.
    Failed(PersistFailure),
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

    /// The process died: its arms die with it; the recovery and read arms
    /// wait for the restart.
    pub fn process_died(&mut self) {
        self.crash = None;
        self.persist = None;
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
        match self.persist {
            Some(PersistFailure::AppendFails) => {
                self.persist = None;
                return (Fate::Failed(PersistFailure::AppendFails), 0);
            }
            Some(failure @ PersistFailure::PartialAppend { bytes }) => {
                self.persist = None;
                return (Fate::Failed(failure), u64::from(bytes).min(len - 1));
            }
            Some(PersistFailure::SyncFails) | None => {}
        }
        if self.arrive(after_append) {
            return (Fate::Crashed(after_append), len);
        }
        if self.persist == Some(PersistFailure::SyncFails) {
            self.persist = None;
            return (Fate::Failed(PersistFailure::SyncFails), len);
        }
        for point in [after_sync, after_apply] {
            if self.arrive(point) {
                return (Fate::Crashed(point), len);
            }
        }
        (Fate::Committed, len)
    }

    /// Where a checkpoint must stop, if anywhere: its points in the order
    /// it reaches them.
    pub fn checkpoint(&mut self) -> Option<CrashPoint> {
        [
            CrashPoint::CheckpointAfterSnapshotTemp,
            CrashPoint::CheckpointAfterSnapshotRename,
            CrashPoint::CheckpointAfterSnapshot,
            CrashPoint::CheckpointAfterWalRename,
            CrashPoint::CheckpointAfterWalRewrite,
        ]
        .into_iter()
        .find(|&point| self.arrive(point))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_meets_its_arms_in_the_documented_order() {
        let mut arms = Arms::default();
        assert_eq!(arms.write(CrashPath::Client, 90), (Fate::Committed, 90));
        arms.persist = Some(PersistFailure::PartialAppend { bytes: 200 });
        assert_eq!(
            arms.write(CrashPath::Client, 90),
            (
                Fate::Failed(PersistFailure::PartialAppend { bytes: 200 }),
                89
            )
        );
        arms.persist = Some(PersistFailure::SyncFails);
        arms.arm_crash(CrashPoint::ClientAfterAppend, 0, 1);
        assert_eq!(
            arms.write(CrashPath::Client, 90),
            (Fate::Crashed(CrashPoint::ClientAfterAppend), 90),
            "the point after the append comes before the sync"
        );
        assert_eq!(
            arms.write(CrashPath::Client, 90),
            (Fate::Failed(PersistFailure::SyncFails), 90),
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
            arms.checkpoint(),
            Some(CrashPoint::CheckpointAfterWalRename)
        );
        assert_eq!(arms.checkpoint(), None);
    }
}
