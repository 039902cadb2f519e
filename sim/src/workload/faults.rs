//! Fault scheduling, by engine status: while up, arming crash points,
//! persist failures and I/O errors or killing the process, and steering
//! toward an armed point or error; while halted, a restart or a kill; while
//! down, tears, bit flips, recovery crash points and I/O errors, and a
//! restart within a few actions. Also the fate of the unsynced WAL tail
//! when the process dies.

use allocdb_core::engine::fault::{CrashPath, CrashPoint};
use allocdb_core::fs::Site;
use allocdb_core::snapshot::format::{
    HEADER_LEN as SNAPSHOT_HEADER_LEN, TRAILER_LEN as SNAPSHOT_TRAILER_LEN,
};
use allocdb_core::wal::{FRAME_HEADER_LEN, MAX_FRAME_LEN};
use allocdb_core::LeaseState;
use std::ops::Range;

use super::io_errors::is_checkpoint_site;
use super::Workload;
use crate::action::{
    Action, Entries, FlipTarget, PersistFailure, ReadFaultKind, ReadTarget, Unsynced,
};
use crate::rng::SimRng;
use crate::view::{EngineStatus, SimView};
use crate::workload::mix::FaultKind;

/// Most damaging actions in a row while down before a restart is forced.
pub(super) const MAX_DOWN_ACTIONS: u32 = 3;
/// Most client actions in a row a halted engine meets before a restart.
pub(super) const MAX_HALTED_REQUESTS: u32 = 4;
/// Actions after which an armed crash point that has not fired may be
/// replaced by another.
const ARMED_PATIENCE: u64 = 200;

impl Workload {
    pub(super) fn up_fault(&self, rng: &mut SimRng, view: &SimView) -> Option<Action> {
        for kind in [
            FaultKind::ArmCrash,
            FaultKind::PersistFailure,
            FaultKind::IoError,
            FaultKind::Crash,
        ] {
            let Some(rate) = self.mix.fault_rate(kind) else {
                continue;
            };
            if !rng.chance(rate) {
                continue;
            }
            match kind {
                // One engine arm at a time: a new one would replace it
                // before it fires (unless it looks stuck).
                FaultKind::ArmCrash
                    if view
                        .armed_crash
                        .is_none_or(|armed| armed.steps_since > ARMED_PATIENCE)
                        && !io_error_waits(view) =>
                {
                    if let Some(point) = self.crash_point(rng, view) {
                        return Some(Action::ArmCrash(point));
                    }
                }
                FaultKind::PersistFailure if !self.mix.persist_failures.is_empty() => {
                    return Some(Action::ArmPersistFailure(self.persist_failure(rng)));
                }
                // Not while a crash point waits for its path, nor a crash
                // point while an error waits for its operation: the first
                // to fire would kill the other with the process.
                FaultKind::IoError if view.armed_crash.is_none() => {
                    if let Some(action) = self.io_error(rng, view, false) {
                        return Some(action);
                    }
                }
                FaultKind::Crash => {
                    return Some(self.power_loss(rng, view));
                }
                _ => {}
            }
        }
        None
    }

    /// Steers toward the action that reaches an armed expire or checkpoint
    /// point, or an I/O error armed in a checkpoint's operations (client
    /// points and the write path's errors are reached by any write).
    pub(super) fn reach_armed_point(&self, rng: &mut SimRng, view: &SimView) -> Option<Action> {
        let io_at_checkpoint = view
            .armed_io
            .iter()
            .any(|armed| is_checkpoint_site(armed.fault.site));
        let point = view.armed_crash.map(|armed| armed.point);
        if point.is_none() && !io_at_checkpoint {
            return None;
        }
        if !rng.chance(self.mix.rates.steer_to_armed_per_mille) {
            return None;
        }
        let Some(point) = point else {
            return Some(Action::Checkpoint);
        };
        match point.path() {
            CrashPath::Checkpoint => return Some(Action::Checkpoint),
            CrashPath::Expire => {}
            CrashPath::Client | CrashPath::Recovery => {
                return io_at_checkpoint.then_some(Action::Checkpoint);
            }
        }
        if !view.model.due_expirations(view.slot, 1).is_empty() {
            return Some(Action::Tick);
        }
        let next_deadline = view
            .model
            .leases()
            .filter(|lease| lease.state == LeaseState::Reserved)
            .map(|lease| lease.deadline_slot.0)
            .min()?;
        Some(super::advance(
            view,
            next_deadline.saturating_sub(view.slot.0).max(1),
        ))
    }

    /// One of the mix's crash points that the engine can still reach:
    /// while up any (a recovery point waits for the next restart), while
    /// down only recovery points. A recovery point is offered only when a
    /// restart of the files as they are now reaches it (the simulator's
    /// one rule, [`crate::view::RecoveryReach::reaches`]); `k` of a replay point is at
    /// most `replay_frame_max` and the frames there are to replay.
    fn crash_point(&self, rng: &mut SimRng, view: &SimView) -> Option<CrashPoint> {
        let down = view.status == EngineStatus::Down;
        let reach = view.recovery.recovery_reach();
        let candidates: Vec<CrashPoint> = self
            .mix
            .crash_points
            .iter()
            .copied()
            .filter(|&point| match point.path() {
                CrashPath::Recovery => reach.reaches(point),
                _ => !down,
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let frames = reach.frames_replayed;
        Some(match *rng.pick(&candidates) {
            CrashPoint::RecoveryAfterReplayedFrame(_) => CrashPoint::RecoveryAfterReplayedFrame(
                rng.between(1, self.mix.replay_frame_max.clamp(1, frames)),
            ),
            point => point,
        })
    }

    /// A read fault on a file the next restart reads: the WAL when it holds
    /// frames, the snapshot when there is one.
    fn read_fault(&self, rng: &mut SimRng, view: &SimView) -> Option<Action> {
        let files: Vec<ReadTarget> = ReadTarget::ALL
            .into_iter()
            .filter(|file| match file {
                ReadTarget::Wal => view.wal_frames > 0,
                ReadTarget::Snapshot => view.snapshot_len.is_some(),
            })
            .collect();
        if files.is_empty() {
            return None;
        }
        let file = *rng.pick(&files);
        let kind = if rng.chance(self.mix.rates.read_fault_error_per_mille) {
            ReadFaultKind::Error
        } else {
            ReadFaultKind::Short
        };
        Some(Action::ArmReadFault { file, kind })
    }

    /// A persist failure; a partial append cuts anywhere in a frame (the
    /// engine writes at most all but its last byte), in the header or in
    /// the payload equally likely.
    fn persist_failure(&self, rng: &mut SimRng) -> PersistFailure {
        match *rng.pick(&self.mix.persist_failures) {
            PersistFailure::PartialAppend { .. } => {
                let header = FRAME_HEADER_LEN as u64;
                let regions = [0..header, header..MAX_FRAME_LEN as u64];
                PersistFailure::PartialAppend {
                    bytes: pick_in_regions(rng, &regions, MAX_FRAME_LEN as u64) as u32,
                }
            }
            failure => failure,
        }
    }

    /// While halted: clients that cannot know it keep sending for a few
    /// actions (each entry point meets the halted engine), then the
    /// operator restarts it or the process dies.
    pub(super) fn next_halted(&mut self, rng: &mut SimRng, view: &SimView) -> Action {
        self.halted_actions += 1;
        if self.mix.has_faults()
            && self.halted_actions <= MAX_HALTED_REQUESTS
            && rng.chance(self.mix.halted_request_per_mille)
        {
            return self.unaware_request(rng, view);
        }
        self.halted_actions = 0;
        if self.mix.fault_rate(FaultKind::Crash).is_some()
            && rng.chance(self.mix.rates.halted_crash_per_mille)
        {
            self.power_loss(rng, view)
        } else {
            Action::Restart
        }
    }

    /// What a client (or a maintenance job) that cannot know the engine
    /// halted or died sends it: any entry point, as while it is up, and
    /// a retry of a request in flight most of all.
    fn unaware_request(&self, rng: &mut SimRng, view: &SimView) -> Action {
        if !view.in_flight.is_empty() && rng.chance(self.mix.in_flight_retry_per_mille) {
            return Action::Retry {
                operation: rng.pick(view.in_flight).operation,
            };
        }
        match rng.below(6) {
            0 if self.mix.burst_per_mille > 0 => self.burst(rng, view),
            1 => self.read(rng, view),
            2 => Action::Tick,
            3 => Action::Checkpoint,
            _ => self.submit_fresh(rng, view),
        }
    }

    pub(super) fn next_down(&mut self, rng: &mut SimRng, view: &SimView) -> Action {
        self.down_actions += 1;
        let action = self.down_action(rng, view);
        if action == Action::Restart {
            self.down_actions = 0;
        }
        action
    }

    fn down_action(&self, rng: &mut SimRng, view: &SimView) -> Action {
        if self.down_actions > MAX_DOWN_ACTIONS {
            return Action::Restart;
        }
        // The process is already dead; this settles what became of the
        // bytes it wrote after its last sync.
        let crash_changes_files =
            view.unsynced_bytes > 0 || view.pending_entries > 0 || view.unsynced_other_bytes > 0;
        if crash_changes_files
            && self.mix.fault_rate(FaultKind::Crash).is_some()
            && rng.chance(self.mix.rates.down_crash_per_mille)
        {
            return self.power_loss(rng, view);
        }
        // Only an unsynced last frame can be torn: keep from 1 byte to
        // all but one of what it holds, the header and the payload equally
        // likely.
        if let Some(last) = view.wal.frames().last() {
            let torn = last.start >= view.wal.durable_len() && last.written > 1;
            if let Some(rate) = self
                .mix
                .fault_rate(FaultKind::TearLastFrame)
                .filter(|_| torn)
            {
                if rng.chance(rate) {
                    let header = FRAME_HEADER_LEN as u64;
                    let regions = [1..header, header..last.len];
                    let keep = pick_in_regions(rng, &regions, last.written);
                    return Action::TearLastFrame { keep: keep as u32 };
                }
            }
        }
        // A recovery crash point armed now fires during the next restart.
        if let Some(rate) = self.mix.fault_rate(FaultKind::ArmCrash) {
            if rng.chance(rate) {
                if let Some(point) = self.crash_point(rng, view) {
                    return Action::ArmCrash(point);
                }
            }
        }
        if let Some(rate) = self.mix.fault_rate(FaultKind::ReadFault) {
            if rng.chance(rate) {
                if let Some(action) = self.read_fault(rng, view) {
                    return action;
                }
            }
        }
        if let Some(rate) = self.mix.fault_rate(FaultKind::IoError) {
            if rng.chance(rate) {
                if let Some(action) = self.io_error(rng, view, true) {
                    return action;
                }
            }
        }
        if view.damage_pending {
            return Action::Restart;
        }
        if view.wal_frames > 0 {
            if let Some(rate) = self.mix.fault_rate(FaultKind::FlipWalBit) {
                if rng.chance(rate) {
                    return self.flip_wal_bit(rng, view);
                }
            }
        }
        if let Some(len) = view.snapshot_len.filter(|&len| len > 0) {
            if let Some(rate) = self.mix.fault_rate(FaultKind::FlipSnapshotBit) {
                if rng.chance(rate) {
                    return self.flip_snapshot_bit(rng, len);
                }
            }
        }
        // Clients do not know the process is down.
        if self.mix.has_faults() && rng.chance(self.mix.rates.down_request_per_mille) {
            return self.unaware_request(rng, view);
        }
        // Time passes while the process is down.
        if self.mix.has_faults() && rng.chance(self.mix.rates.down_advance_per_mille) {
            return super::advance(view, rng.between(1, self.config.max_ttl_slots.max(1)));
        }
        Action::Restart
    }

    /// A power loss: the WAL's unsynced tail fares as [`Self::unsynced`]
    /// draws; with `lose_entries` on, pending entry operations may keep
    /// only a prefix (at least one undone), and with `lose_file_data` on,
    /// the other files' unsynced bytes may be lost or cut.
    fn power_loss(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let unsynced = self.unsynced(rng, view.unsynced_bytes);
        let on = |kind| self.mix.fault_rate(kind);
        let mut entries = Entries::All;
        if let Some(rate) = on(FaultKind::LoseEntries).filter(|_| view.pending_entries > 0) {
            if rng.chance(rate) {
                entries = Entries::First(rng.below(u64::from(view.pending_entries)) as u32);
            }
        }
        let mut other_files = Unsynced::Keep;
        let bytes = view.unsynced_other_bytes;
        if let Some(rate) = on(FaultKind::LoseFileData).filter(|_| bytes > 0) {
            if rng.chance(rate) {
                other_files = if rng.chance(500) {
                    Unsynced::Lose
                } else {
                    Unsynced::KeepPrefix(rng.below(bytes))
                };
            }
        }
        Action::Crash {
            unsynced,
            entries,
            other_files,
        }
    }

    /// The fate of the unsynced WAL tail: a strict prefix when there is one.
    fn unsynced(&self, rng: &mut SimRng, bytes: u64) -> Unsynced {
        if bytes == 0 {
            return if rng.chance(self.mix.rates.empty_tail_keep_per_mille) {
                Unsynced::Keep
            } else {
                Unsynced::Lose
            };
        }
        match rng.below(3) {
            0 => Unsynced::Keep,
            1 => Unsynced::Lose,
            _ => Unsynced::KeepPrefix(rng.below(bytes)),
        }
    }

    /// A bit flip in a WAL frame (the engine has `wal_frames > 0`): on
    /// any byte it holds, by region (each header field, the payload, its
    /// last byte, equally likely), so field boundaries get their share.
    fn flip_wal_bit(&self, rng: &mut SimRng, view: &SimView) -> Action {
        // Often the last frame, where a torn tail and corruption are
        // hardest to tell apart.
        let frames = view.wal.frames();
        let frame = if rng.chance(self.mix.rates.flip_last_frame_per_mille) {
            frames.len() - 1
        } else {
            rng.below(frames.len() as u64) as usize
        };
        let chosen = frames[frame];
        let byte = pick_in_regions(rng, &frame_regions(chosen.len), chosen.written);
        // Counted from the end, so that a repro's flip stays on its frame
        // when a shrinker deletes earlier steps; the payload's last byte
        // from the frame's own end, so that it stays the last byte.
        let back = (frames.len() - 1 - frame) as u32;
        let target = if byte + 1 == chosen.len && chosen.len > FRAME_HEADER_LEN as u64 {
            FlipTarget::WalFrameTail { back, from_end: 0 }
        } else {
            FlipTarget::WalFrameFromEnd {
                back,
                byte: byte as u32,
            }
        };
        Action::FlipBit {
            target,
            bit: rng.below(8) as u8,
        }
    }

    /// A bit flip in a snapshot file of `len > 0` bytes, by region (its
    /// header, its records, its trailer, equally likely): a header byte
    /// counted from the start, any other from the end (the trailer stays
    /// the trailer when a shrinker deletes earlier steps).
    fn flip_snapshot_bit(&self, rng: &mut SimRng, len: u64) -> Action {
        let byte = pick_in_regions(rng, &snapshot_regions(len), len);
        let target = if byte < SNAPSHOT_HEADER_LEN as u64 {
            FlipTarget::Snapshot { byte: byte as u32 }
        } else {
            FlipTarget::SnapshotFromEnd {
                back: (len - 1 - byte) as u32,
            }
        };
        Action::FlipBit {
            target,
            bit: rng.below(8) as u8,
        }
    }
}

/// A frame of `len` bytes as the layout documents its regions: each
/// header field, the payload, the payload's last byte.
fn frame_regions(len: u64) -> Vec<Range<u64>> {
    let header = FRAME_HEADER_LEN as u64;
    let mut regions = vec![0..4, 4..6, 6..8, 8..16, 16..24, 24..28, 28..header];
    if len > header + 1 {
        regions.push(header..len - 1);
    }
    if len > header {
        regions.push(len - 1..len);
    }
    regions
}

/// A snapshot of `len` bytes: its header, its records, its trailer.
fn snapshot_regions(len: u64) -> Vec<Range<u64>> {
    let header = (SNAPSHOT_HEADER_LEN as u64).min(len);
    let trailer = len.saturating_sub(SNAPSHOT_TRAILER_LEN as u64).max(header);
    [0..header, header..trailer, trailer..len]
        .into_iter()
        .filter(|r| !r.is_empty())
        .collect()
}

/// A byte below `limit`: a region first (of those it reaches), then a
/// byte in it.
pub(super) fn pick_in_regions(rng: &mut SimRng, regions: &[Range<u64>], limit: u64) -> u64 {
    let reached: Vec<Range<u64>> = regions
        .iter()
        .filter(|r| r.start < limit)
        .map(|r| r.start..r.end.min(limit))
        .collect();
    let region = rng.pick(&reached);
    rng.between(region.start, region.end - 1)
}

/// An I/O error armed in an operation the running engine makes (not one
/// waiting for a recovery) has not fired yet.
fn io_error_waits(view: &SimView) -> bool {
    view.armed_io.iter().any(|armed| {
        !matches!(
            armed.fault.site,
            Site::SnapshotRead
                | Site::WalOpen
                | Site::WalScan
                | Site::WalTruncate
                | Site::WalReplay
        )
    })
}
