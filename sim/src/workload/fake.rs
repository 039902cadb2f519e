//! A toy driver for the workload tests (`#[cfg(test)]`).

use std::collections::{BTreeMap, BTreeSet};

use allocdb_core::engine::fault::{CrashPath, CrashPoint};
use allocdb_core::engine::EngineConfig;
use allocdb_core::fs::fault::IoEffect;
use allocdb_core::fs::Site;
use allocdb_core::{
    ClientId, ClientRequest, Command, LeaseId, LogCommand, Lsn, OperationId, ResourceId,
    ResultCode, Slot,
};

use super::io_errors::is_checkpoint_site;
use super::traffic::BURST_OVERFLOW_MAX;
use super::Workload;
use crate::action::{Action, ActionKind, FlipTarget, SimCommand, Unsynced};
use crate::driver::wal_book::{command_frame_len, marker_frame_len, FrameContent, WalBook};
use crate::driver::ArmedIo;
use crate::lease_ref::{no_such_lease, LeaseRef};
use crate::oracle::model::windows::last_request_slot;
use crate::oracle::model::Model;
use crate::rng::SimRng;
use crate::view::{
    ArmedCrash, EngineStatus, InFlight, ReachSource, RecoveryReach, SentRequests, SimView,
};

/// What the fake sent under each operation id.
#[derive(Default)]
struct SentCommands(BTreeMap<u128, (u32, SimCommand)>);

impl SentRequests for SentCommands {
    fn sent(&self, operation: u128) -> Option<(u32, SimCommand)> {
        self.0.get(&operation).cloned()
    }
}

/// A toy driver: the model stands in for the engine, armed faults fire
/// roughly where the real ones would, and every action is checked
/// against the status it was generated for.
pub(super) struct Fake {
    pub(super) model: Model,
    slot: u64,
    pub(super) status: EngineStatus,
    in_flight: Vec<InFlight>,
    submitted: Vec<u128>,
    commands: SentCommands,
    next_operation: u128,
    lsn: u64,
    /// The toy's WAL: frame lengths as the simulator books them.
    wal: WalBook,
    pub(super) snapshot_len: Option<u64>,
    /// An LSN for each frame the toy writes.
    frame_lsn: u64,
    crash: Option<CrashPoint>,
    /// The step that armed `crash`.
    armed_at: u64,
    steps: u64,
    recovery_crash: Option<CrashPoint>,
    /// I/O errors armed (a persist failure is one).
    io: Vec<ArmedIo>,
    damaged: bool,
    pub(super) kinds: BTreeSet<ActionKind>,
    pub(super) codes: BTreeMap<ResultCode, u64>,
    pub(super) retry_cache_hits: u64,
    /// Requests sent while the engine was down.
    pub(super) undelivered: u64,
    down_run: u32,
    pub(super) longest_down_run: u32,
    queue_bound: usize,
    pub(super) bursts: u64,
    pub(super) burst_requests: u64,
    pub(super) largest_burst: usize,
    /// Burst requests refused because the queue was full.
    pub(super) overloaded: u64,
    /// Burst retries of a request that was in flight.
    pub(super) burst_in_flight_retries: u64,
    /// Burst requests whose operation id was sent before the burst
    /// (and not in flight).
    pub(super) burst_old: u64,
    /// Second copies of a request sent earlier in the same burst.
    pub(super) burst_echoes: u64,
}

impl ReachSource for Fake {
    fn recovery_reach(&self) -> RecoveryReach {
        // A toy's account: a down process's unsynced tail may be torn,
        // every frame but the marker may be replayed.
        RecoveryReach {
            snapshot: self.snapshot_len.is_some(),
            torn_bytes: if self.status == EngineStatus::Down {
                self.wal.unsynced()
            } else {
                0
            },
            frames_replayed: (self.wal.frames().len() as u64).saturating_sub(1),
        }
    }
}

impl Fake {
    pub(super) fn new(config: EngineConfig) -> Fake {
        Fake {
            model: Model::new(config.core),
            slot: 0,
            status: EngineStatus::Up,
            in_flight: Vec::new(),
            submitted: Vec::new(),
            commands: SentCommands::default(),
            next_operation: 1,
            lsn: 0,
            wal: WalBook::default(),
            frame_lsn: 0,
            snapshot_len: None,
            crash: None,
            armed_at: 0,
            steps: 0,
            recovery_crash: None,
            io: Vec::new(),
            damaged: false,
            kinds: BTreeSet::new(),
            codes: BTreeMap::new(),
            retry_cache_hits: 0,
            undelivered: 0,
            down_run: 0,
            longest_down_run: 0,
            queue_bound: config.max_submission_queue.max(1) as usize,
            bursts: 0,
            burst_requests: 0,
            largest_burst: 0,
            overloaded: 0,
            burst_in_flight_retries: 0,
            burst_old: 0,
            burst_echoes: 0,
        }
    }

    pub(super) fn view(&self) -> SimView<'_> {
        SimView {
            slot: Slot(self.slot),
            status: self.status,
            model: &self.model,
            in_flight: &self.in_flight,
            submitted: &self.submitted,
            sent: &self.commands,
            wal_frames: self.wal.frames().len() as u32,
            wal: &self.wal,
            snapshot_len: self.snapshot_len,
            unsynced_bytes: self.wal.unsynced(),
            pending_entries: 0,
            unsynced_other_bytes: 0,
            next_operation: self.next_operation,
            armed_crash: self.crash.map(|point| ArmedCrash {
                point,
                steps_since: self.steps - self.armed_at,
            }),
            armed_io: &self.io,
            damage_pending: self.damaged,
            recovery: self,
        }
    }

    pub(super) fn run(
        &mut self,
        workload: &mut Workload,
        rng: &mut SimRng,
        steps: usize,
    ) -> Vec<Action> {
        (0..steps)
            .map(|_| {
                let action = workload.next(rng, &self.view());
                self.step(&action);
                action
            })
            .collect()
    }

    fn step(&mut self, action: &Action) {
        self.steps += 1;
        self.kinds.insert(action.kind());
        let up = self.status == EngineStatus::Up;
        let down = self.status == EngineStatus::Down;
        if down && *action != Action::Restart {
            self.down_run += 1;
            self.longest_down_run = self.longest_down_run.max(self.down_run);
        } else {
            self.down_run = 0;
        }
        match action {
            Action::AdvanceTo { .. } | Action::ArmCrashAfter { .. } => {
                panic!("the workload does not generate {action:?} yet")
            }
            // A halted or dead engine meets every entry point its clients
            // cannot know it refuses: writes stay in flight.
            Action::Burst(requests) if !up => {
                for request in requests {
                    self.send(request);
                }
            }
            Action::Burst(requests) => self.burst(requests),
            Action::Submit { .. } | Action::Retry { .. } => self.send(action),
            Action::AdvanceSlot { by } => {
                // Only at the last slot there is (the end of time) is there
                // nowhere to advance to.
                assert!(*by > 0 || self.slot == u64::MAX);
                self.slot += by;
            }
            Action::Tick
            | Action::Checkpoint
            | Action::ReadResource { .. }
            | Action::ReadLease { .. }
                if !up => {}
            Action::Tick => self.tick(),
            Action::Checkpoint => self.checkpoint(),
            Action::ReadResource { .. } | Action::ReadLease { .. } => {}
            Action::ArmCrash(point) => self.arm_crash(action, *point),
            Action::ArmPersistFailure(_) | Action::ArmIoError { .. } => {
                let fault = action.io_fault().expect("an action that arms an I/O error");
                self.io.push(ArmedIo {
                    fault,
                    armed_at: self.steps,
                });
            }
            // A toy restart reads on regardless: the real driver checks
            // that recovery refuses.
            Action::ArmReadFault { .. } => assert!(down, "{action:?}"),
            Action::Crash { unsynced, .. } => self.crash(action, *unsynced),
            Action::TearLastFrame { keep } => {
                let last = *self.wal.frames().last().expect("a frame to tear");
                assert!(down && last.start >= self.wal.durable_len(), "{action:?}");
                assert!(*keep > 0 && u64::from(*keep) < last.written, "{action:?}");
                self.wal.truncate(last.start + u64::from(*keep));
            }
            Action::FlipBit { target, bit } => self.flip_bit(action, *target, *bit),
            Action::Restart => self.restart(),
            Action::ForgeSnapshot { .. } => panic!("the workload does not forge files"),
        }
    }

    /// A submit or a retry, delivered (or left in flight).
    fn send(&mut self, request: &Action) {
        match request {
            Action::Submit {
                client,
                operation,
                command,
                ..
            } => {
                self.book(*client, *operation, command);
                self.deliver(*client, *operation, command.clone());
            }
            Action::Retry { operation } => {
                let (client, command) = self.commands.0[operation].clone();
                self.deliver(client, *operation, command);
            }
            other => panic!("{other:?} is no request"),
        }
    }

    /// Expires what is due, unless an armed expire point fires first.
    fn tick(&mut self) {
        if self.past_the_end_of_time() {
            return;
        }
        let due = self.model.due_expirations(Slot(self.slot), 8);
        let expire_point = self.crash.filter(|p| p.path() == CrashPath::Expire);
        if let Some(point) = expire_point.filter(|_| !due.is_empty()) {
            if point == CrashPoint::ExpireAfterAppend {
                self.append(expire_frame_len(), expire_frame_len());
            }
            self.kill();
            return;
        }
        for (lease_id, deadline_slot) in due {
            self.apply(LogCommand::Expire {
                lease_id,
                deadline_slot,
            });
        }
    }

    /// Writes a snapshot and rewrites the log to its marker, unless an
    /// armed checkpoint point fires first.
    fn checkpoint(&mut self) {
        if self
            .crash
            .is_some_and(|p| p.path() == CrashPath::Checkpoint)
        {
            self.kill();
            return;
        }
        if self.take_io(is_checkpoint_site).is_some() {
            self.status = EngineStatus::Halted;
            return;
        }
        self.snapshot_len = Some(300);
        self.wal = WalBook::default();
        self.append(marker_frame_len(), marker_frame_len());
        self.wal.set_durable(self.wal.file_len());
    }

    fn arm_crash(&mut self, action: &Action, point: CrashPoint) {
        // Recovery points may be armed while down, for the
        // next restart, like the real driver allows.
        if point.path() == CrashPath::Recovery {
            self.recovery_crash = Some(point);
        } else {
            assert!(
                self.status == EngineStatus::Up,
                "{action:?} while {:?}",
                self.status
            );
            self.crash = Some(point);
            self.armed_at = self.steps;
        }
    }

    fn crash(&mut self, action: &Action, unsynced: Unsynced) {
        let tail = self.wal.unsynced();
        assert!(
            self.status != EngineStatus::Down || tail > 0,
            "{action:?} while down, nothing unsynced"
        );
        if let Unsynced::KeepPrefix(bytes) = unsynced {
            assert!(bytes < tail, "{action:?} of {tail}");
        }
        // Whatever survives a power loss is on disk: nothing stays unsynced.
        self.wal.set_durable(self.wal.file_len());
        self.kill();
    }

    fn flip_bit(&mut self, action: &Action, target: FlipTarget, bit: u8) {
        assert!(self.status == EngineStatus::Down && bit < 8, "{action:?}");
        assert!(!self.damaged, "a second flip before a restart");
        self.damaged = true;
        let frames = self.wal.frames();
        match target {
            FlipTarget::WalFrame { frame, byte } => {
                assert!(
                    u64::from(byte) < frames[frame as usize].written,
                    "{action:?}"
                );
            }
            FlipTarget::WalFrameFromEnd { back, byte } => {
                let frame = frames[frames.len() - 1 - back as usize];
                assert!(u64::from(byte) < frame.written, "{action:?}");
            }
            FlipTarget::WalFrameTail { back, from_end } => {
                let frame = frames[frames.len() - 1 - back as usize];
                assert!(u64::from(from_end) < frame.written, "{action:?}");
            }
            FlipTarget::Snapshot { byte } => {
                assert!(u64::from(byte) < self.snapshot_len.expect("a snapshot"));
            }
            FlipTarget::SnapshotFromEnd { back } => {
                assert!(u64::from(back) < self.snapshot_len.expect("a snapshot"));
            }
        }
    }

    fn restart(&mut self) {
        assert!(self.status != EngineStatus::Up, "restart while up");
        self.kill();
        // Recovery cuts a torn tail; what is left is on disk.
        self.wal.recovered();
        self.wal.set_durable(self.wal.file_len());
        self.damaged = false;
        let recovery_site = |site| {
            matches!(
                site,
                Site::SnapshotRead
                    | Site::WalOpen
                    | Site::WalDirectory
                    | Site::WalScan
                    | Site::WalTruncate
                    | Site::WalReplay
            )
        };
        let failed = self.take_io(recovery_site).is_some();
        if self.recovery_crash.take().is_none() && !failed {
            self.status = EngineStatus::Up;
        }
    }

    /// The first I/O error armed at a site `at` accepts, taken: the toy
    /// fires it at once, passes or not.
    fn take_io(&mut self, at: impl Fn(Site) -> bool) -> Option<ArmedIo> {
        let index = self.io.iter().position(|armed| at(armed.fault.site))?;
        Some(self.io.remove(index))
    }

    /// Books a submission: a fresh operation id is the next one, an
    /// old one is not in flight.
    fn book(&mut self, client: u32, operation: u128, command: &SimCommand) {
        if operation == self.next_operation {
            self.next_operation += 1;
            self.submitted.push(operation);
        } else {
            assert!(operation < self.next_operation, "op{operation} skips ahead");
            assert!(
                !self.in_flight.iter().any(|f| f.operation == operation),
                "op{operation} re-used while in flight"
            );
        }
        self.commands.0.insert(operation, (client, command.clone()));
    }

    /// Like the driver, books every request first; then, unlike it, keeps
    /// the listed order: the queue takes the first `queue_bound`, the
    /// rest are `overloaded` (definite), and the queue commits in order
    /// until the engine dies or halts, which leaves the rest in flight.
    fn burst(&mut self, requests: &[Action]) {
        let bound = self.queue_bound + BURST_OVERFLOW_MAX as usize;
        assert!(
            (2..=bound).contains(&requests.len()),
            "a burst of {} requests",
            requests.len()
        );
        self.bursts += 1;
        self.burst_requests += requests.len() as u64;
        self.largest_burst = self.largest_burst.max(requests.len());
        let mut seen = BTreeSet::new();
        let mut fresh = BTreeSet::new();
        let mut arrivals = Vec::with_capacity(requests.len());
        for request in requests {
            match request {
                Action::Submit {
                    client,
                    operation,
                    command,
                    ..
                } => {
                    // Only a buggy caller's operation id 0 comes twice.
                    assert!(
                        seen.insert(*operation) || *operation == 0,
                        "op{operation} twice in a burst"
                    );
                    if *operation == self.next_operation {
                        fresh.insert(*operation);
                    } else {
                        self.burst_old += 1;
                    }
                    self.book(*client, *operation, command);
                    arrivals.push((*client, *operation, command.clone()));
                }
                Action::Retry { operation } => {
                    if seen.insert(*operation) {
                        if self.in_flight.iter().any(|f| f.operation == *operation) {
                            self.burst_in_flight_retries += 1;
                        } else {
                            self.burst_old += 1;
                        }
                    } else {
                        // Only a fresh submit of this burst comes twice.
                        assert!(fresh.contains(operation), "op{operation} twice in a burst");
                        self.burst_echoes += 1;
                    }
                    let (client, command) = self.commands.0[operation].clone();
                    arrivals.push((client, *operation, command));
                }
                other => panic!("{other:?} in a burst"),
            }
        }
        let queued = arrivals.len().min(self.queue_bound);
        // Overloaded is definite for this attempt only: an earlier
        // attempt in flight stays in flight, as in the driver.
        self.overloaded += arrivals.drain(queued..).count() as u64;
        for (client, operation, command) in arrivals {
            if self.status == EngineStatus::Up {
                self.write(client, operation, command);
            } else if !self.in_flight.iter().any(|f| f.operation == operation) {
                self.in_flight.push(InFlight { client, operation });
            }
        }
    }

    /// A request to a down engine goes unanswered: its client will retry.
    fn deliver(&mut self, client: u32, operation: u128, command: SimCommand) {
        if self.status == EngineStatus::Up {
            return self.write(client, operation, command);
        }
        self.undelivered += 1;
        let pending = InFlight { client, operation };
        if !self.in_flight.contains(&pending) {
            self.in_flight.push(pending);
        }
    }

    /// Past the last request slot the engine refuses every write before
    /// anything else happens; so does the fake.
    fn past_the_end_of_time(&self) -> bool {
        self.slot > last_request_slot(self.model.config())
    }

    fn write(&mut self, client: u32, operation: u128, command: SimCommand) {
        if self.past_the_end_of_time() {
            return;
        }
        let pending = InFlight { client, operation };
        let interrupt = |fake: &mut Fake, status| {
            fake.status = status;
            if !fake.in_flight.contains(&pending) {
                fake.in_flight.push(pending);
            }
        };
        if let Some(armed) = self.take_io(|site| matches!(site, Site::WalAppend | Site::WalSync)) {
            let written = match (armed.fault.site, armed.fault.effect) {
                (Site::WalAppend, IoEffect::Fail(_)) => 0,
                (Site::WalAppend, IoEffect::Short { bytes }) => {
                    u64::from(bytes).min(client_frame_len() - 1)
                }
                _ => client_frame_len(),
            };
            if written > 0 {
                self.append(client_frame_len(), written);
            }
            interrupt(self, EngineStatus::Halted);
            return;
        }
        match self.crash {
            Some(CrashPoint::ClientBeforeAppend | CrashPoint::ClientAfterSync) => {
                self.kill();
                interrupt(self, EngineStatus::Down);
                return;
            }
            Some(CrashPoint::ClientAfterAppend) => {
                self.kill();
                self.append(client_frame_len(), client_frame_len());
                interrupt(self, EngineStatus::Down);
                return;
            }
            _ => {}
        }
        self.apply(LogCommand::Client(ClientRequest {
            operation_id: OperationId(operation),
            client_id: ClientId(u128::from(client)),
            command: self.to_command(&command),
        }));
        self.in_flight.retain(|f| f.operation != operation);
        if self.crash == Some(CrashPoint::ClientAfterApply) {
            self.kill();
            interrupt(self, EngineStatus::Down);
        }
    }

    /// The core command, a lease named by reference resolved as the
    /// simulator does (one whose reserve is unknown names no lease).
    fn to_command(&self, command: &SimCommand) -> Command {
        let mut command = command.clone();
        if let Some(lease) = command.lease_mut() {
            let shard = self.model.config().shard_id;
            let id = self.model.lease_names().id_of(*lease);
            *lease = LeaseRef::Id(id.unwrap_or(no_such_lease(shard).0));
        }
        command.to_command().expect("within BUNDLE_SIZE_LIMIT")
    }

    /// The process dies; its arms die with it (not a recovery arm, nor
    /// the I/O errors armed while it was down, for the next one).
    fn kill(&mut self) {
        if self.status != EngineStatus::Down {
            self.io.clear();
        }
        self.status = EngineStatus::Down;
        self.crash = None;
    }

    /// A frame of `bytes` appended and not synced, for a test to show.
    pub(super) fn leave_unsynced(&mut self, bytes: u64) {
        self.append(bytes, bytes);
    }

    /// The first `written` bytes of a frame of `len`: the log ends torn.
    pub(super) fn leave_partial(&mut self, len: u64, written: u64) {
        self.append(len, written);
    }

    /// `written` bytes of a frame of `len` appended, not synced.
    fn append(&mut self, len: u64, written: u64) {
        self.frame_lsn += 1;
        let content = if len == marker_frame_len() {
            FrameContent::Marker
        } else {
            FrameContent::Command {
                slot: Slot(self.slot),
                command: LogCommand::Expire {
                    lease_id: LeaseId(0),
                    deadline_slot: Slot(0),
                },
            }
        };
        self.wal.push(Lsn(self.frame_lsn), content, len, written);
    }

    fn apply(&mut self, command: LogCommand) {
        self.lsn += 1;
        let len = command_frame_len(&command);
        self.append(len, len);
        self.wal.set_durable(self.wal.file_len());
        let applied = self
            .model
            .apply(Lsn(self.lsn), Slot(self.slot), &command)
            .expect("in order");
        *self.codes.entry(applied.outcome.code()).or_insert(0) += 1;
        if applied.from_retry_cache {
            self.retry_cache_hits += 1;
        }
    }
}

/// The length of every client frame the fake writes, whatever the command:
/// a create's, the shortest client frame (81 bytes).
pub(super) fn client_frame_len() -> u64 {
    command_frame_len(&LogCommand::Client(ClientRequest {
        operation_id: OperationId(0),
        client_id: ClientId(0),
        command: Command::CreateResource {
            resource_id: ResourceId(0),
        },
    }))
}

/// The length of an expire frame (57 bytes).
pub(super) fn expire_frame_len() -> u64 {
    command_frame_len(&LogCommand::Expire {
        lease_id: LeaseId(0),
        deadline_slot: Slot(0),
    })
}
