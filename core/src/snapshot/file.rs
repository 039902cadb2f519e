//! Writing and loading the snapshot file.
//!
//! Write order: temp file, fsync it, rename over the old snapshot, fsync the
//! directory. A crash before the rename leaves the old snapshot; after the
//! directory sync, the new one. A leftover temp file is never read.

use super::format::{self, SnapshotError};
use crate::config::Config;
use crate::machine::Image;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

pub const SNAPSHOT_FILE_NAME: &str = "snapshot";
pub const SNAPSHOT_TEMP_NAME: &str = "snapshot.tmp";

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
    dir: &Path,
    shard_id: u64,
    image: &Image,
    mut after: impl FnMut(WriteStep) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = format::encode(shard_id, image);
    let temp = dir.join(SNAPSHOT_TEMP_NAME);
    let mut file = File::create(&temp)?;
    file.write_all(&bytes)?;
    after(WriteStep::TempWritten)?;
    file.sync_all()?;
    drop(file);
    after(WriteStep::TempSynced)?;
    fs::rename(&temp, dir.join(SNAPSHOT_FILE_NAME))?;
    after(WriteStep::Renamed)?;
    sync_directory(dir)?;
    after(WriteStep::DirectorySynced)
}

/// The snapshot in `dir`, `None` when there is none. A present but invalid
/// snapshot is an error, never a partial or skipped restore.
pub fn load_snapshot(dir: &Path, config: &Config) -> Result<Option<Image>, LoadError> {
    let bytes = match fs::read(dir.join(SNAPSHOT_FILE_NAME)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(format::decode(config, &bytes)?))
}

/// Makes a rename or file creation in `dir` durable.
pub fn sync_directory(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
