//! Writing and loading the snapshot file.
//!
//! Write order: temp file, fsync it, rename over the old snapshot, fsync the
//! directory. A crash before the rename leaves the old snapshot; after the
//! directory sync, the new one. A leftover temp file is never read. Every
//! file operation goes through [`crate::fs`].

use super::format::{self, SnapshotError};
use crate::config::Config;
use crate::fs::{self, Directory, DurableFile, FileName, Site};
use crate::machine::Image;
use std::io;
use std::path::Path;

pub const SNAPSHOT_FILE_NAME: &str = FileName::Snapshot.as_str();
pub const SNAPSHOT_TEMP_NAME: &str = FileName::SnapshotTemp.as_str();

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading the snapshot: {0}")]
    Io(#[from] io::Error),
    #[error("the snapshot is invalid: {0}")]
    Invalid(#[from] SnapshotError),
}

/// Steps of an atomic snapshot write, so that a caller (the engine's fault
/// seams) can stop between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteStep {
    TempWritten,
    TempSynced,
    Renamed,
    DirectorySynced,
}

/// Writes `image` atomically into `dir`. `after` runs after each step; an
/// error from it stops the write there and is returned.
pub fn write_snapshot<E: From<io::Error>>(
    dir: &Directory,
    shard_id: u64,
    image: &Image,
    mut after: impl FnMut(WriteStep) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = format::encode(shard_id, image);
    let mut file = DurableFile::create(dir.path(), FileName::SnapshotTemp, Site::SnapshotTemp)?;
    file.write_at(0, &bytes, Site::SnapshotTemp).1?;
    after(WriteStep::TempWritten)?;
    file.sync_all(Site::SnapshotTemp)?;
    drop(file);
    after(WriteStep::TempSynced)?;
    fs::rename(
        dir.path(),
        FileName::SnapshotTemp,
        FileName::Snapshot,
        Site::SnapshotRename,
    )?;
    after(WriteStep::Renamed)?;
    dir.sync(Site::SnapshotDirectory)?;
    after(WriteStep::DirectorySynced)
}

/// The snapshot in `dir`, `None` when there is none. A present but invalid
/// snapshot is an error, never a partial or skipped restore.
pub fn load_snapshot(dir: &Path, config: &Config) -> Result<Option<Image>, LoadError> {
    let Some(bytes) = fs::read_whole(dir, FileName::Snapshot, Site::SnapshotRead)? else {
        return Ok(None);
    };
    Ok(Some(format::decode(config, &bytes)?))
}
