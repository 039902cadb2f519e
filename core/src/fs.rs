//! The engine's one home for the file operations durability depends on:
//! create, write, set_len, fsync / fdatasync of a file, rename, fsync of
//! the directory, and the reads recovery makes.
//!
//! Every function makes the real `std::fs` call, always: the engine reads
//! and writes real files. In `fault-injection` builds each also reports
//! what it did, naming its call site, to the observer of its directory on
//! the calling thread (see `observe`), so that a simulator learns what a crash may lose from what
//! the engine asked of the file system, never from the engine's own idea of
//! what is durable. Production builds have no observer and make no reports.
//!
//! Files are named by [`FileName`], relative to the engine's directory, so
//! a report holds no path.
#![cfg_attr(
    not(feature = "fault-injection"),
    doc = r#"
In this build (no `fault-injection`) the file operations are reachable:

```
use allocdb_core::fs::{sync_directory, Site};
let _sync: fn(&std::path::Path, Site) -> std::io::Result<()> = sync_directory;
```

but there is no observer to learn of them:

```compile_fail
let _observation = allocdb_core::fs::observe(std::path::Path::new("."));
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
    /// Opening (creating if absent) the WAL and syncing what it holds.
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
    /// Recovery reading the WAL.
    WalRead,
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

/// How an injected read fault breaks a recovery read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFaultKind {
    /// The read fails with an I/O error (as a disk's EIO).
    Error,
    /// The file reads as if it ended early: a short read, then end of file.
    Short,
}

/// A read fault armed for the next recovery read of `file`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadFault {
    pub file: FileName,
    pub kind: ReadFaultKind,
}

/// The sites whose reads a read fault breaks: recovery's.
#[cfg(feature = "fault-injection")]
const fn is_recovery_read(site: Site) -> bool {
    matches!(site, Site::WalRead | Site::SnapshotRead)
}

#[cfg(feature = "fault-injection")]
pub use observer::{observe, Observation};

#[cfg(feature = "fault-injection")]
mod observer {
    use super::{FileName, FsReport, ReadFault, ReadFaultKind};
    use std::cell::RefCell;
    use std::marker::PhantomData;
    use std::path::{Path, PathBuf};

    /// The directories observed on this thread, each with its reports not
    /// yet drained and a read fault armed there.
    type Observed = Vec<(PathBuf, Vec<FsReport>, Option<ReadFault>)>;

    thread_local! {
        static OBSERVED: RefCell<Observed> = const { RefCell::new(Vec::new()) };
    }

    /// Records every file operation made in `dir` on this thread until the
    /// returned observation is dropped. A directory has one observer at a
    /// time; several directories may be observed at once.
    pub fn observe(dir: &Path) -> Observation {
        OBSERVED.with(|observed| {
            let mut observed = observed.borrow_mut();
            assert!(
                observed.iter().all(|(d, ..)| d != dir),
                "a directory has one observer at a time"
            );
            observed.push((dir.to_path_buf(), Vec::new(), None));
        });
        Observation {
            dir: dir.to_path_buf(),
            _one_thread: PhantomData,
        }
    }

    /// Reports are kept per thread, so an observation stays on the thread
    /// that made it (it is not `Send`).
    pub struct Observation {
        dir: PathBuf,
        _one_thread: PhantomData<*const ()>,
    }

    impl Observation {
        /// Every operation since the last drain, in the order made.
        pub fn drain(&self) -> Vec<FsReport> {
            self.with_entry(|reports, _| std::mem::take(reports))
        }

        /// Arms `fault` for the next recovery read of its file in this
        /// directory; it fires once.
        pub fn arm_read_fault(&self, fault: ReadFault) {
            self.with_entry(|_, armed| *armed = Some(fault));
        }

        /// Disarms the read fault and returns it if it never fired.
        pub fn disarm_read_fault(&self) -> Option<ReadFault> {
            self.with_entry(|_, armed| armed.take())
        }

        fn with_entry<T>(
            &self,
            f: impl FnOnce(&mut Vec<FsReport>, &mut Option<ReadFault>) -> T,
        ) -> T {
            OBSERVED.with(|observed| {
                let mut observed = observed.borrow_mut();
                let (_, reports, armed) = observed
                    .iter_mut()
                    .find(|(d, ..)| *d == self.dir)
                    .expect("observed until dropped");
                f(reports, armed)
            })
        }
    }

    impl Drop for Observation {
        fn drop(&mut self) {
            OBSERVED.with(|observed| observed.borrow_mut().retain(|(d, ..)| *d != self.dir));
        }
    }

    pub(super) fn report(dir: &Path, report: FsReport) {
        OBSERVED.with(|observed| {
            let mut observed = observed.borrow_mut();
            if let Some((_, reports, _)) = observed.iter_mut().find(|(d, ..)| d == dir) {
                reports.push(report);
            }
        });
    }

    /// The read fault armed for `file` in `dir`, taken: it fires now.
    pub(super) fn take_read_fault(dir: &Path, file: FileName) -> Option<ReadFaultKind> {
        OBSERVED.with(|observed| {
            let mut observed = observed.borrow_mut();
            let (_, _, armed) = observed.iter_mut().find(|(d, ..)| d == dir)?;
            let fault = armed.filter(|fault| fault.file == file)?;
            *armed = None;
            Some(fault.kind)
        })
    }
}

/// The read fault that fires at this read, if one is armed for it.
#[inline]
fn read_fault(dir: &Path, file: FileName, site: Site) -> Option<ReadFaultKind> {
    #[cfg(feature = "fault-injection")]
    if is_recovery_read(site) {
        return observer::take_read_fault(dir, file);
    }
    let _ = (dir, file, site);
    None
}

fn injected_read_error() -> io::Error {
    io::Error::other("injected read fault: I/O error (EIO)")
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
        let path = dir.join(name.as_str());
        // Only a report needs to know; production builds skip the lookup.
        let existed = cfg!(feature = "fault-injection") && path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let created = !existed;
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
        let mut written = 0u64;
        let mut result = Ok(());
        while (written as usize) < bytes.len() {
            match self
                .file
                .write_at(&bytes[written as usize..], offset + written)
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
        (written, result)
    }

    pub fn set_len(&mut self, len: u64, site: Site) -> io::Result<()> {
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
        self.file.sync_data()?;
        report(&self.dir, site, FsOp::SyncData { file: self.name });
        Ok(())
    }

    /// `fsync`.
    pub fn sync_all(&mut self, site: Site) -> io::Result<()> {
        self.file.sync_all()?;
        report(&self.dir, site, FsOp::SyncAll { file: self.name });
        Ok(())
    }

    /// A second handle reading from the start, for recovery's passes over
    /// the file. It reads at its own offset (`pread`), so neither handle's
    /// position matters to the other.
    pub fn reader(&self, site: Site) -> io::Result<FileReader> {
        Ok(FileReader {
            file: self.file.try_clone()?,
            name: self.name,
            dir: self.dir.clone(),
            ended_early: false,
            site,
            offset: 0,
        })
    }
}

/// Reads a file from its start, reporting each read.
#[derive(Debug)]
pub struct FileReader {
    file: File,
    name: FileName,
    dir: PathBuf,
    /// A short-read fault fired: the file reads as ended from here.
    ended_early: bool,
    site: Site,
    offset: u64,
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match read_fault(&self.dir, self.name, self.site) {
            Some(ReadFaultKind::Error) => return Err(injected_read_error()),
            Some(ReadFaultKind::Short) => self.ended_early = true,
            None => {}
        }
        if self.ended_early {
            return Ok(0);
        }
        let len = self.file.read_at(buf, self.offset)?;
        if len > 0 {
            report(
                &self.dir,
                self.site,
                FsOp::Read {
                    file: self.name,
                    offset: self.offset,
                    len: len as u64,
                },
            );
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
    match read_fault(dir, name, site) {
        Some(ReadFaultKind::Error) => return Err(injected_read_error()),
        Some(ReadFaultKind::Short) => bytes.truncate(bytes.len() / 2),
        None => {}
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
    fs::rename(dir.join(from.as_str()), dir.join(to.as_str()))?;
    report(dir, site, FsOp::Rename { from, to });
    Ok(())
}

/// `fsync` of `dir`: makes every create and rename in it so far durable.
pub fn sync_directory(dir: &Path, site: Site) -> io::Result<()> {
    File::open(dir)?.sync_all()?;
    report(dir, site, FsOp::SyncDirectory);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_plain_file_names() {
        for (i, a) in FileName::ALL.iter().enumerate() {
            assert!(!a.as_str().contains('/'));
            for b in &FileName::ALL[i + 1..] {
                assert_ne!(a.as_str(), b.as_str());
            }
        }
    }

    #[test]
    fn every_call_is_the_real_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut file =
            DurableFile::create(dir.path(), FileName::WalTemp, Site::WalRewriteTemp).unwrap();
        assert_eq!(file.write_at(0, b"abcdef", Site::WalRewriteTemp).0, 6);
        assert_eq!(file.write_at(2, b"XY", Site::WalRewriteTemp).0, 2);
        file.sync_all(Site::WalRewriteTemp).unwrap();
        file.set_len(5, Site::WalTruncate).unwrap();
        file.sync_data(Site::WalSync).unwrap();
        assert_eq!(file.size().unwrap(), 5);
        rename(
            dir.path(),
            FileName::WalTemp,
            FileName::Wal,
            Site::WalRewriteRename,
        )
        .unwrap();
        sync_directory(dir.path(), Site::WalDirectory).unwrap();
        assert!(!dir.path().join("wal.tmp").exists());
        assert_eq!(
            read_whole(dir.path(), FileName::Wal, Site::WalRead).unwrap(),
            Some(b"abXYe".to_vec())
        );
        assert_eq!(
            read_whole(dir.path(), FileName::Snapshot, Site::SnapshotRead).unwrap(),
            None
        );
        let reopened = DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
        assert_eq!(reopened.size().unwrap(), 5);
        let mut read = Vec::new();
        reopened
            .reader(Site::WalRead)
            .unwrap()
            .read_to_end(&mut read)
            .unwrap();
        assert_eq!(read, b"abXYe");
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn an_observer_sees_every_operation_in_order_with_its_site() {
        let dir = tempfile::tempdir().unwrap();
        let unobserved =
            DurableFile::create(dir.path(), FileName::Snapshot, Site::SnapshotTemp).unwrap();
        drop(unobserved);
        let observation = observe(dir.path());
        let other_dir = tempfile::tempdir().unwrap();
        let other = observe(other_dir.path());
        DurableFile::create(other_dir.path(), FileName::Wal, Site::WalOpen).unwrap();
        let mut wal = DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
        wal.write_at(0, b"frame", Site::WalAppend).1.unwrap();
        wal.sync_data(Site::WalSync).unwrap();
        rename(
            dir.path(),
            FileName::Snapshot,
            FileName::SnapshotTemp,
            Site::SnapshotRename,
        )
        .unwrap();
        sync_directory(dir.path(), Site::SnapshotDirectory).unwrap();
        let mut bytes = Vec::new();
        wal.reader(Site::WalRead)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        let wal_file = FileName::Wal;
        assert_eq!(
            observation.drain(),
            vec![
                FsReport {
                    site: Site::WalOpen,
                    op: FsOp::Open {
                        file: wal_file,
                        created: true
                    }
                },
                FsReport {
                    site: Site::WalAppend,
                    op: FsOp::Write {
                        file: wal_file,
                        offset: 0,
                        len: 5
                    }
                },
                FsReport {
                    site: Site::WalSync,
                    op: FsOp::SyncData { file: wal_file }
                },
                FsReport {
                    site: Site::SnapshotRename,
                    op: FsOp::Rename {
                        from: FileName::Snapshot,
                        to: FileName::SnapshotTemp
                    }
                },
                FsReport {
                    site: Site::SnapshotDirectory,
                    op: FsOp::SyncDirectory
                },
                FsReport {
                    site: Site::WalRead,
                    op: FsOp::Read {
                        file: wal_file,
                        offset: 0,
                        len: 5
                    }
                },
            ]
        );
        assert_eq!(observation.drain(), vec![], "a drain takes what it returns");
        assert_eq!(
            other.drain(),
            vec![FsReport {
                site: Site::WalOpen,
                op: FsOp::Create {
                    file: FileName::Wal
                }
            }],
            "each directory's observer sees its own operations"
        );
        drop(observation);
        let _again = observe(dir.path());
    }

    #[cfg(feature = "fault-injection")]
    #[test]
    fn a_read_fault_breaks_the_next_recovery_read_of_its_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = DurableFile::open(dir.path(), FileName::Wal, Site::WalOpen).unwrap();
        wal.write_at(0, b"0123456789", Site::WalAppend).1.unwrap();
        std::fs::write(dir.path().join("snapshot"), b"abcdefgh").unwrap();
        let observation = observe(dir.path());
        let read_all = |site| {
            let mut bytes = Vec::new();
            wal.reader(site)
                .unwrap()
                .read_to_end(&mut bytes)
                .map(|_| bytes)
        };

        let fault = |file, kind| ReadFault { file, kind };
        observation.arm_read_fault(fault(FileName::Wal, ReadFaultKind::Error));
        assert_eq!(
            read_all(Site::WalRewriteRead).unwrap().len(),
            10,
            "not a recovery read"
        );
        let error = read_all(Site::WalRead).unwrap_err();
        assert!(error.to_string().contains("injected read fault"), "{error}");
        assert_eq!(read_all(Site::WalRead).unwrap().len(), 10, "it fires once");
        assert_eq!(observation.disarm_read_fault(), None);

        observation.arm_read_fault(fault(FileName::Wal, ReadFaultKind::Short));
        assert_eq!(read_all(Site::WalRead).unwrap(), b"", "ends at once");
        let mut exact = [0u8; 4];
        observation.arm_read_fault(fault(FileName::Wal, ReadFaultKind::Short));
        let short = wal.reader(Site::WalRead).unwrap().read_exact(&mut exact);
        assert_eq!(short.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);

        observation.arm_read_fault(fault(FileName::Snapshot, ReadFaultKind::Short));
        assert_eq!(
            read_whole(dir.path(), FileName::Snapshot, Site::SnapshotRead).unwrap(),
            Some(b"abcd".to_vec())
        );
        observation.arm_read_fault(fault(FileName::Snapshot, ReadFaultKind::Error));
        assert!(read_whole(dir.path(), FileName::Snapshot, Site::SnapshotRead).is_err());
        observation.arm_read_fault(fault(FileName::SnapshotTemp, ReadFaultKind::Error));
        assert_eq!(
            read_whole(dir.path(), FileName::SnapshotTemp, Site::SnapshotRead).unwrap(),
            None,
            "an absent file is not read"
        );
        assert_eq!(
            observation.disarm_read_fault(),
            Some(fault(FileName::SnapshotTemp, ReadFaultKind::Error)),
            "a fault that never fired is handed back"
        );
    }
}
