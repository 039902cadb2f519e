//! Restart: recovery of the files as they are, judged against what the
//! books say they hold; a recovery crash point armed for it (one the files
//! do not reach must not fire); a read fault (which must fire whenever its
//! file has a byte to read); and, over damaged files, the one verdict the
//! torn-tail rule gives each flip. A recovery that refuses must leave the
//! files as it found them.

use super::disk::Damage;
use super::process::Process;
use super::wal_book::FrameContent;
use super::{AuditCadence, RunError, SelfTest, Simulator, StepLine, StepResult};
use crate::event::{DamageVerdict, FailKind};
use crate::oracle::checks::{self, ExpectedFailure, ExpectedRecovery};
use crate::oracle::model::Model;
use crate::oracle::wal_flip::{self, DamagedFrame, FlipVerdict};
use crate::oracle::{Oracle, Violation};
use crate::phase_clock::{self, Phase};
use crate::transcript::point_label;
use allocdb_core::engine::fault::{CrashPoint, Faults};
use allocdb_core::engine::{Engine, OpenError, RecoveryReport};
use allocdb_core::fs::{FileName, ReadFault};
use allocdb_core::wal::RecordType;
use allocdb_core::LogCommand;

impl Simulator {
    fn open(&self, faults: Faults) -> Result<(Engine, RecoveryReport), OpenError> {
        Engine::open_with_faults(self.disk.path(), self.config.engine, faults)
    }

    pub(super) fn restart(&mut self) -> StepResult {
        let _restart = phase_clock::enter(Phase::Restart);
        // A restart of a live or halted process keeps every written byte.
        self.kill();
        if self.config.selftest == Some(SelfTest::EngineAssertion) {
            // The fault seam allows one observer per directory, and the
            // file-system model holds it: the core's assertion fires.
            let _second = allocdb_core::fs::observe(self.disk.path());
        }
        let mut notes = Vec::new();
        let damage_seen = self.config.selftest != Some(SelfTest::CallDamageLegal);
        if let Some(damage) = self.disk.damage().filter(|_| damage_seen) {
            notes.push(self.confirm_fail_closed(damage)?);
        }
        // A recovery point the files reach must stop recovery there; one
        // they do not reach is armed all the same, and must not fire.
        let mut faults = Faults::default();
        if let Some(point) = self.arms.recovery.take() {
            if self.books.recovery_reach().reaches(point) {
                return self.crash_in_recovery(point, notes);
            }
            faults.crash = Some(point);
            self.event.recovery_point_unreached = Some(point);
            notes.push(format!("{} not reached", point_label(point)));
        }
        // A replay audits everything every step: it rebuilds the expected
        // model from the files even when the live one is known to be it.
        let cross_check = self.config.audit == AuditCadence::EVERY_STEP;
        let (expected, expected_model) = self.books.expected_recovery(&self.model, cross_check);
        if let Some(fault) = self.arms.read.take() {
            return self.recover_past_read_fault(fault, faults, &expected, expected_model, notes);
        }
        let opened = self.open(faults);
        self.accept_recovery(opened, &expected, expected_model, notes)
    }

    /// Bytes of `file` a recovery would read.
    fn readable_bytes(&self, file: FileName) -> u64 {
        match file {
            FileName::Wal => self.books.wal().file_len(),
            FileName::Snapshot => self.books.snapshot().map_or(0, |s| s.len),
            FileName::WalTemp | FileName::SnapshotTemp => 0,
        }
    }

    /// Recovery with a read fault armed: it fires exactly when its file
    /// holds a byte to read, and then recovery must refuse with the typed
    /// error of that read, leaving the process down and the files as they
    /// were; on a file with nothing to read it cannot fire, and recovery
    /// goes on as without it.
    fn recover_past_read_fault(
        &mut self,
        fault: ReadFault,
        faults: Faults,
        expected: &ExpectedRecovery,
        expected_model: Option<Model>,
        mut notes: Vec<String>,
    ) -> StepResult {
        let readable = self.readable_bytes(fault.file);
        if readable == 0 && self.config.strict {
            return Err(self.invalid(format!(
                "the {:?} read fault finds nothing to read: {:?} has no bytes",
                fault.kind, fault.file
            )));
        }
        self.fs.arm_read_fault(fault);
        let opened = self.open(faults);
        let fired = self.fs.disarm_read_fault().is_none();
        let what = format!("read fault ({:?} {:?})", fault.file, fault.kind);
        if fired != (readable > 0) {
            return Err(self.engine_behaviour(format!(
                "the {what} {} though {:?} holds {readable} bytes to read",
                if fired { "fired" } else { "never fired" },
                fault.file
            )));
        }
        if !fired {
            notes.push(format!("{what} not reached: nothing to read"));
            return self.accept_recovery(opened, expected, expected_model, notes);
        }
        let error = match opened {
            Ok(_) => {
                return Err(self.fail(Violation::new(
                    Oracle::FailClosed,
                    format!("recovery went on past a failed read: {what}"),
                )))
            }
            Err(error) => error,
        };
        self.absorb_refused()?;
        let snapshot_len = self.readable_bytes(FileName::Snapshot);
        checks::read_fault_refused(fault, snapshot_len, &error).map_err(|v| self.fail(v))?;
        self.stats.read_fault_refused();
        notes.push(format!("{what}: recovery refused: {error}"));
        Ok(StepLine::new(notes.join("; ")))
    }

    /// What a refused recovery did to the files: nothing.
    fn absorb_refused(&mut self) -> Result<(), RunError> {
        self.fs
            .absorb_refused()
            .map_err(|detail| self.fail(Violation::new(Oracle::FailClosed, detail)))?;
        self.track_files()
    }

    /// Recovery with `point` armed must stop there; the process stays down.
    fn crash_in_recovery(&mut self, point: CrashPoint, mut notes: Vec<String>) -> StepResult {
        let faults = Faults {
            crash: Some(point),
            persist: None,
            crash_passes: 0,
        };
        match self.open(faults) {
            Err(OpenError::Crashed(p)) if p == point => {
                self.stats.crash_point(point);
                self.event.crashed_at = Some(point);
                // Opening syncs the whole file; a crash after the truncate
                // has already cut the torn tail.
                if point != CrashPoint::RecoveryAfterSnapshotLoad {
                    self.books.wal_mut().recovered();
                }
                self.absorb_fs()?;
                notes.push(format!("crashed at {}", point_label(point)));
                Ok(StepLine::new(notes.join("; ")))
            }
            Err(other) => Err(self.fail(Violation::new(
                Oracle::ReplayEquivalence,
                format!("recovery failed: {other}"),
            ))),
            Ok(_) => {
                Err(self.engine_behaviour(format!("recovery did not reach armed point {point:?}")))
            }
        }
    }

    /// Recovery of undamaged files must reach the durable prefix exactly,
    /// keeping every acknowledged write.
    fn accept_recovery(
        &mut self,
        opened: Result<(Engine, RecoveryReport), OpenError>,
        expected: &ExpectedRecovery,
        expected_model: Option<Model>,
        mut notes: Vec<String>,
    ) -> StepResult {
        let (engine, report) = opened.map_err(|error| match error {
            OpenError::Crashed(point) => self.engine_behaviour(format!(
                "recovery stopped at {}, which the files as booked do not reach",
                point.name()
            )),
            error => self.fail(Violation::new(
                Oracle::ReplayEquivalence,
                format!("recovery of undamaged storage failed: {error}"),
            )),
        })?;
        checks::recovery(expected, &report, engine.state_machine().digest())
            .map_err(|v| self.fail(v))?;
        checks::acknowledged_survive(self.books.acknowledged(), report.last_applied_lsn)
            .map_err(|v| self.fail(v))?;
        self.stats.recovery(report.mode, report.torn_bytes > 0);
        self.event.recovery = Some(report);
        if let Some(model) = expected_model {
            self.model = model;
        }
        self.books.wal_mut().recovered();
        self.absorb_fs()?;
        self.process = Process::Up(engine);
        self.check_wal_length("recovery")?;
        notes.push(format!(
            "{} snapshot={} replayed={} torn={}",
            report.mode.name(),
            report
                .snapshot_lsn
                .map_or("-".to_string(), |l| l.0.to_string()),
            report.frames_replayed,
            report.torn_bytes
        ));
        Ok(StepLine {
            outcome: notes.join("; ").into(),
            lsn: report.last_applied_lsn,
        })
    }

    /// The one verdict the damage must get: a snapshot flip fails its
    /// checksum; a WAL flip is read as a torn tail or refused, as
    /// `wal_flip` works out from the field it is in and what follows it.
    /// Refused damage is undone afterwards (as an operator restoring the
    /// bytes would) so the run can go on; a flip read as torn is gone with
    /// its frame.
    fn confirm_fail_closed(&mut self, damage: Damage) -> Result<String, RunError> {
        let (expected, kind) = match damage {
            Damage::SnapshotBit { .. } => (ExpectedFailure::SnapshotChecksum, FailKind::Snapshot),
            Damage::WalBit { offset, bit, frame } => match self.flip_verdict(offset, bit, frame)? {
                FlipVerdict::Torn { .. } => return self.tail_read_as_torn(frame),
                FlipVerdict::Corrupt {
                    offset,
                    bad,
                    not_torn,
                } => {
                    let misplaced = self.config.selftest == Some(SelfTest::MisplaceDamage);
                    let frames = self.books.wal().frames();
                    let offset = match frames.get(frame + 1) {
                        Some(next) if misplaced => next.start,
                        _ => offset,
                    };
                    let expected = ExpectedFailure::WalCorruption {
                        offset,
                        bad,
                        not_torn,
                    };
                    (expected, FailKind::Wal)
                }
            },
        };
        let result = self.open(Faults::default()).map(|(_, report)| report);
        if result.is_ok() {
            self.absorb_fs()?;
        } else {
            self.absorb_refused()?;
        }
        checks::fail_closed(expected, &result).map_err(|v| self.fail(v))?;
        self.stats.fail_closed_or_torn(true);
        self.event.damage = Some(DamageVerdict::FailedClosed(kind));
        self.disk.undo_damage().map_err(|e| self.io(e))?;
        Ok(format!(
            "failed closed as expected ({expected:?}), damage undone"
        ))
    }

    /// The verdict of the flip of bit `bit` at byte `offset` of the WAL,
    /// in its frame number `frame`.
    fn flip_verdict(&self, offset: u64, bit: u8, frame: usize) -> Result<FlipVerdict, RunError> {
        let wal = self.books.wal();
        let booked = wal.frames()[frame];
        let record_type = match booked.content {
            FrameContent::Command {
                command: LogCommand::Client(_),
                ..
            } => RecordType::ClientCommand,
            FrameContent::Command { .. } => RecordType::InternalExpire,
            FrameContent::Marker => RecordType::SnapshotMarker,
        };
        let damaged = DamagedFrame {
            start: booked.start,
            len: booked.len,
            written: booked.written,
            record_type: record_type.as_u16(),
        };
        let mut read = Ok(Vec::new());
        let verdict =
            wal_flip::verdict(damaged, offset - booked.start, bit, wal.file_len(), || {
                read = self.disk.read_wal_from(booked.start);
                read.as_ref().map_or_else(|_| Vec::new(), Vec::clone)
            });
        read.map_err(|e| self.io(e))?;
        Ok(verdict)
    }

    /// A flip the torn-tail rule reads as torn: recovery must accept the
    /// files, cut at the damaged frame's start, and report exactly the
    /// recovery of what is left; the damaged frame and all after it are
    /// gone, and with them the damage.
    fn tail_read_as_torn(&mut self, frame: usize) -> Result<String, RunError> {
        let start = self.books.wal().frames()[frame].start;
        let mut books = self.books.clone();
        books.tail_lost_from(frame);
        let cross_check = self.config.audit == AuditCadence::EVERY_STEP;
        let (mut expected, _) = books.expected_recovery(&self.model, cross_check);
        // This open cuts the tail; the books above have it cut already.
        expected.report.torn_bytes = self.books.wal().file_len() - start;
        let opened = self.open(Faults::default());
        self.absorb_fs()?;
        let (engine, report) = opened.map_err(|error| {
            self.fail(Violation::new(
                Oracle::FailClosed,
                format!(
                    "a flip in the frame at byte {start} reads as a torn tail by the rule, but recovery refused: {error}"
                ),
            ))
        })?;
        checks::recovery(&expected, &report, engine.state_machine().digest()).map_err(|v| {
            self.fail(Violation {
                oracle: Oracle::FailClosed,
                detail: format!("a flip read as a torn tail at byte {start}: {}", v.detail),
            })
        })?;
        self.books = books;
        self.disk.damage_cut();
        self.stats.fail_closed_or_torn(false);
        self.event.damage = Some(DamageVerdict::ReadAsTorn);
        Ok(format!("damaged tail frame read as torn at byte {start}"))
    }
}
