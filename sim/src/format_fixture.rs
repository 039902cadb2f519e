//! The on-disk format fixtures: a WAL and a snapshot written by this
//! version of the engine from a fixed run, kept in `corpus/format/v1/`
//! forever. A test recovers them to a pinned report and state digest, and
//! writes them again to compare byte for byte, so that an unintended
//! change of either format fails; `cargo xtask format-fixtures` writes them.
//!
//! The run: three resources created, a two-resource reserve, a checkpoint
//! (the snapshot), then an activate, a one-resource reserve, a tick that
//! expires it, and a release (the WAL past the snapshot: the checkpoint's
//! marker and four command frames).

use allocdb_core::engine::{Engine, EngineConfig, OpenError, SubmitError};
use allocdb_core::fs::FileName;
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, HolderId, LeaseEpoch, LeaseId, OperationId,
    ResourceId, Slot,
};
use std::path::Path;

/// Where the fixtures of this version live, from the workspace root.
pub const FIXTURE_DIR: &str = "corpus/format/v1";

/// The files a fixture holds.
pub const FIXTURE_FILES: [FileName; 2] = [FileName::Wal, FileName::Snapshot];

/// The engine config the fixtures are written and recovered with.
pub fn fixture_config() -> EngineConfig {
    EngineConfig::small()
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("opening the engine: {0}")]
    Open(#[from] OpenError),
    #[error("step {step} of the fixture run: {source}")]
    Submit { step: usize, source: SubmitError },
    #[error("the checkpoint: {0}")]
    Checkpoint(String),
}

const HOLDER: HolderId = HolderId(9);

fn request(operation: u128, command: Command) -> ClientRequest {
    ClientRequest {
        operation_id: OperationId(operation),
        client_id: ClientId(1),
        command,
    }
}

fn reserve(resources: &[u128], ttl_slots: u64) -> Command {
    let ids: Vec<ResourceId> = resources.iter().map(|&r| ResourceId(r)).collect();
    Command::Reserve {
        resources: Bundle::from_slice(&ids).expect("within the bundle bound"),
        holder_id: HOLDER,
        ttl_slots,
    }
}

/// Runs the fixture's fixed run on a fresh engine in `dir` (which must be
/// empty) and leaves its WAL and snapshot there.
pub fn write_fixture(dir: &Path) -> Result<(), FixtureError> {
    let (mut engine, _) = Engine::open(dir, fixture_config())?;
    let lease = LeaseId;
    let before: [(Command, u64); 4] = [
        (
            Command::CreateResource {
                resource_id: ResourceId(1),
            },
            1,
        ),
        (
            Command::CreateResource {
                resource_id: ResourceId(2),
            },
            1,
        ),
        (
            Command::CreateResource {
                resource_id: ResourceId(3),
            },
            1,
        ),
        (reserve(&[1, 2], 8), 1),
    ];
    let mut operation = 0;
    let mut submit = |engine: &mut Engine, command: Command, slot: u64| {
        operation += 1;
        engine
            .submit(request(operation, command), Slot(slot))
            .map(|_| ())
            .map_err(|source| FixtureError::Submit {
                step: operation as usize,
                source,
            })
    };
    for (command, slot) in before {
        submit(&mut engine, command, slot)?;
    }
    engine
        .checkpoint()
        .map_err(|e| FixtureError::Checkpoint(e.to_string()))?;
    // The reserve committed at LSN 4 made lease 4; the checkpoint's marker
    // took LSN 5.
    submit(
        &mut engine,
        Command::Activate {
            lease_id: lease(4),
            holder_id: HOLDER,
            lease_epoch: LeaseEpoch(1),
        },
        2,
    )?;
    submit(&mut engine, reserve(&[3], 3), 2)?;
    engine
        .tick_expirations(Slot(6))
        .map_err(|source| FixtureError::Submit { step: 0, source })?;
    submit(
        &mut engine,
        Command::Release {
            lease_id: lease(4),
            holder_id: HOLDER,
            lease_epoch: LeaseEpoch(1),
        },
        6,
    )?;
    Ok(())
}
