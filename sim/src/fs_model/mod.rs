//! What the file system promised: for each file of the engine's directory,
//! how many bytes were written and how many a sync made durable. Fed only
//! by the reports the engine's `fs` module makes (and the cuts the
//! simulator itself makes while the engine is down), never by the engine's
//! own account of what is durable.
//!
//! Directory entries (which creates and renames a crash may undo) are not
//! modelled yet: every entry operation counts as durable when it is made.

use allocdb_core::fs::{observe, FileName, FsOp, FsReport, Observation, ReadFault, Site};
use std::collections::BTreeMap;
use std::path::Path;

/// A call site whose sync a self-test can make the model ignore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SyncSite {
    WalOpen,
    WalSync,
    WalTruncate,
    WalRewriteTemp,
    WalDirectory,
    SnapshotTemp,
    SnapshotDirectory,
}

impl SyncSite {
    pub const ALL: [SyncSite; 7] = [
        SyncSite::WalOpen,
        SyncSite::WalSync,
        SyncSite::WalTruncate,
        SyncSite::WalRewriteTemp,
        SyncSite::WalDirectory,
        SyncSite::SnapshotTemp,
        SyncSite::SnapshotDirectory,
    ];

    pub const fn site(self) -> Site {
        match self {
            SyncSite::WalOpen => Site::WalOpen,
            SyncSite::WalSync => Site::WalSync,
            SyncSite::WalTruncate => Site::WalTruncate,
            SyncSite::WalRewriteTemp => Site::WalRewriteTemp,
            SyncSite::WalDirectory => Site::WalDirectory,
            SyncSite::SnapshotTemp => Site::SnapshotTemp,
            SyncSite::SnapshotDirectory => Site::SnapshotDirectory,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            SyncSite::WalOpen => "wal_open",
            SyncSite::WalSync => "wal_sync",
            SyncSite::WalTruncate => "wal_truncate",
            SyncSite::WalRewriteTemp => "wal_rewrite_temp",
            SyncSite::WalDirectory => "wal_directory",
            SyncSite::SnapshotTemp => "snapshot_temp",
            SyncSite::SnapshotDirectory => "snapshot_directory",
        }
    }
}

/// One file's bytes as the file system holds them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileState {
    /// Bytes written (the file's length as far as writes made it).
    pub written: u64,
    /// Bytes a completed sync covers: what survives any crash.
    pub synced: u64,
}

pub struct FsModel {
    observation: Observation,
    files: BTreeMap<FileName, FileState>,
    /// A self-test: syncs made at this site are treated as never made.
    ignored: Option<Site>,
}

impl FsModel {
    /// Observes `dir` from now on; nothing is in it yet.
    pub fn new(dir: &Path, ignored: Option<SyncSite>) -> FsModel {
        FsModel {
            observation: observe(dir),
            files: BTreeMap::new(),
            ignored: ignored.map(SyncSite::site),
        }
    }

    /// Arms `fault` for the engine's next recovery read of its file.
    pub fn arm_read_fault(&self, fault: ReadFault) {
        self.observation.arm_read_fault(fault);
    }

    /// Disarms the read fault; returns it if it never fired.
    pub fn disarm_read_fault(&self) -> Option<ReadFault> {
        self.observation.disarm_read_fault()
    }

    pub fn file(&self, name: FileName) -> FileState {
        self.files.get(&name).copied().unwrap_or_default()
    }

    /// Takes in every operation the engine made since the last call.
    pub fn absorb(&mut self) {
        for report in self.observation.drain() {
            self.apply(report);
        }
    }

    fn apply(&mut self, FsReport { site, op }: FsReport) {
        match op {
            FsOp::Open { file, created } => {
                let state = self.files.entry(file).or_default();
                if created {
                    *state = FileState::default();
                }
            }
            FsOp::Create { file } => {
                self.files.insert(file, FileState::default());
            }
            FsOp::Write { file, offset, len } => {
                let state = self.files.entry(file).or_default();
                state.written = state.written.max(offset + len);
            }
            FsOp::SetLen { file, len } => self.cut(file, len),
            FsOp::SyncData { file } | FsOp::SyncAll { file } => {
                if self.ignored != Some(site) {
                    let state = self.files.entry(file).or_default();
                    state.synced = state.written;
                }
            }
            FsOp::Rename { from, to } => {
                let moved = self.files.remove(&from).unwrap_or_default();
                self.files.insert(to, moved);
            }
            FsOp::SyncDirectory | FsOp::Read { .. } => {}
        }
    }

    /// The file was cut to `len` bytes (by the engine, or by the simulator
    /// while it is down).
    pub fn cut(&mut self, file: FileName, len: u64) {
        let state = self.files.entry(file).or_default();
        state.written = state.written.min(len);
        state.synced = state.synced.min(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(ignored: Option<SyncSite>) -> FsModel {
        FsModel {
            observation: observe(Path::new("/fs-model-test-never-touched")),
            files: BTreeMap::new(),
            ignored: ignored.map(SyncSite::site),
        }
    }

    fn report(site: Site, op: FsOp) -> FsReport {
        FsReport { site, op }
    }

    const WAL: FileName = FileName::Wal;

    fn write(offset: u64, len: u64) -> FsReport {
        report(
            Site::WalAppend,
            FsOp::Write {
                file: WAL,
                offset,
                len,
            },
        )
    }

    #[test]
    fn only_a_sync_makes_written_bytes_durable() {
        let mut fs = model(None);
        fs.apply(report(
            Site::WalOpen,
            FsOp::Open {
                file: WAL,
                created: true,
            },
        ));
        fs.apply(write(0, 40));
        assert_eq!(
            fs.file(WAL),
            FileState {
                written: 40,
                synced: 0
            }
        );
        fs.apply(report(Site::WalSync, FsOp::SyncData { file: WAL }));
        fs.apply(write(40, 30));
        assert_eq!(
            fs.file(WAL),
            FileState {
                written: 70,
                synced: 40
            }
        );
        fs.cut(WAL, 55);
        assert_eq!(
            fs.file(WAL),
            FileState {
                written: 55,
                synced: 40
            }
        );
        fs.cut(WAL, 10);
        assert_eq!(
            fs.file(WAL),
            FileState {
                written: 10,
                synced: 10
            }
        );
    }

    #[test]
    fn a_rename_moves_the_state_and_a_create_starts_empty() {
        let mut fs = model(None);
        fs.apply(write(0, 100));
        fs.apply(report(Site::WalSync, FsOp::SyncData { file: WAL }));
        let temp = FileName::WalTemp;
        fs.apply(report(Site::WalRewriteTemp, FsOp::Create { file: temp }));
        fs.apply(report(
            Site::WalRewriteTemp,
            FsOp::Write {
                file: temp,
                offset: 0,
                len: 30,
            },
        ));
        fs.apply(report(Site::WalRewriteTemp, FsOp::SyncAll { file: temp }));
        fs.apply(report(
            Site::WalRewriteRename,
            FsOp::Rename {
                from: temp,
                to: WAL,
            },
        ));
        assert_eq!(
            fs.file(WAL),
            FileState {
                written: 30,
                synced: 30
            }
        );
        assert_eq!(fs.file(temp), FileState::default());
    }

    #[test]
    fn an_ignored_site_syncs_nothing_and_other_sites_still_do() {
        let mut fs = model(Some(SyncSite::WalSync));
        fs.apply(write(0, 40));
        fs.apply(report(Site::WalSync, FsOp::SyncData { file: WAL }));
        assert_eq!(fs.file(WAL).synced, 0);
        fs.apply(report(Site::WalOpen, FsOp::SyncAll { file: WAL }));
        assert_eq!(fs.file(WAL).synced, 40);
    }

    #[test]
    fn every_sync_site_names_a_distinct_core_site() {
        for (i, a) in SyncSite::ALL.iter().enumerate() {
            for b in &SyncSite::ALL[i + 1..] {
                assert_ne!(a.site(), b.site());
                assert_ne!(a.name(), b.name());
            }
        }
    }
}
