//! The WAL file: append, sync, and the two repairs recovery and checkpoint
//! make (truncate a torn tail; replace the whole file atomically). Every
//! file operation goes through [`crate::fs`].
//!
//! The file tracks two lengths: `len`, everything written, and
//! `durable_len`, everything covered by a completed sync. A crash may lose
//! any suffix past `durable_len`.

use super::reader::WalReader;
use crate::fs::{self, DurableFile, FileName, FileReader, Site};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub const WAL_FILE_NAME: &str = FileName::Wal.as_str();
pub const WAL_TEMP_NAME: &str = FileName::WalTemp.as_str();

pub struct WalFile {
    file: DurableFile,
    dir: PathBuf,
    len: u64,
    durable_len: u64,
}

impl WalFile {
    /// Opens (creating if absent) the WAL in `dir`. Whatever the file holds
    /// is synced first, and so is its directory entry, so it all counts as
    /// durable.
    pub fn open(dir: &Path) -> io::Result<WalFile> {
        let mut file = DurableFile::open(dir, FileName::Wal, Site::WalOpen)?;
        file.sync_all(Site::WalOpen)?;
        fs::sync_directory(dir, Site::WalDirectory)?;
        let len = file.size()?;
        Ok(WalFile {
            file,
            dir: dir.to_path_buf(),
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

    /// The frames of the whole file, read through one fixed buffer.
    pub fn reader(&self) -> io::Result<WalReader<FileReader>> {
        WalReader::new(self.file.reader(Site::WalRead)?, self.len)
    }

    /// The whole file, for a checkpoint's rewrite.
    pub fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(self.len as usize);
        self.file
            .reader(Site::WalRewriteRead)?
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Appends `bytes` at the end. On error the file may hold any prefix of
    /// them; the caller must stop writing (the engine halts).
    pub fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let (written, result) = self.file.write_at(self.len, bytes, Site::WalAppend);
        // Count what reached the file even on failure, so that len stays
        // truthful.
        self.len += written;
        result
    }

    /// `fdatasync`: makes every appended byte durable.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data(Site::WalSync)?;
        self.durable_len = self.len;
        Ok(())
    }

    /// Cuts the file to `len` and syncs: the torn-tail repair.
    pub fn truncate(&mut self, len: u64) -> io::Result<()> {
        assert!(len <= self.len, "truncate only shortens");
        self.file.set_len(len, Site::WalTruncate)?;
        self.file.sync_all(Site::WalTruncate)?;
        self.len = len;
        self.durable_len = len;
        Ok(())
    }

    /// Replaces the whole log with `bytes` through temp file, fsync, rename
    /// and directory fsync, so a crash leaves either the old or the new log.
    /// `after_rename` runs between the rename and the directory sync. The
    /// temp file's handle becomes the log's: its bytes are synced already,
    /// so nothing is reopened or synced twice, and each sync here is the
    /// only one that makes its step durable.
    pub fn replace<E: From<io::Error>>(
        &mut self,
        bytes: &[u8],
        after_rename: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let mut temp = DurableFile::create(&self.dir, FileName::WalTemp, Site::WalRewriteTemp)?;
        temp.write_at(0, bytes, Site::WalRewriteTemp).1?;
        temp.sync_all(Site::WalRewriteTemp)?;
        temp.rename(FileName::Wal, Site::WalRewriteRename)?;
        after_rename()?;
        fs::sync_directory(&self.dir, Site::WalDirectory)?;
        let len = bytes.len() as u64;
        self.file = temp;
        self.len = len;
        self.durable_len = len;
        Ok(())
    }
}
