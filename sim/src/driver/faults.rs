//! Faults: arming crash points and persist failures, killing the process,
//! and damaging its files while it is down.

use super::disk::Damage;
use super::{Simulator, StepLine, StepResult};
use crate::action::{Entries, FlipTarget, Unsynced};
use crate::fs_model::CrashPlan;
use crate::oracle::wal_flip::FlipVerdict;
use crate::view::EngineStatus;
use allocdb_core::engine::fault::{CrashPath, CrashPoint};
use allocdb_core::fs::fault::{IoFault, MAX_ARMED_IO_FAULTS};
use allocdb_core::fs::FileName;
use allocdb_core::snapshot::format::{
    HEADER_LEN as SNAPSHOT_HEADER_LEN, TRAILER_LEN as SNAPSHOT_TRAILER_LEN,
};
use allocdb_core::wal::FRAME_HEADER_LEN;

impl Simulator {
    pub(super) fn arm_crash(&mut self, point: CrashPoint, passes: u32) -> StepResult {
        if point.path() == CrashPath::Recovery {
            if passes > 0 {
                return Err(self
                    .invalid("recovery reaches each of its crash points once: passes must be 0"));
            }
            self.arms.recovery = Some(point);
            return Ok(StepLine::new("armed for the next restart"));
        }
        let Some(engine) = self.process.up_mut() else {
            return self.no_effect("ignored: engine not up");
        };
        engine.arm_crash_after(point, passes);
        self.arms.arm_crash(point, passes, self.step);
        Ok(StepLine::new("armed"))
    }

    /// Arms `fault` in the engine's files for the process running now, or
    /// (none running) for the next one.
    pub(super) fn arm_io(&mut self, fault: IoFault) -> StepResult {
        if let Some(why) = fault.impossible() {
            return Err(self.invalid(format!(
                "{} at {}: {why}",
                fault.op.name(),
                fault.site.name()
            )));
        }
        if self.arms.io().len() == MAX_ARMED_IO_FAULTS {
            return self.no_effect(format!(
                "ignored: {MAX_ARMED_IO_FAULTS} I/O errors are armed already"
            ));
        }
        self.fs
            .arm_io_fault(fault)
            .map_err(|why| self.invalid(why))?;
        self.arms.arm_io(fault, self.step);
        Ok(StepLine::new(match self.process.status() {
            EngineStatus::Down => "armed for the next restart",
            _ => "armed",
        }))
    }

    /// A power loss: the files become one state the file system allows,
    /// as the fates say, written onto the real files.
    pub(super) fn crash(
        &mut self,
        unsynced: Unsynced,
        entries: Entries,
        other_files: Unsynced,
    ) -> StepResult {
        let already_down = self.process.status() == EngineStatus::Down;
        let pending = self.fs.directory().pending().len();
        if self.config.strict {
            if let Entries::First(n) = entries {
                if n as usize >= pending {
                    return Err(self.invalid(format!(
                        "entries: First({n}) keeps every one of the {pending} pending entry operations"
                    )));
                }
            }
        }
        let plan = self.fs.plan_crash(entries.kept(pending), |name| {
            if name == FileName::Wal {
                unsynced
            } else {
                other_files
            }
        });
        if already_down
            && unsynced == Unsynced::Keep
            && plan.bytes_lost() == 0
            && plan.entries_kept == pending
        {
            return self.no_effect(
                "the process is already down, and keeping its unsynced bytes changes nothing",
            );
        }
        self.kill();
        let current = self.named_files();
        self.disk
            .realize(&plan, self.fs.directory().current())
            .map_err(|e| self.io(e))?;
        self.books
            .crashed(&plan, current)
            .map_err(|detail| self.engine_behaviour(detail))?;
        self.fs.crashed(&plan);
        self.absorb_fs()?;
        let other_data_lost = plan.beside_wal().any(|f| f.kept < f.before.written);
        self.stats
            .crash_fates(plan.entries_kept < plan.pending, other_data_lost);
        let mut line = describe_crash(&plan);
        if !other_files.is_keep() && plan.beside_wal().all(|f| f.before.unsynced() == 0) {
            // Like losing an empty WAL tail: a fate with nothing to act on.
            line.push_str(", no other file has unsynced bytes");
        }
        Ok(StepLine::new(line))
    }

    pub(super) fn tear(&mut self, keep: u32) -> StepResult {
        if self.process.status() != EngineStatus::Down {
            return Err(self.invalid("tear_last_frame needs the engine down (crash first)"));
        }
        if keep == 0 {
            return self.no_effect(
                "keeping 0 bytes removes the frame whole, which is no tear (crash losing the unsynced bytes does that)",
            );
        }
        let wal = self.books.wal();
        let Some(last) = wal.frames().last().copied() else {
            return self.no_effect("nothing to tear: the WAL is empty");
        };
        if last.start < wal.durable_len() {
            return self.no_effect("nothing to tear: the last frame is durable");
        }
        if u64::from(keep) >= last.written {
            return self.no_effect("nothing to tear: keep covers the frame");
        }
        self.disk
            .truncate_wal(
                self.books.wal_mut(),
                &mut self.fs,
                last.start + u64::from(keep),
            )
            .map_err(|e| self.io(e))?;
        self.stats.damage(cut_region("tear", u64::from(keep)));
        Ok(StepLine::new(format!(
            "last frame (lsn {}) torn to {keep} bytes",
            last.lsn.0
        )))
    }

    pub(super) fn flip(&mut self, target: FlipTarget, bit: u8) -> StepResult {
        if self.process.status() != EngineStatus::Down {
            return Err(self.invalid("flip_bit needs the engine down (crash first)"));
        }
        if bit > 7 {
            return Err(self.invalid(format!("bit {bit} is not in 0..=7")));
        }
        if self.disk.damage().is_some() {
            return self.no_effect("ignored: damage already pending");
        }
        let damage = match self.flip_target(target, bit) {
            Ok(damage) => damage,
            Err(reason) => return self.no_effect(reason),
        };
        self.disk.damage_with(damage).map_err(|e| self.io(e))?;
        self.stats.damage(self.damage_region(damage));
        let (Damage::WalBit { offset, .. } | Damage::SnapshotBit { offset, .. }) = damage;
        Ok(StepLine::new(format!("flipped bit {bit} at byte {offset}")))
    }

    /// Where a flip landed, for the coverage probes.
    fn damage_region(&self, damage: Damage) -> &'static str {
        match damage {
            Damage::WalBit { offset, frame, .. } => {
                let frame = self.books.wal().frames()[frame];
                match FlipVerdict::region(offset - frame.start, frame.len) {
                    "magic" => "wal_flip.magic",
                    "version" => "wal_flip.version",
                    "record_type" => "wal_flip.record_type",
                    "lsn" => "wal_flip.lsn",
                    "request_slot" => "wal_flip.request_slot",
                    "payload_len" => "wal_flip.payload_len",
                    "crc" => "wal_flip.crc",
                    "payload_last_byte" => "wal_flip.payload_last_byte",
                    _ => "wal_flip.payload",
                }
            }
            Damage::SnapshotBit { offset, .. } => {
                let len = self.books.snapshot().map_or(0, |s| s.len);
                if offset < SNAPSHOT_HEADER_LEN as u64 {
                    "snapshot_flip.header"
                } else if offset + (SNAPSHOT_TRAILER_LEN as u64) >= len {
                    "snapshot_flip.trailer"
                } else {
                    "snapshot_flip.records"
                }
            }
        }
    }

    /// The damage a flip of `target` does, or why there is nothing there.
    fn flip_target(&self, target: FlipTarget, bit: u8) -> Result<Damage, String> {
        match target {
            FlipTarget::WalFrame { frame, byte } => {
                let Some(f) = self.books.wal().frames().get(frame as usize) else {
                    return Err(format!("ignored: the WAL has no frame {frame}"));
                };
                if u64::from(byte) >= f.written {
                    return Err(format!("ignored: frame {frame} has {} bytes", f.written));
                }
                Ok(Damage::WalBit {
                    offset: f.start + u64::from(byte),
                    bit,
                    frame: frame as usize,
                })
            }
            FlipTarget::WalFrameFromEnd { .. }
            | FlipTarget::WalFrameTail { .. }
            | FlipTarget::SnapshotFromEnd { .. } => Err(format!("{target:?} was not resolved")),
            FlipTarget::Snapshot { byte } => {
                let Some(snapshot) = self.books.snapshot() else {
                    return Err("ignored: no snapshot".to_string());
                };
                if u64::from(byte) >= snapshot.len {
                    return Err(format!("ignored: the snapshot has {} bytes", snapshot.len));
                }
                Ok(Damage::SnapshotBit {
                    offset: u64::from(byte),
                    bit,
                })
            }
        }
    }
}

/// `down, 3 of 40 unsynced bytes kept`, and what else the crash undid.
fn describe_crash(plan: &CrashPlan) -> String {
    let (wal_kept, wal_unsynced) = plan.file(FileName::Wal).map_or((0, 0), |wal| {
        (wal.kept - wal.before.synced, wal.before.unsynced())
    });
    let mut line = format!("down, {wal_kept} of {wal_unsynced} unsynced bytes kept");
    if plan.entries_kept < plan.pending {
        line.push_str(&format!(
            ", {} of {} pending entry operations kept",
            plan.entries_kept, plan.pending
        ));
    }
    let (kept, unsynced) = plan.beside_wal().fold((0, 0), |(k, u), f| {
        (k + f.kept - f.before.synced, u + f.before.unsynced())
    });
    if kept < unsynced {
        line.push_str(&format!(
            ", {kept} of {unsynced} unsynced bytes of other files kept"
        ));
    }
    line
}

/// Where a cut keeping `kept` bytes of a frame lands: its header or its
/// payload (`what`: `tear` or `partial_append`).
pub(super) fn cut_region(what: &str, kept: u64) -> &'static str {
    let header = kept < FRAME_HEADER_LEN as u64;
    match (what, header) {
        ("tear", true) => "tear.header",
        ("tear", false) => "tear.payload",
        (_, true) => "partial_append.header",
        (_, false) => "partial_append.payload",
    }
}
