//! The calls a run made of the engine, in order, when its config asks
//! (`SimConfig::engine_calls`): what the engine alone does for a seed,
//! without the simulator around it. `run::engine_alone` makes them again
//! on an engine of its own, and `cargo bench -p allocdb-sim --bench
//! floor` times that against the whole run: the floor of a step.

use allocdb_core::{ClientRequest, LeaseId, Lsn, ResourceId, Slot};

/// One call of the engine's public API, with the arguments it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineCall {
    /// Recovery of the directory as the files are: the first open and
    /// every restart (a process that was up is dropped first).
    Open,
    Submit {
        request: ClientRequest,
        slot: Slot,
    },
    Enqueue {
        request: ClientRequest,
        slot: Slot,
    },
    ProcessNext,
    Tick {
        slot: Slot,
    },
    Checkpoint,
    GetResource {
        resource: ResourceId,
        required: Option<Lsn>,
    },
    GetLease {
        lease: LeaseId,
        required: Option<Lsn>,
    },
}
