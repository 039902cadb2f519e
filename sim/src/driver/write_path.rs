//! What every write path shares once the engine has answered: booking the
//! frame it appended, checking a commit against the model's prediction,
//! and telling an armed fault that fired from one that should not have.

use super::books::NamedFiles;
use super::process::Process;
use super::{RunError, Said, SelfTest, Simulator, StepLine, StepResult};
use crate::action::persist_failure_name;
use crate::answer::{Answer, Code};
use crate::oracle::checks;
use crate::oracle::refusal::{self, Door};
use crate::oracle::{Oracle, Violation};
use crate::phase_clock::{self, Phase};
use crate::transcript::point_label;
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::engine::SubmitError;
use allocdb_core::fs::FileName;
use allocdb_core::{
    Applied, ClientRequest, CommandKind, LeaseEpoch, LogCommand, Lsn, Outcome, Slot,
};

impl Simulator {
    /// The model's prediction for a command the engine applied.
    pub(super) fn predict(&mut self, lsn: Lsn, command: &LogCommand) -> Result<Applied, RunError> {
        let _model = phase_clock::enter(Phase::Model);
        let mut predicted = self
            .model
            .apply(lsn, self.slot, command)
            .map_err(|e| self.engine_behaviour(format!("the model refused lsn {}: {e}", lsn.0)))?;
        match (self.config.selftest, &mut predicted.outcome) {
            (Some(SelfTest::WrongModel), Outcome::Reserved { deadline_slot, .. })
                if command.kind() == CommandKind::Reserve =>
            {
                *deadline_slot = Slot(deadline_slot.0 + 1);
            }
            (Some(SelfTest::WrongActivate), Outcome::Activated { lease_epoch, .. }) => {
                *lease_epoch = LeaseEpoch(lease_epoch.0 + 1);
            }
            _ => {}
        }
        Ok(predicted)
    }

    /// Books whatever the engine appended for its next frame, `command`.
    pub(super) fn book_frame(
        &mut self,
        command: LogCommand,
        before: u64,
        after: u64,
    ) -> Result<(), RunError> {
        let miscount = self.config.selftest == Some(SelfTest::MiscountFrame) && after > before;
        let after = after + u64::from(miscount);
        self.books
            .append(self.slot, command, before, after)
            .map_err(|detail| self.engine_behaviour(detail))?;
        Ok(())
    }

    /// The engine's WAL length now; it answered, so it is running.
    pub(super) fn engine_wal_len(&self) -> u64 {
        self.process
            .running()
            .expect("the engine answered, so it is running")
            .wal_len()
    }

    /// Takes in what the engine did to its files, and what of the WAL the
    /// file system now holds durable; keeps every file a crash may bring
    /// back.
    pub(super) fn absorb_fs(&mut self) -> Result<(), RunError> {
        self.fs
            .absorb()
            .map_err(|detail| self.engine_behaviour(detail))?;
        self.track_files()?;
        let synced = self.fs.file(FileName::Wal).synced;
        self.books.wal_mut().set_durable(synced);
        Ok(())
    }

    /// What `wal` and `snapshot` hold now, as far as the fs model has
    /// taken in the engine's reports.
    pub(super) fn named_files(&self) -> NamedFiles {
        NamedFiles {
            wal: self.fs.inode(FileName::Wal),
            snapshot: self.fs.inode(FileName::Snapshot),
        }
    }

    /// Links the files the fs model learned of; forgets those it forgot.
    pub(super) fn track_files(&mut self) -> Result<(), RunError> {
        if !self.fs.has_changes() {
            return Ok(());
        }
        let changes = self.fs.take_changes();
        for &inode in &changes.gone {
            self.books.forget(inode);
        }
        self.disk.track(changes).map_err(|e| self.io(e))
    }

    /// An acknowledged LSN's frame must be in the WAL and synced, as the
    /// file system reported it.
    pub(super) fn check_durable(&self, lsn: Lsn) -> Result<(), RunError> {
        let Some(frame_end) = self.books.frame_end(lsn) else {
            return Err(self.fail(Violation::new(
                Oracle::Durability,
                format!("lsn {} was acknowledged with no frame in the WAL", lsn.0),
            )));
        };
        checks::acknowledged_durable(lsn, frame_end, self.books.wal().durable_len())
            .map_err(|v| self.fail(v))
    }

    /// Books what the engine did with one request that met it at `door`
    /// (the WAL bytes it wrote since `before`, and its answer) and checks it.
    pub(super) fn settle(
        &mut self,
        client: u32,
        request: ClientRequest,
        before: u64,
        result: Result<Applied, SubmitError>,
        door: Door,
    ) -> StepResult {
        let operation = request.operation_id.0;
        let command = LogCommand::Client(request);
        let lsn = self.books.next_lsn();
        let after = self.engine_wal_len();
        self.book_frame(command, before, after)?;
        self.absorb_fs()?;
        self.check_refusal(door, result.as_ref().err())?;
        self.event.answers.push((operation, Answer::of(&result)));
        match result {
            Ok(applied) => self.client_committed(operation, lsn, &command, &applied),
            Err(error) => {
                let line = self.write_failed(error)?;
                // A definite refusal says only that this attempt did
                // nothing: an earlier attempt in flight stays unresolved.
                if !error.is_definite() {
                    self.clients.keep_in_flight(client, operation);
                }
                Ok(line)
            }
        }
    }

    /// A running engine's definite refusal (or its absence) against the
    /// one the config and the simulator's own slot and queue predict. A
    /// halted engine refuses everything before it looks at the request.
    pub(super) fn check_refusal(
        &self,
        door: Door,
        error: Option<&SubmitError>,
    ) -> Result<(), RunError> {
        let engine = match error {
            Some(SubmitError::EngineHalted) => return Ok(()),
            Some(error) if error.is_definite() => Some(Code::refused(error)),
            _ => None,
        };
        let predicted = refusal::predicted(&self.config.engine.core, self.slot, door);
        refusal::check(door, engine, predicted).map_err(|v| self.fail(v))
    }

    fn client_committed(
        &mut self,
        operation: u128,
        lsn: Lsn,
        command: &LogCommand,
        applied: &Applied,
    ) -> StepResult {
        if applied.lsn != lsn {
            return Err(self.engine_behaviour(format!(
                "committed at lsn {}, expected {}",
                applied.lsn.0, lsn.0
            )));
        }
        self.check_durable(lsn)?;
        let predicted = self.predict(lsn, command)?;
        checks::agreement("client command", applied, &predicted).map_err(|v| self.fail(v))?;
        self.books.acknowledge(lsn);
        if self
            .clients
            .in_flight()
            .iter()
            .any(|f| f.operation == operation)
        {
            self.stats.indefinite_resolved(applied.from_retry_cache);
        }
        self.clients.resolved(operation);
        Ok(StepLine {
            outcome: Said::Committed(*applied),
            lsn: Some(lsn),
        })
    }

    /// The engine says it crashed at `point`: that must be the armed one.
    pub(super) fn armed_crash_fired(&mut self, point: CrashPoint) -> Result<(), RunError> {
        if self.arms.crash() != Some(point) {
            return Err(self.engine_behaviour(format!(
                "crashed at {point:?}, armed {:?}",
                self.arms.crash()
            )));
        }
        self.arms.crash_fired();
        self.stats.crash_point(point);
        self.event.crashed_at = Some(point);
        Ok(())
    }

    /// A write path returned an error: check it is the one armed.
    pub(super) fn write_failed(&mut self, error: SubmitError) -> StepResult {
        match error {
            SubmitError::Crashed(point) => {
                self.armed_crash_fired(point)?;
                self.process = Process::Down;
                Ok(StepLine::new(format!("crashed at {}", point_label(point))))
            }
            SubmitError::StorageFailure { .. } => {
                let Some(failure) = self.arms.persist.take() else {
                    return Err(
                        self.engine_behaviour(format!("storage failure with none armed: {error}"))
                    );
                };
                self.stats.persist_failure(failure);
                self.event.persist_failed = Some(failure);
                self.process.halt();
                Ok(StepLine::new(format!(
                    "storage_failure ({})",
                    persist_failure_name(failure)
                )))
            }
            SubmitError::EngineHalted if matches!(self.process, Process::Halted(_)) => {
                Ok(StepLine::new("engine_halted"))
            }
            other if other.is_definite() => Ok(StepLine::new(format!("rejected: {other}"))),
            other => Err(self.engine_behaviour(format!("unexpected error: {other}"))),
        }
    }
}
