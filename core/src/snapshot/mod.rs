//! Snapshots: the whole applied state at `snapshot_lsn`, written atomically.

pub mod file;
pub mod format;

pub use file::{load_snapshot, write_snapshot, LoadError, WriteStep, SNAPSHOT_FILE_NAME};
pub use format::SnapshotError;
