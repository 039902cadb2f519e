//! The real files of a run, and what the simulator does to them while the
//! engine is down: cut the WAL, flip a bit, undo the flip. Every cut is
//! reported to the WAL book, so the book and the file never disagree.

use super::wal_book::WalBook;
use crate::fs_model::FsModel;
use crate::run_dir::RunDir;
use allocdb_core::fs::FileName;
use allocdb_core::snapshot::SNAPSHOT_FILE_NAME;
use allocdb_core::wal::WAL_FILE_NAME;
use std::fs::{self, OpenOptions};
use std::io;
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

    /// Keeps the run directory (for a failure) and returns its path.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }

    pub fn damage(&self) -> Option<Damage> {
        self.damage
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

fn flip_bit(path: &Path, offset: u64, bit: u8) -> io::Result<()> {
    let mut bytes = fs::read(path)?;
    let byte = bytes
        .get_mut(offset as usize)
        .ok_or_else(|| io::Error::other(format!("offset {offset} beyond {}", path.display())))?;
    *byte ^= 1 << bit;
    fs::write(path, &bytes)
}
