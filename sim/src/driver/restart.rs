//! Restart: recovery of the files as they are, judged against what the
//! books say they hold; a recovery crash point armed for it (one the files
//! do not reach must not fire); the I/O errors armed for it, each of which
//! must fail its operation exactly when recovery makes it (a read: when
//! it has bytes to read); and, over damaged files, the one verdict the
//! torn-tail rule gives each flip. A recovery that refuses leaves the
//! files as it found them, less what it repaired before the refusal.

use super::arms::IoFailure;
use super::disk::Damage;
use super::process::Process;
use super::wal_book::FrameContent;
use super::{AuditCadence, EngineCall, RunError, SelfTest, Simulator, StepLine, StepResult};
use crate::event::{DamageVerdict, FailKind};
use crate::oracle::checks::{self, ExpectedFailure, ExpectedRecovery};
use crate::oracle::model::Model;
use crate::oracle::wal_flip::{self, DamagedFrame, FlipVerdict};
use crate::oracle::{Oracle, Violation};
use crate::phase_clock::{self, Phase};
use crate::transcript::{describe_io_failure, point_label};
use allocdb_core::engine::fault::{CrashPoint, Faults};
use allocdb_core::engine::{Engine, OpenError, RecoveryReport};
use allocdb_core::fs::{FileName, FsOpKind, Site};
use allocdb_core::wal::{RecordType, MAX_FRAME_LEN};
use allocdb_core::LogCommand;

/// One step of a recovery's path: a file operation (with the bytes a read
/// reads), or a crash point between two of them.
#[derive(Clone, Copy, Debug)]
enum RecoveryStep {
    Op(Site, FsOpKind, u64),
    Point(CrashPoint),
}

/// Where a recovery stops short of running.
enum RecoveryStop {
    Crashed(CrashPoint),
    /// An I/O error failed an operation; `truncated`: the torn tail was cut
    /// before it.
    Failed {
        failure: IoFailure,
        truncated: bool,
    },
}

impl Simulator {
    fn open(&mut self, faults: Faults) -> Result<(Engine, RecoveryReport), OpenError> {
        self.called(EngineCall::Open);
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
            // The damage's own open meets none of the I/O errors armed for
            // this restart: they wait for the open that follows it.
            let waiting = self.arms.suspend_io();
            self.fs.disarm_io_faults();
            let confirmed = self.confirm_fail_closed(damage);
            for armed in &waiting {
                self.fs
                    .arm_io_fault(armed.fault)
                    .expect("a fault armed once is armed again");
            }
            self.arms.resume_io(waiting);
            notes.push(confirmed?);
        }
        // A recovery point the files reach must stop recovery there unless
        // an I/O error stops it first; one they do not reach is armed all
        // the same, and must not fire.
        let point = self.arms.recovery.take();
        let mut faults = Faults::default();
        let stop = self.recovery_stop(point);
        if let Some(RecoveryStop::Crashed(point)) = stop {
            return self.crash_in_recovery(point, notes);
        }
        if let Some(point) = point {
            faults.crash = Some(point);
            self.event.recovery_point_unreached = Some(point);
            notes.push(format!("{} not reached", point_label(point)));
        }
        if let Some(RecoveryStop::Failed { failure, truncated }) = stop {
            return self.recovery_failed(failure, truncated, faults, notes);
        }
        // A replay audits everything every step: it rebuilds the expected
        // model from the files even when the live one is known to be it.
        let cross_check = self.config.audit == AuditCadence::EVERY_STEP;
        let (expected, expected_model) = self.books.expected_recovery(&self.model, cross_check);
        let opened = self.open(faults);
        self.accept_recovery(opened, &expected, expected_model, notes)
    }

    /// A recovery's path over the files as booked, as
    /// `core/src/engine/recovery.rs` makes it: the snapshot read (if there
    /// is one); the WAL opened, its last frame's worth of bytes read and
    /// written again (if it has any), the WAL synced and its directory
    /// synced; the point
    /// after the snapshot load; the scan (of a WAL with bytes); the torn
    /// tail cut and synced, and the point after it; the replay (of the
    /// frames left), and the points after its frames (`point`'s only).
    fn recovery_path(&self, point: Option<CrashPoint>) -> Vec<RecoveryStep> {
        use RecoveryStep::{Op, Point};
        let reach = self.books.recovery_reach();
        let wal = self.books.wal();
        let mut path = Vec::new();
        if let Some(snapshot) = self.books.snapshot() {
            path.push(Op(Site::SnapshotRead, FsOpKind::Read, snapshot.len));
        }
        path.push(Op(Site::WalOpen, FsOpKind::Open, 0));
        let tail = wal.file_len().min(MAX_FRAME_LEN as u64);
        if tail > 0 {
            path.extend([
                Op(Site::WalOpen, FsOpKind::Read, tail),
                Op(Site::WalOpen, FsOpKind::Write, 0),
            ]);
        }
        path.extend([
            Op(Site::WalOpen, FsOpKind::Sync, 0),
            Op(Site::WalDirectory, FsOpKind::SyncDirectory, 0),
        ]);
        if reach.snapshot {
            path.push(Point(CrashPoint::RecoveryAfterSnapshotLoad));
        }
        if wal.file_len() > 0 {
            path.push(Op(Site::WalScan, FsOpKind::Read, wal.file_len()));
        }
        if reach.torn_bytes > 0 {
            path.extend([
                Op(Site::WalTruncate, FsOpKind::SetLen, 0),
                Op(Site::WalTruncate, FsOpKind::Sync, 0),
                Point(CrashPoint::RecoveryAfterTornTailTruncate),
            ]);
        }
        if wal.complete_len() > 0 {
            path.push(Op(Site::WalReplay, FsOpKind::Read, wal.complete_len()));
        }
        if let Some(point @ CrashPoint::RecoveryAfterReplayedFrame(_)) = point {
            if reach.reaches(point) {
                path.push(Point(point));
            }
        }
        path
    }

    /// Where recovery must stop, walking its path with `point` armed: the
    /// armed I/O errors spend their passes on the way, as the engine's
    /// operations spend them.
    fn recovery_stop(&mut self, point: Option<CrashPoint>) -> Option<RecoveryStop> {
        let mut truncated = false;
        for step in self.recovery_path(point) {
            match step {
                RecoveryStep::Point(at) if Some(at) == point => {
                    return Some(RecoveryStop::Crashed(at));
                }
                RecoveryStep::Point(_) => {}
                RecoveryStep::Op(site, op, read) => {
                    if let Some((_, failure)) = self.arms.recovery(&[(site, op, read)]) {
                        return Some(RecoveryStop::Failed { failure, truncated });
                    }
                    truncated |= site == Site::WalTruncate && op == FsOpKind::SetLen;
                }
            }
        }
        None
    }

    /// Recovery stopped by `failure`: it must refuse with that operation's
    /// error, the process stays down, and the files are as they were but
    /// for what recovery did before (creating an absent log, cutting the
    /// torn tail). Every other I/O error armed for this process dies with
    /// it.
    fn recovery_failed(
        &mut self,
        failure: IoFailure,
        truncated: bool,
        faults: Faults,
        mut notes: Vec<String>,
    ) -> StepResult {
        let opened = self.open(faults);
        let what = describe_io_failure(failure);
        let error = match opened {
            Ok(_) => {
                return Err(self.fail(Violation::new(
                    Oracle::FailClosed,
                    format!("recovery went on past a failed operation: {what}"),
                )))
            }
            Err(error) => error,
        };
        if truncated {
            self.books.wal_mut().recovered();
        }
        self.absorb_fs()?;
        checks::io_refused(failure, &error).map_err(|v| self.fail(v))?;
        self.check_refused_wal(&what)?;
        self.io_failed(failure);
        if failure.op == FsOpKind::Read {
            self.stats.read_fault_refused();
        }
        self.event.io_died = self.arms.process_died();
        self.fs.disarm_io_faults();
        notes.push(format!("{what}: recovery refused: {error}"));
        Ok(StepLine::new(notes.join("; ")))
    }

    /// After a refused recovery the log holds exactly what the books say.
    fn check_refused_wal(&self, what: &str) -> Result<(), RunError> {
        let booked = self.books.wal().file_len();
        let reported = self.fs.file(FileName::Wal).written;
        if booked == reported {
            return Ok(());
        }
        Err(self.fail(Violation::new(
            Oracle::FailClosed,
            format!(
                "recovery refused after {what}, leaving a log of {reported} bytes; the books say {booked}"
            ),
        )))
    }

    /// What a refused recovery did to the files: nothing.
    fn absorb_refused(&mut self) -> Result<(), RunError> {
        self.fs
            .absorb_refused()
            .map_err(|detail| self.fail(Violation::new(Oracle::FailClosed, detail)))?;
        self.track_files()
    }

    /// Recovery with `point` armed must stop there; the process stays down,
    /// and the I/O errors armed for it die with it.
    fn crash_in_recovery(&mut self, point: CrashPoint, mut notes: Vec<String>) -> StepResult {
        let faults = Faults {
            crash: Some(point),
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
                self.event.io_died = self.arms.process_died();
                self.fs.disarm_io_faults();
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
