//! What every write path shares: the refusal the engine owes at its door,
//! the fate the arms give a write that passes it, the bytes of its frame
//! that must reach the WAL, the commit check against the model's
//! prediction, and the answer against all of it. Each is the simulator's
//! own prediction; the engine's answer, its WAL length and the file
//! system's reports are only compared with it.

use super::arms::Fate;
use super::arms::IoFailure;
use super::{RunError, Said, SelfTest, Simulator, StepLine, StepResult};
use crate::answer::{Answer, Code};
use crate::coverage::matrix::{Entry, State};
use crate::oracle::checks;
use crate::oracle::refusal::{self, Door};
use crate::oracle::{Oracle, Violation};
use crate::phase_clock::{self, Phase};
use crate::transcript::describe_io_failure;
use crate::transcript::point_label;
use crate::view::EngineStatus;
use allocdb_core::engine::fault::CrashPath;
use allocdb_core::engine::SubmitError;
use allocdb_core::fs::fault::IoEffect;
use allocdb_core::fs::{FileName, Site};
use allocdb_core::{
    Applied, ClientRequest, CommandKind, LeaseEpoch, LogCommand, Lsn, Outcome, Slot,
};
use std::fmt::Display;

/// One client write at a door of the engine: who sent what, stamped with
/// which slot, through which entry point, meeting the engine in `state`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Call {
    pub entry: Entry,
    pub state: State,
    pub client: u32,
    pub request: ClientRequest,
    /// The slot the request is stamped with.
    pub slot: Slot,
    pub door: Door,
}

/// The refusal an engine's answer is, if it is one the door gives (a
/// definite refusal, or a halted engine's).
pub(super) fn refusal_of(error: Option<&SubmitError>) -> Option<Code> {
    match error {
        Some(error @ SubmitError::EngineHalted) => Some(Code::refused(error)),
        Some(error) if error.is_definite() => Some(Code::refused(error)),
        _ => None,
    }
}

impl Simulator {
    /// The model's prediction for a command the engine applied.
    pub(super) fn predict(
        &mut self,
        lsn: Lsn,
        slot: Slot,
        command: &LogCommand,
    ) -> Result<Applied, RunError> {
        let _model = phase_clock::enter(Phase::Model);
        let mut predicted = self
            .model
            .apply(lsn, slot, command)
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

    /// The engine at its door, as the simulator's own books say it is.
    pub(super) fn door_engine(&self) -> refusal::Engine {
        refusal::Engine {
            halted: self.process.status() == EngineStatus::Halted,
            last_request_slot: self.model.last_request_slot(),
            lsn_exhausted: self.books.lsn_exhausted(),
        }
    }

    /// The refusal a correct engine gives at `door` now.
    pub(super) fn predicted_refusal(&self, door: Door) -> Option<Code> {
        refusal::predicted(&self.config.engine.core, self.door_engine(), door)
    }

    /// The engine's refusal (or its absence) against the prediction.
    pub(super) fn check_refusal(
        &self,
        door: Door,
        error: Option<&SubmitError>,
    ) -> Result<Option<Code>, RunError> {
        let predicted = self.predicted_refusal(door);
        refusal::check(door, refusal_of(error), predicted).map_err(|v| self.fail(v))?;
        Ok(predicted)
    }

    /// Books the `written` bytes of its next frame, `command` committed at
    /// `slot`, that the write's fate says reached the WAL.
    pub(super) fn book_written(
        &mut self,
        slot: Slot,
        command: LogCommand,
        written: u64,
    ) -> Result<(), RunError> {
        self.books
            .append(slot, command, written)
            .map_err(|detail| self.engine_behaviour(detail))?;
        Ok(())
    }

    /// A partial append that fired, by where it cut the frame.
    pub(super) fn count_partial(&mut self, fate: Fate, written: u64) {
        if let Fate::Failed(IoFailure {
            site: Site::WalAppend,
            effect: IoEffect::Short { .. },
            ..
        }) = fate
        {
            self.stats
                .damage(super::faults::cut_region("partial_append", written));
        }
    }

    /// The WAL's length as the engine says it, as the file system's
    /// reports say it and as the books predict it: all one.
    pub(super) fn check_wal_length(&self, after: impl Display) -> Result<(), RunError> {
        let Some(engine) = self.process.running() else {
            return Ok(());
        };
        // The self-test counts the WAL one byte long once it holds a frame.
        let miscount = self.config.selftest == Some(SelfTest::MiscountFrame)
            && !self.books.wal().frames().is_empty();
        let booked = self.books.wal().file_len() + u64::from(miscount);
        let reported = self.fs.file(FileName::Wal).written;
        if engine.wal_len() == booked && reported == booked {
            return Ok(());
        }
        Err(self.engine_behaviour(format!(
            "after {after} the WAL holds {booked} bytes as the simulator predicts it, {} as the engine says, {reported} as its file reports say",
            engine.wal_len()
        )))
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
        self.check_io_arms()
    }

    /// The I/O errors still armed in the engine's files are those the
    /// simulator's walk of the engine's operations leaves armed, each with
    /// the passes it has left: an operation the engine made that it should
    /// not have (or skipped) spends one where the walk did not.
    fn check_io_arms(&self) -> Result<(), RunError> {
        let predicted = self.arms.io();
        let armed = self.fs.armed_io_faults();
        if armed.len() == predicted.len() && armed.iter().zip(predicted).all(|(a, p)| *a == p.fault)
        {
            return Ok(());
        }
        let predicted: Vec<_> = predicted.iter().map(|p| p.fault).collect();
        Err(self.engine_behaviour(format!(
            "the engine's file operations left the I/O errors {armed:?} armed; its documented path leaves {predicted:?}"
        )))
    }

    /// What `wal` and `snapshot` hold now, as far as the fs model has
    /// taken in the engine's reports.
    pub(super) fn named_files(&self) -> super::books::NamedFiles {
        super::books::NamedFiles {
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

    /// What the engine did with one client write at `call.door`, whose WAL
    /// was `before` bytes long when it met it, against what the simulator
    /// predicts: the refusal at the door, else the fate the arms give it
    /// and the bytes its frame leaves; then the answer.
    pub(super) fn settle(
        &mut self,
        call: Call,
        result: Result<Applied, SubmitError>,
    ) -> StepResult {
        let Call {
            entry,
            state,
            client,
            request,
            slot,
            door,
        } = call;
        let operation = request.operation_id.0;
        let refused = self.check_refusal(door, result.as_ref().err())?;
        let command = LogCommand::Client(request);
        let lsn = self.books.next_lsn();
        let fate = match (refused, door) {
            (None, Door::Commit(_)) => {
                let len = super::wal_book::command_frame_len(&command);
                let (fate, written) = self.arms.write(CrashPath::Client, len);
                self.count_partial(fate, written);
                self.book_written(slot, command, written)?;
                Some(fate)
            }
            _ => None,
        };
        self.absorb_fs()?;
        // The label is written out only for a failure: a step that passes
        // formats nothing.
        self.check_wal_length(format_args!("op{operation}"))?;
        self.stats.entry(state, entry, Code::of(&result).name());
        self.event.answers.push((operation, Answer::of(&result)));
        match (fate, result) {
            (None, Err(error)) => {
                // A definite refusal says only that this attempt did
                // nothing: an earlier attempt in flight stays unresolved.
                if !error.is_definite() {
                    self.clients.keep_in_flight(client, operation);
                }
                Ok(StepLine::new(self.say(|| refused_line(error))))
            }
            (Some(Fate::Committed), Ok(applied)) => {
                let lsn = lsn.expect("a commit passed the door: an LSN was left");
                self.client_committed(operation, lsn, slot, &command, &applied)
            }
            (Some(fate @ (Fate::Crashed(_) | Fate::Failed(_))), Err(error))
                if fate_answer(fate, &error) =>
            {
                self.clients.keep_in_flight(client, operation);
                Ok(self.fate_met(fate))
            }
            (fate, result) => Err(self.fate_missed(fate, &result)),
        }
    }

    /// The fate a write met, as the engine answered it: the process
    /// dies at a crash point, halts after a persist failure.
    pub(super) fn fate_met(&mut self, fate: Fate) -> StepLine {
        match fate {
            Fate::Crashed(point) => {
                self.stats.crash_point(point);
                self.event.crashed_at = Some(point);
                self.process = super::process::Process::Down;
                StepLine::new(format!("crashed at {}", point_label(point)))
            }
            Fate::Failed(failure) => {
                self.io_failed(failure);
                self.process.halt(failure.halted_state());
                StepLine::new(format!(
                    "storage_failure ({})",
                    describe_io_failure(failure)
                ))
            }
            Fate::Committed => unreachable!("a commit is settled by its result"),
        }
    }

    /// An armed I/O error fired: counted, and told in the step's event.
    pub(super) fn io_failed(&mut self, failure: IoFailure) {
        self.stats.io_failure(failure);
        self.event.io_failed = Some(failure);
    }

    /// A write whose answer is not the one its fate gives.
    pub(super) fn fate_missed<T: std::fmt::Debug>(
        &self,
        fate: Option<Fate>,
        result: &Result<T, SubmitError>,
    ) -> RunError {
        let expected = match fate {
            None => "a refusal at the door".to_string(),
            Some(Fate::Committed) => format!(
                "a commit (armed: crash {:?}, I/O errors {:?}, none due here)",
                self.arms.crash(),
                self.arms.io()
            ),
            Some(Fate::Crashed(point)) => format!("a crash at the armed {}", point.name()),
            Some(Fate::Failed(failure)) => {
                format!("storage_failure ({})", describe_io_failure(failure))
            }
        };
        self.engine_behaviour(format!(
            "the arms give this write {expected}; the engine answered {result:?}"
        ))
    }

    fn client_committed(
        &mut self,
        operation: u128,
        lsn: Lsn,
        slot: Slot,
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
        let predicted = self.predict(lsn, slot, command)?;
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
}

/// Whether `error` is the answer `fate` gives: a storage failure carries
/// the error of the operation that failed.
pub(super) fn fate_answer(fate: Fate, error: &SubmitError) -> bool {
    match (fate, error) {
        (Fate::Crashed(point), SubmitError::Crashed(at)) => point == *at,
        (Fate::Failed(failure), SubmitError::StorageFailure { kind }) => {
            *kind == failure.error_kind()
        }
        _ => false,
    }
}

/// A refused write's line.
pub(super) fn refused_line(error: SubmitError) -> String {
    match error {
        SubmitError::EngineHalted => "engine_halted".to_string(),
        other => format!("rejected: {other}"),
    }
}
