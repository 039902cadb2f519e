//! The I/O errors the workload arms: while the engine runs, in an
//! operation of its write path or of its checkpoints; while it is down, in
//! one of the next recovery's. Each with every effect its operation can
//! have: `EIO`, `ENOSPC`, a write cut anywhere in what it writes, a read
//! cut anywhere in what it reads; now and then after a few passes.

use allocdb_core::fs::{FsOpKind, Site};
use allocdb_core::wal::{FRAME_HEADER_LEN, MAX_FRAME_LEN};

use super::faults::pick_in_regions;
use super::Workload;
use crate::action::{Action, IoKind};
use crate::rng::SimRng;
use crate::view::SimView;

/// Most I/O errors armed at once: each one left when the faults stop
/// costs the liveness phase at most a restart.
pub(super) const MAX_ARMED: usize = 2;

/// The sites of a running engine's writes: a persist failure fails them
/// too, so they get a smaller share (`WRITE_SITE_PER_MILLE`).
const WRITE_SITES: [Site; 2] = [Site::WalAppend, Site::WalSync];
const WRITE_SITE_PER_MILLE: u32 = 200;

/// The sites of a running engine's checkpoints.
const CHECKPOINT_SITES: [Site; 7] = [
    Site::SnapshotTemp,
    Site::SnapshotRename,
    Site::SnapshotDirectory,
    Site::WalRewriteRead,
    Site::WalRewriteTemp,
    Site::WalRewriteRename,
    Site::WalDirectory,
];

/// The sites a recovery makes operations at.
const RECOVERY_SITES: [Site; 6] = [
    Site::SnapshotRead,
    Site::WalOpen,
    Site::WalDirectory,
    Site::WalScan,
    Site::WalTruncate,
    Site::WalReplay,
];

/// How often an error armed while the engine is down goes to the torn
/// tail's truncation when the log ends in a partial frame: only such a
/// log is truncated, and a site picked at random among the six would
/// reach it a few times in 10,000 seeds.
const TORN_TAIL_TRUNCATE_PER_MILLE: u32 = 500;

/// Sites a checkpoint makes operations at, which the workload steers a
/// checkpoint toward when an error is armed there.
pub(super) fn is_checkpoint_site(site: Site) -> bool {
    CHECKPOINT_SITES.contains(&site)
}

impl Workload {
    /// An I/O error in one of the running engine's operations, or (`down`)
    /// one of the next recovery's; `None` while enough are armed.
    pub(super) fn io_error(&self, rng: &mut SimRng, view: &SimView, down: bool) -> Option<Action> {
        if view.armed_io.len() >= MAX_ARMED {
            return None;
        }
        let sites: &[Site] = if down {
            &RECOVERY_SITES
        } else if rng.chance(WRITE_SITE_PER_MILLE) {
            &WRITE_SITES
        } else {
            &CHECKPOINT_SITES
        };
        let torn_tail = down && view.wal.file_len() > view.wal.complete_len();
        let site = if torn_tail && rng.chance(TORN_TAIL_TRUNCATE_PER_MILLE) {
            Site::WalTruncate
        } else {
            *rng.pick(sites)
        };
        let op = *rng.pick(site.ops());
        let kind = match op {
            FsOpKind::Write if rng.chance(400) => IoKind::Short(short_write(rng, view, site)),
            FsOpKind::Read if rng.chance(400) => match read_len(view, site) {
                0 => IoKind::Eio,
                len => IoKind::Short(rng.below(len) as u32),
            },
            _ if rng.chance(500) => IoKind::Eio,
            _ => IoKind::Enospc,
        };
        let passes = match op {
            FsOpKind::Read => 0,
            _ if rng.chance(150) => rng.between(1, 3) as u32,
            _ => 0,
        };
        Some(Action::ArmIoError {
            site,
            op,
            kind,
            passes,
        })
    }
}

/// Where a short write at `site` cuts: a frame's header or payload
/// equally likely for an append, anywhere in the file for a temp file.
fn short_write(rng: &mut SimRng, view: &SimView, site: Site) -> u32 {
    let limit = match site {
        Site::WalAppend => {
            let header = FRAME_HEADER_LEN as u64;
            let regions = [0..header, header..MAX_FRAME_LEN as u64];
            return pick_in_regions(rng, &regions, MAX_FRAME_LEN as u64) as u32;
        }
        // The new snapshot's size is near the old one's.
        Site::SnapshotTemp => view.snapshot_len.unwrap_or(256),
        _ => view.wal.file_len(),
    };
    rng.below(limit.max(1)) as u32
}

/// The bytes a read at `site` would read: the snapshot's, the log's last
/// frame's worth (an open's), or the log's.
fn read_len(view: &SimView, site: Site) -> u64 {
    match site {
        Site::SnapshotRead => view.snapshot_len.unwrap_or(0),
        Site::WalOpen => view.wal.file_len().min(MAX_FRAME_LEN as u64),
        _ => view.wal.file_len(),
    }
}
