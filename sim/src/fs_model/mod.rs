//! What the file system promised: for each file (inode) of the engine's
//! directory, how many bytes were written and how many a sync made
//! durable; for the directory, which entries a directory sync made durable
//! and which creates and renames are still pending. Fed only by the
//! reports the engine's `fs` module makes (and the cuts the simulator
//! itself makes while the engine is down), never by the engine's own
//! account of what is durable. From these it plans what a crash may leave
//! ([`CrashPlan`]); the disk module writes the plan onto the real files.

mod crash;
mod directory;
mod sync_site;
#[cfg(test)]
mod tests;

pub use crash::{kept_len, CrashPlan, SurvivingFile};
pub use directory::{Directory, EntryMap, EntryOp, InodeId};
pub use sync_site::SyncSite;

use crate::action::Unsynced;
use allocdb_core::fs::fault::IoFault;
use allocdb_core::fs::{observe, FileName, FsOp, FsReport, Observation, Site};
use std::collections::BTreeMap;
use std::path::Path;

/// One file's bytes as the file system holds them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileState {
    /// Bytes written (the file's length as far as writes made it).
    pub written: u64,
    /// Bytes a completed sync covers: what survives any crash.
    pub synced: u64,
    /// The bytes `start..end` a failed sync should have made durable: the
    /// kernel may have dropped them and marked them clean (fsyncgate), so
    /// no later sync writes them until they are written again, and nothing
    /// from `start` on is durable. A crash may lose them as any unsynced
    /// bytes.
    pub dropped: Option<Dropped>,
}

/// Bytes a failed sync may have dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub start: u64,
    pub end: u64,
}

impl FileState {
    pub fn unsynced(&self) -> u64 {
        self.written - self.synced
    }

    /// A sync that succeeded: every byte written is durable, but for those
    /// a failed sync dropped and every byte after them.
    fn synced_now(&mut self) {
        self.synced = match self.dropped {
            Some(dropped) => self.synced.max(self.written.min(dropped.start)),
            None => self.written,
        };
    }

    /// A sync that failed: the bytes it should have covered are dropped.
    fn sync_failed(&mut self) {
        if self.written == self.synced {
            return;
        }
        let (start, end) = (self.synced, self.written);
        self.dropped = Some(match self.dropped {
            Some(d) => Dropped {
                start: d.start.min(start),
                end: d.end.max(end),
            },
            None => Dropped { start, end },
        });
    }

    /// `len` bytes written at `offset`: writing the first dropped bytes
    /// again makes them the page cache's to write once more.
    fn wrote(&mut self, offset: u64, len: u64) {
        self.written = self.written.max(offset + len);
        if let Some(dropped) = &mut self.dropped {
            if offset <= dropped.start && dropped.start < offset + len {
                dropped.start = offset + len;
            }
            if dropped.start >= dropped.end {
                self.dropped = None;
            }
        }
    }
}

pub struct FsModel {
    observation: Observation,
    directory: Directory,
    /// The file each name's open handles refer to. A write or sync names
    /// the file by the name it was opened under, which a rename does not
    /// change for a handle left open across it: so a rename makes both
    /// names refer to the moved file until either is opened again.
    opened: EntryMap,
    inodes: BTreeMap<InodeId, FileState>,
    next_inode: u32,
    /// Inodes learned of, and forgotten, since the last look.
    born: Vec<InodeId>,
    gone: Vec<InodeId>,
    /// A self-test: syncs made at this site are treated as never made.
    ignored: Option<Site>,
    /// The reports of the last drain, kept between absorbs for their
    /// capacity (a step drains at every engine call).
    drained: Vec<FsReport>,
}

/// The inodes the model learned of (with the name each has now, if any)
/// and forgot since the last look.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct InodeChanges {
    pub born: Vec<(InodeId, Option<FileName>)>,
    pub gone: Vec<InodeId>,
}

impl FsModel {
    /// Observes `dir` from now on; nothing is in it yet.
    pub fn new(dir: &Path, ignored: Option<SyncSite>) -> FsModel {
        FsModel {
            observation: observe(dir),
            directory: Directory::default(),
            opened: EntryMap::default(),
            inodes: BTreeMap::new(),
            next_inode: 0,
            born: Vec::new(),
            gone: Vec::new(),
            ignored: ignored.map(SyncSite::site),
            drained: Vec::new(),
        }
    }

    /// Arms `fault` in the engine's files.
    pub fn arm_io_fault(&self, fault: IoFault) -> Result<(), &'static str> {
        self.observation.arm_io_fault(fault)
    }

    /// The I/O errors armed in the engine's files and not fired, each with
    /// the passes it has left.
    pub fn armed_io_faults(&self) -> Vec<IoFault> {
        self.observation.armed_io_faults()
    }

    /// Disarms every I/O error; returns those that never fired.
    pub fn disarm_io_faults(&self) -> Vec<IoFault> {
        self.observation.disarm_io_faults()
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// What `name` holds now.
    pub fn inode(&self, name: FileName) -> Option<InodeId> {
        self.directory.current().get(name)
    }

    /// The bytes of the file `name` holds now (none when it holds none).
    pub fn file(&self, name: FileName) -> FileState {
        self.inode(name)
            .map_or_else(FileState::default, |i| self.inodes[&i])
    }

    /// Unsynced bytes of every file but the WAL.
    pub fn unsynced_beside_wal(&self) -> u64 {
        FileName::ALL
            .into_iter()
            .filter(|&name| name != FileName::Wal)
            .map(|name| self.file(name).unsynced())
            .sum()
    }

    /// Takes in every operation the engine made since the last call; errs
    /// on a report no file system could have made from the model's state
    /// (the engine misreported, or reported an operation it did not make).
    pub fn absorb(&mut self) -> Result<(), String> {
        let mut reports = std::mem::take(&mut self.drained);
        self.observation.drain_into(&mut reports);
        let absorbed = reports.iter().try_for_each(|&report| {
            self.apply(report)
                .map_err(|why| format!("file operation {report:?}: {why}"))
        });
        reports.clear();
        self.drained = reports;
        absorbed
    }

    /// [`FsModel::absorb`] for a recovery that refused to start: it must
    /// have left the files as it found them (no create, cut or rename, no
    /// write but the open's write of the log's last bytes over themselves;
    /// opening and syncing change nothing). Errs naming the first operation
    /// that changed something.
    pub fn absorb_refused(&mut self) -> Result<(), String> {
        let reports = self.observation.drain();
        let changed = reports.iter().find(|report| match report.op {
            FsOp::Open { created, .. } => created,
            FsOp::Write { file, offset, len } => {
                !(report.site == Site::WalOpen && offset + len <= self.file(file).written)
            }
            FsOp::Create { .. } | FsOp::SetLen { .. } | FsOp::Rename { .. } => true,
            FsOp::SyncData { .. }
            | FsOp::SyncAll { .. }
            | FsOp::SyncFailed { .. }
            | FsOp::SyncDirectory
            | FsOp::SyncDirectoryFailed
            | FsOp::Read { .. } => false,
        });
        for &report in &reports {
            self.apply(report)
                .map_err(|why| format!("file operation {report:?}: {why}"))?;
        }
        match changed {
            Some(report) => Err(format!(
                "a recovery that refused to start changed the files: {report:?}"
            )),
            None => Ok(()),
        }
    }

    pub fn has_changes(&self) -> bool {
        !self.born.is_empty() || !self.gone.is_empty()
    }

    /// What changed in the set of inodes since the last call (an inode
    /// born and forgotten in between is in neither list).
    pub fn take_changes(&mut self) -> InodeChanges {
        let (born, died): (Vec<InodeId>, Vec<InodeId>) = std::mem::take(&mut self.born)
            .into_iter()
            .partition(|i| self.inodes.contains_key(i));
        let mut gone = std::mem::take(&mut self.gone);
        gone.retain(|i| !died.contains(i));
        InodeChanges {
            born: born.into_iter().map(|i| (i, self.name_of(i))).collect(),
            gone,
        }
    }

    fn name_of(&self, inode: InodeId) -> Option<FileName> {
        self.directory
            .current()
            .names()
            .find_map(|(name, i)| (i == Some(inode)).then_some(name))
    }

    fn new_inode(&mut self) -> InodeId {
        let inode = InodeId(self.next_inode);
        self.next_inode += 1;
        self.inodes.insert(inode, FileState::default());
        self.born.push(inode);
        inode
    }

    /// The bytes of the file the engine's handle named `name` refers to.
    fn opened_mut(&mut self, name: FileName) -> Result<&mut FileState, String> {
        let inode = self
            .opened
            .get(name)
            .ok_or("no file of that name was opened")?;
        self.inodes
            .get_mut(&inode)
            .ok_or_else(|| "the file was gone from every state a crash may leave".to_string())
    }

    fn apply(&mut self, FsReport { site, op }: FsReport) -> Result<(), String> {
        match op {
            FsOp::Open { file, created } => match (self.inode(file), created) {
                (None, true) => {
                    let inode = self.new_inode();
                    self.directory.make(EntryOp::Create { name: file, inode });
                }
                (None, false) => {
                    let inode = self.new_inode();
                    self.directory.found(file, inode);
                }
                (Some(_), true) => return Err("the file existed already".to_string()),
                (Some(_), false) => {}
            },
            FsOp::Create { file } => match self.inode(file) {
                // `File::create` over an existing file truncates it.
                Some(inode) => {
                    self.inodes.insert(inode, FileState::default());
                }
                None => {
                    let inode = self.new_inode();
                    self.directory.make(EntryOp::Create { name: file, inode });
                }
            },
            FsOp::Write { file, offset, len } => self.opened_mut(file)?.wrote(offset, len),
            FsOp::SetLen { file, len } => cut(self.opened_mut(file)?, len),
            FsOp::SyncData { file } | FsOp::SyncAll { file } => {
                let ignored = self.ignored == Some(site);
                let state = self.opened_mut(file)?;
                if !ignored {
                    state.synced_now();
                }
            }
            FsOp::SyncFailed { file } => self.opened_mut(file)?.sync_failed(),
            FsOp::Rename { from, to } => {
                let moved = self.inode(from).ok_or("no file has the old name")?;
                self.opened.set(to, Some(moved));
                self.directory.make(EntryOp::Rename { from, to });
            }
            FsOp::SyncDirectory => {
                if self.ignored != Some(site) {
                    self.directory.sync();
                    self.forget_unreachable();
                }
            }
            // The pending entry operations stay pending: a crash may keep
            // any prefix of them until a directory sync succeeds (see
            // docs/fault-model.md for why entry operations are not dropped
            // as file data is).
            FsOp::SyncDirectoryFailed => {}
            FsOp::Read { .. } => {}
        }
        if let FsOp::Open { file, .. } | FsOp::Create { file } = op {
            self.opened.set(file, self.inode(file));
        }
        Ok(())
    }

    fn forget_unreachable(&mut self) {
        let unreachable: Vec<InodeId> = self
            .inodes
            .keys()
            .copied()
            .filter(|&i| !self.directory.reaches(i))
            .collect();
        for inode in unreachable {
            self.inodes.remove(&inode);
            self.gone.push(inode);
        }
    }

    /// The file `name` holds was cut to `len` bytes by the simulator while
    /// the engine is down.
    pub fn cut(&mut self, name: FileName, len: u64) {
        let inode = self
            .inode(name)
            .expect("the simulator cuts only a file that exists");
        cut(
            self.inodes
                .get_mut(&inode)
                .expect("every entry's inode is known"),
            len,
        );
    }

    /// A legal state after a power loss now: the first `entries_kept`
    /// pending entry operations survive (all of them past their count),
    /// and each file's unsynced bytes fare as `fate` says for its name.
    pub fn plan_crash(
        &self,
        entries_kept: usize,
        fate: impl Fn(FileName) -> Unsynced,
    ) -> CrashPlan {
        let pending = self.directory.pending().len();
        let entries_kept = entries_kept.min(pending);
        let entries = self.directory.after_crash(entries_kept);
        let files = entries
            .names()
            .filter_map(|(name, inode)| {
                let inode = inode?;
                let before = self.inodes[&inode];
                Some(SurvivingFile {
                    name,
                    inode,
                    before,
                    kept: kept_len(before, fate(name)),
                })
            })
            .collect();
        CrashPlan {
            entries,
            entries_kept,
            pending,
            files,
        }
    }

    /// The crash `plan` describes happened: what it left is all there is,
    /// and all of it is durable.
    pub fn crashed(&mut self, plan: &CrashPlan) {
        self.directory.crashed_to(plan.entries);
        // The process is gone, and every handle with it.
        self.opened = plan.entries;
        for file in &plan.files {
            self.inodes.insert(
                file.inode,
                FileState {
                    written: file.kept,
                    synced: file.kept,
                    dropped: None,
                },
            );
        }
        self.forget_unreachable();
    }
}

fn cut(state: &mut FileState, len: u64) {
    state.written = state.written.min(len);
    state.synced = state.synced.min(len);
    if let Some(dropped) = &mut state.dropped {
        dropped.end = dropped.end.min(len);
        if dropped.start >= dropped.end {
            state.dropped = None;
        }
    }
}
