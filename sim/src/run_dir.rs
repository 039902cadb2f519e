//! Each run's own directory: on `/dev/shm` when it exists (RAM-backed, so
//! fsync is cheap), else the system temp dir. Removed when dropped unless
//! the caller keeps it for a failure. It holds the engine's directory
//! (`db/`) and, beside it on the same file system, the hard links the
//! simulator keeps to files a crash may bring back (`inodes/`).

use std::path::{Path, PathBuf};

const ENGINE_DIR: &str = "db";
const INODES_DIR: &str = "inodes";

/// A run directory left on disk for a failure: the caller removes `root`
/// when done with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptRun {
    /// The whole run's directory.
    pub root: PathBuf,
    /// The engine's files (WAL, snapshot) inside it.
    pub engine: PathBuf,
}

pub struct RunDir {
    dir: Option<tempfile::TempDir>,
    engine: PathBuf,
    inodes: PathBuf,
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
        let engine = dir.path().join(ENGINE_DIR);
        let inodes = dir.path().join(INODES_DIR);
        std::fs::create_dir(&engine)?;
        std::fs::create_dir(&inodes)?;
        Ok(RunDir {
            dir: Some(dir),
            engine,
            inodes,
        })
    }

    /// The whole run's directory (the engine's and the simulator's links).
    pub fn root(&self) -> &Path {
        self.dir.as_ref().map_or_else(
            || self.engine.parent().unwrap_or(&self.engine),
            |d| d.path(),
        )
    }

    /// The engine's directory.
    pub fn path(&self) -> &Path {
        &self.engine
    }

    /// Where the simulator keeps its hard links.
    pub fn inodes(&self) -> &Path {
        &self.inodes
    }

    /// Keeps the directory on disk and says where it is.
    pub fn keep(mut self) -> KeptRun {
        let root = self.dir.take().expect("present until kept").keep();
        KeptRun {
            root,
            engine: self.engine.clone(),
        }
    }
}
