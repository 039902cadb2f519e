//! Each run's own directory: on `/dev/shm` when it exists (RAM-backed, so
//! fsync is cheap), else the system temp dir. Removed when dropped unless
//! the caller keeps it for a failure.

use std::path::{Path, PathBuf};

pub struct RunDir {
    dir: Option<tempfile::TempDir>,
}

impl RunDir {
    pub fn new() -> std::io::Result<RunDir> {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::Builder::new()
                .prefix("allocdb-sim-")
                .tempdir_in(shm)
                .or_else(|_| tempfile::Builder::new().prefix("allocdb-sim-").tempdir())?
        } else {
            tempfile::Builder::new().prefix("allocdb-sim-").tempdir()?
        };
        Ok(RunDir { dir: Some(dir) })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("present until kept").path()
    }

    /// Keeps the directory on disk and returns where it is.
    pub fn keep(mut self) -> PathBuf {
        self.dir.take().expect("present until kept").keep()
    }
}
