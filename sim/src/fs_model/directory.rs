//! The engine's directory as the file system holds it: the entries a
//! directory sync made durable, and the creates and renames made since,
//! which a crash keeps only a prefix of, in the order they were made.

use allocdb_core::fs::FileName;

/// One file's contents, whatever names it has had: what a rename moves and
/// what a hard link keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InodeId(pub u32);

/// What each name of the directory holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntryMap([Option<InodeId>; FileName::ALL.len()]);

const fn slot(name: FileName) -> usize {
    match name {
        FileName::Wal => 0,
        FileName::WalTemp => 1,
        FileName::Snapshot => 2,
        FileName::SnapshotTemp => 3,
    }
}

impl EntryMap {
    pub fn get(&self, name: FileName) -> Option<InodeId> {
        self.0[slot(name)]
    }

    pub fn holds(&self, inode: InodeId) -> bool {
        self.0.contains(&Some(inode))
    }

    /// Every name and what it holds, in [`FileName::ALL`] order.
    pub fn names(&self) -> impl Iterator<Item = (FileName, Option<InodeId>)> + '_ {
        FileName::ALL.into_iter().map(|name| (name, self.get(name)))
    }

    pub(super) fn set(&mut self, name: FileName, inode: Option<InodeId>) {
        self.0[slot(name)] = inode;
    }

    fn apply(&mut self, op: EntryOp) {
        match op {
            EntryOp::Create { name, inode } => {
                assert!(self.get(name).is_none(), "a create makes a new entry");
                self.0[slot(name)] = Some(inode);
            }
            EntryOp::Rename { from, to } => {
                let moved = self.0[slot(from)].take();
                assert!(moved.is_some(), "a rename moves an entry that exists");
                self.0[slot(to)] = moved;
            }
        }
    }
}

/// A directory operation a crash may undo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryOp {
    Create {
        name: FileName,
        inode: InodeId,
    },
    /// `from` over `to`, replacing whatever `to` held.
    Rename {
        from: FileName,
        to: FileName,
    },
}

#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// As of the last directory sync: what any crash leaves at least.
    durable: EntryMap,
    /// Every operation made since that sync, in order.
    pending: Vec<EntryOp>,
    /// `durable` with every pending operation applied: what the engine sees.
    current: EntryMap,
}

impl Directory {
    pub fn current(&self) -> &EntryMap {
        &self.current
    }

    pub fn pending(&self) -> &[EntryOp] {
        &self.pending
    }

    /// The entries after a crash that keeps the first `kept` pending
    /// operations.
    pub fn after_crash(&self, kept: usize) -> EntryMap {
        assert!(kept <= self.pending.len());
        let mut entries = self.durable;
        for &op in &self.pending[..kept] {
            entries.apply(op);
        }
        entries
    }

    /// Whether some state a crash may leave holds `inode`.
    pub fn reaches(&self, inode: InodeId) -> bool {
        self.durable.holds(inode)
            || self.current.holds(inode)
            || self
                .pending
                .iter()
                .any(|op| matches!(op, EntryOp::Create { inode: i, .. } if *i == inode))
    }

    pub fn make(&mut self, op: EntryOp) {
        self.current.apply(op);
        self.pending.push(op);
    }

    /// A file the model never saw created, found in place: durable as it is.
    pub fn found(&mut self, name: FileName, inode: InodeId) {
        let op = EntryOp::Create { name, inode };
        self.current.apply(op);
        self.durable.apply(op);
    }

    /// A directory sync: every pending operation is durable.
    pub fn sync(&mut self) {
        self.durable = self.current;
        self.pending.clear();
    }

    /// After a crash the directory is what the crash left, all durable.
    pub fn crashed_to(&mut self, entries: EntryMap) {
        self.durable = entries;
        self.current = entries;
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_keeps_a_prefix_of_the_pending_operations() {
        let (old, new) = (InodeId(0), InodeId(1));
        let mut dir = Directory::default();
        dir.make(EntryOp::Create {
            name: FileName::Snapshot,
            inode: old,
        });
        dir.sync();
        dir.make(EntryOp::Create {
            name: FileName::SnapshotTemp,
            inode: new,
        });
        dir.make(EntryOp::Rename {
            from: FileName::SnapshotTemp,
            to: FileName::Snapshot,
        });
        let states: Vec<_> = (0..=2)
            .map(|kept| {
                let e = dir.after_crash(kept);
                (e.get(FileName::Snapshot), e.get(FileName::SnapshotTemp))
            })
            .collect();
        assert_eq!(
            states,
            [(Some(old), None), (Some(old), Some(new)), (Some(new), None)]
        );
        assert_eq!(dir.after_crash(2), *dir.current());
        assert!(dir.reaches(old) && dir.reaches(new));
        dir.sync();
        assert!(!dir.reaches(old) && dir.pending().is_empty());
    }
}
