//! The simulator: one seeded run of explicit actions against the real
//! engine on real files, judged by the oracles after every step.
//!
//! The driver keeps its own books (which frames are where in the WAL and
//! which are durable, which LSNs were acknowledged, what the snapshot
//! covers) and from them predicts what every crash, tear and flip must lead
//! to. The engine is never asked what it should have done.
//!
//! This file is the step loop: dispatch, the transcript line, the event.
//! Each room of the rest holds one job: `process` (the engine process and
//! what is armed), `clients` (requests and what is in flight), `books`
//! and `wal_book` (what the files must hold; no I/O), `disk` (what is done
//! to the real files), `live_checks` (the per-step oracles),
//! `audit_cadence` (which steps get the full audit), and the
//! actions as `impl` blocks with no fields of their own: `client_writes`,
//! `write_path`, `maintenance`, `reads`, `faults`, `restart`.

mod arms;
pub mod audit_cadence;
mod books;
mod client_writes;
mod clients;
mod disk;
pub mod engine_calls;
mod faults;
mod forge;
mod live_checks;
mod maintenance;
mod process;
mod reads;
mod references;
mod restart;
pub mod wal_book;
mod write_path;

use crate::action::{Action, Unsynced};
use crate::boundary_probes;
use crate::event::StepEvent;
use crate::fence::Fence;
use crate::fs_model::{FsModel, SyncSite};
use crate::oracle::checks;
use crate::oracle::model::Model;
use crate::oracle::{isolate, Oracle, OracleFailure, Panicked, Violation};
use crate::phase_clock::{self, Phase};
use crate::run_dir::KeptRun;
use crate::stats::RunStats;
use crate::transcript::{describe_action, describe_applied, Transcript, TranscriptMode};
use crate::view::{EngineStatus, SimView};
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::engine::{Engine, EngineConfig, RecoveryReport, StartMode};
use allocdb_core::{Applied, Lsn, Slot};
use arms::Arms;
pub use arms::{ArmedIo, CheckpointStep, IoFailure, CHECKPOINT_PATH};
pub use audit_cadence::AuditCadence;
use books::Books;
use clients::Clients;
use disk::Disk;
pub use engine_calls::EngineCall;
use process::Process;
use references::Resolved;
use std::borrow::Cow;
use std::fmt;
use std::io;

/// Self-test switches of the simulator (never of the core): they make the
/// simulator itself wrong so the whole failure path can be exercised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SelfTest {
    /// The model predicts a deadline one slot late for every successful reserve.
    WrongModel,
    /// The model predicts an epoch one too high for every successful
    /// activate: only a run that activates a lease it reserved fails.
    WrongActivate,
    /// The simulator expects a flipped bit to change nothing: only a run
    /// that damages a file and restarts fails.
    CallDamageLegal,
    /// The model's digest is one off: `state_digest` fails at the first
    /// step that compares digests.
    SkewDigest,
    /// The record comparison reads every engine resource's version one
    /// higher: `state_records` fails at the first full audit that has a
    /// resource.
    SkewRecord,
    /// The early-expiry check takes every deadline one slot later than the
    /// model recorded: `early_reuse` fails at the first expiry at its
    /// deadline.
    LateDeadline,
    /// The books expect a flip's corruption one frame after the damaged
    /// one: `fail_closed` fails at the first flip recovery must refuse.
    MisplaceDamage,
    /// The file-system model treats every sync made at this site as never
    /// made: a sweep must then fail wherever that sync matters.
    IgnoreSync(SyncSite),
    /// The books count the WAL one byte longer than the engine wrote once
    /// it holds a frame: `engine_behaviour` fails at the first commit.
    MiscountFrame,
    /// The simulator panics after every checkpoint that succeeds: `panic`
    /// (from the simulator) fails at the first.
    SimulatorPanic,
    /// Every restart first opens a second observer of the engine's
    /// directory, which the core's fault seam asserts never happens:
    /// `panic` (from the engine) fails at the first restart.
    EngineAssertion,
    /// The simulator never returns from a checkpoint that succeeds: the
    /// watchdog names the first (nothing else can end the step).
    Hang,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimConfig {
    pub engine: EngineConfig,
    pub selftest: Option<SelfTest>,
    /// Actions that cannot do anything (arming while down, a flip past the
    /// end of a file, ...) are errors instead of no-ops. Scenarios are
    /// strict: an author who wrote such a step meant something else.
    /// Generated workloads are not: they aim blindly.
    pub strict: bool,
    /// How often the full audit runs besides its fixed occasions.
    pub audit: AuditCadence,
    /// A seed's last generated step, which the full audit always checks;
    /// `None` for a scenario.
    pub last_step: Option<u64>,
    /// Whether the transcript keeps its text or only its digest.
    pub transcript: TranscriptMode,
    /// Keep every call made of the engine, in order
    /// ([`Simulator::engine_calls`]).
    pub engine_calls: bool,
}

impl SimConfig {
    pub fn new(engine: EngineConfig) -> SimConfig {
        SimConfig {
            engine,
            selftest: None,
            strict: false,
            audit: AuditCadence::EVERY_STEP,
            last_step: None,
            transcript: TranscriptMode::Text,
            engine_calls: false,
        }
    }
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Oracle(#[from] OracleFailure),
    #[error("step {step}: {reason}")]
    InvalidAction { step: u64, reason: String },
    #[error("step {step}: simulator I/O on the run directory failed: {source}")]
    Io { step: u64, source: io::Error },
}

/// A panic at `step` of `seed`, as a run's failure (oracle `panic`).
pub fn panicked_failure(seed: u64, step: u64, panicked: Panicked) -> RunError {
    RunError::Oracle(OracleFailure {
        oracle: Oracle::Panic,
        seed,
        step,
        detail: panicked.to_string(),
        panic: Some(Box::new(panicked)),
    })
}

impl RunError {
    /// What panicked, when the run failed by a panic.
    pub fn panicked(&self) -> Option<&Panicked> {
        match self {
            RunError::Oracle(failure) => failure.panic.as_deref(),
            _ => None,
        }
    }

    /// The message without the step (for reports that name it already).
    pub fn detail(&self) -> String {
        match self {
            RunError::Oracle(failure) => {
                format!(
                    "oracle `{}` failed: {}",
                    failure.oracle.name(),
                    failure.detail
                )
            }
            RunError::InvalidAction { reason, .. } => reason.clone(),
            RunError::Io { source, .. } => {
                format!("simulator I/O on the run directory failed: {source}")
            }
        }
    }
}

/// What is armed and has not fired ([`Simulator::armed`]).
#[derive(Clone, Copy, Debug)]
pub struct Armed<'a> {
    /// The crash point armed in the running engine.
    pub crash: Option<CrashPoint>,
    /// The I/O errors armed in the engine's files, in the order armed.
    pub io: &'a [ArmedIo],
    /// The recovery crash point armed for the next restart.
    pub recovery: Option<CrashPoint>,
}

pub struct Simulator {
    seed: u64,
    config: SimConfig,
    disk: Disk,
    process: Process,
    arms: Arms,
    slot: Slot,
    /// The reference model of the live engine's applied state.
    model: Model,
    books: Books,
    /// What the file system promised, from the engine's reports.
    fs: FsModel,
    clients: Clients,
    step: u64,
    transcript: Transcript,
    stats: RunStats,
    event: StepEvent,
    /// With `SimConfig::engine_calls`, every call made of the engine.
    engine_calls: Option<Vec<EngineCall>>,
}

type StepResult = Result<StepLine, RunError>;

/// A step that passed: its line, and the engine's digest after it.
type Stepped = (StepLine, Option<u64>);

/// What one step did, for the transcript.
struct StepLine {
    outcome: Said,
    lsn: Option<Lsn>,
}

impl StepLine {
    fn new(outcome: impl Into<Said>) -> StepLine {
        StepLine {
            outcome: outcome.into(),
            lsn: None,
        }
    }
}

/// What a step's line says after `=>`. A commit, the most common outcome,
/// is kept as the result itself and named only as the line is written.
enum Said {
    Text(Cow<'static, str>),
    Committed(Applied),
    /// Nothing: the transcript is off and writes no line
    /// ([`Simulator::say`]).
    Unsaid,
}

impl From<&'static str> for Said {
    fn from(text: &'static str) -> Said {
        Said::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Said {
    fn from(text: String) -> Said {
        Said::Text(Cow::Owned(text))
    }
}

impl fmt::Display for Said {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Said::Text(text) => f.write_str(text),
            Said::Committed(applied) => describe_applied(applied).fmt(f),
            Said::Unsaid => f.write_str("(unsaid)"),
        }
    }
}

impl Simulator {
    /// Starts a fresh engine in a new run directory. `header` lines (fault
    /// mix and the like) go at the top of the transcript.
    pub fn new(seed: u64, config: SimConfig, header: &[String]) -> Result<Simulator, RunError> {
        let io = |source| RunError::Io { step: 0, source };
        let mut disk = Disk::new().map_err(io)?;
        let ignored = match config.selftest {
            Some(SelfTest::IgnoreSync(site)) => Some(site),
            _ => None,
        };
        let mut fs = FsModel::new(disk.path(), ignored);
        let (engine, report) = isolate(|| Engine::open(disk.path(), config.engine))
            .map_err(|panicked| panicked_failure(seed, 0, panicked))?
            .map_err(|e| io(io::Error::other(e.to_string())))?;
        // An empty directory: nothing to load, replay or cut.
        let fresh = Model::new(config.engine.core);
        let expected = checks::ExpectedRecovery {
            report: RecoveryReport {
                mode: StartMode::Fresh,
                snapshot_lsn: None,
                frames_replayed: 0,
                torn_bytes: 0,
                last_applied_lsn: None,
            },
            digest: fresh.digest(),
        };
        checks::recovery(&expected, &report, engine.state_machine().digest()).map_err(|v| {
            RunError::Oracle(OracleFailure {
                oracle: v.oracle,
                seed,
                step: 0,
                detail: format!("the first open of an empty directory: {}", v.detail),
                panic: None,
            })
        })?;
        fs.absorb().map_err(|e| io(io::Error::other(e)))?;
        disk.track(fs.take_changes()).map_err(io)?;
        let mut transcript = Transcript::new(config.transcript, seed, &config.engine);
        for line in header {
            transcript.header(line);
        }
        if let Some(selftest) = config.selftest {
            transcript.header(format_args!("selftest: {selftest:?}"));
        }
        Ok(Simulator {
            seed,
            model: fresh,
            books: Books::new(config.engine.core),
            fs,
            config,
            disk,
            process: Process::Up(engine),
            arms: Arms::default(),
            slot: Slot(0),
            clients: Clients::new(seed),
            step: 0,
            transcript,
            stats: RunStats::default(),
            event: StepEvent::default(),
            engine_calls: config.engine_calls.then(|| vec![EngineCall::Open]),
        })
    }

    /// Every call made of the engine so far, the first open included;
    /// `None` unless the config asked to keep them.
    pub fn engine_calls(&self) -> Option<&[EngineCall]> {
        self.engine_calls.as_deref()
    }

    /// Keeps `call` when the config asks.
    fn called(&mut self, call: EngineCall) {
        if let Some(calls) = &mut self.engine_calls {
            calls.push(call);
        }
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    pub fn stats(&self) -> &RunStats {
        &self.stats
    }

    pub fn steps(&self) -> u64 {
        self.step
    }

    /// What the last step did.
    pub fn event(&self) -> &StepEvent {
        &self.event
    }

    /// What is armed and has not fired.
    pub fn armed(&self) -> Armed<'_> {
        Armed {
            crash: self.arms.crash(),
            io: self.arms.io(),
            recovery: self.arms.recovery,
        }
    }

    /// Unsynced bytes of files other than the WAL that a crash keeping the
    /// first `entries_kept` pending entry operations leaves to lose.
    pub fn unsynced_beside_wal_after(&self, entries_kept: usize) -> u64 {
        self.fs
            .plan_crash(entries_kept, |_| Unsynced::Keep)
            .beside_wal()
            .map(|f| f.before.unsynced())
            .sum()
    }

    /// The WAL bytes written since the last sync, as `(offset, written)` of
    /// each frame they hold, offsets counted from the last synced byte:
    /// what a crash can keep or lose.
    pub fn unsynced_frames(&self) -> Vec<(u64, u64)> {
        let wal = self.books.wal();
        let durable = wal.durable_len();
        wal.frames()
            .iter()
            .filter(|f| f.end() > durable)
            .map(|f| {
                (
                    f.start.saturating_sub(durable),
                    f.end() - f.start.max(durable),
                )
            })
            .collect()
    }

    /// The engine, while it is up (not halted, not down).
    pub fn live_engine(&self) -> Option<&Engine> {
        self.process.up()
    }

    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// The highest LSN acknowledged to a client that a crash has not
    /// taken back, as the books hold it.
    pub fn acknowledged_lsn(&self) -> Option<Lsn> {
        self.books.acknowledged().last().copied()
    }

    /// The LSN of the snapshot the books say is in place.
    pub fn snapshot_lsn(&self) -> Option<Lsn> {
        self.books.snapshot_lsn()
    }

    /// Adds a line to the transcript (expectations, a scenario's verdict).
    pub fn note(&mut self, line: &str) {
        self.transcript.note(line);
    }

    /// The run's directory (the engine's files and the simulator's
    /// links), removed when the simulator is dropped unless kept.
    pub fn run_dir(&self) -> &std::path::Path {
        self.disk.root()
    }

    /// Keeps the run directory (for a failure) and says where it is.
    pub fn keep_dir(self) -> KeptRun {
        self.disk.keep()
    }

    pub fn view(&self) -> SimView<'_> {
        let wal = self.books.wal();
        SimView {
            slot: self.slot,
            status: self.process.status(),
            model: &self.model,
            in_flight: self.clients.in_flight(),
            submitted: self.clients.submitted(),
            sent: &self.clients,
            wal_frames: wal.frames().len() as u32,
            wal,
            snapshot_len: self.books.snapshot().map(|s| s.len),
            unsynced_bytes: wal.unsynced(),
            pending_entries: self.fs.directory().pending().len() as u32,
            unsynced_other_bytes: self.fs.unsynced_beside_wal(),
            next_operation: self.clients.next_operation(),
            armed_crash: self.arms.crash_at(self.step),
            armed_io: self.arms.io(),
            damage_pending: self.disk.damage().is_some(),
            recovery: &self.books,
        }
    }

    /// The outcome `text` makes, made only when the transcript writes it:
    /// a passing seed of a sweep formats nothing.
    fn say(&self, text: impl FnOnce() -> String) -> Said {
        if self.transcript.mode() == TranscriptMode::Off {
            return Said::Unsaid;
        }
        Said::from(text())
    }

    /// Runs one action, then every oracle, and appends the transcript line
    /// (a failed step gets a `FAILED` line and the failure under it).
    pub fn step(&mut self, action: &Action) -> Result<(), RunError> {
        let _driver = phase_clock::enter(Phase::Driver);
        self.step += 1;
        self.stats.action(action.kind());
        self.event.clear();
        // The line names the action as it ran: with its references
        // resolved, when they could be. A panic anywhere in the step is
        // its failure; the simulator is not used again after one.
        let (described, stepped) = match isolate(|| self.resolve_and_run(action)) {
            Ok(done) => done,
            Err(panicked) => (Cow::Borrowed(action), Err(self.panicked(panicked))),
        };
        let (outcome, lsn, digest, result) = match stepped {
            Ok((line, digest)) => (line.outcome, line.lsn, digest, Ok(())),
            Err(error) => (Said::from("FAILED"), None, None, Err(error)),
        };
        self.transcript.step(
            self.step,
            self.slot,
            describe_action(&described),
            &outcome,
            lsn,
            digest,
        );
        for &(_, answer) in &self.event.answers {
            self.stats.answer(answer);
        }
        if let Err(error) = &result {
            self.transcript
                .note(format_args!("failed: {}", error.detail()));
        }
        result
    }

    fn resolve_and_run<'a>(
        &mut self,
        action: &'a Action,
    ) -> (Cow<'a, Action>, Result<Stepped, RunError>) {
        match self.resolve(action) {
            Ok(Resolved::Ready(resolved)) => {
                self.count_boundaries(&resolved);
                let stepped = self.run_step(&resolved);
                (resolved, stepped)
            }
            Ok(Resolved::Nothing(reason)) => (
                Cow::Borrowed(action),
                self.no_effect(reason)
                    .and_then(|line| Ok((line, self.check_live(action)?))),
            ),
            Err(error) => (Cow::Borrowed(action), Err(error)),
        }
    }

    /// The bounds a step sent to a running engine meets exactly.
    fn count_boundaries(&mut self, action: &Action) {
        if self.process.status() != EngineStatus::Up {
            return;
        }
        let stats = &mut self.stats;
        boundary_probes::met(action, &self.model, self.slot, &mut |b| {
            stats.boundary(b.name())
        });
    }

    fn run_step(&mut self, action: &Action) -> Result<Stepped, RunError> {
        let line = self.dispatch(action)?;
        let _oracles = phase_clock::enter(Phase::Oracles);
        let digest = self.check_live(action)?;
        Ok((line, digest))
    }

    fn dispatch(&mut self, action: &Action) -> StepResult {
        match action {
            Action::Submit {
                client,
                operation,
                command,
                behind,
            } => self.submit(*client, *operation, command, *behind),
            Action::Retry { operation } => self.retry(*operation),
            Action::Burst(requests) => self.burst(requests),
            Action::AdvanceSlot { by } => self.advance(*by),
            Action::AdvanceTo { slot } => self.advance_to(*slot),
            Action::Tick => self.tick(),
            Action::Checkpoint => self.checkpoint(),
            Action::ReadResource {
                resource,
                required_lsn,
            } => {
                let fence = self.literal_fence(*required_lsn)?;
                self.read_resource(*resource, fence)
            }
            Action::ReadLease {
                lease,
                required_lsn,
            } => match lease.id() {
                Some(id) => {
                    let fence = self.literal_fence(*required_lsn)?;
                    self.read_lease(id, fence)
                }
                None => Err(self.invalid(format!("lease `{lease}` was not resolved"))),
            },
            Action::ArmCrash(point) => self.arm_crash(*point, 0),
            Action::ArmCrashAfter { point, passes } => self.arm_crash(*point, *passes),
            Action::ArmPersistFailure(_)
            | Action::ArmReadFault { .. }
            | Action::ArmIoError { .. } => {
                let fault = action.io_fault().expect("an action that arms an I/O error");
                self.arm_io(fault)
            }
            Action::Crash {
                unsynced,
                entries,
                other_files,
            } => self.crash(*unsynced, *entries, *other_files),
            Action::TearLastFrame { keep } => self.tear(*keep),
            Action::FlipBit { target, bit } => self.flip(*target, *bit),
            Action::Restart => self.restart(),
            Action::ForgeSnapshot { lsn } => self.forge_snapshot(*lsn),
        }
    }

    /// A read's fence after resolution: an LSN, or none.
    fn literal_fence(&self, fence: Option<Fence>) -> Result<Option<u64>, RunError> {
        match fence {
            None => Ok(None),
            Some(fence) => fence
                .lsn()
                .map(Some)
                .ok_or_else(|| self.invalid(format!("fence `{fence}` was not resolved"))),
        }
    }

    /// An oracle's violation at the current step, as the run's failure.
    pub(crate) fn fail(&self, violation: Violation) -> RunError {
        RunError::Oracle(OracleFailure {
            oracle: violation.oracle,
            seed: self.seed,
            step: self.step,
            detail: violation.detail,
            panic: None,
        })
    }

    /// A panic at the current step, as the run's failure.
    pub(crate) fn panicked(&self, panicked: Panicked) -> RunError {
        panicked_failure(self.seed, self.step, panicked)
    }

    /// An action that can do nothing: a transcript note in a generated run,
    /// an error in a strict one.
    fn no_effect(&self, reason: impl Into<String>) -> StepResult {
        let reason = reason.into();
        if self.config.strict {
            Err(self.invalid(format!("this step has no effect: {reason}")))
        } else {
            Ok(StepLine::new(reason))
        }
    }

    fn invalid(&self, reason: impl Into<String>) -> RunError {
        RunError::InvalidAction {
            step: self.step,
            reason: reason.into(),
        }
    }

    fn io(&self, source: io::Error) -> RunError {
        RunError::Io {
            step: self.step,
            source,
        }
    }

    fn engine_behaviour(&self, detail: impl Into<String>) -> RunError {
        self.fail(Violation::new(Oracle::EngineBehaviour, detail))
    }

    /// The process dies, if one runs: its arms die with it (the I/O
    /// errors it never met are kept in the event).
    fn kill(&mut self) {
        if self.process.status() == EngineStatus::Down {
            return;
        }
        self.process = Process::Down;
        self.event.io_died = self.arms.process_died();
        self.fs.disarm_io_faults();
    }
}
