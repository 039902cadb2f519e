//! The engine process: running, halted after a storage failure, or gone. The engine exists exactly while the process
//! runs, so there is no status to keep in step with it.

use crate::coverage::matrix::State;
use crate::view::EngineStatus;
use allocdb_core::engine::fault::PersistFailure;
use allocdb_core::engine::Engine;

pub enum Process {
    /// Running and accepting writes.
    Up(Engine),
    /// Running, but halted by a storage failure (the one named) until a
    /// restart.
    Halted(Engine, PersistFailure),
    /// The process is gone; only its files remain.
    Down,
}

impl Process {
    pub fn status(&self) -> EngineStatus {
        match self {
            Process::Up(_) => EngineStatus::Up,
            Process::Halted(..) => EngineStatus::Halted,
            Process::Down => EngineStatus::Down,
        }
    }

    /// The state a caller's entry point meets now (the coverage matrix's
    /// row).
    pub fn state(&self) -> State {
        match self {
            Process::Up(_) => State::Running,
            Process::Halted(_, failure) => State::halted_by(*failure),
            Process::Down => State::Down,
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
            Process::Up(engine) | Process::Halted(engine, _) => Some(engine),
            Process::Down => None,
        }
    }

    pub fn running_mut(&mut self) -> Option<&mut Engine> {
        match self {
            Process::Up(engine) | Process::Halted(engine, _) => Some(engine),
            Process::Down => None,
        }
    }

    /// The storage failure `failure` halted the running engine.
    pub fn halt(&mut self, failure: PersistFailure) {
        *self = match std::mem::replace(self, Process::Down) {
            Process::Up(engine) => Process::Halted(engine, failure),
            Process::Halted(engine, first) => Process::Halted(engine, first),
            Process::Down => Process::Down,
        };
    }
}
