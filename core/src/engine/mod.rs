//! The single-node engine: sequences writes through the WAL into the state
//! machine.
//!
//! Write path: validate -> assign LSN -> append frame -> sync -> apply ->
//! reply. A failed append or sync halts the engine: that write is
//! `storage_failure` (indefinite), every later write `engine_halted`, and
//! reads fail closed, until a restart recovers from the files.
//!
//! The crash seams (`fault` module, `arm_crash`, `open_with_faults`) exist
//! only with the `fault-injection` feature; I/O errors are injected where
//! the file operations are made (`crate::fs::fault`).
#![cfg_attr(
    not(feature = "fault-injection"),
    doc = r#"
In this build (no `fault-injection`) the engine is reachable:

```
use allocdb_core::engine::{Engine, EngineConfig};
let _open: fn(&std::path::Path, EngineConfig) -> _ = Engine::open;
```

but the fault module is not:

```compile_fail
use allocdb_core::engine::fault::CrashPoint;
```

and neither are the arming calls:

```compile_fail
fn arm(engine: &mut allocdb_core::engine::Engine) {
    engine.arm_crash_after(todo!(), 0);
}
```
"#
)]

mod checkpoint;
mod error;
#[cfg(feature = "fault-injection")]
pub mod fault;
mod recovery;
mod replay_window;

pub use replay_window::REPLAY_LOOKAHEAD;

pub use checkpoint::CheckpointReport;
pub use error::{CheckpointError, OpenError, ReadError, SubmitError};
pub use recovery::{RecoveryReport, StartMode};

use crate::command::{ClientRequest, LogCommand};
use crate::config::Config;
use crate::ids::{LeaseId, Lsn, ResourceId, Slot};
use crate::machine::{DueExpiry, StateMachine};
use crate::outcome::{Applied, Outcome};
use crate::record::{Lease, Resource};
use crate::ring::Ring;
use crate::wal::{
    encode_record_frame, encoded_command_len, WalFile, WalRecord, MAX_FRAME_LEN, MAX_PAYLOAD_LEN,
};
use std::path::{Path, PathBuf};

#[cfg(feature = "fault-injection")]
use fault::{CrashPoint, Faults};

/// Most expirations one tick may commit, whatever the config says: the
/// tick's due list lives on the stack.
pub const TICK_BATCH_LIMIT: usize = 1024;

/// Engine bounds on top of the state machine's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    pub core: Config,
    /// Requests that may wait in the submission queue.
    pub max_submission_queue: u32,
}

impl EngineConfig {
    pub const fn small() -> EngineConfig {
        EngineConfig {
            core: Config::small(),
            max_submission_queue: 16,
        }
    }
}

/// One queued submission.
#[derive(Clone, Copy, Debug)]
struct Pending {
    request: ClientRequest,
    request_slot: Slot,
}

/// What one maintenance tick committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub expired: u32,
    pub noops: u32,
    pub last_lsn: Option<Lsn>,
}

/// Where the engine is in its life: serving, halted by a storage failure
/// until a restart, or stopped at a crash point (as if the process died).
enum Lifecycle {
    Running,
    Halted,
    #[cfg(feature = "fault-injection")]
    Crashed(CrashPoint),
}

pub struct Engine {
    config: EngineConfig,
    dir: PathBuf,
    sm: StateMachine,
    wal: WalFile,
    /// LSN the next frame gets (commands and snapshot markers share them);
    /// `None` once a frame took `u64::MAX`: the LSN space is spent.
    next_lsn: Option<Lsn>,
    /// LSN of the snapshot the last checkpoint wrote (or recovery loaded).
    snapshot_lsn: Option<Lsn>,
    /// The bounded submission queue.
    queue: Ring<Pending>,
    frame: Box<[u8; MAX_FRAME_LEN]>,
    lifecycle: Lifecycle,
    #[cfg(feature = "fault-injection")]
    faults: Faults,
}

/// Stops at an armed crash point (fault-injection builds only).
macro_rules! crash_point {
    ($engine:expr, $point:expr, $error:path) => {
        #[cfg(feature = "fault-injection")]
        {
            if $engine.faults.take_crash($point) {
                $engine.lifecycle = Lifecycle::Crashed($point);
                return Err($error($point));
            }
        }
    };
}
pub(crate) use crash_point;

impl Engine {
    /// Opens the engine in `dir`, recovering from whatever files are there.
    pub fn open(dir: &Path, config: EngineConfig) -> Result<(Engine, RecoveryReport), OpenError> {
        #[cfg(feature = "fault-injection")]
        return recovery::recover(dir, config, Faults::default());
        #[cfg(not(feature = "fault-injection"))]
        recovery::recover(dir, config)
    }

    /// Like [`Engine::open`], with faults armed for recovery and after.
    #[cfg(feature = "fault-injection")]
    pub fn open_with_faults(
        dir: &Path,
        config: EngineConfig,
        faults: Faults,
    ) -> Result<(Engine, RecoveryReport), OpenError> {
        recovery::recover(dir, config, faults)
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state machine, for audits and digests. Reads for clients go
    /// through the fenced read methods.
    pub fn state_machine(&self) -> &StateMachine {
        &self.sm
    }

    /// Halted by a storage failure: only a restart brings it back.
    pub fn is_halted(&self) -> bool {
        matches!(self.lifecycle, Lifecycle::Halted)
    }

    /// Stopped at an armed crash point: only its files are left to use.
    #[cfg(feature = "fault-injection")]
    pub fn is_crashed(&self) -> bool {
        matches!(self.lifecycle, Lifecycle::Crashed(_))
    }

    pub fn current_slot(&self) -> Slot {
        self.sm.last_request_slot()
    }

    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Queues a request. `Overloaded` (definite) when the queue is full.
    pub fn enqueue(
        &mut self,
        request: ClientRequest,
        request_slot: Slot,
    ) -> Result<(), SubmitError> {
        self.check_running()?;
        if self.queue.len() == self.queue.capacity() {
            return Err(SubmitError::Overloaded);
        }
        self.queue.push_back(Pending {
            request,
            request_slot,
        });
        assert!(
            self.queue.len() <= self.config.max_submission_queue.max(1) as usize,
            "the queue holds at most its bound"
        );
        Ok(())
    }

    /// Commits the oldest queued request; `None` when the queue is empty.
    pub fn process_next(&mut self) -> Option<(ClientRequest, Result<Applied, SubmitError>)> {
        let pending = self.queue.pop_front()?;
        let result = self.commit_client(&pending.request, pending.request_slot);
        Some((pending.request, result))
    }

    /// Commits one request directly. With requests already queued the engine
    /// is busy: `Overloaded`, definite.
    pub fn submit(
        &mut self,
        request: ClientRequest,
        request_slot: Slot,
    ) -> Result<Applied, SubmitError> {
        self.check_running()?;
        if !self.queue.is_empty() {
            return Err(SubmitError::Overloaded);
        }
        self.commit_client(&request, request_slot)
    }

    fn check_running(&self) -> Result<(), SubmitError> {
        match self.lifecycle {
            Lifecycle::Running => Ok(()),
            Lifecycle::Halted => Err(SubmitError::EngineHalted),
            #[cfg(feature = "fault-injection")]
            Lifecycle::Crashed(point) => Err(SubmitError::Crashed(point)),
        }
    }

    /// Definite rejections, checked before anything reaches the WAL.
    fn validate(&self, command: &LogCommand, request_slot: Slot) -> Result<Lsn, SubmitError> {
        self.check_running()?;
        if let LogCommand::Client(request) = command {
            if request.operation_id.0 == 0 {
                return Err(SubmitError::Malformed {
                    reason: "operation_id 0 is reserved",
                });
            }
        }
        let len = encoded_command_len(command);
        if len > MAX_PAYLOAD_LEN {
            return Err(SubmitError::CommandTooLarge { len });
        }
        let max = self.config.core.max_request_slot();
        if request_slot.0 > max {
            return Err(SubmitError::SlotOverflow {
                slot: request_slot,
                max,
            });
        }
        let current = self.sm.last_request_slot();
        if request_slot < current {
            return Err(SubmitError::SlotRewound {
                slot: request_slot,
                current,
            });
        }
        self.next_lsn.ok_or(SubmitError::LsnExhausted)
    }

    fn commit_client(
        &mut self,
        request: &ClientRequest,
        request_slot: Slot,
    ) -> Result<Applied, SubmitError> {
        let command = LogCommand::Client(*request);
        let lsn = self.validate(&command, request_slot)?;
        crash_point!(self, CrashPoint::ClientBeforeAppend, SubmitError::Crashed);
        self.append_and_sync(lsn, request_slot, &WalRecord::Command(command))?;
        crash_point!(self, CrashPoint::ClientAfterSync, SubmitError::Crashed);
        let applied = self.apply_logged(lsn, request_slot, &command);
        crash_point!(self, CrashPoint::ClientAfterApply, SubmitError::Crashed);
        Ok(applied)
    }

    /// Appends one frame and syncs it. Any failure halts the engine.
    fn append_and_sync(
        &mut self,
        lsn: Lsn,
        request_slot: Slot,
        record: &WalRecord,
    ) -> Result<(), SubmitError> {
        assert_eq!(Some(lsn), self.next_lsn, "a frame takes the next LSN");
        let len = encode_record_frame(lsn, request_slot, record, &mut self.frame[..]);
        self.next_lsn = lsn.next();
        let before = self.wal.len();
        if let Err(error) = self.wal.append(&self.frame[..len]) {
            self.lifecycle = Lifecycle::Halted;
            return Err(SubmitError::StorageFailure { kind: error.kind() });
        }
        #[cfg(feature = "fault-injection")]
        {
            let point = match record {
                WalRecord::Command(LogCommand::Expire { .. }) => CrashPoint::ExpireAfterAppend,
                _ => CrashPoint::ClientAfterAppend,
            };
            crash_point!(self, point, SubmitError::Crashed);
        }
        if let Err(error) = self.wal.sync() {
            self.lifecycle = Lifecycle::Halted;
            return Err(SubmitError::StorageFailure { kind: error.kind() });
        }
        assert_eq!(
            self.wal.len(),
            before + len as u64,
            "an append that returned wrote the whole frame"
        );
        assert_eq!(
            self.wal.durable_len(),
            self.wal.len(),
            "a completed sync covers every appended byte"
        );
        Ok(())
    }

    /// Applies a command that is durable in the WAL. A refusal here means
    /// the engine's own sequencing is broken: stop, never serve on.
    fn apply_logged(&mut self, lsn: Lsn, request_slot: Slot, command: &LogCommand) -> Applied {
        match self.sm.apply(lsn, request_slot, command) {
            Ok(applied) => {
                assert_eq!(applied.lsn, lsn, "the state machine applied the LSN logged");
                assert_eq!(
                    self.sm.last_applied_lsn(),
                    Some(lsn),
                    "the logged LSN is the last applied"
                );
                applied
            }
            Err(error) => {
                panic!("validated and logged command refused by the state machine: {error}")
            }
        }
    }

    /// The maintenance tick at `slot`: commits one internal `expire` per
    /// due lease (at most `max_expirations_per_tick`), each through the WAL.
    pub fn tick_expirations(&mut self, slot: Slot) -> Result<TickReport, SubmitError> {
        self.tick_expirations_with(slot, |_| {})
    }

    /// [`Engine::tick_expirations`], handing each committed expire's result
    /// to `on_commit` as it is applied.
    pub fn tick_expirations_with(
        &mut self,
        slot: Slot,
        mut on_commit: impl FnMut(&Applied),
    ) -> Result<TickReport, SubmitError> {
        let mut due = [DueExpiry {
            deadline_slot: Slot(0),
            lease_id: LeaseId(0),
        }; TICK_BATCH_LIMIT];
        self.check_running()?;
        let count = self.sm.due_expirations(slot, &mut due);
        let mut report = TickReport::default();
        for entry in &due[..count] {
            let command = LogCommand::Expire {
                lease_id: entry.lease_id,
                deadline_slot: entry.deadline_slot,
            };
            let lsn = self.validate(&command, slot)?;
            crash_point!(self, CrashPoint::ExpireBeforeAppend, SubmitError::Crashed);
            self.append_and_sync(lsn, slot, &WalRecord::Command(command))?;
            crash_point!(self, CrashPoint::ExpireAfterSync, SubmitError::Crashed);
            let applied = self.apply_logged(lsn, slot, &command);
            crash_point!(self, CrashPoint::ExpireAfterApply, SubmitError::Crashed);
            on_commit(&applied);
            match applied.outcome {
                Outcome::Expired { .. } => report.expired += 1,
                _ => report.noops += 1,
            }
            report.last_lsn = Some(lsn);
        }
        Ok(report)
    }

    fn check_read(&self, required_lsn: Option<Lsn>) -> Result<(), ReadError> {
        // A crashed engine is gone as far as its clients know: it refuses
        // reads as a halted one does.
        if !matches!(self.lifecycle, Lifecycle::Running) {
            return Err(ReadError::EngineHalted);
        }
        if let Some(required) = required_lsn {
            let applied = self.sm.last_applied_lsn();
            if applied.is_none_or(|a| a < required) {
                return Err(ReadError::FenceNotApplied { required, applied });
            }
        }
        Ok(())
    }

    /// A resource, answered only once `required_lsn` (if any) is applied.
    pub fn get_resource(
        &self,
        resource_id: ResourceId,
        required_lsn: Option<Lsn>,
    ) -> Result<Option<Resource>, ReadError> {
        self.check_read(required_lsn)?;
        Ok(self.sm.get_resource(resource_id))
    }

    /// A lease, answered only once `required_lsn` (if any) is applied.
    pub fn get_lease(
        &self,
        lease_id: LeaseId,
        required_lsn: Option<Lsn>,
    ) -> Result<Lease, ReadError> {
        self.check_read(required_lsn)?;
        self.sm.get_lease(lease_id).map_err(|code| match code {
            crate::outcome::ResultCode::LeaseRetired => ReadError::LeaseRetired,
            _ => ReadError::LeaseNotFound,
        })
    }

    /// Bytes of the WAL covered by a completed sync: a crash may lose,
    /// keep or tear anything after this.
    pub fn durable_wal_len(&self) -> u64 {
        self.wal.durable_len()
    }

    pub fn wal_len(&self) -> u64 {
        self.wal.len()
    }

    /// Arms a crash at `point`; it fires the next time the engine gets there.
    #[cfg(feature = "fault-injection")]
    pub fn arm_crash(&mut self, point: CrashPoint) {
        self.arm_crash_after(point, 0);
    }

    /// Arms a crash at `point` that lets `passes` arrivals through first:
    /// the crash at the third expire of a tick is `passes = 2`.
    #[cfg(feature = "fault-injection")]
    pub fn arm_crash_after(&mut self, point: CrashPoint, passes: u32) {
        self.faults.crash = Some(point);
        self.faults.crash_passes = passes;
    }
}
