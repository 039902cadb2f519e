//! The simulator: one seeded run of explicit actions against the real
//! engine on real files, judged by the oracles after every step.
//!
//! The driver keeps its own books (which frames are where in the WAL and
//! which are durable, which LSNs were acknowledged, what the snapshot
//! covers) and from them predicts what every crash, tear and flip must lead
//! to. The engine is never asked what it should have done.

use crate::action::{persist_failure_name, Action, FlipTarget, SimCommand, Unsynced};
use crate::answer::{Answer, Code};
use crate::event::{DamageVerdict, FailKind, StepEvent};
use crate::oracle::checks::{self, ExpectedFailure, ExpectedRecovery};
use crate::oracle::model::Model;
use crate::oracle::{Oracle, OracleFailure, Violation};
use crate::rng::SimRng;
use crate::run_dir::RunDir;
use crate::shadow::{command_frame_len, FrameKind, WalShadow};
use crate::stats::RunStats;
use crate::transcript::{describe_action, describe_applied, point_label, Transcript};
use crate::view::{ArmedCrash, EngineStatus, InFlight, SimView};
use allocdb_core::engine::fault::{CrashPath, CrashPoint, Faults, PersistFailure};
use allocdb_core::engine::{
    CheckpointError, Engine, EngineConfig, OpenError, ReadError, RecoveryReport, StartMode,
    SubmitError, TICK_BATCH_LIMIT,
};
use allocdb_core::snapshot::SNAPSHOT_FILE_NAME;
use allocdb_core::wal::WAL_FILE_NAME;
use allocdb_core::{
    Applied, ClientId, ClientRequest, CommandKind, LeaseId, LogCommand, Lsn, OperationId, Outcome,
    ResourceId, Slot, BUNDLE_SIZE_LIMIT,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io;
use std::path::PathBuf;

/// Self-test switches of the simulator (never of the core): they make the
/// simulator itself wrong so the whole failure path can be exercised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SelfTest {
    /// The model predicts a deadline one slot late for every successful reserve.
    WrongModel,
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
}

impl SimConfig {
    pub fn new(engine: EngineConfig) -> SimConfig {
        SimConfig {
            engine,
            selftest: None,
            strict: false,
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

impl RunError {
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

/// Damage the simulator did to the files while the engine was down.
#[derive(Clone, Copy, Debug)]
enum Damage {
    WalBit { offset: u64, bit: u8, frame: usize },
    SnapshotBit { offset: u64, bit: u8 },
}

pub struct Simulator {
    seed: u64,
    config: SimConfig,
    dir: RunDir,
    engine: Option<Engine>,
    status: EngineStatus,
    slot: Slot,
    model: Model,
    /// Commands whose frames were appended in the current timeline, in LSN
    /// order. Recovery must reproduce a prefix of it.
    history: Vec<(Lsn, Slot, LogCommand)>,
    shadow: WalShadow,
    next_lsn: Lsn,
    snapshot_lsn: Option<Lsn>,
    /// The model as of `snapshot_lsn`: recovery's starting point.
    snapshot_model: Option<Model>,
    /// Size of the snapshot file, kept so `view` needs no syscall.
    snapshot_len: Option<u64>,
    acknowledged: BTreeSet<Lsn>,
    requests: BTreeMap<u128, (u32, ClientRequest)>,
    submitted: Vec<u128>,
    in_flight: Vec<InFlight>,
    next_operation: u128,
    armed_crash: Option<CrashPoint>,
    /// The step that armed `armed_crash`.
    armed_at_step: u64,
    armed_persist: Option<PersistFailure>,
    recovery_crash: Option<CrashPoint>,
    damage: Option<Damage>,
    /// What the per-step oracles last passed on the running engine.
    verified: Option<Verified>,
    step: u64,
    transcript: Transcript,
    stats: RunStats,
    event: StepEvent,
    /// Orders same-slot ingress (bursts). A stream of its own, so that a
    /// scenario's bursts do not depend on anything but the seed.
    ingress: SimRng,
}

/// The state the per-step oracles last passed. Records change only when
/// a command is applied, and every apply moves the LSN, so while neither
/// the engine's nor the model's last applied LSN has moved their digests
/// are the ones already compared.
#[derive(Clone, Copy, Debug)]
struct Verified {
    engine_lsn: Option<Lsn>,
    model_lsn: Option<Lsn>,
    digest: u64,
}

/// The ChaCha stream that orders same-slot ingress; the workload uses 0.
const INGRESS_STREAM: u64 = 1;

type StepResult = Result<StepLine, RunError>;

/// What one step did, for the transcript.
struct StepLine {
    outcome: String,
    lsn: Option<Lsn>,
}

/// Reads take a shared borrow of the engine and an advance only moves the
/// simulator's slot: neither can change anything the oracles look at.
fn leaves_engine_untouched(action: &Action) -> bool {
    matches!(
        action,
        Action::ReadResource { .. }
            | Action::ReadLease { .. }
            | Action::AdvanceSlot { .. }
            | Action::AdvanceTo { .. }
    )
}

impl StepLine {
    fn new(outcome: impl Into<String>) -> StepLine {
        StepLine {
            outcome: outcome.into(),
            lsn: None,
        }
    }
}

impl Simulator {
    /// Starts a fresh engine in a new run directory. `header` lines (fault
    /// mix and the like) go at the top of the transcript.
    pub fn new(seed: u64, config: SimConfig, header: &[String]) -> Result<Simulator, RunError> {
        let io = |source| RunError::Io { step: 0, source };
        let dir = RunDir::new().map_err(io)?;
        let (engine, _) = Engine::open(dir.path(), config.engine).map_err(|e| RunError::Io {
            step: 0,
            source: io::Error::other(e.to_string()),
        })?;
        let mut transcript = Transcript::new(seed, &config.engine);
        for line in header {
            transcript.header(line);
        }
        if let Some(selftest) = config.selftest {
            transcript.header(&format!("selftest: {selftest:?}"));
        }
        Ok(Simulator {
            seed,
            model: Model::new(config.engine.core),
            config,
            dir,
            engine: Some(engine),
            status: EngineStatus::Up,
            slot: Slot(0),
            history: Vec::new(),
            shadow: WalShadow::default(),
            next_lsn: Lsn(1),
            snapshot_lsn: None,
            snapshot_model: None,
            snapshot_len: None,
            acknowledged: BTreeSet::new(),
            requests: BTreeMap::new(),
            submitted: Vec::new(),
            in_flight: Vec::new(),
            next_operation: 1,
            armed_crash: None,
            armed_at_step: 0,
            armed_persist: None,
            recovery_crash: None,
            damage: None,
            verified: None,
            step: 0,
            transcript,
            stats: RunStats::default(),
            event: StepEvent::default(),
            ingress: SimRng::with_stream(seed, INGRESS_STREAM),
        })
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

    /// The crash point and persist failure armed in the running engine, and
    /// the recovery crash point armed for the next restart.
    pub fn armed(
        &self,
    ) -> (
        Option<CrashPoint>,
        Option<PersistFailure>,
        Option<CrashPoint>,
    ) {
        (self.armed_crash, self.armed_persist, self.recovery_crash)
    }

    /// The WAL bytes written since the last sync, as `(offset, written)` of
    /// each frame they hold, offsets counted from the last synced byte:
    /// what a crash can keep or lose.
    pub fn unsynced_frames(&self) -> Vec<(u64, u64)> {
        let durable = self.shadow.durable_len();
        self.shadow
            .frames()
            .iter()
            .filter(|f| f.start + f.written > durable)
            .map(|f| {
                (
                    f.start.saturating_sub(durable),
                    f.start + f.written - f.start.max(durable),
                )
            })
            .collect()
    }

    /// The engine, while it is up (not halted, not down).
    pub fn live_engine(&self) -> Option<&Engine> {
        match self.status {
            EngineStatus::Up => self.engine.as_ref(),
            _ => None,
        }
    }

    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// Adds a line to the transcript (expectations, a scenario's verdict).
    pub fn note(&mut self, line: &str) {
        self.transcript.note(line);
    }

    /// Keeps the run directory (for a failure) and returns its path.
    pub fn keep_dir(self) -> PathBuf {
        self.dir.keep()
    }

    pub fn view(&self) -> SimView<'_> {
        SimView {
            slot: self.slot,
            status: self.status,
            model: &self.model,
            in_flight: &self.in_flight,
            submitted: &self.submitted,
            wal_frames: self.shadow.frames().len() as u32,
            snapshot_len: self.snapshot_len,
            unsynced_bytes: self.shadow.unsynced(),
            next_operation: self.next_operation,
            armed_crash: self.armed_crash.map(|point| ArmedCrash {
                point,
                steps_since: self.step - self.armed_at_step,
            }),
            damage_pending: self.damage.is_some(),
        }
    }

    /// The snapshot now on disk covers `lsn`, and the model at that point
    /// is the live model.
    fn snapshot_taken(&mut self, lsn: Lsn) {
        self.snapshot_lsn = Some(lsn);
        self.snapshot_model = Some(self.model.clone());
        self.snapshot_len = fs::metadata(self.dir.path().join(SNAPSHOT_FILE_NAME))
            .ok()
            .map(|m| m.len());
    }

    fn fail(&self, violation: Violation) -> RunError {
        RunError::Oracle(OracleFailure {
            oracle: violation.oracle,
            seed: self.seed,
            step: self.step,
            detail: violation.detail,
        })
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

    /// Runs one action, then every oracle, and appends the transcript line
    /// (a failed step gets a `FAILED` line and the failure under it).
    pub fn step(&mut self, action: &Action) -> Result<(), RunError> {
        self.step += 1;
        self.stats.action(action.kind());
        self.event.clear();
        let (outcome, lsn, digest, result) = match self.run_step(action) {
            Ok((line, digest)) => (line.outcome, line.lsn, digest, Ok(())),
            Err(error) => ("FAILED".to_string(), None, None, Err(error)),
        };
        self.transcript.step(
            self.step,
            self.slot,
            &describe_action(action),
            &outcome,
            lsn,
            digest,
        );
        if let Err(error) = &result {
            self.transcript.note(&format!("failed: {}", error.detail()));
        }
        result
    }

    fn run_step(&mut self, action: &Action) -> Result<(StepLine, Option<u64>), RunError> {
        let line = match action {
            Action::Submit {
                client,
                operation,
                command,
            } => self.submit(*client, *operation, command)?,
            Action::Retry { operation } => self.retry(*operation)?,
            Action::Burst(requests) => self.burst(requests)?,
            Action::AdvanceSlot { by } => self.advance(*by)?,
            Action::AdvanceTo { slot } => match slot.checked_sub(self.slot.0) {
                Some(by) => self.advance(by)?,
                None => {
                    return Err(self.invalid(format!(
                        "advance_to slot {slot} goes backwards from slot {}",
                        self.slot.0
                    )))
                }
            },
            Action::Tick => self.tick()?,
            Action::Checkpoint => self.checkpoint()?,
            Action::ReadResource {
                resource,
                required_lsn,
            } => self.read_resource(*resource, *required_lsn)?,
            Action::ReadLease {
                lease,
                required_lsn,
            } => self.read_lease(*lease, *required_lsn)?,
            Action::ArmCrash(point) => self.arm_crash(*point, 0)?,
            Action::ArmCrashAfter { point, passes } => self.arm_crash(*point, *passes)?,
            Action::ArmPersistFailure(failure) => self.arm_persist(*failure)?,
            Action::Crash { unsynced } => self.crash(*unsynced)?,
            Action::TearLastFrame { keep } => self.tear(*keep)?,
            Action::FlipBit { target, bit } => self.flip(*target, *bit)?,
            Action::Restart => self.restart()?,
        };
        let digest = self.check_live(action)?;
        Ok((line, digest))
    }

    /// The per-step oracles on a running engine; returns its digest.
    fn check_live(&mut self, action: &Action) -> Result<Option<u64>, RunError> {
        let (Some(engine), EngineStatus::Up) = (&self.engine, self.status) else {
            return Ok(None);
        };
        let sm = engine.state_machine();
        let unchanged = self.verified.filter(|v| {
            v.engine_lsn == sm.last_applied_lsn() && v.model_lsn == self.model.last_applied_lsn()
        });
        // The audit also covers structure that moves without an apply (a
        // tick moves the expiry wheel's cursor), so only a step that never
        // borrowed the engine mutably reuses its verdict.
        if unchanged.is_none() || !leaves_engine_untouched(action) {
            checks::audit(sm).map_err(|v| self.fail(v))?;
        }
        if let Some(verified) = unchanged {
            return Ok(Some(verified.digest));
        }
        let digest = sm.digest();
        checks::digest(digest, self.model.digest()).map_err(|v| self.fail(v))?;
        checks::no_early_reuse(sm.leases(), self.config.engine.core.history_window_slots)
            .map_err(|v| self.fail(v))?;
        self.verified = Some(Verified {
            engine_lsn: sm.last_applied_lsn(),
            model_lsn: self.model.last_applied_lsn(),
            digest,
        });
        Ok(Some(digest))
    }

    // ---- client writes -------------------------------------------------

    fn to_request(
        &self,
        client: u32,
        operation: u128,
        command: &SimCommand,
    ) -> Result<ClientRequest, RunError> {
        let command = command.to_command().map_err(|overflow| {
            self.invalid(format!(
                "{overflow}; a command carries at most {BUNDLE_SIZE_LIMIT}"
            ))
        })?;
        Ok(ClientRequest {
            operation_id: OperationId(operation),
            client_id: ClientId(u128::from(client)),
            command,
        })
    }

    /// Books a new submission and returns the request it becomes.
    fn register(
        &mut self,
        client: u32,
        operation: u128,
        command: &SimCommand,
    ) -> Result<ClientRequest, RunError> {
        let request = self.to_request(client, operation, command)?;
        // A retry resends the latest request sent under this id.
        self.requests.insert(operation, (client, request));
        self.submitted.push(operation);
        self.next_operation = self.next_operation.max(operation + 1);
        Ok(request)
    }

    /// The request a retry of `operation` sends again.
    fn resend(&self, operation: u128) -> Result<(u32, ClientRequest), RunError> {
        self.requests.get(&operation).copied().ok_or_else(|| {
            self.invalid(format!(
                "retry of operation {operation}, which was never submitted"
            ))
        })
    }

    fn submit(&mut self, client: u32, operation: u128, command: &SimCommand) -> StepResult {
        let request = self.register(client, operation, command)?;
        self.deliver(client, request)
    }

    fn retry(&mut self, operation: u128) -> StepResult {
        let (client, request) = self.resend(operation)?;
        self.deliver(client, request)
    }

    fn keep_in_flight(&mut self, client: u32, operation: u128) {
        if !self.in_flight.iter().any(|f| f.operation == operation) {
            self.in_flight.push(InFlight { client, operation });
        }
    }

    /// The model's prediction for a command the engine applied.
    fn predict(&mut self, lsn: Lsn, command: &LogCommand) -> Result<Applied, RunError> {
        let mut predicted = self
            .model
            .apply(lsn, self.slot, command)
            .map_err(|e| self.engine_behaviour(format!("the model refused lsn {}: {e}", lsn.0)))?;
        if self.config.selftest == Some(SelfTest::WrongModel)
            && command.kind() == CommandKind::Reserve
        {
            if let Outcome::Reserved { deadline_slot, .. } = &mut predicted.outcome {
                *deadline_slot = Slot(deadline_slot.0 + 1);
            }
        }
        Ok(predicted)
    }

    /// A request reaches a down engine: nobody answers, the client retries.
    fn undelivered(&mut self, client: u32, operation: u128) {
        self.keep_in_flight(client, operation);
        self.event
            .answers
            .push((operation, Answer::uncached(Code::Undelivered)));
    }

    fn deliver(&mut self, client: u32, request: ClientRequest) -> StepResult {
        if self.status == EngineStatus::Down {
            self.undelivered(client, request.operation_id.0);
            return Ok(StepLine::new("undelivered: engine down"));
        }
        let slot = self.slot;
        let engine = self.engine.as_mut().expect("up or halted has an engine");
        let before = engine.wal_len();
        let result = engine.submit(request, slot);
        self.settle(client, request, before, result)
    }

    /// Requests arriving at the same slot: the seed orders them, the queue
    /// takes what fits, the engine commits the queue in order.
    fn burst(&mut self, requests: &[Action]) -> StepResult {
        if requests.is_empty() {
            return Err(self.invalid("a burst needs at least one request"));
        }
        let mut arrivals = Vec::with_capacity(requests.len());
        for action in requests {
            arrivals.push(match action {
                Action::Submit {
                    client,
                    operation,
                    command,
                } => (*client, self.register(*client, *operation, command)?),
                Action::Retry { operation } => self.resend(*operation)?,
                other => {
                    return Err(self.invalid(format!(
                        "a burst holds submits and retries only, not {}",
                        other.kind().name()
                    )))
                }
            });
        }
        self.ingress.shuffle(&mut arrivals);
        let order: Vec<String> = arrivals
            .iter()
            .map(|(_, r)| format!("op{}", r.operation_id.0))
            .collect();
        let mut parts = vec![format!("order {}", order.join(","))];
        if self.status == EngineStatus::Down {
            for (client, request) in &arrivals {
                self.undelivered(*client, request.operation_id.0);
            }
            parts.push("undelivered: engine down".to_string());
            return Ok(StepLine::new(parts.join("; ")));
        }
        let slot = self.slot;
        let mut queued = Vec::with_capacity(arrivals.len());
        for (client, request) in arrivals {
            let engine = self.engine.as_mut().expect("up or halted has an engine");
            let before = engine.wal_len();
            match engine.enqueue(request, slot) {
                Ok(()) => queued.push((client, request)),
                Err(error) => {
                    let line = self.settle(client, request, before, Err(error))?;
                    parts.push(format!("op{} {}", request.operation_id.0, line.outcome));
                }
            }
        }
        let mut lsn = None;
        for (client, request) in queued {
            let operation = request.operation_id.0;
            if self.status == EngineStatus::Down {
                // Queued, never answered: the process died with the queue.
                self.keep_in_flight(client, operation);
                self.event
                    .answers
                    .push((operation, Answer::uncached(Code::Crashed)));
                parts.push(format!("op{operation} lost with the queue"));
                continue;
            }
            let engine = self.engine.as_mut().expect("up or halted has an engine");
            let before = engine.wal_len();
            let Some((processed, result)) = engine.process_next() else {
                return Err(self
                    .engine_behaviour(format!("the queue lost op{operation} without answering")));
            };
            if processed.operation_id != request.operation_id {
                return Err(self.engine_behaviour(format!(
                    "the queue answered op{} before op{operation}",
                    processed.operation_id.0
                )));
            }
            let line = self.settle(client, request, before, result)?;
            lsn = line.lsn.or(lsn);
            parts.push(format!("op{operation} {}", line.outcome));
        }
        Ok(StepLine {
            outcome: parts.join("; "),
            lsn,
        })
    }

    /// Books what the engine did with one request (the WAL bytes it wrote
    /// since `before`, and its answer) and checks it.
    fn settle(
        &mut self,
        client: u32,
        request: ClientRequest,
        before: u64,
        result: Result<Applied, SubmitError>,
    ) -> StepResult {
        let operation = request.operation_id.0;
        let command = LogCommand::Client(request);
        let lsn = self.next_lsn;
        let engine = self.engine.as_ref().expect("up or halted has an engine");
        let after = engine.wal_len();
        let engine_durable = engine.durable_wal_len();
        self.record_append(lsn, command, before, after)?;
        self.event.answers.push((operation, Answer::of(&result)));

        match result {
            Ok(applied) => {
                if applied.lsn != lsn {
                    return Err(self.engine_behaviour(format!(
                        "committed at lsn {}, expected {}",
                        applied.lsn.0, lsn.0
                    )));
                }
                self.shadow.mark_synced();
                checks::acknowledged_durable(lsn, after, engine_durable)
                    .map_err(|v| self.fail(v))?;
                let predicted = self.predict(lsn, &command)?;
                checks::agreement("client command", &applied, &predicted)
                    .map_err(|v| self.fail(v))?;
                self.acknowledged.insert(lsn);
                self.in_flight.retain(|f| f.operation != operation);
                Ok(StepLine {
                    outcome: describe_applied(&applied),
                    lsn: Some(lsn),
                })
            }
            Err(error) => {
                let line =
                    self.write_failed(error, CrashPoint::ClientAfterAppend, engine_durable)?;
                // A definite refusal says only that this attempt did
                // nothing: an earlier attempt in flight stays unresolved.
                if !error.is_definite() {
                    self.keep_in_flight(client, operation);
                }
                Ok(line)
            }
        }
    }

    /// Books whatever the engine appended for the frame at `lsn`.
    fn record_append(
        &mut self,
        lsn: Lsn,
        command: LogCommand,
        before: u64,
        after: u64,
    ) -> Result<(), RunError> {
        if after == before {
            return Ok(());
        }
        let len = command_frame_len(&command);
        let written = after - before;
        if after < before || written > len {
            return Err(self.engine_behaviour(format!(
                "one command changed the WAL from {before} to {after} bytes; its frame is {len}"
            )));
        }
        self.shadow.push(lsn, FrameKind::Command, len, written);
        self.history.push((lsn, self.slot, command));
        self.next_lsn = Lsn(lsn.0 + 1);
        Ok(())
    }

    /// The engine says it crashed at `point`: that must be the armed one.
    fn armed_crash_fired(&mut self, point: CrashPoint) -> Result<(), RunError> {
        if self.armed_crash != Some(point) {
            return Err(self.engine_behaviour(format!(
                "crashed at {point:?}, armed {:?}",
                self.armed_crash
            )));
        }
        self.armed_crash = None;
        self.stats.crash_point(point);
        self.event.crashed_at = Some(point);
        Ok(())
    }

    /// A write path returned an error: check it is the one armed, and book
    /// what is durable. `after_append` is the path's one point where its
    /// frame is written but not yet synced.
    fn write_failed(
        &mut self,
        error: SubmitError,
        after_append: CrashPoint,
        engine_durable: u64,
    ) -> StepResult {
        match error {
            SubmitError::Crashed(point) => {
                self.armed_crash_fired(point)?;
                // Everything before the append was synced, and so is the
                // frame itself at every later point.
                if point != after_append {
                    self.shadow.mark_synced();
                }
                self.status = EngineStatus::Down;
                if engine_durable != self.shadow.durable_len() {
                    return Err(self.fail(Violation::new(
                        Oracle::Durability,
                        format!(
                            "after a crash at {point:?} the engine reports {engine_durable} synced bytes, the write path implies {}",
                            self.shadow.durable_len()
                        ),
                    )));
                }
                Ok(StepLine::new(format!("crashed at {}", point_label(point))))
            }
            SubmitError::StorageFailure { .. } => {
                let Some(failure) = self.armed_persist.take() else {
                    return Err(
                        self.engine_behaviour(format!("storage failure with none armed: {error}"))
                    );
                };
                self.stats.persist_failure(failure);
                self.event.persist_failed = Some(failure);
                self.status = EngineStatus::Halted;
                Ok(StepLine::new(format!(
                    "storage_failure ({})",
                    persist_failure_name(failure)
                )))
            }
            SubmitError::EngineHalted if self.status == EngineStatus::Halted => {
                Ok(StepLine::new("engine_halted"))
            }
            other if other.is_definite() => Ok(StepLine::new(format!("rejected: {other}"))),
            other => Err(self.engine_behaviour(format!("unexpected error: {other}"))),
        }
    }

    // ---- time and maintenance -----------------------------------------

    fn advance(&mut self, by: u64) -> StepResult {
        let max = self.config.engine.core.max_request_slot();
        let Some(slot) = self.slot.0.checked_add(by).filter(|&s| s <= max) else {
            return Err(self.invalid(format!(
                "advancing by {by} passes the largest safe slot {max}"
            )));
        };
        self.slot = Slot(slot);
        Ok(StepLine::new(format!("slot {slot}")))
    }

    fn tick(&mut self) -> StepResult {
        if self.status == EngineStatus::Down {
            return Ok(StepLine::new("undelivered: engine down"));
        }
        let limit =
            (self.config.engine.core.max_expirations_per_tick as usize).min(TICK_BATCH_LIMIT);
        let due = self.model.due_expirations(self.slot, limit);
        let slot = self.slot;
        let engine = self.engine.as_mut().expect("up or halted has an engine");
        let before = engine.wal_len();
        let mut committed = Vec::new();
        let result = engine.tick_expirations_with(slot, |applied| committed.push(*applied));
        let after = engine.wal_len();
        let engine_durable = engine.durable_wal_len();

        // Book the frames: each is the next due expire, in order.
        let mut position = before;
        let mut expires = Vec::new();
        for (i, &(lease_id, deadline_slot)) in due.iter().enumerate() {
            if position >= after {
                break;
            }
            let command = LogCommand::Expire {
                lease_id,
                deadline_slot,
            };
            let frame = command_frame_len(&command);
            let end = (position + frame).min(after);
            let lsn = Lsn(self.next_lsn.0);
            self.record_append(lsn, command, position, end)?;
            if end - position == frame && i + 1 < due.len() && end < after {
                // Earlier frames of a tick were synced before the next append.
                self.shadow.mark_synced();
            }
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
        if committed.len() > expires.len() {
            return Err(self.engine_behaviour("more expires applied than appended"));
        }
        for (applied, (lsn, command)) in committed.iter().zip(&expires) {
            let predicted = self.predict(*lsn, command)?;
            checks::agreement("expire", applied, &predicted).map_err(|v| self.fail(v))?;
        }
        let lsn = committed.last().map(|a| a.lsn);
        match result {
            Ok(report) => {
                if committed.len() != due.len() {
                    return Err(self.fail(Violation::new(
                        Oracle::ModelAgreement,
                        format!(
                            "the tick committed {} expires, the model predicted {due:?}",
                            committed.len()
                        ),
                    )));
                }
                self.shadow.mark_synced();
                for applied in &committed {
                    checks::acknowledged_durable(applied.lsn, after, engine_durable)
                        .map_err(|v| self.fail(v))?;
                    self.acknowledged.insert(applied.lsn);
                }
                Ok(StepLine {
                    outcome: format!("expired {} noop {}", report.expired, report.noops),
                    lsn,
                })
            }
            Err(error) => {
                // Applied means synced first, so every applied expire is durable.
                for applied in &committed {
                    self.acknowledged.insert(applied.lsn);
                }
                let mut line =
                    self.write_failed(error, CrashPoint::ExpireAfterAppend, engine_durable)?;
                line.lsn = lsn;
                Ok(line)
            }
        }
    }

    fn checkpoint(&mut self) -> StepResult {
        if self.status != EngineStatus::Up {
            return self.no_effect(format!("skipped: engine {:?}", self.status));
        }
        let previous = self.snapshot_lsn.unwrap_or(Lsn(0));
        let marker_lsn = self.next_lsn;
        let snapshot_lsn = self.model.last_applied_lsn().unwrap_or(Lsn(0));
        let engine = self.engine.as_mut().expect("up has an engine");
        match engine.checkpoint() {
            Ok(report) => {
                if report.snapshot_lsn != snapshot_lsn {
                    return Err(self.engine_behaviour(format!(
                        "snapshot at lsn {}, applied {}",
                        report.snapshot_lsn.0, snapshot_lsn.0
                    )));
                }
                self.snapshot_taken(snapshot_lsn);
                self.shadow.rewrite(previous, marker_lsn);
                self.next_lsn = Lsn(marker_lsn.0 + 1);
                Ok(StepLine::new(format!(
                    "snapshot at lsn {}, {} frames kept",
                    snapshot_lsn.0, report.frames_kept
                )))
            }
            Err(CheckpointError::Crashed(point)) => {
                self.armed_crash_fired(point)?;
                self.status = EngineStatus::Down;
                match point {
                    CrashPoint::CheckpointAfterSnapshotTemp => {}
                    CrashPoint::CheckpointAfterSnapshotRename
                    | CrashPoint::CheckpointAfterSnapshot => {
                        self.snapshot_taken(snapshot_lsn);
                    }
                    _ => {
                        self.snapshot_taken(snapshot_lsn);
                        self.shadow.rewrite(previous, marker_lsn);
                        self.next_lsn = Lsn(marker_lsn.0 + 1);
                    }
                }
                Ok(StepLine::new(format!("crashed at {}", point_label(point))))
            }
            Err(other) => Err(self.engine_behaviour(format!("checkpoint failed: {other}"))),
        }
    }

    // ---- reads ---------------------------------------------------------

    fn read_check(
        &self,
        required_lsn: Option<u64>,
    ) -> Result<Option<Result<(), ReadError>>, RunError> {
        match self.status {
            EngineStatus::Down => Ok(None),
            EngineStatus::Halted => Ok(Some(Err(ReadError::EngineHalted))),
            EngineStatus::Up => {
                let applied = self.model.last_applied_lsn();
                Ok(Some(match required_lsn {
                    Some(required) if applied.is_none_or(|a| a.0 < required) => {
                        Err(ReadError::FenceNotApplied {
                            required: Lsn(required),
                            applied,
                        })
                    }
                    _ => Ok(()),
                }))
            }
        }
    }

    fn read_resource(&mut self, resource: u128, required_lsn: Option<u64>) -> StepResult {
        let Some(gate) = self.read_check(required_lsn)? else {
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let engine = self.engine.as_ref().expect("up or halted has an engine");
        let got = engine.get_resource(ResourceId(resource), required_lsn.map(Lsn));
        let expected = gate.map(|()| self.model.get_resource(ResourceId(resource)));
        if got != expected {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!("read resource {resource}: engine {got:?}, model {expected:?}"),
            )));
        }
        Ok(StepLine::new(match got {
            Ok(Some(r)) => format!("{} v{}", r.state.name(), r.version),
            Ok(None) => "not found".to_string(),
            Err(e) => format!("refused: {e}"),
        }))
    }

    fn read_lease(&mut self, lease: u128, required_lsn: Option<u64>) -> StepResult {
        let Some(gate) = self.read_check(required_lsn)? else {
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let engine = self.engine.as_ref().expect("up or halted has an engine");
        let got = engine.get_lease(LeaseId(lease), required_lsn.map(Lsn));
        let expected = gate.and_then(|()| {
            self.model
                .get_lease(LeaseId(lease))
                .map_err(|code| match code {
                    allocdb_core::ResultCode::LeaseRetired => ReadError::LeaseRetired,
                    _ => ReadError::LeaseNotFound,
                })
        });
        if got != expected {
            return Err(self.fail(Violation::new(
                Oracle::ModelAgreement,
                format!("read lease {lease}: engine {got:?}, model {expected:?}"),
            )));
        }
        Ok(StepLine::new(match got {
            Ok(l) => format!("{} epoch {}", l.state.name(), l.lease_epoch.0),
            Err(e) => format!("refused: {e}"),
        }))
    }

    // ---- faults --------------------------------------------------------

    fn arm_crash(&mut self, point: CrashPoint, passes: u32) -> StepResult {
        if point.path() == CrashPath::Recovery {
            if passes > 0 {
                return Err(self
                    .invalid("recovery reaches each of its crash points once: passes must be 0"));
            }
            self.recovery_crash = Some(point);
            return Ok(StepLine::new("armed for the next restart"));
        }
        match (self.status, self.engine.as_mut()) {
            (EngineStatus::Up, Some(engine)) => {
                engine.arm_crash_after(point, passes);
                self.armed_crash = Some(point);
                self.armed_at_step = self.step;
                Ok(StepLine::new("armed"))
            }
            _ => self.no_effect("ignored: engine not up"),
        }
    }

    fn arm_persist(&mut self, failure: PersistFailure) -> StepResult {
        match (self.status, self.engine.as_mut()) {
            (EngineStatus::Up, Some(engine)) => {
                engine.arm_persist_failure(failure);
                self.armed_persist = Some(failure);
                Ok(StepLine::new("armed"))
            }
            _ => self.no_effect("ignored: engine not up"),
        }
    }

    fn wal_path(&self) -> PathBuf {
        self.dir.path().join(WAL_FILE_NAME)
    }

    fn truncate_wal(&mut self, len: u64) -> Result<(), RunError> {
        let file = OpenOptions::new()
            .write(true)
            .open(self.wal_path())
            .map_err(|e| self.io(e))?;
        file.set_len(len).map_err(|e| self.io(e))?;
        self.shadow.truncate(len);
        // Damage in bytes that are now gone no longer exists.
        if let Some(Damage::WalBit { offset, .. }) = self.damage {
            if offset >= len {
                self.damage = None;
            }
        }
        Ok(())
    }

    /// The process dies; arms die with it.
    fn kill(&mut self) {
        self.engine = None;
        self.verified = None;
        self.status = EngineStatus::Down;
        self.armed_crash = None;
        self.armed_persist = None;
    }

    fn crash(&mut self, unsynced: Unsynced) -> StepResult {
        let already_down = self.status == EngineStatus::Down;
        if already_down && unsynced == Unsynced::Keep {
            return self.no_effect(
                "the process is already down, and keeping its unsynced bytes changes nothing",
            );
        }
        self.kill();
        let durable = self.shadow.durable_len();
        let len = self.shadow.file_len();
        let keep = match unsynced {
            Unsynced::Keep => len,
            Unsynced::Lose => durable,
            Unsynced::KeepPrefix(bytes) => durable + bytes.min(len - durable),
        };
        if keep < len {
            self.truncate_wal(keep)?;
        }
        Ok(StepLine::new(format!(
            "down, {} of {} unsynced bytes kept",
            keep - durable,
            len - durable
        )))
    }

    fn tear(&mut self, keep: u32) -> StepResult {
        if self.status != EngineStatus::Down {
            return Err(self.invalid("tear_last_frame needs the engine down (crash first)"));
        }
        if keep == 0 {
            return self.no_effect(
                "keeping 0 bytes removes the frame whole, which is no tear (crash losing the unsynced bytes does that)",
            );
        }
        let durable = self.shadow.durable_len();
        let Some(last) = self.shadow.frames().last().copied() else {
            return self.no_effect("nothing to tear: the WAL is empty");
        };
        if last.start < durable {
            return self.no_effect("nothing to tear: the last frame is durable");
        }
        if u64::from(keep) >= last.written {
            return self.no_effect("nothing to tear: keep covers the frame");
        }
        self.truncate_wal(last.start + u64::from(keep))?;
        Ok(StepLine::new(format!(
            "last frame (lsn {}) torn to {keep} bytes",
            last.lsn.0
        )))
    }

    fn flip(&mut self, target: FlipTarget, bit: u8) -> StepResult {
        if self.status != EngineStatus::Down {
            return Err(self.invalid("flip_bit needs the engine down (crash first)"));
        }
        if bit > 7 {
            return Err(self.invalid(format!("bit {bit} is not in 0..=7")));
        }
        if self.damage.is_some() {
            return self.no_effect("ignored: damage already pending");
        }
        let (path, offset, damage) = match target {
            FlipTarget::WalFrame { frame, byte } => {
                let Some(f) = self.shadow.frames().get(frame as usize).copied() else {
                    return self.no_effect(format!("ignored: the WAL has no frame {frame}"));
                };
                if u64::from(byte) >= f.written {
                    return self
                        .no_effect(format!("ignored: frame {frame} has {} bytes", f.written));
                }
                let offset = f.start + u64::from(byte);
                (
                    self.wal_path(),
                    offset,
                    Damage::WalBit {
                        offset,
                        bit,
                        frame: frame as usize,
                    },
                )
            }
            FlipTarget::Snapshot { byte } => {
                let Some(len) = self.snapshot_len else {
                    return self.no_effect("ignored: no snapshot");
                };
                if u64::from(byte) >= len {
                    return self.no_effect(format!("ignored: the snapshot has {len} bytes"));
                }
                let offset = u64::from(byte);
                (
                    self.dir.path().join(SNAPSHOT_FILE_NAME),
                    offset,
                    Damage::SnapshotBit { offset, bit },
                )
            }
        };
        flip_bit(&path, offset, bit).map_err(|e| self.io(e))?;
        self.damage = Some(damage);
        Ok(StepLine::new(format!("flipped bit {bit} at byte {offset}")))
    }

    // ---- restart -------------------------------------------------------

    fn open(&self, faults: Faults) -> Result<(Engine, RecoveryReport), OpenError> {
        Engine::open_with_faults(self.dir.path(), self.config.engine, faults)
    }

    fn restart(&mut self) -> StepResult {
        // A restart of a live or halted process keeps every written byte.
        self.kill();
        let mut notes = Vec::new();
        if let Some(damage) = self.damage.take() {
            if let Some(note) = self.confirm_fail_closed(damage)? {
                notes.push(note);
            }
        }

        let (expected, expected_model) = self.expected_recovery();
        if let Some(point) = self.recovery_crash.take() {
            let reachable = match point {
                CrashPoint::RecoveryAfterSnapshotLoad => expected.report.snapshot_lsn.is_some(),
                CrashPoint::RecoveryAfterTornTailTruncate => expected.report.torn_bytes > 0,
                // Frames count from 1: k = 0 names no frame.
                CrashPoint::RecoveryAfterReplayedFrame(k) => {
                    k >= 1 && expected.report.frames_replayed >= k
                }
                _ => false,
            };
            if reachable {
                let faults = Faults {
                    crash: Some(point),
                    persist: None,
                    crash_passes: 0,
                };
                return match self.open(faults) {
                    Err(OpenError::Crashed(p)) if p == point => {
                        self.stats.crash_point(point);
                        self.event.crashed_at = Some(point);
                        // Opening syncs the whole file; a crash after the
                        // truncate has already cut the torn tail.
                        if point != CrashPoint::RecoveryAfterSnapshotLoad {
                            self.shadow.recovered();
                        }
                        self.shadow.mark_synced();
                        notes.push(format!("crashed at {}", point_label(point)));
                        Ok(StepLine::new(notes.join("; ")))
                    }
                    Err(other) => Err(self.fail(Violation::new(
                        Oracle::ReplayEquivalence,
                        format!("recovery failed: {other}"),
                    ))),
                    Ok(_) => Err(self
                        .engine_behaviour(format!("recovery did not reach armed point {point:?}"))),
                };
            }
            self.event.recovery_point_unreached = Some(point);
            notes.push(format!("{} not reached", point_label(point)));
        }

        let (engine, report) = match self.open(Faults::default()) {
            Ok(opened) => opened,
            Err(error) => {
                return Err(self.fail(Violation::new(
                    Oracle::ReplayEquivalence,
                    format!("recovery of undamaged storage failed: {error}"),
                )))
            }
        };
        checks::recovery(&expected, &report, engine.state_machine().digest())
            .map_err(|v| self.fail(v))?;
        checks::acknowledged_survive(&self.acknowledged, report.last_applied_lsn)
            .map_err(|v| self.fail(v))?;
        self.stats.recovery(report.mode, report.torn_bytes > 0);
        self.event.recovery = Some(report);

        let survived = self.survived_lsn();
        self.history.retain(|(lsn, ..)| *lsn <= survived);
        self.model = expected_model;
        self.shadow.recovered();
        self.next_lsn = Lsn(survived
            .max(self.shadow.frames().last().map_or(Lsn(0), |f| f.lsn))
            .0
            + 1);
        assert!(
            self.verified.is_none(),
            "a new engine starts with no verdict of the old one"
        );
        self.engine = Some(engine);
        self.status = EngineStatus::Up;
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
            outcome: notes.join("; "),
            lsn: report.last_applied_lsn,
        })
    }

    /// The last LSN the files on disk still hold (snapshot or WAL).
    fn survived_lsn(&self) -> Lsn {
        let wal = self.shadow.last_complete_lsn().unwrap_or(Lsn(0));
        wal.max(self.snapshot_lsn.unwrap_or(Lsn(0)))
    }

    /// The model rebuilt from the commands that survive: the model at the
    /// snapshot, then every later command whose frame is still there.
    fn replay_model(&self) -> Model {
        let survived = self.survived_lsn();
        let after = self.snapshot_lsn.unwrap_or(Lsn(0));
        let mut model = self
            .snapshot_model
            .clone()
            .unwrap_or_else(|| Model::new(self.config.engine.core));
        let start = self.history.partition_point(|(lsn, ..)| *lsn <= after);
        for (lsn, slot, command) in self.history[start..]
            .iter()
            .filter(|(lsn, ..)| *lsn <= survived)
        {
            model
                .apply(*lsn, *slot, command)
                .expect("history is in LSN and slot order");
        }
        model
    }

    fn expected_recovery(&self) -> (ExpectedRecovery, Model) {
        let snapshot = self.snapshot_lsn;
        let after = snapshot.unwrap_or(Lsn(0));
        let frames_replayed = self
            .shadow
            .frames()
            .iter()
            .filter(|f| f.is_complete() && f.lsn > after && f.kind == FrameKind::Command)
            .count() as u64;
        let mode = match (snapshot.is_some(), frames_replayed > 0) {
            (false, false) => StartMode::Fresh,
            (false, true) => StartMode::WalOnly,
            (true, false) => StartMode::SnapshotOnly,
            (true, true) => StartMode::SnapshotAndWal,
        };
        let model = self.replay_model();
        let expected = ExpectedRecovery {
            report: RecoveryReport {
                mode,
                snapshot_lsn: snapshot,
                frames_replayed,
                torn_bytes: self.shadow.file_len() - self.shadow.complete_len(),
                last_applied_lsn: model.last_applied_lsn(),
            },
            digest: model.digest(),
        };
        (expected, model)
    }

    /// Recovery over damaged files must fail closed where the damage is;
    /// afterwards the damage is undone (as an operator restoring the bytes
    /// would) so the run can go on. A flip in the tail, with no valid frame
    /// after it, may also read as a torn tail: then the frame is gone.
    fn confirm_fail_closed(&mut self, damage: Damage) -> Result<Option<String>, RunError> {
        let (path, offset, bit, expected) = match damage {
            Damage::SnapshotBit { offset, bit } => (
                self.dir.path().join(SNAPSHOT_FILE_NAME),
                offset,
                bit,
                ExpectedFailure::Snapshot,
            ),
            Damage::WalBit { offset, bit, frame } => {
                let start = self.shadow.frames()[frame].start;
                (
                    self.wal_path(),
                    offset,
                    bit,
                    ExpectedFailure::WalCorruptionAt { offset: start },
                )
            }
        };
        let result = self.open(Faults::default()).map(|(_, report)| report);
        let tail_frame = match damage {
            Damage::WalBit { frame, .. } => {
                let frames = self.shadow.frames();
                let valid_frame_follows = frames[frame + 1..].iter().any(|f| f.is_complete());
                (!valid_frame_follows).then_some(frame)
            }
            Damage::SnapshotBit { .. } => None,
        };
        if let (Some(frame), Ok(report)) = (tail_frame, &result) {
            // Read as a torn tail: the damaged frame and all after it are gone.
            let start = self.shadow.frames()[frame].start;
            if report.torn_bytes != self.shadow.file_len() - start {
                return Err(self.fail(Violation::new(
                    Oracle::FailClosed,
                    format!(
                        "a flip in the tail frame at byte {start} was cut as {} torn bytes",
                        report.torn_bytes
                    ),
                )));
            }
            let lost = self.shadow.frames()[frame].lsn;
            self.shadow.truncate(start);
            self.shadow.recovered();
            self.acknowledged.retain(|lsn| *lsn < lost);
            self.stats.fail_closed_or_torn(false);
            self.event.damage = Some(DamageVerdict::ReadAsTorn);
            return Ok(Some(format!(
                "damaged tail frame read as torn at byte {start}"
            )));
        }
        checks::fail_closed(expected, &result).map_err(|v| self.fail(v))?;
        self.stats.fail_closed_or_torn(true);
        self.event.damage = Some(DamageVerdict::FailedClosed(match damage {
            Damage::WalBit { .. } => FailKind::Wal,
            Damage::SnapshotBit { .. } => FailKind::Snapshot,
        }));
        flip_bit(&path, offset, bit).map_err(|e| self.io(e))?;
        Ok(Some(format!(
            "failed closed as expected ({expected:?}), damage undone"
        )))
    }
}

fn flip_bit(path: &std::path::Path, offset: u64, bit: u8) -> io::Result<()> {
    let mut bytes = fs::read(path)?;
    let byte = bytes
        .get_mut(offset as usize)
        .ok_or_else(|| io::Error::other(format!("offset {offset} beyond {}", path.display())))?;
    *byte ^= 1 << bit;
    fs::write(path, &bytes)
}
