//! What the files must hold, as the simulator saw it happen: the WAL's
//! frames with their commands, the snapshot's LSN and the model at that
//! point, and every LSN acknowledged to a client. From these alone it says
//! what recovery must report. No I/O: the disk module and the write path
//! tell it what happened to the files.
//!
//! A rename a crash may still undo leaves the replaced file's book retired
//! (kept under the file's inode) until the fs model forgets that file; a
//! crash that brings the file back brings its book back.

use super::wal_book::{command_frame_len, marker_frame_len, FrameContent, WalBook};
use crate::fs_model::{CrashPlan, InodeId};
use crate::oracle::checks::ExpectedRecovery;
use crate::oracle::model::Model;
use crate::view::{ReachSource, RecoveryReach};
use allocdb_core::engine::{RecoveryReport, StartMode};
use allocdb_core::fs::FileName;
use allocdb_core::{Config, LogCommand, Lsn, Slot};
use std::collections::BTreeSet;

fn take_retired<B>(retired: &mut Vec<(InodeId, B)>, inode: InodeId) -> Option<B> {
    let at = retired.iter().position(|(i, _)| *i == inode)?;
    Some(retired.swap_remove(at).1)
}

/// The snapshot on disk.
#[derive(Clone)]
pub struct SnapshotBook {
    pub lsn: Lsn,
    /// The model as of `lsn`: recovery's starting point.
    pub model: Model,
    /// Size of the file, kept so that the view needs no syscall.
    pub len: u64,
}

#[derive(Clone)]
pub struct Books {
    core: Config,
    wal: WalBook,
    snapshot: Option<SnapshotBook>,
    retired_wals: Vec<(InodeId, WalBook)>,
    retired_snapshots: Vec<(InodeId, SnapshotBook)>,
    acknowledged: BTreeSet<Lsn>,
}

/// What the names `wal` and `snapshot` hold (before a checkpoint replaces
/// them, or before a crash changes them).
#[derive(Clone, Copy, Debug)]
pub struct NamedFiles {
    pub wal: Option<InodeId>,
    pub snapshot: Option<InodeId>,
}

impl Books {
    pub fn new(core: Config) -> Books {
        Books {
            core,
            wal: WalBook::default(),
            snapshot: None,
            retired_wals: Vec::new(),
            retired_snapshots: Vec::new(),
            acknowledged: BTreeSet::new(),
        }
    }

    pub fn wal(&self) -> &WalBook {
        &self.wal
    }

    pub fn wal_mut(&mut self) -> &mut WalBook {
        &mut self.wal
    }

    pub fn snapshot(&self) -> Option<&SnapshotBook> {
        self.snapshot.as_ref()
    }

    pub fn snapshot_lsn(&self) -> Option<Lsn> {
        self.snapshot.as_ref().map(|s| s.lsn)
    }

    /// The LSN the engine gives its next frame: one past the last one the
    /// files hold whole (a partial frame's LSN is reused after recovery);
    /// `None` past `u64::MAX`, where the LSN space ends.
    pub fn next_lsn(&self) -> Option<Lsn> {
        self.survived_lsn().next()
    }

    /// No LSN is left for another frame.
    pub fn lsn_exhausted(&self) -> bool {
        self.next_lsn().is_none()
    }

    /// Books `written` bytes of the engine's next frame, a command
    /// committed at `slot` (as the write's fate predicts: nothing, part of
    /// the frame, or all of it). Returns the LSN of the frame booked, or
    /// why the engine could not have written it.
    pub fn append(
        &mut self,
        slot: Slot,
        command: LogCommand,
        written: u64,
    ) -> Result<Option<Lsn>, String> {
        if written == 0 {
            return Ok(None);
        }
        let len = command_frame_len(&command);
        assert!(written <= len, "a fate writes at most its frame");
        let lsn = self
            .next_lsn()
            .ok_or("the engine appended a frame with no LSN left to give it")?;
        if let Some(partial) = self.wal.frames().last().filter(|f| !f.is_complete()) {
            // Only recovery may write after a partial frame: it truncates
            // it first. An engine that kept running after a failed append
            // (instead of halting) gets here.
            return Err(format!(
                "the engine appended {written} bytes after the partial frame of lsn {} ({} of {} bytes) without recovering first",
                partial.lsn.0, partial.written, partial.len
            ));
        }
        self.wal
            .push(lsn, FrameContent::Command { slot, command }, len, written);
        Ok(Some(lsn))
    }

    pub fn acknowledge(&mut self, lsn: Lsn) {
        self.acknowledged.insert(lsn);
    }

    pub fn acknowledged(&self) -> &BTreeSet<Lsn> {
        &self.acknowledged
    }

    /// What a checkpoint's rewrite of the log must keep: the frames after
    /// the previous snapshot plus a marker, as `(frames, bytes)`.
    pub fn rewrite_kept(&self) -> (u64, u64) {
        let previous = self.snapshot_lsn().unwrap_or(Lsn(0));
        let kept = self
            .wal
            .frames()
            .iter()
            .filter(|f| f.lsn > previous && f.is_complete());
        let (frames, bytes) = kept.fold((0, 0), |(n, b), f| (n + 1, b + f.len));
        (frames + 1, bytes + marker_frame_len())
    }

    /// A checkpoint got as far as putting the snapshot of `model` (at
    /// `lsn`, `len` bytes) in place of the file `replaced.snapshot` and, if
    /// `wal_rewritten`, replacing the log (`replaced.wal`) with the frames
    /// after the previous snapshot plus a marker at the next LSN.
    pub fn checkpointed(
        &mut self,
        lsn: Lsn,
        model: Model,
        len: u64,
        wal_rewritten: bool,
        replaced: NamedFiles,
    ) {
        if wal_rewritten {
            let previous = self.snapshot_lsn().unwrap_or(Lsn(0));
            let marker_lsn = self
                .next_lsn()
                .expect("a checkpoint with no LSN left for its marker writes nothing");
            let new = self.wal.rewritten(previous, marker_lsn);
            let old = std::mem::replace(&mut self.wal, new);
            if let Some(inode) = replaced.wal {
                self.retired_wals.push((inode, old));
            }
        }
        let new = SnapshotBook { lsn, model, len };
        if let (Some(old), Some(inode)) = (self.snapshot.replace(new), replaced.snapshot) {
            self.retired_snapshots.push((inode, old));
        }
    }

    /// The file system forgot `inode`: no crash brings it back.
    pub fn forget(&mut self, inode: InodeId) {
        self.retired_wals.retain(|(i, _)| *i != inode);
        self.retired_snapshots.retain(|(i, _)| *i != inode);
    }

    /// The crash `plan` happened to files whose `wal` and `snapshot` held
    /// `current`: each name's book is now that of the file the crash left
    /// there, cut to the bytes it kept. Errs on a file the books never saw.
    pub fn crashed(&mut self, plan: &CrashPlan, current: NamedFiles) -> Result<(), String> {
        let wal = plan.entries.get(FileName::Wal);
        if wal != current.wal {
            self.wal = match wal {
                None => WalBook::default(),
                Some(inode) => take_retired(&mut self.retired_wals, inode).ok_or_else(|| {
                    format!("the crash left a WAL (file {}) never booked", inode.0)
                })?,
            };
        }
        if let Some(file) = plan.file(FileName::Wal) {
            self.wal.truncate(file.kept);
        }
        let snapshot = plan.entries.get(FileName::Snapshot);
        if snapshot != current.snapshot {
            // A snapshot the crash undid or brought back.
            self.snapshot = match snapshot {
                None => None,
                Some(inode) => Some(take_retired(&mut self.retired_snapshots, inode).ok_or_else(
                    || format!("the crash left a snapshot (file {}) never booked", inode.0),
                )?),
            };
        }
        if let (Some(book), Some(file)) = (&mut self.snapshot, plan.file(FileName::Snapshot)) {
            book.len = book.len.min(file.kept);
        }
        // What the crash left is all there is: nothing else comes back.
        self.retired_wals.clear();
        self.retired_snapshots.clear();
        Ok(())
    }

    /// The frame at `index` and every one after it are gone (a damaged
    /// tail frame read as torn), and nothing acknowledged from it on
    /// survives.
    pub fn tail_lost_from(&mut self, index: usize) {
        let frame = self.wal.frames()[index];
        self.wal.truncate(frame.start);
        self.wal.recovered();
        self.acknowledged.retain(|lsn| *lsn < frame.lsn);
    }

    /// Where the frame at `lsn` ends in the WAL, if the WAL holds it.
    pub fn frame_end(&self, lsn: Lsn) -> Option<u64> {
        let frames = self.wal.frames();
        let at = frames.partition_point(|f| f.lsn < lsn);
        frames.get(at).filter(|f| f.lsn == lsn).map(|f| f.end())
    }

    /// The last LSN the files on disk still hold (snapshot or WAL).
    pub fn survived_lsn(&self) -> Lsn {
        let wal = self.wal.last_complete_lsn().unwrap_or(Lsn(0));
        wal.max(self.snapshot_lsn().unwrap_or(Lsn(0)))
    }

    /// The model rebuilt from what survives: the model at the snapshot,
    /// then every later command whose frame is whole.
    pub fn replay_model(&self) -> Model {
        let after = self.snapshot_lsn().unwrap_or(Lsn(0));
        let mut model = self
            .snapshot
            .as_ref()
            .map_or_else(|| Model::new(self.core), |s| s.model.clone());
        for frame in self.wal.frames() {
            let FrameContent::Command { slot, command } = &frame.content else {
                continue;
            };
            if frame.lsn > after && frame.is_complete() {
                model
                    .apply(frame.lsn, *slot, command)
                    .expect("booked frames are in LSN and slot order");
            }
        }
        model
    }

    /// How far recovery of the files as booked gets.
    pub fn recovery_reach(&self) -> RecoveryReach {
        let after = self.snapshot_lsn().unwrap_or(Lsn(0));
        let frames = self.wal.frames();
        let past_snapshot = &frames[frames.partition_point(|f| f.lsn <= after)..];
        RecoveryReach {
            snapshot: self.snapshot.is_some(),
            torn_bytes: self.wal.file_len() - self.wal.complete_len(),
            frames_replayed: past_snapshot
                .iter()
                .filter(|f| f.is_complete() && f.is_command())
                .count() as u64,
        }
    }

    /// What recovery of the files as booked must report, and the model it
    /// must recover to: `None` when that is `live`, the model of every
    /// command applied so far, because the files hold exactly those. With
    /// `cross_check` (a replay, a scenario) the model is rebuilt from the
    /// files even then, and must equal `live`.
    pub fn expected_recovery(
        &self,
        live: &Model,
        cross_check: bool,
    ) -> (ExpectedRecovery, Option<Model>) {
        let snapshot = self.snapshot_lsn();
        let RecoveryReach {
            torn_bytes,
            frames_replayed,
            ..
        } = self.recovery_reach();
        let mode = match (snapshot.is_some(), frames_replayed > 0) {
            (false, false) => StartMode::Fresh,
            (false, true) => StartMode::WalOnly,
            (true, false) => StartMode::SnapshotOnly,
            (true, true) => StartMode::SnapshotAndWal,
        };
        let survived = self.survived_lsn();
        let rebuilt =
            (live.last_applied_lsn().unwrap_or(Lsn(0)) != survived).then(|| self.replay_model());
        if cross_check && rebuilt.is_none() {
            let replayed = self.replay_model();
            assert_eq!(
                (replayed.last_applied_lsn(), replayed.digest()),
                (live.last_applied_lsn(), live.digest()),
                "the files hold what the live model applied, so replaying them gives it"
            );
        }
        let model = rebuilt.as_ref().unwrap_or(live);
        let expected = ExpectedRecovery {
            report: RecoveryReport {
                mode,
                snapshot_lsn: snapshot,
                frames_replayed,
                torn_bytes,
                last_applied_lsn: model.last_applied_lsn(),
            },
            digest: model.digest(),
        };
        (expected, rebuilt)
    }
}

impl ReachSource for Books {
    fn recovery_reach(&self) -> RecoveryReach {
        Books::recovery_reach(self)
    }
}
