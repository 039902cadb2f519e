//! Time and maintenance: the simulated slot, the expiry tick, checkpoints.

use super::process::Process;
use super::wal_book::command_frame_len;
use super::{RunError, SelfTest, Simulator, StepLine, StepResult};
use crate::oracle::checks;
use crate::oracle::refusal::Door;
use crate::oracle::{Oracle, Violation};
use crate::phase_clock::{self, Phase};
use crate::transcript::point_label;
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::engine::{CheckpointError, TickReport, TICK_BATCH_LIMIT};
use allocdb_core::{Applied, LeaseId, LogCommand, Lsn, Outcome, Slot};

impl Simulator {
    pub(super) fn advance(&mut self, by: u64) -> StepResult {
        // The clock may pass the last request slot: the engine must then
        // refuse every write, and the refusal oracle checks that it does.
        let Some(slot) = self.slot.0.checked_add(by) else {
            return Err(self.invalid(format!(
                "advancing by {by} from slot {} overflows the slot",
                self.slot.0
            )));
        };
        self.slot = Slot(slot);
        Ok(StepLine::new(format!("slot {slot}")))
    }

    pub(super) fn advance_to(&mut self, slot: u64) -> StepResult {
        match slot.checked_sub(self.slot.0) {
            Some(by) => self.advance(by),
            None => Err(self.invalid(format!(
                "advance_to slot {slot} goes backwards from slot {}",
                self.slot.0
            ))),
        }
    }

    pub(super) fn tick(&mut self) -> StepResult {
        let limit =
            (self.config.engine.core.max_expirations_per_tick as usize).min(TICK_BATCH_LIMIT);
        let due = {
            let _model = phase_clock::enter(Phase::Model);
            self.model.due_expirations(self.slot, limit)
        };
        let slot = self.slot;
        let Some(engine) = self.process.running_mut() else {
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let before = engine.wal_len();
        let mut committed = Vec::new();
        let result = {
            let _engine = phase_clock::enter(Phase::Engine);
            engine.tick_expirations_with(slot, |applied| committed.push(*applied))
        };
        let after = self.engine_wal_len();
        let expires = self.book_expires(&due, before, after)?;
        self.absorb_fs()?;
        if committed.len() > expires.len() {
            return Err(self.engine_behaviour("more expires applied than appended"));
        }
        for (applied, (lsn, command)) in committed.iter().zip(&expires) {
            if let Outcome::Expired { lease_id, .. } = applied.outcome {
                let late = u64::from(self.config.selftest == Some(SelfTest::LateDeadline));
                let deadline = self
                    .model
                    .get_lease(lease_id)
                    .ok()
                    .map(|l| Slot(l.deadline_slot.0.saturating_add(late)));
                checks::no_early_expiry(lease_id, slot, deadline).map_err(|v| self.fail(v))?;
            }
            let predicted = self.predict(*lsn, command)?;
            checks::agreement("expire", applied, &predicted).map_err(|v| self.fail(v))?;
        }
        self.check_refusal(Door::Tick { due: due.len() }, result.as_ref().err())?;
        let lsn = committed.last().map(|a| a.lsn);
        match result {
            Ok(report) => self.tick_committed(report, &committed, &due),
            Err(error) => {
                // Applied means synced first, so every applied expire is durable.
                for applied in &committed {
                    self.check_durable(applied.lsn)?;
                    self.books.acknowledge(applied.lsn);
                }
                let mut line = self.write_failed(error)?;
                line.lsn = lsn;
                Ok(line)
            }
        }
    }

    /// Books the frames a tick wrote between WAL lengths `before` and
    /// `after`: each is the next due expire, in order. Returns the expires
    /// booked with their LSNs.
    fn book_expires(
        &mut self,
        due: &[(LeaseId, Slot)],
        before: u64,
        after: u64,
    ) -> Result<Vec<(Lsn, LogCommand)>, RunError> {
        let mut position = before;
        let mut expires = Vec::new();
        for &(lease_id, deadline_slot) in due {
            if position >= after {
                break;
            }
            let command = LogCommand::Expire {
                lease_id,
                deadline_slot,
            };
            let frame = command_frame_len(&command);
            let end = (position + frame).min(after);
            let lsn = self.books.next_lsn();
            self.book_frame(command, position, end)?;
            expires.push((lsn, command));
            position = end;
        }
        if position < after {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!(
                    "the tick wrote {} bytes of expires; the model predicted {} expires",
                    after - before,
                    due.len()
                ),
            )));
        }
        Ok(expires)
    }

    fn tick_committed(
        &mut self,
        report: TickReport,
        committed: &[Applied],
        due: &[(LeaseId, Slot)],
    ) -> StepResult {
        if committed.len() != due.len() {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!(
                    "the tick committed {} expires, the model predicted {due:?}",
                    committed.len()
                ),
            )));
        }
        for applied in committed {
            self.check_durable(applied.lsn)?;
            self.books.acknowledge(applied.lsn);
        }
        Ok(StepLine {
            outcome: format!("expired {} noop {}", report.expired, report.noops).into(),
            lsn: committed.last().map(|a| a.lsn),
        })
    }

    pub(super) fn checkpoint(&mut self) -> StepResult {
        let _checkpoint = phase_clock::enter(Phase::Checkpoint);
        let status = self.process.status();
        let Some(engine) = self.process.up_mut() else {
            return self.no_effect(format!("skipped: engine {status:?}"));
        };
        let result = engine.checkpoint();
        let snapshot_lsn = self.model.last_applied_lsn().unwrap_or(Lsn(0));
        match result {
            Ok(report) => {
                if report.snapshot_lsn != snapshot_lsn {
                    return Err(self.engine_behaviour(format!(
                        "snapshot at lsn {}, applied {}",
                        report.snapshot_lsn.0, snapshot_lsn.0
                    )));
                }
                self.checkpoint_reached(snapshot_lsn, true)?;
                match self.config.selftest {
                    Some(SelfTest::SimulatorPanic) => {
                        panic!("self-test: the simulator panics after a checkpoint")
                    }
                    Some(SelfTest::Hang) => loop {
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    },
                    _ => {}
                }
                Ok(StepLine::new(format!(
                    "snapshot at lsn {}, {} frames kept",
                    snapshot_lsn.0, report.frames_kept
                )))
            }
            Err(CheckpointError::Crashed(point)) => {
                self.armed_crash_fired(point)?;
                self.process = Process::Down;
                match point {
                    CrashPoint::CheckpointAfterSnapshotTemp => self.absorb_fs()?,
                    CrashPoint::CheckpointAfterSnapshotRename
                    | CrashPoint::CheckpointAfterSnapshot => {
                        self.checkpoint_reached(snapshot_lsn, false)?;
                    }
                    _ => self.checkpoint_reached(snapshot_lsn, true)?,
                }
                Ok(StepLine::new(format!("crashed at {}", point_label(point))))
            }
            Err(other) => Err(self.engine_behaviour(format!("checkpoint failed: {other}"))),
        }
    }

    /// Books how far a checkpoint got: the snapshot at `snapshot_lsn` is in
    /// place, and (`wal_rewritten`) so is the rewritten log.
    fn checkpoint_reached(
        &mut self,
        snapshot_lsn: Lsn,
        wal_rewritten: bool,
    ) -> Result<(), RunError> {
        let len = self.disk.snapshot_len().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                self.engine_behaviour(
                    "the checkpoint got past its snapshot, but there is no snapshot file",
                )
            } else {
                self.io(e)
            }
        })?;
        // The model has not taken in the checkpoint's reports yet: it still
        // says what the two names held before.
        let replaced = self.named_files();
        self.books.checkpointed(
            snapshot_lsn,
            self.model.clone(),
            len,
            wal_rewritten,
            replaced,
        );
        self.absorb_fs()
    }
}
