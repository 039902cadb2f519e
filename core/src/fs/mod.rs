//! The engine's one home for the file operations durability depends on:
//! create, write, set_len, fsync / fdatasync of a file, rename, fsync of
//! the directory, and the reads recovery makes.
//!
//! Every function makes the real `std::fs` call, always: the engine reads
//! and writes real files. In `fault-injection` builds each also reports
//! what it did, naming its call site, to the observer of its directory on
//! the calling thread (see `observe`), so that a simulator learns what a
//! crash may lose from what the engine asked of the file system, never
//! from the engine's own idea of what is durable. A sync that fails is
//! reported too: the kernel may have dropped what it should have written.
//!
//! The same builds have the one fault seam of every file operation: an
//! observer can arm an I/O error (`EIO`, `ENOSPC`, a short write or read)
//! for the next, or the Nth, operation of a kind at a site (`fault`), and
//! the operation fails there as a disk would make it fail. Production
//! builds have no observer, make no reports and check for no fault.
//!
//! Files are named by [`FileName`], relative to the engine's directory, so
//! a report holds no path.
#![cfg_attr(
    not(feature = "fault-injection"),
    doc = r#"
In this build (no `fault-injection`) the file operations are reachable:

```
use allocdb_core::fs::{Directory, Site};
let _sync: fn(&Directory, Site) -> std::io::Result<()> = Directory::sync;
```

but there is no observer to learn of them:

```compile_fail
let _observation = allocdb_core::fs::observe(std::path::Path::new("."));
```

and no fault to arm:

```compile_fail
let _fault: Option<allocdb_core::fs::fault::IoFault> = None;
```
"#
)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A file of the engine's directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileName {
    Wal,
    WalTemp,
    Snapshot,
    SnapshotTemp,
}

impl FileName {
    pub const ALL: [FileName; 4] = [
        FileName::Wal,
        FileName::WalTemp,
        FileName::Snapshot,
        FileName::SnapshotTemp,
    ];

    /// The name in the engine's directory.
    pub const fn as_str(self) -> &'static str {
        match self {
            FileName::Wal => "wal",
            FileName::WalTemp => "wal.tmp",
            FileName::Snapshot => "snapshot",
            FileName::SnapshotTemp => "snapshot.tmp",
        }
    }
}

/// Where in the engine a file operation is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Site {
    /// Opening (creating if absent) the WAL, writing its last frame again
    /// and syncing what it holds.
    WalOpen,
    /// A frame appended to the WAL.
    WalAppend,
    /// The `fdatasync` that makes appended frames durable.
    WalSync,
    /// Recovery's torn-tail repair: cut and sync.
    WalTruncate,
    /// The rewritten log's temp file: create, write, sync.
    WalRewriteTemp,
    /// The rewritten log renamed over the old one.
    WalRewriteRename,
    /// The directory sync after the WAL's creation or rename.
    WalDirectory,
    /// Recovery's first pass over the WAL: the scan that classifies its end.
    WalScan,
    /// Recovery's second pass over the WAL: the replay.
    WalReplay,
    /// A checkpoint reading the old log to keep its frames.
    WalRewriteRead,
    /// The new snapshot's temp file: create, write, sync.
    SnapshotTemp,
    /// The new snapshot renamed over the old one.
    SnapshotRename,
    /// The directory sync after the snapshot's rename.
    SnapshotDirectory,
    /// Recovery reading the snapshot.
    SnapshotRead,
}

impl Site {
    pub const ALL: [Site; 14] = [
        Site::WalOpen,
        Site::WalAppend,
        Site::WalSync,
        Site::WalTruncate,
        Site::WalRewriteTemp,
        Site::WalRewriteRename,
        Site::WalDirectory,
        Site::WalScan,
        Site::WalReplay,
        Site::WalRewriteRead,
        Site::SnapshotTemp,
        Site::SnapshotRename,
        Site::SnapshotDirectory,
        Site::SnapshotRead,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Site::WalOpen => "wal_open",
            Site::WalAppend => "wal_append",
            Site::WalSync => "wal_sync",
            Site::WalTruncate => "wal_truncate",
            Site::WalRewriteTemp => "wal_rewrite_temp",
            Site::WalRewriteRename => "wal_rewrite_rename",
            Site::WalDirectory => "wal_directory",
            Site::WalScan => "wal_scan",
            Site::WalReplay => "wal_replay",
            Site::WalRewriteRead => "wal_rewrite_read",
            Site::SnapshotTemp => "snapshot_temp",
            Site::SnapshotRename => "snapshot_rename",
            Site::SnapshotDirectory => "snapshot_directory",
            Site::SnapshotRead => "snapshot_read",
        }
    }

    /// The operations the engine makes at this site, in the order it makes
    /// them.
    pub const fn ops(self) -> &'static [FsOpKind] {
        use FsOpKind::*;
        match self {
            Site::WalOpen => &[Open, Read, Write, Sync],
            Site::WalAppend => &[Write],
            Site::WalSync => &[Sync],
            Site::WalTruncate => &[SetLen, Sync],
            Site::WalRewriteTemp | Site::SnapshotTemp => &[Create, Write, Sync],
            Site::WalRewriteRename | Site::SnapshotRename => &[Rename],
            Site::WalDirectory | Site::SnapshotDirectory => &[SyncDirectory],
            Site::WalScan | Site::WalReplay | Site::WalRewriteRead | Site::SnapshotRead => &[Read],
        }
    }

    /// Whether the engine makes `op` at this site.
    pub fn makes(self, op: FsOpKind) -> bool {
        self.ops().contains(&op)
    }
}

/// One file operation as it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsOp {
    /// `file` opened for reading and writing, created if it was absent.
    Open {
        file: FileName,
        created: bool,
    },
    /// `file` created empty, replacing the contents of any old one.
    Create {
        file: FileName,
    },
    /// `len` bytes written at `offset` (fewer than asked when the write
    /// failed part way).
    Write {
        file: FileName,
        offset: u64,
        len: u64,
    },
    SetLen {
        file: FileName,
        len: u64,
    },
    /// `fdatasync`: the file's data is durable.
    SyncData {
        file: FileName,
    },
    /// `fsync`: the file's data and metadata are durable.
    SyncAll {
        file: FileName,
    },
    Rename {
        from: FileName,
        to: FileName,
    },
    /// `fsync` of the directory: every entry operation before it is durable.
    SyncDirectory,
    /// A `fdatasync` or `fsync` of `file` that failed. The kernel may have
    /// dropped the bytes it should have made durable and marked them clean
    /// (PostgreSQL's "fsyncgate"): a later sync that succeeds does not
    /// write them, so they stay at the mercy of a crash until written again.
    SyncFailed {
        file: FileName,
    },
    /// An `fsync` of the directory that failed.
    SyncDirectoryFailed,
    /// `len` bytes read at `offset`.
    Read {
        file: FileName,
        offset: u64,
        len: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsReport {
    pub site: Site,
    pub op: FsOp,
}

/// A file operation, as a fault names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FsOpKind {
    /// Opening a file, created if absent.
    Open,
    /// Creating a file empty.
    Create,
    Write,
    SetLen,
    /// `fdatasync` or `fsync` of a file.
    Sync,
    Rename,
    SyncDirectory,
    /// A pass of reads over a file (every read call one reader or one
    /// whole-file read makes).
    Read,
}

impl FsOpKind {
    pub const ALL: [FsOpKind; 8] = [
        FsOpKind::Open,
        FsOpKind::Create,
        FsOpKind::Write,
        FsOpKind::SetLen,
        FsOpKind::Sync,
        FsOpKind::Rename,
        FsOpKind::SyncDirectory,
        FsOpKind::Read,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            FsOpKind::Open => "open",
            FsOpKind::Create => "create",
            FsOpKind::Write => "write",
            FsOpKind::SetLen => "set_len",
            FsOpKind::Sync => "sync",
            FsOpKind::Rename => "rename",
            FsOpKind::SyncDirectory => "sync_directory",
            FsOpKind::Read => "read",
        }
    }
}

#[cfg(feature = "fault-injection")]
pub mod fault;
#[cfg(feature = "fault-injection")]
mod observer;

#[cfg(feature = "fault-injection")]
pub use observer::{observe, Observation};

#[cfg(feature = "fault-injection")]
use fault::IoEffect;

#[cfg(feature = "fault-injection")]
use observer::fires;

/// The error of an operation a fault failed outright, or `None` (no fault,
/// or a short one, which the operation carries out in part itself).
#[inline]
fn failed(dir: &Path, site: Site, op: FsOpKind) -> Option<io::Error> {
    #[cfg(feature = "fault-injection")]
    if let Some(IoEffect::Fail(kind)) = fires(dir, site, op) {
        return Some(kind.error());
    }
    let _ = (dir, site, op);
    None
}

/// How much of a write of `len` bytes reaches the file, and the error
/// that follows a short one: all of it and none without a fault; `Err`
/// when a fault fails the write outright.
#[inline]
fn write_fault(dir: &Path, site: Site, len: usize) -> io::Result<(usize, Option<io::Error>)> {
    #[cfg(feature = "fault-injection")]
    match fires(dir, site, FsOpKind::Write) {
        Some(IoEffect::Fail(kind)) => return Err(kind.error()),
        Some(IoEffect::Short { bytes }) => {
            let reach = usize::try_from(bytes).unwrap_or(usize::MAX);
            return Ok((
                reach.min(len.saturating_sub(1)),
                Some(fault::IoErrorKind::Enospc.error()),
            ));
        }
        None => {}
    }
    let _ = (dir, site);
    Ok((len, None))
}

/// The bytes a pass of reads may deliver before the file reads as ended
/// (`None`: all of them); `Err` when a fault fails the pass outright.
#[inline]
fn read_fault(dir: &Path, site: Site) -> io::Result<Option<u64>> {
    #[cfg(feature = "fault-injection")]
    match fires(dir, site, FsOpKind::Read) {
        Some(IoEffect::Fail(kind)) => return Err(kind.error()),
        Some(IoEffect::Short { bytes }) => return Ok(Some(u64::from(bytes))),
        None => {}
    }
    let _ = (dir, site);
    Ok(None)
}

#[inline]
fn report(dir: &Path, site: Site, op: FsOp) {
    #[cfg(feature = "fault-injection")]
    observer::report(dir, FsReport { site, op });
    #[cfg(not(feature = "fault-injection"))]
    let _ = (dir, site, op);
}

/// An open file of the engine's directory.
#[derive(Debug)]
pub struct DurableFile {
    file: File,
    name: FileName,
    /// The directory it is in, which names its observer.
    dir: PathBuf,
}

impl DurableFile {
    /// Opens `name` in `dir` for reading and writing, creating it if absent.
    pub fn open(dir: &Path, name: FileName, site: Site) -> io::Result<DurableFile> {
        if let Some(error) = failed(dir, site, FsOpKind::Open) {
            return Err(error);
        }
        let path = dir.join(name.as_str());
        // An existing file (every open but the first) costs one `open`; an
        // absent one a second, which creates it and tells the report so.
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        let (file, created) = match options.open(&path) {
            Ok(file) => (file, false),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                (options.create(true).truncate(false).open(&path)?, true)
            }
            Err(error) => return Err(error),
        };
        report(
            dir,
            site,
            FsOp::Open {
                file: name,
                created,
            },
        );
        Ok(DurableFile {
            file,
            name,
            dir: dir.to_path_buf(),
        })
    }

    /// Creates `name` in `dir` empty, replacing the contents of any old one,
    /// for reading and writing.
    pub fn create(dir: &Path, name: FileName, site: Site) -> io::Result<DurableFile> {
        if let Some(error) = failed(dir, site, FsOpKind::Create) {
            return Err(error);
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join(name.as_str()))?;
        report(dir, site, FsOp::Create { file: name });
        Ok(DurableFile {
            file,
            name,
            dir: dir.to_path_buf(),
        })
    }

    pub fn name(&self) -> FileName {
        self.name
    }

    /// Renames this file over `to`; the handle stays open on it.
    pub fn rename(&mut self, to: FileName, site: Site) -> io::Result<()> {
        rename(&self.dir, self.name, to, site)?;
        self.name = to;
        Ok(())
    }

    /// The file's size now, from its metadata.
    pub fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Writes `bytes` at `offset` (`pwrite`, so the handle's position is
    /// neither read nor moved: one syscall per write, not three). Returns
    /// how many reached the file, which is fewer than asked only when the
    /// result is an error.
    pub fn write_at(&mut self, offset: u64, bytes: &[u8], site: Site) -> (u64, io::Result<()>) {
        let (wanted, mut short) = match write_fault(&self.dir, site, bytes.len()) {
            Ok(reach) => reach,
            Err(error) => return (0, Err(error)),
        };
        let mut written = 0u64;
        let mut result = Ok(());
        while (written as usize) < wanted {
            match self
                .file
                .write_at(&bytes[written as usize..wanted], offset + written)
            {
                Ok(0) => {
                    result = Err(io::Error::from(io::ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if written > 0 {
            report(
                &self.dir,
                site,
                FsOp::Write {
                    file: self.name,
                    offset,
                    len: written,
                },
            );
        }
        if let (Ok(()), Some(error)) = (&result, short.take()) {
            result = Err(error);
        }
        (written, result)
    }

    pub fn set_len(&mut self, len: u64, site: Site) -> io::Result<()> {
        if let Some(error) = failed(&self.dir, site, FsOpKind::SetLen) {
            return Err(error);
        }
        self.file.set_len(len)?;
        report(
            &self.dir,
            site,
            FsOp::SetLen {
                file: self.name,
                len,
            },
        );
        Ok(())
    }

    /// `fdatasync`.
    pub fn sync_data(&mut self, site: Site) -> io::Result<()> {
        self.sync(site, FsOp::SyncData { file: self.name }, File::sync_data)
    }

    /// `fsync`.
    pub fn sync_all(&mut self, site: Site) -> io::Result<()> {
        self.sync(site, FsOp::SyncAll { file: self.name }, File::sync_all)
    }

    /// A sync of the file, reported whether it succeeded or failed: after
    /// a failure the kernel may have dropped what it should have written.
    fn sync(
        &mut self,
        site: Site,
        done: FsOp,
        call: fn(&File) -> io::Result<()>,
    ) -> io::Result<()> {
        let result = match failed(&self.dir, site, FsOpKind::Sync) {
            Some(error) => Err(error),
            None => call(&self.file),
        };
        let op = match result {
            Ok(()) => done,
            Err(_) => FsOp::SyncFailed { file: self.name },
        };
        report(&self.dir, site, op);
        result
    }

    /// Reads `buf.len()` bytes at `offset` (`pread`): one pass of reads at
    /// `site`, which a fault can fail or cut short (`UnexpectedEof`).
    pub fn read_exact_at(&self, offset: u64, buf: &mut [u8], site: Site) -> io::Result<()> {
        let limit = read_fault(&self.dir, site)?;
        let reach = limit.map_or(buf.len(), |limit| {
            buf.len().min(usize::try_from(limit).unwrap_or(usize::MAX))
        });
        self.file.read_exact_at(&mut buf[..reach], offset)?;
        report(
            &self.dir,
            site,
            FsOp::Read {
                file: self.name,
                offset,
                len: reach as u64,
            },
        );
        if reach < buf.len() {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        Ok(())
    }

    /// A reader from the start, for recovery's passes over the file and a
    /// checkpoint's read of the old log. It borrows this handle and reads
    /// at its own offset (`pread`): no second descriptor to make and close,
    /// and the handle's position does not matter.
    pub fn reader(&self, site: Site) -> FileReader<'_> {
        FileReader {
            file: &self.file,
            name: self.name,
            dir: &self.dir,
            limit: None,
            reading: false,
            site,
            offset: 0,
        }
    }
}

/// Reads a file from its start, reporting each read.
#[derive(Debug)]
pub struct FileReader<'a> {
    file: &'a File,
    name: FileName,
    dir: &'a Path,
    /// Bytes left before the file reads as ended: a short read fault fired.
    limit: Option<u64>,
    /// A read was made: the pass has begun (a fault for it fires at the
    /// first).
    reading: bool,
    site: Site,
    offset: u64,
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.reading {
            self.reading = true;
            self.limit = read_fault(self.dir, self.site)?;
        }
        let wanted = match self.limit {
            Some(limit) => buf.len().min(usize::try_from(limit).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        if wanted == 0 {
            return Ok(0);
        }
        let len = self.file.read_at(&mut buf[..wanted], self.offset)?;
        if len > 0 {
            report(
                self.dir,
                self.site,
                FsOp::Read {
                    file: self.name,
                    offset: self.offset,
                    len: len as u64,
                },
            );
        }
        if let Some(limit) = &mut self.limit {
            *limit -= len as u64;
        }
        self.offset += len as u64;
        Ok(len)
    }
}

/// The whole of `name` in `dir`; `None` when there is no such file.
pub fn read_whole(dir: &Path, name: FileName, site: Site) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = match fs::read(dir.join(name.as_str())) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Some(limit) = read_fault(dir, site)? {
        bytes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    report(
        dir,
        site,
        FsOp::Read {
            file: name,
            offset: 0,
            len: bytes.len() as u64,
        },
    );
    Ok(Some(bytes))
}

/// Renames `from` over `to` in `dir`.
pub fn rename(dir: &Path, from: FileName, to: FileName, site: Site) -> io::Result<()> {
    if let Some(error) = failed(dir, site, FsOpKind::Rename) {
        return Err(error);
    }
    fs::rename(dir.join(from.as_str()), dir.join(to.as_str()))?;
    report(dir, site, FsOp::Rename { from, to });
    Ok(())
}

/// The engine's directory, held open: a directory sync is one `fsync` of
/// this handle, not an open, an `fsync` and a close of the path each time.
/// On Linux an `fsync` of a directory handle covers every create and
/// rename in the directory up to the call, however old the handle.
#[derive(Debug)]
pub struct Directory {
    handle: File,
    path: PathBuf,
}

impl Directory {
    pub fn open(path: &Path) -> io::Result<Directory> {
        Ok(Directory {
            handle: File::open(path)?,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `fsync` of the directory: makes every create and rename in it so
    /// far durable. Reported whether it succeeded or failed.
    pub fn sync(&self, site: Site) -> io::Result<()> {
        let result = match failed(&self.path, site, FsOpKind::SyncDirectory) {
            Some(error) => Err(error),
            None => self.handle.sync_all(),
        };
        let op = match result {
            Ok(()) => FsOp::SyncDirectory,
            Err(_) => FsOp::SyncDirectoryFailed,
        };
        report(&self.path, site, op);
        result
    }
}

#[cfg(test)]
mod tests;
