//! AllocDB trusted core: one resource, one winner.
//!
//! A deterministic state machine over fixed-capacity tables. It reads no
//! clock and no randomness; it is told the slot and the LSN of every command.
//! See `docs/architecture.md` for the map and the invariants at each boundary.

pub mod codec;
pub mod command;
pub mod config;
pub mod digest;
pub mod engine;
pub mod fs;
pub mod hash;
pub mod ids;
pub mod machine;
pub mod outcome;
mod prefetch;
pub mod record;
mod retire;
mod ring;
pub mod snapshot;
pub mod table;
pub mod wal;
pub mod wheel;

pub use command::{Bundle, BundleOverflow, ClientRequest, Command, CommandKind, LogCommand};
pub use config::{Config, ConfigError, BUNDLE_SIZE_LIMIT};
pub use ids::{ClientId, HolderId, LeaseEpoch, LeaseId, Lsn, OperationId, ResourceId, Slot};
pub use machine::{ApplyError, DueExpiry, Health, InvariantViolation, StateMachine, Usage};
pub use outcome::{Applied, Outcome, ResultCode};
pub use record::{Lease, LeaseRecord, LeaseState, Operation, Resource, ResourceState};
