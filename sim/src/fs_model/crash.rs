//! One legal state of the files after a power loss, chosen by the caller
//! (the seed or a scenario) within what the file system promised: the
//! durable entries plus a prefix of the pending ones, and each surviving
//! file's synced bytes plus some prefix of its unsynced ones.

use super::directory::{EntryMap, InodeId};
use super::FileState;
use crate::action::Unsynced;
use allocdb_core::fs::FileName;

/// A file some name holds after the crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SurvivingFile {
    pub name: FileName,
    pub inode: InodeId,
    /// Its bytes before the crash.
    pub before: FileState,
    /// The bytes that survive it: at least `before.synced`.
    pub kept: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashPlan {
    /// What each name holds after the crash.
    pub entries: EntryMap,
    /// Pending entry operations the crash keeps, of `pending`.
    pub entries_kept: usize,
    pub pending: usize,
    /// In [`FileName::ALL`] order.
    pub files: Vec<SurvivingFile>,
}

impl CrashPlan {
    pub fn file(&self, name: FileName) -> Option<&SurvivingFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The surviving files other than the WAL.
    pub fn beside_wal(&self) -> impl Iterator<Item = &SurvivingFile> {
        self.files.iter().filter(|f| f.name != FileName::Wal)
    }

    /// Unsynced bytes lost, over every surviving file.
    pub fn bytes_lost(&self) -> u64 {
        self.files.iter().map(|f| f.before.written - f.kept).sum()
    }
}

/// The bytes of a file that survive a crash faring as `fate`.
pub fn kept_len(state: FileState, fate: Unsynced) -> u64 {
    let unsynced = state.written - state.synced;
    state.synced
        + match fate {
            Unsynced::Keep => unsynced,
            Unsynced::Lose => 0,
            Unsynced::KeepPrefix(bytes) => bytes.min(unsynced),
        }
}
