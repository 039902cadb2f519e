//! The real files of a run, and what the simulator does to them while the
//! engine is down: write a crash's chosen state onto them (entries undone,
//! unsynced bytes cut), cut the WAL, flip a bit, undo the flip. Every cut
//! of the WAL alone is reported to the WAL book, so the book and the file
//! never disagree.
//!
//! A crash may bring back a file a rename replaced, so the disk keeps a
//! hard link to every file the fs model knows of, named by its inode, until
//! the model forgets it.

use super::wal_book::WalBook;
use crate::fs_model::{CrashPlan, EntryMap, FsModel, InodeChanges, InodeId};
use crate::run_dir::{KeptRun, RunDir};
use allocdb_core::fs::FileName;
use allocdb_core::snapshot::SNAPSHOT_FILE_NAME;
use allocdb_core::wal::WAL_FILE_NAME;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A bit the simulator flipped while the engine was down; the next restart
/// must fail closed on it (or, in the WAL's tail, may read it as torn).
#[derive(Clone, Copy, Debug)]
pub enum Damage {
    WalBit { offset: u64, bit: u8, frame: usize },
    SnapshotBit { offset: u64, bit: u8 },
}

pub struct Disk {
    dir: RunDir,
    /// At most one at a time.
    damage: Option<Damage>,
}

impl Disk {
    pub fn new() -> io::Result<Disk> {
        Ok(Disk {
            dir: RunDir::new()?,
            damage: None,
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The whole run's directory.
    pub fn root(&self) -> &Path {
        self.dir.root()
    }

    /// Keeps the run directory (for a failure) and says where it is.
    pub fn keep(self) -> KeptRun {
        self.dir.keep()
    }

    pub fn damage(&self) -> Option<Damage> {
        self.damage
    }

    fn inode_path(&self, inode: InodeId) -> PathBuf {
        self.dir.inodes().join(inode.0.to_string())
    }

    /// Links every file the fs model learned of, and unlinks those it forgot.
    pub fn track(&mut self, changes: InodeChanges) -> io::Result<()> {
        for (inode, name) in changes.born {
            let Some(name) = name else {
                return Err(io::Error::other(format!(
                    "file {} lost its last name before the simulator could keep it",
                    inode.0
                )));
            };
            fs::hard_link(self.path().join(name.as_str()), self.inode_path(inode))?;
        }
        for inode in changes.gone {
            fs::remove_file(self.inode_path(inode))?;
        }
        Ok(())
    }

    /// Writes the crash state `plan` onto the real files, which hold
    /// `before` now. Damage in bytes or files that are gone no longer exists.
    pub fn realize(&mut self, plan: &CrashPlan, before: &EntryMap) -> io::Result<()> {
        for (name, now) in before.names() {
            let after = plan.entries.get(name);
            if now == after {
                continue;
            }
            let path = self.path().join(name.as_str());
            if now.is_some() {
                fs::remove_file(&path)?;
            }
            if let Some(inode) = after {
                fs::hard_link(self.inode_path(inode), &path)?;
            }
        }
        for file in &plan.files {
            if file.kept < file.before.written {
                OpenOptions::new()
                    .write(true)
                    .open(self.inode_path(file.inode))?
                    .set_len(file.kept)?;
            }
        }
        let survives = |name: FileName, offset: u64| {
            before.get(name) == plan.entries.get(name)
                && plan.file(name).is_some_and(|f| offset < f.kept)
        };
        self.damage = self.damage.filter(|damage| match *damage {
            Damage::WalBit { offset, .. } => survives(FileName::Wal, offset),
            Damage::SnapshotBit { offset, .. } => survives(FileName::Snapshot, offset),
        });
        Ok(())
    }

    fn wal_path(&self) -> PathBuf {
        self.dir.path().join(WAL_FILE_NAME)
    }

    fn snapshot_path(&self) -> PathBuf {
        self.dir.path().join(SNAPSHOT_FILE_NAME)
    }

    pub fn snapshot_len(&self) -> io::Result<u64> {
        Ok(fs::metadata(self.snapshot_path())?.len())
    }

    /// Cuts the WAL file to `len` bytes, and tells the book and the file
    /// system model. Damage in bytes that are gone no longer exists.
    pub fn truncate_wal(
        &mut self,
        book: &mut WalBook,
        fs: &mut FsModel,
        len: u64,
    ) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(self.wal_path())?;
        file.set_len(len)?;
        book.truncate(len);
        fs.cut(FileName::Wal, len);
        if let Some(Damage::WalBit { offset, .. }) = self.damage {
            if offset >= len {
                self.damage = None;
            }
        }
        Ok(())
    }

    /// The WAL's bytes from `offset` to its end (a flip's verdict reads at
    /// most one frame's worth).
    pub fn read_wal_from(&self, offset: u64) -> io::Result<Vec<u8>> {
        let file = OpenOptions::new().read(true).open(self.wal_path())?;
        let len = file.metadata()?.len();
        let mut bytes = vec![0; len.saturating_sub(offset) as usize];
        file.read_exact_at(&mut bytes, offset)?;
        Ok(bytes)
    }

    /// Flips the bit `damage` names and remembers it.
    pub fn damage_with(&mut self, damage: Damage) -> io::Result<()> {
        assert!(self.damage.is_none(), "one damage at a time");
        self.flip(damage)?;
        self.damage = Some(damage);
        Ok(())
    }

    /// Forgets the damage without touching the file: recovery cut the
    /// damaged bytes away as a torn tail.
    pub fn damage_cut(&mut self) -> Option<Damage> {
        self.damage.take()
    }

    /// Flips the damaged bit back, as an operator restoring the bytes would.
    pub fn undo_damage(&mut self) -> io::Result<Option<Damage>> {
        let Some(damage) = self.damage.take() else {
            return Ok(None);
        };
        self.flip(damage)?;
        Ok(Some(damage))
    }

    fn flip(&self, damage: Damage) -> io::Result<()> {
        let (path, offset, bit) = match damage {
            Damage::WalBit { offset, bit, .. } => (self.wal_path(), offset, bit),
            Damage::SnapshotBit { offset, bit } => (self.snapshot_path(), offset, bit),
        };
        flip_bit(&path, offset, bit)
    }
}

/// Reads the one byte at `offset` and writes it back with `bit` flipped:
/// the file's length and every other byte stay as they are.
fn flip_bit(path: &Path, offset: u64, bit: u8) -> io::Result<()> {
    let file = OpenOptions::new().read(true).write(true).open(path)?;
    let mut byte = [0u8; 1];
    file.read_exact_at(&mut byte, offset).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("reading byte {offset} of {}: {error}", path.display()),
        )
    })?;
    byte[0] ^= 1 << bit;
    file.write_all_at(&byte, offset)
}
