//! The WAL file: append, sync, and the two repairs recovery and checkpoint
//! make (truncate a torn tail; replace the whole file atomically).
//!
//! The file tracks two lengths: `len`, everything written, and
//! `durable_len`, everything covered by a completed sync. A crash may lose
//! any suffix past `durable_len`; the simulator uses it to model that.

use super::reader::WalReader;
use crate::snapshot::sync_directory;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const WAL_FILE_NAME: &str = "wal";
pub const WAL_TEMP_NAME: &str = "wal.tmp";

pub struct WalFile {
    file: File,
    path: PathBuf,
    len: u64,
    durable_len: u64,
}

impl WalFile {
    /// Opens (creating if absent) the WAL in `dir`. Whatever the file holds
    /// is synced first, so it all counts as durable.
    pub fn open(dir: &Path) -> io::Result<WalFile> {
        let path = dir.join(WAL_FILE_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        file.sync_all()?;
        sync_directory(dir)?;
        let len = file.metadata()?.len();
        Ok(WalFile {
            file,
            path,
            len,
            durable_len: len,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes covered by the last successful sync.
    pub fn durable_len(&self) -> u64 {
        self.durable_len
    }

    /// The frames of the whole file, read through one fixed buffer. The
    /// reader's handle is a duplicate that shares the file position, which
    /// is harmless: `append` seeks to the end before every write.
    pub fn reader(&self) -> io::Result<WalReader<File>> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        WalReader::new(file, self.len)
    }

    pub fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(self.len as usize);
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Appends `bytes` at the end. On error the file may hold any prefix of
    /// them; the caller must stop writing (the engine halts).
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(self.len))?;
        let result = self.file.write_all(bytes);
        // Count what reached the file even on failure, so durable_len and
        // len stay truthful for the crash model.
        self.len = self.file.stream_position().unwrap_or(self.len);
        result
    }

    /// `fdatasync`: makes every appended byte durable.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        self.durable_len = self.len;
        Ok(())
    }

    /// Cuts the file to `len` and syncs: the torn-tail repair.
    pub fn truncate(&mut self, len: u64) -> io::Result<()> {
        assert!(len <= self.len, "truncate only shortens");
        self.file.set_len(len)?;
        self.file.sync_all()?;
        self.len = len;
        self.durable_len = len;
        Ok(())
    }

    /// Replaces the whole log with `bytes` through temp file, fsync, rename
    /// and directory fsync, so a crash leaves either the old or the new log.
    /// `after_rename` runs between the rename and the directory sync.
    pub fn replace<E: From<io::Error>>(
        &mut self,
        bytes: &[u8],
        after_rename: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let dir = self
            .path
            .parent()
            .expect("the WAL path is inside its directory")
            .to_path_buf();
        let temp = dir.join(WAL_TEMP_NAME);
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &self.path)?;
        after_rename()?;
        sync_directory(&dir)?;
        *self = WalFile::open(&dir)?;
        Ok(())
    }
}
