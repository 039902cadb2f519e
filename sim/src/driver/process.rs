//! The engine process: running, halted after a storage failure, or gone;
//! and what is armed in it. The engine exists exactly while the process
//! runs, so there is no status to keep in step with it.

use crate::view::{ArmedCrash, EngineStatus};
use allocdb_core::engine::fault::{CrashPoint, PersistFailure};
use allocdb_core::engine::Engine;
use allocdb_core::fs::ReadFault;

pub enum Process {
    /// Running and accepting writes.
    Up(Engine),
    /// Running, but halted by a storage failure until a restart.
    Halted(Engine),
    /// The process is gone; only its files remain.
    Down,
}

impl Process {
    pub fn status(&self) -> EngineStatus {
        match self {
            Process::Up(_) => EngineStatus::Up,
            Process::Halted(_) => EngineStatus::Halted,
            Process::Down => EngineStatus::Down,
        }
    }

    /// The engine while it is up (not halted, not down).
    pub fn up(&self) -> Option<&Engine> {
        match self {
            Process::Up(engine) => Some(engine),
            _ => None,
        }
    }

    pub fn up_mut(&mut self) -> Option<&mut Engine> {
        match self {
            Process::Up(engine) => Some(engine),
            _ => None,
        }
    }

    /// The engine of a running process, up or halted.
    pub fn running(&self) -> Option<&Engine> {
        match self {
            Process::Up(engine) | Process::Halted(engine) => Some(engine),
            Process::Down => None,
        }
    }

    pub fn running_mut(&mut self) -> Option<&mut Engine> {
        match self {
            Process::Up(engine) | Process::Halted(engine) => Some(engine),
            Process::Down => None,
        }
    }

    /// A storage failure halted the running engine.
    pub fn halt(&mut self) {
        *self = match std::mem::replace(self, Process::Down) {
            Process::Up(engine) | Process::Halted(engine) => Process::Halted(engine),
            Process::Down => Process::Down,
        };
    }
}

/// What is armed: in the running engine (a crash point, a persist failure)
/// and for the next restart (a recovery crash point).
#[derive(Clone, Copy, Debug, Default)]
pub struct Arms {
    /// The crash point and the step that armed it.
    crash: Option<(CrashPoint, u64)>,
    pub persist: Option<PersistFailure>,
    pub recovery: Option<CrashPoint>,
    /// A read fault for the next restart's reads.
    pub read: Option<ReadFault>,
}

impl Arms {
    pub fn arm_crash(&mut self, point: CrashPoint, step: u64) {
        self.crash = Some((point, step));
    }

    pub fn crash(&self) -> Option<CrashPoint> {
        self.crash.map(|(point, _)| point)
    }

    /// The armed crash point as the workload sees it at `step`.
    pub fn crash_at(&self, step: u64) -> Option<ArmedCrash> {
        self.crash.map(|(point, armed_at)| ArmedCrash {
            point,
            steps_since: step - armed_at,
        })
    }

    /// The armed crash point fired.
    pub fn crash_fired(&mut self) {
        self.crash = None;
    }

    /// The process died: its arms die with it; the recovery and read arms
    /// wait for the restart.
    pub fn process_died(&mut self) {
        self.crash = None;
        self.persist = None;
    }
}
