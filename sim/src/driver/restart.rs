//! Restart: recovery of the files as they are, judged against what the
//! books say they hold; a recovery crash point armed for it; and, over
//! damaged files, the check that recovery fails closed.

use super::disk::Damage;
use super::process::Process;
use super::{AuditCadence, RunError, SelfTest, Simulator, StepLine, StepResult};
use crate::event::{DamageVerdict, FailKind};
use crate::oracle::checks::{self, ExpectedFailure, ExpectedRecovery};
use crate::oracle::model::Model;
use crate::oracle::{Oracle, Violation};
use crate::phase_clock::{self, Phase};
use crate::transcript::point_label;
use allocdb_core::engine::fault::{CrashPoint, Faults};
use allocdb_core::engine::{Engine, OpenError, RecoveryReport};
use allocdb_core::fs::ReadFault;

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
        if let Some(point) = self.arms.recovery.take() {
            if self.books.recovery_reach().reaches(point) {
                return self.crash_in_recovery(point, notes);
            }
            self.event.recovery_point_unreached = Some(point);
            notes.push(format!("{} not reached", point_label(point)));
        }
        // A replay audits everything every step: it rebuilds the expected
        // model from the files even when the live one is known to be it.
        let cross_check = self.config.audit == AuditCadence::EVERY_STEP;
        let (expected, expected_model) = self.books.expected_recovery(&self.model, cross_check);
        if let Some(fault) = self.arms.read.take() {
            return self.recover_past_read_fault(fault, &expected, expected_model, notes);
        }
        let opened = self.open(Faults::default());
        self.accept_recovery(opened, &expected, expected_model, notes)
    }

    /// Recovery with a read fault armed: a fault that fired must make it
    /// refuse with the typed error of that read, leaving the process down
    /// and the files as they were; one that found nothing to read leaves a
    /// normal recovery.
    fn recover_past_read_fault(
        &mut self,
        fault: ReadFault,
        expected: &ExpectedRecovery,
        expected_model: Option<Model>,
        mut notes: Vec<String>,
    ) -> StepResult {
        self.fs.arm_read_fault(fault);
        let opened = self.open(Faults::default());
        let unfired = self.fs.disarm_read_fault();
        let what = format!("read fault ({:?} {:?})", fault.file, fault.kind);
        match (opened, unfired) {
            (Err(error), None) => {
                self.absorb_fs()?;
                checks::read_fault_refused(fault, &error).map_err(|v| self.fail(v))?;
                self.stats.read_fault_refused();
                notes.push(format!("{what}: recovery refused: {error}"));
                Ok(StepLine::new(notes.join("; ")))
            }
            (Ok(_), None) => Err(self.fail(Violation::new(
                Oracle::FailClosed,
                format!("recovery went on past a failed read: {what}"),
            ))),
            (opened, Some(_)) => {
                if self.config.strict {
                    return Err(self.invalid(format!("the {what} found nothing to read")));
                }
                notes.push(format!("{what} not reached"));
                self.accept_recovery(opened, expected, expected_model, notes)
            }
        }
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
        let (engine, report) = opened.map_err(|error| {
            self.fail(Violation::new(
                Oracle::ReplayEquivalence,
                format!("recovery of undamaged storage failed: {error}"),
            ))
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
        assert!(
            self.verified.is_none(),
            "a new engine starts with no verdict of the old one"
        );
        self.process = Process::Up(engine);
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

    /// Recovery over damaged files must fail closed where the damage is;
    /// afterwards the damage is undone (as an operator restoring the bytes
    /// would) so the run can go on. A flip in the tail, with no valid frame
    /// after it, may also read as a torn tail: then the frame is gone.
    fn confirm_fail_closed(&mut self, damage: Damage) -> Result<String, RunError> {
        let result = self.open(Faults::default()).map(|(_, report)| report);
        self.absorb_fs()?;
        let (expected, kind) = match damage {
            Damage::SnapshotBit { .. } => (ExpectedFailure::Snapshot, FailKind::Snapshot),
            Damage::WalBit { frame, .. } => {
                let frames = self.books.wal().frames();
                let valid_frame_follows = frames[frame + 1..].iter().any(|f| f.is_complete());
                if let (false, Ok(report)) = (valid_frame_follows, &result) {
                    return self.tail_read_as_torn(frame, report);
                }
                let misplaced = self.config.selftest == Some(SelfTest::MisplaceDamage);
                let named = if misplaced { frame + 1 } else { frame };
                let offset = frames.get(named).map_or(frames[frame].start, |f| f.start);
                (ExpectedFailure::WalCorruptionAt { offset }, FailKind::Wal)
            }
        };
        checks::fail_closed(expected, &result).map_err(|v| self.fail(v))?;
        self.stats.fail_closed_or_torn(true);
        self.event.damage = Some(DamageVerdict::FailedClosed(kind));
        self.disk.undo_damage().map_err(|e| self.io(e))?;
        Ok(format!(
            "failed closed as expected ({expected:?}), damage undone"
        ))
    }

    /// A flip in the tail frame read as a torn tail: the damaged frame and
    /// all after it are gone, and with them the damage.
    fn tail_read_as_torn(
        &mut self,
        frame: usize,
        report: &RecoveryReport,
    ) -> Result<String, RunError> {
        let wal = self.books.wal();
        let start = wal.frames()[frame].start;
        if report.torn_bytes != wal.file_len() - start {
            return Err(self.fail(Violation::new(
                Oracle::FailClosed,
                format!(
                    "a flip in the tail frame at byte {start} was cut as {} torn bytes",
                    report.torn_bytes
                ),
            )));
        }
        self.books.tail_lost_from(frame);
        self.disk.damage_cut();
        self.stats.fail_closed_or_torn(false);
        self.event.damage = Some(DamageVerdict::ReadAsTorn);
        Ok(format!("damaged tail frame read as torn at byte {start}"))
    }
}
