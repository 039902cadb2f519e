//! Time and maintenance: the simulated slot, the expiry tick, checkpoints.

use super::arms::{CheckpointStop, Fate};
use super::process::Process;
use super::wal_book::command_frame_len;
use super::write_path::{fate_answer, refused_line};
use super::{EngineCall, RunError, SelfTest, Simulator, StepLine, StepResult};
use crate::answer::Code;
use crate::coverage::matrix::{Entry, State};
use crate::oracle::checks;
use crate::oracle::refusal::Door;
use crate::oracle::{Oracle, Violation};
use crate::phase_clock::{self, Phase};
use crate::transcript::{describe_io_failure, point_label};
use allocdb_core::engine::fault::CrashPath;
use allocdb_core::engine::{CheckpointError, TickReport, TICK_BATCH_LIMIT};
use allocdb_core::{Applied, LeaseId, LogCommand, Lsn, Outcome, Slot};

/// How a tick must go, as the simulator predicts it.
struct PredictedTick {
    /// Each expire that commits: its LSN and the model's result.
    commits: Vec<(Lsn, Applied)>,
    /// The deadline the model held for each committed expire's lease
    /// before the tick (`None`: no such lease).
    deadlines: Vec<(LeaseId, Option<Slot>)>,
    end: TickEnd,
}

/// How a tick ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TickEnd {
    /// Every due expire committed: the tick's report.
    Done,
    /// The door refused the next expire (or the tick, halted).
    Refused(Code),
    /// The next expire met an armed fault.
    Fate(Fate),
}

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
        Ok(StepLine::new(self.say(|| format!("slot {slot}"))))
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

    /// A tick: the model says which expiries are due, the door and the
    /// arms say how far their commits get, and the engine's commits, its
    /// report and its answer must be exactly that.
    pub(super) fn tick(&mut self) -> StepResult {
        let limit =
            (self.config.engine.core.max_expirations_per_tick as usize).min(TICK_BATCH_LIMIT);
        let due = {
            let _model = phase_clock::enter(Phase::Model);
            self.model.due_expirations(self.slot, limit)
        };
        let slot = self.slot;
        let state = self.process.state();
        let Some(engine) = self.process.running_mut() else {
            self.stats.entry(State::Down, Entry::Tick, "undelivered");
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let mut committed = Vec::new();
        let result = {
            let _engine = phase_clock::enter(Phase::Engine);
            engine.tick_expirations_with(slot, |applied| committed.push(*applied))
        };
        self.called(EngineCall::Tick { slot });
        let predicted = self.predict_tick(&due)?;
        self.absorb_fs()?;
        self.check_wal_length("the tick")?;
        let answer = match &result {
            Ok(_) if committed.is_empty() => "nothing_due",
            Ok(_) => "expired",
            Err(error) => Code::refused(error).name(),
        };
        self.stats.entry(state, Entry::Tick, answer);
        if committed.len() != predicted.commits.len() {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!(
                    "the tick committed {} expires; the model, the door and the arms say {} of {due:?}",
                    committed.len(),
                    predicted.commits.len()
                ),
            )));
        }
        let mut report = TickReport::default();
        for (applied, (lsn, expected)) in committed.iter().zip(&predicted.commits) {
            if let Outcome::Expired { lease_id, .. } = applied.outcome {
                let late = u64::from(self.config.selftest == Some(SelfTest::LateDeadline));
                let deadline = self
                    .model_before_tick(lease_id, &predicted)
                    .map(|d| Slot(d.0.saturating_add(late)));
                checks::no_early_expiry(lease_id, slot, deadline).map_err(|v| self.fail(v))?;
            }
            checks::agreement("expire", applied, expected).map_err(|v| self.fail(v))?;
            match applied.outcome {
                Outcome::Expired { .. } => report.expired += 1,
                _ => report.noops += 1,
            }
            report.last_lsn = Some(*lsn);
            self.check_durable(*lsn)?;
            self.books.acknowledge(*lsn);
        }
        match (predicted.end, result) {
            (TickEnd::Done, Ok(got)) => {
                if got != report {
                    return Err(self.engine_behaviour(format!(
                        "the tick reported {got:?}; what it committed makes {report:?}"
                    )));
                }
                Ok(StepLine {
                    outcome: self
                        .say(|| format!("expired {} noop {}", report.expired, report.noops)),
                    lsn: report.last_lsn,
                })
            }
            (TickEnd::Refused(code), Err(error)) if Code::refused(&error) == code => {
                let mut line = StepLine::new(self.say(|| refused_line(error)));
                line.lsn = report.last_lsn;
                Ok(line)
            }
            (TickEnd::Fate(fate), Err(error)) if fate_answer(fate, &error) => {
                let mut line = self.fate_met(fate);
                line.lsn = report.last_lsn;
                Ok(line)
            }
            (TickEnd::Refused(code), result) => Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!(
                    "a tick at slot {}: the engine answered {result:?}, the model refused {}",
                    slot.0,
                    code.name()
                ),
            ))),
            (TickEnd::Done, result) => Err(self.fate_missed(Some(Fate::Committed), &result)),
            (TickEnd::Fate(fate), result) => Err(self.fate_missed(Some(fate), &result)),
        }
    }

    /// How a tick with `due` expiries must go: each expire in order meets
    /// the door (a halted engine, the end of time, the end of the LSN
    /// space), then its fate; the model applies each that commits, and
    /// the books take the bytes each writes.
    fn predict_tick(&mut self, due: &[(LeaseId, Slot)]) -> Result<PredictedTick, RunError> {
        let slot = self.slot;
        let mut predicted = PredictedTick {
            commits: Vec::new(),
            deadlines: Vec::new(),
            end: TickEnd::Done,
        };
        for left in (0..=due.len()).rev() {
            if let Some(code) = self.predicted_refusal(Door::Tick { slot, due: left }) {
                predicted.end = TickEnd::Refused(code);
                break;
            }
            let Some(&(lease_id, deadline_slot)) = due.get(due.len() - left) else {
                break;
            };
            let command = LogCommand::Expire {
                lease_id,
                deadline_slot,
            };
            let lsn = self
                .books
                .next_lsn()
                .expect("the door checked an LSN is left");
            let (fate, written) = self
                .arms
                .write(CrashPath::Expire, command_frame_len(&command));
            self.count_partial(fate, written);
            self.book_written(slot, command, written)?;
            if fate != Fate::Committed {
                predicted.end = TickEnd::Fate(fate);
                break;
            }
            predicted.deadlines.push((
                lease_id,
                self.model.get_lease(lease_id).ok().map(|l| l.deadline_slot),
            ));
            let expected = self.predict(lsn, slot, &command)?;
            predicted.commits.push((lsn, expected));
        }
        Ok(predicted)
    }

    /// The deadline the model recorded for `lease_id` before the tick
    /// expired it (`None`: the model held no such lease).
    fn model_before_tick(&self, lease_id: LeaseId, predicted: &PredictedTick) -> Option<Slot> {
        predicted
            .deadlines
            .iter()
            .find(|(id, _)| *id == lease_id)
            .and_then(|(_, deadline)| *deadline)
    }

    /// A checkpoint: a halted engine refuses it, one with no LSN left for
    /// its marker refuses it and writes nothing, an armed checkpoint point
    /// stops it there, and a completed one reports the snapshot's LSN and
    /// the rewritten log the books predict.
    pub(super) fn checkpoint(&mut self) -> StepResult {
        let _checkpoint = phase_clock::enter(Phase::Checkpoint);
        let state = self.process.state();
        let snapshot_lsn = self.model.last_applied_lsn().unwrap_or(Lsn(0));
        let kept = self.books.rewrite_kept();
        let exhausted = self.books.lsn_exhausted();
        let Some(engine) = self.process.running_mut() else {
            self.stats
                .entry(State::Down, Entry::Checkpoint, "undelivered");
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let result = engine.checkpoint();
        self.called(EngineCall::Checkpoint);
        let wal_len = self.books.wal().file_len();
        let expected = match state {
            State::Running if exhausted => Err("lsn_exhausted"),
            State::Running => Ok(self.arms.checkpoint(wal_len)),
            _ => Err("engine_halted"),
        };
        let answer = match &result {
            Ok(_) => "ok",
            Err(CheckpointError::EngineHalted) => "engine_halted",
            Err(CheckpointError::LsnExhausted) => "lsn_exhausted",
            Err(CheckpointError::Crashed(_)) => "crashed",
            Err(CheckpointError::Io(_) | CheckpointError::WalCorruption(_)) => "storage_failure",
        };
        self.stats.entry(state, Entry::Checkpoint, answer);
        match (expected, result) {
            (Ok(None), Ok(report)) => {
                let predicted = (snapshot_lsn, kept.0, kept.1);
                let got = (report.snapshot_lsn, report.frames_kept, report.wal_bytes);
                if got != predicted {
                    return Err(self.engine_behaviour(format!(
                        "the checkpoint reported snapshot lsn {}, {} frames kept, {} WAL bytes; the books say {}, {}, {}",
                        got.0 .0, got.1, got.2, predicted.0 .0, predicted.1, predicted.2
                    )));
                }
                self.checkpoint_reached(snapshot_lsn, true)?;
                self.check_wal_length("the checkpoint")?;
                match self.config.selftest {
                    Some(SelfTest::SimulatorPanic) => {
                        panic!("self-test: the simulator panics after a checkpoint")
                    }
                    Some(SelfTest::Hang) => loop {
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    },
                    _ => {}
                }
                Ok(StepLine::new(self.say(|| {
                    format!(
                        "snapshot at lsn {}, {} frames kept",
                        snapshot_lsn.0, report.frames_kept
                    )
                })))
            }
            (Ok(Some(stop)), Err(error)) if checkpoint_answer(stop.fate, &error) => {
                let line = match stop.fate {
                    Fate::Crashed(point) => {
                        self.stats.crash_point(point);
                        self.event.crashed_at = Some(point);
                        self.process = Process::Down;
                        format!("crashed at {}", point_label(point))
                    }
                    Fate::Failed(failure) => {
                        self.io_failed(failure);
                        self.process.halt(State::HaltedCheckpoint);
                        format!("storage_failure ({})", describe_io_failure(failure))
                    }
                    Fate::Committed => unreachable!("a stop is a crash or a failure"),
                };
                if stop.snapshot_renamed {
                    self.checkpoint_reached(snapshot_lsn, stop.wal_renamed)?;
                } else {
                    self.absorb_fs()?;
                }
                self.check_wal_length("a failed checkpoint")?;
                Ok(StepLine::new(line))
            }
            (Err(refusal), Err(error)) if refusal == answer => {
                self.absorb_fs()?;
                self.check_wal_length("a refused checkpoint")?;
                Ok(StepLine::new(format!("refused: {error}")))
            }
            (expected, result) => {
                let expected = match expected {
                    Ok(None) => "a completed checkpoint".to_string(),
                    Ok(Some(CheckpointStop {
                        fate: Fate::Crashed(point),
                        ..
                    })) => format!("a crash at the armed {}", point.name()),
                    Ok(Some(CheckpointStop {
                        fate: Fate::Failed(failure),
                        ..
                    })) => format!("storage_failure ({})", describe_io_failure(failure)),
                    Ok(Some(_)) => unreachable!("a stop is a crash or a failure"),
                    Err(code) => format!("a refusal, {code}"),
                };
                Err(self.engine_behaviour(format!(
                    "the checkpoint should give {expected}; the engine answered {result:?}"
                )))
            }
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

/// Whether `error` is the answer a checkpoint stopped by `fate` gives: a
/// crash at the point, or the error of the operation that failed.
fn checkpoint_answer(fate: Fate, error: &CheckpointError) -> bool {
    match (fate, error) {
        (Fate::Crashed(point), CheckpointError::Crashed(at)) => point == *at,
        (Fate::Failed(failure), CheckpointError::Io(error)) => failure.matches(error),
        _ => false,
    }
}
