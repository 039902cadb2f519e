//! The WAL file: append, sync, and the two repairs recovery and checkpoint
//! make (truncate a torn tail; replace the whole file atomically). Every
//! file operation goes through [`crate::fs`].
//!
//! The file tracks two lengths: `len`, everything written, and
//! `durable_len`, everything covered by a completed sync. A crash may lose
//! any suffix past `durable_len`.

use super::frame::MAX_FRAME_LEN;
use super::reader::WalReader;
use crate::fs::{Directory, DurableFile, FileName, FileReader, Site};
use std::io::{self, Read};
use std::path::Path;

pub const WAL_FILE_NAME: &str = FileName::Wal.as_str();
pub const WAL_TEMP_NAME: &str = FileName::WalTemp.as_str();

pub struct WalFile {
    file: DurableFile,
    /// Held open for the directory syncs of this open and of every
    /// rewrite.
    dir: Directory,
    len: u64,
    durable_len: u64,
}

impl WalFile {
    /// Opens (creating if absent) the WAL in `dir`. Whatever the file holds
    /// is synced first, and so is its directory entry, so it all counts as
    /// durable.
    ///
    /// Before that sync its last [`MAX_FRAME_LEN`] bytes are written again.
    /// A sync that failed before this open (and halted the engine that
    /// made it) may have left what it should have written in the page
    /// cache, marked clean but not on disk: the kernel drops the error
    /// with the pages (PostgreSQL's "fsyncgate"), and no later sync writes
    /// them until they are written again. Such bytes are always the log's
    /// last frame: the engine syncs after every frame it appends and halts
    /// at the first failure, so it never writes past a frame whose sync
    /// failed. Writing them again makes the sync below cover them; without
    /// it, a frame recovery replays (and a retry is answered from) could be
    /// lost by the next power loss.
    pub fn open(dir: &Path) -> io::Result<WalFile> {
        let mut file = DurableFile::open(dir, FileName::Wal, Site::WalOpen)?;
        let len = file.size()?;
        let tail = len.min(MAX_FRAME_LEN as u64) as usize;
        if tail > 0 {
            let mut last = [0u8; MAX_FRAME_LEN];
            let offset = len - tail as u64;
            file.read_exact_at(offset, &mut last[..tail], Site::WalOpen)?;
            file.write_at(offset, &last[..tail], Site::WalOpen).1?;
        }
        file.sync_all(Site::WalOpen)?;
        let dir = Directory::open(dir)?;
        dir.sync(Site::WalDirectory)?;
        Ok(WalFile {
            file,
            dir,
            len,
            durable_len: len,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// The log's directory, open: the snapshot beside it syncs it too.
    pub fn directory(&self) -> &Directory {
        &self.dir
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes covered by the last successful sync.
    pub fn durable_len(&self) -> u64 {
        self.durable_len
    }

    /// The frames of the whole file, read through one fixed buffer, for
    /// recovery's pass at `site` (its scan, then its replay).
    pub fn reader(&self, site: Site) -> io::Result<WalReader<FileReader<'_>>> {
        assert!(
            matches!(site, Site::WalScan | Site::WalReplay),
            "only recovery reads the log frame by frame"
        );
        WalReader::new(self.file.reader(site), self.len)
    }

    /// The whole file, for a checkpoint's rewrite. A read that ends
    /// before the log does is an error (`UnexpectedEof`), never a shorter
    /// log: a rewrite of what it got would drop the frames it missed.
    pub fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0; self.len as usize];
        self.file
            .reader(Site::WalRewriteRead)
            .read_exact(&mut bytes)?;
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
    /// temp file's handle becomes the log's at the rename, whatever follows
    /// (the name holds it from there): its bytes are synced already, so
    /// nothing is reopened or synced twice, and each sync here is the only
    /// one that makes its step durable.
    pub fn replace<E: From<io::Error>>(
        &mut self,
        bytes: &[u8],
        after_rename: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let mut temp =
            DurableFile::create(self.dir.path(), FileName::WalTemp, Site::WalRewriteTemp)?;
        temp.write_at(0, bytes, Site::WalRewriteTemp).1?;
        temp.sync_all(Site::WalRewriteTemp)?;
        temp.rename(FileName::Wal, Site::WalRewriteRename)?;
        let len = bytes.len() as u64;
        self.file = temp;
        self.len = len;
        self.durable_len = len;
        after_rename()?;
        self.dir.sync(Site::WalDirectory)?;
        Ok(())
    }
}
