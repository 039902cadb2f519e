//! What one step did, in a form that expectations can check: the transcript
//! line says it for people, this says it for code.

use crate::answer::Answer;
use crate::driver::{ArmedIo, IoFailure};
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::engine::RecoveryReport;
use serde::{Deserialize, Serialize};

/// Which file recovery refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailKind {
    Wal,
    Snapshot,
}

/// How recovery treated a bit flip the simulator made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DamageVerdict {
    /// Recovery refused the files, naming the damaged place.
    FailedClosed(FailKind),
    /// The damaged frame was the last one: read as a torn tail and cut.
    ReadAsTorn,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepEvent {
    /// Requests answered by this step, in the order the engine answered.
    pub answers: Vec<(u128, Answer)>,
    /// The armed crash point that fired.
    pub crashed_at: Option<CrashPoint>,
    /// The armed I/O error that fired (it halted the engine, or failed its
    /// recovery).
    pub io_failed: Option<IoFailure>,
    /// I/O errors armed in a process that died before they fired.
    pub io_died: Vec<ArmedIo>,
    /// The report of a recovery that started the engine.
    pub recovery: Option<RecoveryReport>,
    pub damage: Option<DamageVerdict>,
    /// A recovery crash point armed for this restart that recovery never
    /// reached.
    pub recovery_point_unreached: Option<CrashPoint>,
}

impl StepEvent {
    pub fn clear(&mut self) {
        self.answers.clear();
        self.crashed_at = None;
        self.io_failed = None;
        self.io_died.clear();
        self.recovery = None;
        self.damage = None;
        self.recovery_point_unreached = None;
    }
}
