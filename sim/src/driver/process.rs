//! The engine process: running, halted after a storage failure, or gone. The engine exists exactly while the process
//! runs, so there is no status to keep in step with it.

use crate::coverage::matrix::State;
use crate::view::EngineStatus;
use allocdb_core::engine::Engine;

pub enum Process {
    /// Running and accepting writes.
    Up(Engine),
    /// Running, but halted by a storage failure until a restart: the
    /// state (the matrix's row) the failure that halted it leaves.
    Halted(Engine, State),
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
            Process::Halted(_, state) => *state,
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

    /// A storage failure halted the running engine, leaving it in `state`.
    pub fn halt(&mut self, state: State) {
        *self = match std::mem::replace(self, Process::Down) {
            Process::Up(engine) => Process::Halted(engine, state),
            Process::Halted(engine, first) => Process::Halted(engine, first),
            Process::Down => Process::Down,
        };
    }
}
