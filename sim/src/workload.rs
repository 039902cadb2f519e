//! The seeded workload generator: one [`Action`] at a time, chosen from the
//! seed's [`Mix`], the simulator's [`SimView`] and nothing else.
//!
//! Contention is the point. A handful of hot resources (fewer than the
//! resource table holds) is fought over by many holders, so reserves collide
//! (`resource_busy`), leases move through every state, and holders come back
//! with the wrong identity or an old epoch (`holder_mismatch`,
//! `stale_epoch`), e.g. the epoch they held before an observer revoked the
//! lease. Cold resources fill the resource table; slot advances cross TTLs
//! and, now and then, jump past the dedupe and history windows so records
//! retire. Old operation ids come back with the same command (retry cache)
//! or another one (`operation_conflict`).
//!
//! Bursts send several requests that reach the engine at the same slot and
//! go through its bounded submission queue: mostly fresh submits from
//! distinct clients, sometimes retries of requests in flight, old operation
//! ids or a second copy of a request in the same burst. Rarely a burst fills
//! the queue to its bound or past it, so some requests get `overloaded`.
//!
//! Faults follow the engine's status: while up, the mix's rates arm crash
//! points and persist failures or kill the process; while halted, the
//! engine is restarted or killed; while down, files may be torn or flipped
//! and a restart always follows within a few actions. Requests in flight
//! (indefinite outcomes) are retried with high probability whenever the
//! engine is up: that is how each is resolved exactly once.
//!
//! Determinism: the only inputs are the rng, the mix and the view; the model
//! is read through its ordered maps; nothing here iterates a hash map or
//! reads a clock.

use allocdb_core::engine::fault::{CrashPath, CrashPoint, PersistFailure};
use allocdb_core::engine::EngineConfig;
use allocdb_core::wal::{FRAME_HEADER_LEN, SNAPSHOT_MARKER_LEN};
use allocdb_core::BUNDLE_SIZE_LIMIT;
use allocdb_core::{Config, Lease, LeaseId, LeaseState, Lsn, ResourceId, ResourceState};

use crate::action::{Action, FlipTarget, SimCommand, Unsynced};
use crate::rng::SimRng;
use crate::swarm::{ClientOp, FaultKind, Mix};
use crate::view::{EngineStatus, SimView};

/// Hot resource ids are `HOT_BASE..HOT_BASE + hot`.
const HOT_BASE: u128 = 1;
/// Cold resource ids are `COLD_BASE..COLD_BASE + 2 * max_resources`: enough
/// distinct ids to fill the resource table, few enough to repeat.
const COLD_BASE: u128 = 1_000;
/// Resource ids from here on are never created.
const UNKNOWN_RESOURCE_BASE: u128 = 900_000;
/// Most damaging actions in a row while down before a restart is forced.
const MAX_DOWN_ACTIONS: u32 = 3;
/// The shortest WAL frame (a snapshot marker): tears keep fewer bytes than
/// this and bit flips stay below it, so both land inside any complete frame.
const MIN_FRAME_LEN: u64 = (FRAME_HEADER_LEN + SNAPSHOT_MARKER_LEN) as u64;
/// Largest prefix a partial append writes (the engine clamps it below the
/// frame length).
const PARTIAL_APPEND_MAX: u64 = 96;
/// Re-used operation ids come mostly from this many latest submissions, so
/// that they are still inside the dedupe window.
const RECENT_OPERATIONS: usize = 16;
/// Actions after which an armed crash point that has not fired may be
/// replaced by another.
const ARMED_PATIENCE: u64 = 200;
/// While the operation table is full: how often to advance the slot.
const OPERATIONS_FULL_ADVANCE_PER_MILLE: u32 = 250;
/// A flooding burst holds up to this many requests more than the
/// submission queue takes.
const BURST_OVERFLOW_MAX: u64 = 4;
/// Of a burst's requests: how many retry a request in flight (while one is
/// left that the burst does not carry yet).
const BURST_IN_FLIGHT_PER_MILLE: u32 = 300;
/// Of a burst's requests: how many re-send an old operation id (as the
/// mix's retry rates allow).
const BURST_OLD_PER_MILLE: u32 = 80;
/// Of a burst's requests: how many are a second copy of a request sent
/// earlier in the same burst (a duplicate delivery).
const BURST_ECHO_PER_MILLE: u32 = 30;

pub struct Workload {
    mix: Mix,
    config: Config,
    /// Requests the engine's submission queue holds (at least 1).
    queue_bound: u32,
    clients: u32,
    hot: Vec<u128>,
    cold_span: u64,
    /// Actions generated since the engine went down (or last restarted).
    down_actions: u32,
}

/// What a roll of the workload dice picked while the engine is up.
#[derive(Clone, Copy)]
enum UpChoice {
    RetrySame,
    Conflict,
    Advance,
    Tick,
    Checkpoint,
    Read,
    Burst,
}

impl Workload {
    /// `clients` is how many client ids (`0..clients`) submit requests.
    /// The engine config gives the core's bounds and the submission queue's.
    pub fn new(mix: Mix, config: &EngineConfig, clients: u32) -> Workload {
        let queue_bound = config.max_submission_queue.max(1);
        let config = &config.core;
        let hot_count = mix
            .hot_resources
            .min(config.max_resources.saturating_sub(1))
            .max(1);
        let hot = (0..u128::from(hot_count)).map(|i| HOT_BASE + i).collect();
        Workload {
            mix,
            config: *config,
            queue_bound,
            clients: clients.max(1),
            hot,
            cold_span: u64::from(config.max_resources.max(1)) * 2,
            down_actions: 0,
        }
    }

    pub fn mix(&self) -> &Mix {
        &self.mix
    }

    /// The resource ids the workload fights over.
    pub fn hot_resources(&self) -> &[u128] {
        &self.hot
    }

    /// The next action, given what the simulator currently sees.
    pub fn next(&mut self, rng: &mut SimRng, view: &SimView) -> Action {
        match view.status {
            EngineStatus::Up => {
                self.down_actions = 0;
                self.next_up(rng, view)
            }
            EngineStatus::Halted => {
                self.down_actions = 0;
                self.next_halted(rng, view)
            }
            EngineStatus::Down => self.next_down(rng, view),
        }
    }

    fn next_up(&self, rng: &mut SimRng, view: &SimView) -> Action {
        if !view.in_flight.is_empty() && rng.chance(self.mix.in_flight_retry_per_mille) {
            return Action::Retry {
                operation: rng.pick(view.in_flight).operation,
            };
        }
        if let Some(action) = self.up_fault(rng, view) {
            return action;
        }
        if let Some(action) = self.reach_armed_point(rng, view) {
            return action;
        }
        // Clients told the operation table is full back off while records
        // retire: time moves on, so a slow seed is not stuck there.
        if view.model.operations().count() >= self.config.max_operations as usize
            && rng.chance(OPERATIONS_FULL_ADVANCE_PER_MILLE)
        {
            return Action::AdvanceSlot {
                by: rng.between(1, 2),
            };
        }
        let roll = rng.below(1000) as u32;
        let mut edge = 0;
        for (rate, choice) in [
            (self.mix.retry_same_per_mille, UpChoice::RetrySame),
            (self.mix.retry_conflict_per_mille, UpChoice::Conflict),
            (self.mix.advance_per_mille, UpChoice::Advance),
            (self.mix.tick_per_mille, UpChoice::Tick),
            (self.mix.checkpoint_per_mille, UpChoice::Checkpoint),
            (self.mix.read_per_mille, UpChoice::Read),
            (self.mix.burst_per_mille, UpChoice::Burst),
        ] {
            edge += rate;
            if roll < edge {
                if let Some(action) = self.up_choice(rng, view, choice) {
                    return action;
                }
                break;
            }
        }
        self.submit_fresh(rng, view)
    }

    fn up_choice(&self, rng: &mut SimRng, view: &SimView, choice: UpChoice) -> Option<Action> {
        match choice {
            UpChoice::RetrySame => {
                let operation = self.old_operation(rng, view, false)?;
                Some(Action::Retry { operation })
            }
            UpChoice::Conflict => {
                let operation = self.old_operation(rng, view, true)?;
                Some(Action::Submit {
                    client: self.pick_client(rng, view),
                    operation,
                    command: self.command(rng, view),
                })
            }
            UpChoice::Advance => Some(Action::AdvanceSlot {
                by: self.advance_by(rng),
            }),
            UpChoice::Tick => Some(Action::Tick),
            UpChoice::Checkpoint => Some(Action::Checkpoint),
            UpChoice::Read => Some(self.read(rng, view)),
            UpChoice::Burst => Some(self.burst(rng, view)),
        }
    }

    /// Requests that reach the engine at the same slot: 2 to `burst_max`
    /// of them (at most the queue bound), or (the mix's flood rate) the queue bound plus 0 to
    /// [`BURST_OVERFLOW_MAX`]. Operation ids are distinct but for an echo
    /// (a retry of a request listed earlier in the burst); fresh ones
    /// count up from `next_operation` in listed order.
    fn burst(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let queue = u64::from(self.queue_bound);
        let size = if rng.chance(self.mix.burst_flood_per_mille) {
            queue + rng.between(0, BURST_OVERFLOW_MAX)
        } else {
            // Within the queue, unless it cannot take even two.
            rng.between(2, u64::from(self.mix.burst_max).clamp(2, queue.max(2)))
        } as usize;
        let clients = self.burst_clients(rng, view);
        let mut in_flight: Vec<u128> = view.in_flight.iter().map(|f| f.operation).collect();
        let mut used: Vec<u128> = Vec::with_capacity(size);
        let mut fresh: Vec<u128> = Vec::new();
        let mut next_operation = view.next_operation;
        let mut requests = Vec::with_capacity(size);
        while requests.len() < size {
            in_flight.retain(|op| !used.contains(op));
            if !in_flight.is_empty() && rng.chance(BURST_IN_FLIGHT_PER_MILLE) {
                let operation = *rng.pick(&in_flight);
                used.push(operation);
                requests.push(Action::Retry { operation });
                continue;
            }
            if rng.chance(BURST_OLD_PER_MILLE) {
                if let Some(action) = self.burst_old(rng, view, &used) {
                    if let Action::Retry { operation } | Action::Submit { operation, .. } = action {
                        used.push(operation);
                    }
                    requests.push(action);
                    continue;
                }
            }
            if !fresh.is_empty() && rng.chance(BURST_ECHO_PER_MILLE) {
                requests.push(Action::Retry {
                    operation: *rng.pick(&fresh),
                });
                continue;
            }
            let operation = next_operation;
            next_operation += 1;
            let client = clients[fresh.len() % clients.len()];
            used.push(operation);
            fresh.push(operation);
            requests.push(Action::Submit {
                client,
                operation,
                command: self.command(rng, view),
            });
        }
        Action::Burst(requests)
    }

    /// Clients in the order a burst's fresh submits use them: those without
    /// a request in flight first, each group shuffled.
    fn burst_clients(&self, rng: &mut SimRng, view: &SimView) -> Vec<u32> {
        let busy = |client: &u32| view.in_flight.iter().any(|f| f.client == *client);
        let (mut idle, mut waiting): (Vec<u32>, Vec<u32>) =
            (0..self.clients).partition(|c| !busy(c));
        rng.shuffle(&mut idle);
        rng.shuffle(&mut waiting);
        idle.extend(waiting);
        idle
    }

    /// An old operation id re-sent in a burst, as the mix's retry rates
    /// allow: byte for byte or (an operation not in flight) with another
    /// command. `None` when the mix re-sends nothing or the pick is already
    /// in the burst.
    fn burst_old(&self, rng: &mut SimRng, view: &SimView, used: &[u128]) -> Option<Action> {
        let same = self.mix.retry_same_per_mille;
        let conflict = self.mix.retry_conflict_per_mille;
        if same + conflict == 0 {
            return None;
        }
        let action = if rng.below(u64::from(same + conflict)) < u64::from(same) {
            Action::Retry {
                operation: self.old_operation(rng, view, false)?,
            }
        } else {
            Action::Submit {
                client: self.pick_client(rng, view),
                operation: self.old_operation(rng, view, true)?,
                command: self.command(rng, view),
            }
        };
        match &action {
            Action::Retry { operation } | Action::Submit { operation, .. }
                if used.contains(operation) =>
            {
                None
            }
            _ => Some(action),
        }
    }

    fn up_fault(&self, rng: &mut SimRng, view: &SimView) -> Option<Action> {
        for kind in [
            FaultKind::ArmCrash,
            FaultKind::PersistFailure,
            FaultKind::Crash,
        ] {
            let Some(rate) = self.mix.fault_rate(kind) else {
                continue;
            };
            if !rng.chance(rate) {
                continue;
            }
            match kind {
                // One engine arm at a time: a new one would replace it
                // before it fires (unless it looks stuck).
                FaultKind::ArmCrash
                    if view
                        .armed_crash
                        .is_none_or(|armed| armed.steps_since > ARMED_PATIENCE) =>
                {
                    if let Some(point) = self.crash_point(rng, view) {
                        return Some(Action::ArmCrash(point));
                    }
                }
                FaultKind::PersistFailure if !self.mix.persist_failures.is_empty() => {
                    return Some(Action::ArmPersistFailure(self.persist_failure(rng)));
                }
                FaultKind::Crash => {
                    return Some(Action::Crash {
                        unsynced: unsynced(rng, view.unsynced_bytes),
                    });
                }
                _ => {}
            }
        }
        None
    }

    /// Steers toward the action that reaches an armed expire or checkpoint
    /// point (client points are reached by any write).
    fn reach_armed_point(&self, rng: &mut SimRng, view: &SimView) -> Option<Action> {
        let point = view.armed_crash?.point;
        if !rng.chance(250) {
            return None;
        }
        match point.path() {
            CrashPath::Checkpoint => return Some(Action::Checkpoint),
            CrashPath::Expire => {}
            CrashPath::Client | CrashPath::Recovery => return None,
        }
        if !view.model.due_expirations(view.slot, 1).is_empty() {
            return Some(Action::Tick);
        }
        let next_deadline = view
            .model
            .leases()
            .filter(|lease| lease.state == LeaseState::Reserved)
            .map(|lease| lease.deadline_slot.0)
            .min()?;
        Some(Action::AdvanceSlot {
            by: next_deadline.saturating_sub(view.slot.0).max(1),
        })
    }

    /// One of the mix's crash points that the engine can still reach:
    /// while up any (a recovery point waits for the next restart), while
    /// down only recovery points. A recovery point is offered only when the
    /// files make it reachable: a snapshot to load, an unsynced tail that
    /// may be torn, enough frames to replay (`k` is at most
    /// `replay_frame_max`).
    fn crash_point(&self, rng: &mut SimRng, view: &SimView) -> Option<CrashPoint> {
        let down = view.status == EngineStatus::Down;
        let frames = u64::from(view.wal_frames.saturating_sub(1));
        let candidates: Vec<CrashPoint> = self
            .mix
            .crash_points
            .iter()
            .copied()
            .filter(|&point| match point {
                CrashPoint::RecoveryAfterSnapshotLoad => view.snapshot_len.is_some(),
                CrashPoint::RecoveryAfterTornTailTruncate => down && view.unsynced_bytes > 0,
                CrashPoint::RecoveryAfterReplayedFrame(_) => frames > 0,
                _ => !down,
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        Some(match *rng.pick(&candidates) {
            CrashPoint::RecoveryAfterReplayedFrame(_) => CrashPoint::RecoveryAfterReplayedFrame(
                rng.between(1, self.mix.replay_frame_max.clamp(1, frames)),
            ),
            point => point,
        })
    }

    fn persist_failure(&self, rng: &mut SimRng) -> PersistFailure {
        match *rng.pick(&self.mix.persist_failures) {
            PersistFailure::PartialAppend { .. } => PersistFailure::PartialAppend {
                bytes: rng.between(0, PARTIAL_APPEND_MAX) as u32,
            },
            failure => failure,
        }
    }

    fn next_halted(&self, rng: &mut SimRng, view: &SimView) -> Action {
        if self.mix.fault_rate(FaultKind::Crash).is_some() && rng.chance(500) {
            Action::Crash {
                unsynced: unsynced(rng, view.unsynced_bytes),
            }
        } else {
            Action::Restart
        }
    }

    fn next_down(&mut self, rng: &mut SimRng, view: &SimView) -> Action {
        self.down_actions += 1;
        let action = self.down_action(rng, view);
        if action == Action::Restart {
            self.down_actions = 0;
        }
        action
    }

    fn down_action(&self, rng: &mut SimRng, view: &SimView) -> Action {
        if self.down_actions > MAX_DOWN_ACTIONS {
            return Action::Restart;
        }
        // The process is already dead; this settles what became of the
        // bytes it wrote after its last sync.
        if view.unsynced_bytes > 0
            && self.mix.fault_rate(FaultKind::Crash).is_some()
            && rng.chance(300)
        {
            return Action::Crash {
                unsynced: unsynced(rng, view.unsynced_bytes),
            };
        }
        // Only an unsynced last frame can be torn; keep less than it holds.
        if view.wal_frames > 0 && view.unsynced_bytes > 0 {
            if let Some(rate) = self.mix.fault_rate(FaultKind::TearLastFrame) {
                if rng.chance(rate) {
                    let keep = rng.below(view.unsynced_bytes.min(MIN_FRAME_LEN));
                    return Action::TearLastFrame { keep: keep as u32 };
                }
            }
        }
        // A recovery crash point armed now fires during the next restart.
        if let Some(rate) = self.mix.fault_rate(FaultKind::ArmCrash) {
            if rng.chance(rate) {
                if let Some(point) = self.crash_point(rng, view) {
                    return Action::ArmCrash(point);
                }
            }
        }
        if view.damage_pending {
            return Action::Restart;
        }
        if view.wal_frames > 0 {
            if let Some(rate) = self.mix.fault_rate(FaultKind::FlipWalBit) {
                if rng.chance(rate) {
                    // Half the time the last frame, where a torn tail and
                    // corruption are hardest to tell apart.
                    let frame = if rng.chance(500) {
                        view.wal_frames - 1
                    } else {
                        rng.below(u64::from(view.wal_frames)) as u32
                    };
                    // The last frame may be an unsynced, torn one: stay
                    // inside what it holds.
                    let limit = if frame + 1 == view.wal_frames && view.unsynced_bytes > 0 {
                        view.unsynced_bytes.min(MIN_FRAME_LEN)
                    } else {
                        MIN_FRAME_LEN
                    };
                    let byte = if rng.chance(600) {
                        rng.below(limit.min(FRAME_HEADER_LEN as u64))
                    } else {
                        rng.below(limit)
                    };
                    return Action::FlipBit {
                        target: FlipTarget::WalFrame {
                            frame,
                            byte: byte as u32,
                        },
                        bit: rng.below(8) as u8,
                    };
                }
            }
        }
        if let Some(len) = view.snapshot_len.filter(|&len| len > 0) {
            if let Some(rate) = self.mix.fault_rate(FaultKind::FlipSnapshotBit) {
                if rng.chance(rate) {
                    let byte = rng.below(len.min(u64::from(u32::MAX))) as u32;
                    return Action::FlipBit {
                        target: FlipTarget::Snapshot { byte },
                        bit: rng.below(8) as u8,
                    };
                }
            }
        }
        // Time passes while the process is down.
        if self.mix.has_faults() && rng.chance(100) {
            return Action::AdvanceSlot {
                by: rng.between(1, self.config.max_ttl_slots.max(1)),
            };
        }
        Action::Restart
    }

    fn submit_fresh(&self, rng: &mut SimRng, view: &SimView) -> Action {
        Action::Submit {
            client: self.pick_client(rng, view),
            operation: view.next_operation,
            command: self.command(rng, view),
        }
    }

    /// A client, preferably one without a request in flight.
    fn pick_client(&self, rng: &mut SimRng, view: &SimView) -> u32 {
        let mut client = rng.below(u64::from(self.clients)) as u32;
        for _ in 0..4 {
            if !view.in_flight.iter().any(|f| f.client == client) {
                break;
            }
            client = rng.below(u64::from(self.clients)) as u32;
        }
        client
    }

    /// An operation id submitted before, mostly a recent one.
    /// `conflict`: one with no request in flight, to be re-used with
    /// another command.
    fn old_operation(&self, rng: &mut SimRng, view: &SimView, conflict: bool) -> Option<u128> {
        let submitted = view.submitted;
        let pool = if rng.chance(750) {
            &submitted[submitted.len().saturating_sub(RECENT_OPERATIONS)..]
        } else {
            submitted
        };
        for _ in 0..4 {
            if pool.is_empty() {
                return None;
            }
            let operation = *rng.pick(pool);
            if !conflict || !view.in_flight.iter().any(|f| f.operation == operation) {
                return Some(operation);
            }
        }
        None
    }

    fn advance_by(&self, rng: &mut SimRng) -> u64 {
        let max_ttl = self.config.max_ttl_slots.max(1);
        if rng.chance(self.mix.advance_jump_per_mille) {
            let window = self
                .config
                .dedupe_window_slots()
                .max(self.config.history_window_slots);
            window + rng.between(1, max_ttl)
        } else if rng.chance(800) || max_ttl < 3 {
            rng.between(1, 2)
        } else {
            rng.between(3, max_ttl)
        }
    }

    fn command(&self, rng: &mut SimRng, view: &SimView) -> SimCommand {
        let missing_hot = self.hot.iter().any(|&id| !exists(view, id));
        let op = if missing_hot && rng.chance(300) {
            ClientOp::Create
        } else {
            self.weighted_op(rng)
        };
        let command = match op {
            ClientOp::Create => Some(self.create(rng, view)),
            ClientOp::Reserve => None,
            ClientOp::Activate => self.holder_command(rng, view, false),
            ClientOp::Release => self.holder_command(rng, view, true),
            ClientOp::Revoke => self.observer_command(rng, view, false),
            ClientOp::Reclaim => self.observer_command(rng, view, true),
        };
        command.unwrap_or_else(|| self.reserve(rng, view))
    }

    fn weighted_op(&self, rng: &mut SimRng) -> ClientOp {
        let total: u64 = ClientOp::ALL
            .iter()
            .map(|&op| u64::from(self.mix.weight(op)))
            .sum();
        let mut roll = rng.below(total.max(1));
        for op in ClientOp::ALL {
            let weight = u64::from(self.mix.weight(op));
            if roll < weight {
                return op;
            }
            roll -= weight;
        }
        ClientOp::Reserve
    }

    fn create(&self, rng: &mut SimRng, view: &SimView) -> SimCommand {
        let missing: Vec<u128> = self
            .hot
            .iter()
            .copied()
            .filter(|&id| !exists(view, id))
            .collect();
        let resource = if !missing.is_empty() && rng.chance(700) {
            *rng.pick(&missing)
        } else if rng.chance(300) {
            *rng.pick(&self.hot)
        } else {
            COLD_BASE + u128::from(rng.below(self.cold_span))
        };
        SimCommand::CreateResource { resource }
    }

    fn ttl(&self, rng: &mut SimRng) -> u64 {
        let max_ttl = self.config.max_ttl_slots.max(1);
        if rng.chance(self.mix.fixed_ttl_per_mille) {
            self.mix.fixed_ttl.clamp(1, max_ttl)
        } else if rng.chance(500) {
            rng.between(1, max_ttl.min(3))
        } else {
            rng.between(1, max_ttl)
        }
    }

    fn holder(&self, rng: &mut SimRng) -> u128 {
        u128::from(rng.between(1, u64::from(self.mix.holders.max(1))))
    }

    /// A holder other than `holder`.
    fn other_holder(&self, rng: &mut SimRng, holder: u128) -> u128 {
        let other = self.holder(rng);
        if other == holder {
            holder + 1
        } else {
            other
        }
    }

    fn reserve(&self, rng: &mut SimRng, view: &SimView) -> SimCommand {
        let holder = self.holder(rng);
        let ttl = self.ttl(rng);
        if rng.chance(self.mix.invalid_per_mille) {
            return self.bad_reserve(rng, view, holder, ttl);
        }
        let mut pool: Vec<u128> = if rng.chance(self.mix.spread_per_mille) {
            view.model
                .resources()
                .map(|resource| resource.resource_id.0)
                .collect()
        } else {
            Vec::new()
        };
        if pool.is_empty() {
            pool.clone_from(&self.hot);
        }
        // Half the time aim at what is free (progress), otherwise at the
        // whole pool (contention).
        if rng.chance(500) {
            let free: Vec<u128> = pool
                .iter()
                .copied()
                .filter(|&id| {
                    view.model
                        .get_resource(ResourceId(id))
                        .is_some_and(|r| r.state == ResourceState::Available)
                })
                .collect();
            if !free.is_empty() {
                pool = free;
            }
        }
        let max = (self.config.max_bundle_size as usize).max(1);
        let size = if rng.chance(self.mix.large_bundle_per_mille) {
            max as u64
        } else if rng.chance(self.mix.single_bundle_per_mille) {
            1
        } else if rng.chance(750) {
            rng.between(1, max.min(4) as u64)
        } else {
            rng.between(1, max as u64)
        } as usize;
        rng.shuffle(&mut pool);
        pool.truncate(size);
        SimCommand::Reserve {
            resources: pool,
            holder,
            ttl,
        }
    }

    /// A reserve aimed at one of its error paths.
    fn bad_reserve(&self, rng: &mut SimRng, view: &SimView, holder: u128, ttl: u64) -> SimCommand {
        let max = self.config.max_bundle_size as usize;
        let max_ttl = self.config.max_ttl_slots;
        let some_resource = |rng: &mut SimRng| *rng.pick(&self.hot);
        let (resources, ttl) = match rng.below(5) {
            // invalid_request: empty bundle.
            0 => (Vec::new(), ttl),
            // bundle_too_large (when a bundle can hold one more).
            1 if max < BUNDLE_SIZE_LIMIT => {
                ((0..=max as u128).map(|i| HOT_BASE + i).collect(), ttl)
            }
            // resource_not_found: one member never created.
            2 => {
                let mut ids = vec![UNKNOWN_RESOURCE_BASE + u128::from(rng.below(100))];
                if max >= 2 && rng.chance(500) {
                    ids.insert(0, some_resource(rng));
                }
                (ids, ttl)
            }
            // ttl_out_of_range.
            3 => {
                let ttl = if rng.chance(500) {
                    0
                } else {
                    max_ttl.saturating_add(1)
                };
                (vec![some_resource(rng)], ttl)
            }
            // invalid_request: a duplicate member.
            _ => {
                let id = some_resource(rng);
                let mut ids = vec![id, id];
                if max >= 3 && rng.chance(500) {
                    let other = view
                        .model
                        .resources()
                        .map(|r| r.resource_id.0)
                        .find(|&other| other != id);
                    if let Some(other) = other {
                        ids.insert(1, other);
                    }
                }
                (ids, ttl)
            }
        };
        SimCommand::Reserve {
            resources,
            holder,
            ttl,
        }
    }

    /// Activate (`release == false`) or release, by the lease's holder with
    /// its current epoch; with the mix's invalid rate, misdirected.
    /// `None` when there is no lease to aim at.
    fn holder_command(
        &self,
        rng: &mut SimRng,
        view: &SimView,
        release: bool,
    ) -> Option<SimCommand> {
        let build = |lease: u128, holder: u128, epoch: u64| {
            if release {
                SimCommand::Release {
                    lease,
                    holder,
                    epoch,
                }
            } else {
                SimCommand::Activate {
                    lease,
                    holder,
                    epoch,
                }
            }
        };
        let leases: Vec<&Lease> = view.model.leases().collect();
        if rng.chance(self.mix.invalid_per_mille) {
            let variant = rng.below(5);
            if variant < 3 && !leases.is_empty() {
                let lease = **rng.pick(&leases);
                let id = lease.lease_id.0;
                let epoch = lease.lease_epoch.0;
                let holder = lease.holder_id.0;
                return Some(match variant {
                    // holder_mismatch.
                    0 => build(id, self.other_holder(rng, holder), epoch),
                    // stale_epoch: what the holder knew before the last
                    // bump (a revoke, a release, an expiry) or a future one.
                    1 => {
                        let revoking: Vec<&Lease> = leases
                            .iter()
                            .copied()
                            .filter(|l| l.state == LeaseState::Revoking)
                            .collect();
                        let lease = if !revoking.is_empty() && rng.chance(500) {
                            **rng.pick(&revoking)
                        } else {
                            lease
                        };
                        let epoch = lease.lease_epoch.0;
                        let stale = if epoch > 1 { epoch - 1 } else { epoch + 1 };
                        build(lease.lease_id.0, lease.holder_id.0, stale)
                    }
                    // invalid_state, mostly: the right credentials on a
                    // lease in any state.
                    _ => build(id, holder, epoch),
                });
            }
            let holder = self.holder(rng);
            return Some(build(self.dead_lease(rng, view), holder, 1));
        }
        let candidates: Vec<&Lease> = leases
            .into_iter()
            .filter(|l| match l.state {
                LeaseState::Reserved => true,
                LeaseState::Active => release,
                _ => false,
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let lease = *rng.pick(&candidates);
        Some(build(
            lease.lease_id.0,
            lease.holder_id.0,
            lease.lease_epoch.0,
        ))
    }

    /// Revoke (`reclaim == false`: of an active lease) or reclaim (of a
    /// revoking one); with the invalid rate, of any lease or a dead id.
    fn observer_command(
        &self,
        rng: &mut SimRng,
        view: &SimView,
        reclaim: bool,
    ) -> Option<SimCommand> {
        let build = |lease: u128| {
            if reclaim {
                SimCommand::Reclaim { lease }
            } else {
                SimCommand::Revoke { lease }
            }
        };
        let leases: Vec<&Lease> = view.model.leases().collect();
        if rng.chance(self.mix.invalid_per_mille) {
            if !leases.is_empty() && rng.chance(600) {
                return Some(build(rng.pick(&leases).lease_id.0));
            }
            return Some(build(self.dead_lease(rng, view)));
        }
        let wanted = if reclaim {
            LeaseState::Revoking
        } else {
            LeaseState::Active
        };
        let candidates: Vec<&Lease> = leases.into_iter().filter(|l| l.state == wanted).collect();
        if candidates.is_empty() {
            return None;
        }
        Some(build(rng.pick(&candidates).lease_id.0))
    }

    /// A lease id that names no lease in the table: a retired one (below
    /// the watermark), LSN 0, another shard's, or one not yet created.
    fn dead_lease(&self, rng: &mut SimRng, view: &SimView) -> u128 {
        let shard = self.config.shard_id;
        let watermark = view.model.retired_watermark().0;
        match rng.below(4) {
            0 | 1 if watermark > 0 => LeaseId::new(shard, Lsn(rng.between(1, watermark))).0,
            2 => LeaseId::new(shard.wrapping_add(1), Lsn(rng.between(1, 8))).0,
            3 => LeaseId::new(shard, Lsn(0)).0,
            _ => {
                let last = view.model.last_applied_lsn().map_or(0, |lsn| lsn.0);
                LeaseId::new(shard, Lsn(last.saturating_add(rng.between(1_000, 2_000)))).0
            }
        }
    }

    fn read(&self, rng: &mut SimRng, view: &SimView) -> Action {
        let last = view.model.last_applied_lsn().map_or(0, |lsn| lsn.0);
        let required_lsn = match rng.below(10) {
            0..=6 => None,
            7 | 8 => Some(last.max(1)),
            // Not applied yet: fence_not_applied.
            _ => Some(last + rng.between(1, 3)),
        };
        if rng.chance(500) {
            let roll = rng.below(10);
            let resource = if roll < 6 {
                *rng.pick(&self.hot)
            } else if roll < 9 {
                let all: Vec<u128> = view.model.resources().map(|r| r.resource_id.0).collect();
                if all.is_empty() {
                    *rng.pick(&self.hot)
                } else {
                    *rng.pick(&all)
                }
            } else {
                UNKNOWN_RESOURCE_BASE + u128::from(rng.below(100))
            };
            Action::ReadResource {
                resource,
                required_lsn,
            }
        } else {
            let leases: Vec<&Lease> = view.model.leases().collect();
            let lease = if !leases.is_empty() && rng.chance(800) {
                rng.pick(&leases).lease_id.0
            } else {
                self.dead_lease(rng, view)
            };
            Action::ReadLease {
                lease,
                required_lsn,
            }
        }
    }
}

fn exists(view: &SimView, id: u128) -> bool {
    view.model.get_resource(ResourceId(id)).is_some()
}

/// The fate of the unsynced WAL tail: a strict prefix when there is one.
fn unsynced(rng: &mut SimRng, bytes: u64) -> Unsynced {
    if bytes == 0 {
        return if rng.chance(500) {
            Unsynced::Keep
        } else {
            Unsynced::Lose
        };
    }
    match rng.below(3) {
        0 => Unsynced::Keep,
        1 => Unsynced::Lose,
        _ => Unsynced::KeepPrefix(rng.below(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use allocdb_core::{
        ClientId, ClientRequest, Command, LogCommand, OperationId, ResultCode, Slot,
    };

    use super::*;
    use crate::action::ActionKind;
    use crate::oracle::model::Model;
    use crate::swarm::FaultSelection;
    use crate::view::{ArmedCrash, InFlight, RecoveryReach};

    /// A toy driver: the model stands in for the engine, armed faults fire
    /// roughly where the real ones would, and every action is checked
    /// against the status it was generated for.
    struct Fake {
        model: Model,
        slot: u64,
        status: EngineStatus,
        in_flight: Vec<InFlight>,
        submitted: Vec<u128>,
        commands: BTreeMap<u128, (u32, SimCommand)>,
        next_operation: u128,
        lsn: u64,
        wal_frames: u32,
        snapshot_len: Option<u64>,
        unsynced: u64,
        crash: Option<CrashPoint>,
        /// The step that armed `crash`.
        armed_at: u64,
        steps: u64,
        recovery_crash: Option<CrashPoint>,
        persist: Option<PersistFailure>,
        damaged: bool,
        kinds: BTreeSet<ActionKind>,
        codes: BTreeMap<ResultCode, u64>,
        retry_cache_hits: u64,
        down_run: u32,
        longest_down_run: u32,
        queue_bound: usize,
        bursts: u64,
        burst_requests: u64,
        largest_burst: usize,
        /// Burst requests refused because the queue was full.
        overloaded: u64,
        /// Burst retries of a request that was in flight.
        burst_in_flight_retries: u64,
        /// Burst requests whose operation id was sent before the burst
        /// (and not in flight).
        burst_old: u64,
        /// Second copies of a request sent earlier in the same burst.
        burst_echoes: u64,
    }

    impl Fake {
        fn new(config: EngineConfig) -> Fake {
            Fake {
                model: Model::new(config.core),
                slot: 0,
                status: EngineStatus::Up,
                in_flight: Vec::new(),
                submitted: Vec::new(),
                commands: BTreeMap::new(),
                next_operation: 1,
                lsn: 0,
                wal_frames: 0,
                snapshot_len: None,
                unsynced: 0,
                crash: None,
                armed_at: 0,
                steps: 0,
                recovery_crash: None,
                persist: None,
                damaged: false,
                kinds: BTreeSet::new(),
                codes: BTreeMap::new(),
                retry_cache_hits: 0,
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

        fn view(&self) -> SimView<'_> {
            SimView {
                slot: Slot(self.slot),
                status: self.status,
                model: &self.model,
                in_flight: &self.in_flight,
                submitted: &self.submitted,
                wal_frames: self.wal_frames,
                snapshot_len: self.snapshot_len,
                unsynced_bytes: self.unsynced,
                next_operation: self.next_operation,
                armed_crash: self.crash.map(|point| ArmedCrash {
                    point,
                    steps_since: self.steps - self.armed_at,
                }),
                damage_pending: self.damaged,
                recovery: RecoveryReach::default(),
            }
        }

        fn run(&mut self, workload: &mut Workload, rng: &mut SimRng, steps: usize) -> Vec<Action> {
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
                Action::Burst(requests) => {
                    assert!(up, "{action:?} while {:?}", self.status);
                    self.burst(requests);
                }
                Action::Submit {
                    client,
                    operation,
                    command,
                } => {
                    assert!(up, "{action:?} while {:?}", self.status);
                    self.book(*client, *operation, command);
                    self.write(*client, *operation, command.clone());
                }
                Action::Retry { operation } => {
                    assert!(up, "{action:?} while {:?}", self.status);
                    let (client, command) = self.commands[operation].clone();
                    self.write(client, *operation, command);
                }
                Action::AdvanceSlot { by } => {
                    assert!(*by > 0);
                    self.slot += by;
                }
                Action::Tick => {
                    assert!(up);
                    let due = self.model.due_expirations(Slot(self.slot), 8);
                    let expire_point = self.crash.filter(|p| p.path() == CrashPath::Expire);
                    if let Some(point) = expire_point.filter(|_| !due.is_empty()) {
                        if point == CrashPoint::ExpireAfterAppend {
                            self.wal_frames += 1;
                            self.unsynced += 57;
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
                Action::Checkpoint => {
                    assert!(up);
                    if self
                        .crash
                        .is_some_and(|p| p.path() == CrashPath::Checkpoint)
                    {
                        self.kill();
                        return;
                    }
                    self.snapshot_len = Some(300);
                    self.wal_frames = 1;
                }
                Action::ReadResource { .. } | Action::ReadLease { .. } => assert!(up),
                Action::ArmCrash(point) => {
                    // Recovery points may be armed while down, for the
                    // next restart, like the real driver allows.
                    if point.path() == CrashPath::Recovery {
                        self.recovery_crash = Some(*point);
                    } else {
                        assert!(up, "{action:?} while {:?}", self.status);
                        self.crash = Some(*point);
                        self.armed_at = self.steps;
                    }
                }
                Action::ArmPersistFailure(failure) => {
                    assert!(up);
                    self.persist = Some(*failure);
                }
                Action::Crash { unsynced } => {
                    assert!(
                        !down || self.unsynced > 0,
                        "{action:?} while down, nothing unsynced"
                    );
                    self.unsynced = match unsynced {
                        Unsynced::Keep => self.unsynced,
                        Unsynced::Lose => 0,
                        Unsynced::KeepPrefix(bytes) => {
                            assert!(*bytes < self.unsynced, "{action:?} of {}", self.unsynced);
                            *bytes
                        }
                    };
                    self.kill();
                }
                Action::TearLastFrame { keep } => {
                    assert!(down && self.wal_frames > 0, "{action:?}");
                    assert!(u64::from(*keep) < self.unsynced.min(MIN_FRAME_LEN));
                    self.unsynced = u64::from(*keep);
                }
                Action::FlipBit { target, bit } => {
                    assert!(down && *bit < 8, "{action:?}");
                    assert!(!self.damaged, "a second flip before a restart");
                    self.damaged = true;
                    match target {
                        FlipTarget::WalFrame { frame, byte } => {
                            assert!(*frame < self.wal_frames && u64::from(*byte) < MIN_FRAME_LEN);
                        }
                        FlipTarget::Snapshot { byte } => {
                            assert!(u64::from(*byte) < self.snapshot_len.expect("a snapshot"));
                        }
                    }
                }
                Action::Restart => {
                    assert!(!up, "restart while up");
                    self.kill();
                    self.unsynced = 0;
                    self.damaged = false;
                    if self.recovery_crash.take().is_none() {
                        self.status = EngineStatus::Up;
                    }
                }
            }
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
            self.commands.insert(operation, (client, command.clone()));
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
                    } => {
                        assert!(seen.insert(*operation), "op{operation} twice in a burst");
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
                        let (client, command) = self.commands[operation].clone();
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

        fn write(&mut self, client: u32, operation: u128, command: SimCommand) {
            let pending = InFlight { client, operation };
            let interrupt = |fake: &mut Fake, status| {
                fake.status = status;
                if !fake.in_flight.contains(&pending) {
                    fake.in_flight.push(pending);
                }
            };
            if let Some(failure) = self.persist.take() {
                let written = match failure {
                    PersistFailure::AppendFails => 0,
                    PersistFailure::PartialAppend { bytes } => u64::from(bytes.min(80)),
                    PersistFailure::SyncFails => 81,
                };
                if written > 0 {
                    self.wal_frames += 1;
                    self.unsynced += written;
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
                    self.wal_frames += 1;
                    self.unsynced += 81;
                    interrupt(self, EngineStatus::Down);
                    return;
                }
                _ => {}
            }
            self.apply(LogCommand::Client(ClientRequest {
                operation_id: OperationId(operation),
                client_id: ClientId(u128::from(client)),
                command: to_command(&command),
            }));
            self.in_flight.retain(|f| f.operation != operation);
            if self.crash == Some(CrashPoint::ClientAfterApply) {
                self.kill();
                interrupt(self, EngineStatus::Down);
            }
        }

        /// The process dies; its arms die with it (not a recovery arm).
        fn kill(&mut self) {
            self.status = EngineStatus::Down;
            self.crash = None;
            self.persist = None;
        }

        fn apply(&mut self, command: LogCommand) {
            self.lsn += 1;
            self.wal_frames += 1;
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

    fn to_command(command: &SimCommand) -> Command {
        command.to_command().expect("within BUNDLE_SIZE_LIMIT")
    }

    fn setup(seed: u64, selection: &FaultSelection) -> (Workload, SimRng, Fake) {
        let config = EngineConfig::small();
        let mut rng = SimRng::new(seed);
        let mix = Mix::swarm(&mut rng, selection);
        (Workload::new(mix, &config, 4), rng, Fake::new(config))
    }

    #[test]
    fn no_faults_selected_means_no_fault_actions() {
        for seed in 0..20 {
            let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::None);
            fake.run(&mut workload, &mut rng, 3_000);
            for kind in ActionKind::FAULTS {
                assert!(!fake.kinds.contains(&kind), "seed {seed}: {kind:?}");
            }
            assert_eq!(fake.status, EngineStatus::Up);
        }
        // Even shown a halted or dead engine, a fault-free mix only restarts.
        let (mut workload, mut rng, mut fake) = setup(3, &FaultSelection::None);
        fake.run(&mut workload, &mut rng, 200);
        for status in [EngineStatus::Halted, EngineStatus::Down] {
            fake.status = status;
            fake.unsynced = 100;
            fake.snapshot_len = Some(300);
            for _ in 0..500 {
                assert_eq!(workload.next(&mut rng, &fake.view()), Action::Restart);
            }
        }
    }

    #[test]
    fn same_seed_same_actions() {
        let run = |seed| {
            let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::All);
            let actions = fake.run(&mut workload, &mut rng, 2_000);
            (format!("{actions:?}"), fake.model.digest())
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }

    #[test]
    fn every_reachable_kind_shows_up_and_restarts_come_quickly() {
        let selections = [
            FaultSelection::All,
            FaultSelection::parse("crash,tear_last_frame").unwrap(),
            FaultSelection::parse("persist_failure").unwrap(),
            FaultSelection::parse("arm_crash,flip_wal_bit,flip_snapshot_bit").unwrap(),
            FaultSelection::parse("arm_crash").unwrap(),
            FaultSelection::parse("persist_failure,crash,tear_last_frame").unwrap(),
        ];
        for selection in &selections {
            for seed in 0..24 {
                let (mut workload, mut rng, mut fake) = setup(seed, selection);
                let reachable = workload.mix().reachable_kinds();
                let mut steps = 0;
                while !reachable.is_subset(&fake.kinds) && steps < 40_000 {
                    fake.run(&mut workload, &mut rng, 500);
                    steps += 500;
                }
                let missing: Vec<_> = reachable.difference(&fake.kinds).collect();
                assert!(
                    missing.is_empty(),
                    "{selection} seed {seed}: {missing:?} never seen in {steps} steps; mix:\n{}",
                    workload.mix().describe()
                );
                assert!(
                    fake.kinds.is_subset(&reachable),
                    "{selection} seed {seed}: {:?} not announced as reachable",
                    fake.kinds.difference(&reachable).collect::<Vec<_>>()
                );
                assert!(fake.longest_down_run <= MAX_DOWN_ACTIONS, "seed {seed}");
            }
        }
    }

    #[test]
    fn bursts_fill_the_queue_and_overflow_it_now_and_then() {
        let (mut bursts, mut requests, mut largest, mut overloaded) = (0, 0, 0, 0);
        let (mut in_flight_retries, mut old, mut echoes) = (0, 0, 0);
        let mut actions = 0;
        for seed in 0..24 {
            let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::All);
            fake.run(&mut workload, &mut rng, 4_000);
            actions += 4_000;
            if workload.mix().burst_per_mille == 0 {
                assert_eq!(fake.bursts, 0, "seed {seed}");
            }
            if workload.mix().burst_flood_per_mille == 0 {
                assert!(fake.largest_burst <= 8, "seed {seed}");
                assert_eq!(fake.overloaded, 0, "seed {seed}");
            }
            bursts += fake.bursts;
            requests += fake.burst_requests;
            largest = largest.max(fake.largest_burst);
            overloaded += fake.overloaded;
            in_flight_retries += fake.burst_in_flight_retries;
            old += fake.burst_old;
            echoes += fake.burst_echoes;
        }
        let queue = EngineConfig::small().max_submission_queue as usize;
        assert!(largest > queue, "largest burst {largest}");
        assert!(overloaded > 0);
        assert!(in_flight_retries > 0 && old > 0 && echoes > 0);
        // Mostly fresh submits, and rare enough to leave the mix alone.
        assert!(in_flight_retries + old + echoes < requests / 4);
        assert!(bursts > 0 && bursts * 20 < actions, "{bursts} of {actions}");
    }

    #[test]
    fn contention_reaches_the_error_paths() {
        let mut codes = BTreeSet::new();
        let mut retry_cache_hits = 0;
        for seed in 0..24 {
            let (mut workload, mut rng, mut fake) = setup(seed, &FaultSelection::None);
            fake.run(&mut workload, &mut rng, 4_000);
            codes.extend(fake.codes.keys().copied());
            retry_cache_hits += fake.retry_cache_hits;
        }
        assert!(retry_cache_hits > 0);
        let missing: Vec<_> = ResultCode::ALL
            .into_iter()
            .filter(|code| !codes.contains(code))
            .collect();
        // Slot overflow needs a slot near u64::MAX; a noop an expire that
        // lost a race, which a tick of due leases never commits.
        assert_eq!(
            missing,
            vec![ResultCode::Noop, ResultCode::SlotOverflow],
            "never produced"
        );
    }
}
