//! Swarm configuration: each seed draws its own mix of client commands,
//! timing actions and faults, so that a sweep explores many different
//! workloads instead of one average one.
//!
//! A [`FaultSelection`] (from the command line) says which fault kinds a
//! sweep may use at all; [`Mix::swarm`] then turns each selected kind on or
//! off for one seed and draws its rate. Everything is drawn from the seed's
//! [`SimRng`] in a fixed order, and [`Mix::describe`] renders the result
//! without any hash-map iteration, so the transcript header is the same on
//! every machine.
//!
//! Rooms: `fault_kind.rs` the fault kinds and a sweep's selection of them;
//! `rates.rs` the rates no seed draws; this file the mix a seed draws and
//! its one-line description.

mod fault_kind;
mod rates;
#[cfg(test)]
mod tests;

pub use fault_kind::{fault_kind_names, FaultKind, FaultSelection, FaultSelectionError};
pub use rates::FixedRates;

use std::collections::{BTreeMap, BTreeSet};

use allocdb_core::engine::fault::{CrashPath, CrashPoint};

use crate::action::{persist_failure_name, ActionKind, PersistFailure, PERSIST_FAILURE_KINDS};
use crate::rng::SimRng;

/// A client command kind the workload can submit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientOp {
    Create,
    Reserve,
    Activate,
    Release,
    Revoke,
    Reclaim,
}

impl ClientOp {
    pub const ALL: [ClientOp; 6] = [
        ClientOp::Create,
        ClientOp::Reserve,
        ClientOp::Activate,
        ClientOp::Release,
        ClientOp::Revoke,
        ClientOp::Reclaim,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ClientOp::Create => "create",
            ClientOp::Reserve => "reserve",
            ClientOp::Activate => "activate",
            ClientOp::Release => "release",
            ClientOp::Revoke => "revoke",
            ClientOp::Reclaim => "reclaim",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// One seed's swarm configuration. All rates are per mille.
///
/// Rates of actions taken while the engine is up are per generated action;
/// rates of the fault kinds that damage files
/// ([`FaultKind::while_up`] false) are per action generated while it is down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    /// The seed aims at the capacity edges (its other fields show how).
    pub pressure: bool,
    /// Weight of each client command kind, indexed in [`ClientOp::ALL`]
    /// order; 0 disables it. Create and reserve are always on.
    pub command_weights: [u32; 6],
    /// Re-send an old operation byte for byte (retry cache).
    pub retry_same_per_mille: u32,
    /// Re-use an old operation id with another command (operation_conflict).
    pub retry_conflict_per_mille: u32,
    pub advance_per_mille: u32,
    /// Of the slot advances, how many jump past the dedupe and history windows.
    pub advance_jump_per_mille: u32,
    pub tick_per_mille: u32,
    pub checkpoint_per_mille: u32,
    pub read_per_mille: u32,
    /// While up with requests in flight: retry one of them.
    pub in_flight_retry_per_mille: u32,
    /// Send a burst: 2 or more requests that reach the engine at the same
    /// slot, through its bounded submission queue.
    pub burst_per_mille: u32,
    /// Most requests in an ordinary burst (at least 2).
    pub burst_max: u32,
    /// Of the bursts, how many fill the submission queue to its bound or
    /// past it (up to 4 more: those get `overloaded`).
    pub burst_flood_per_mille: u32,
    /// Of the commands, how many aim at an error path on purpose (bad
    /// bundle, ttl out of range, wrong holder, stale epoch, wrong state,
    /// retired or unknown lease).
    pub invalid_per_mille: u32,
    /// Of the reserves, how many pick members from every existing resource
    /// instead of the hot set.
    pub spread_per_mille: u32,
    /// Of the reserves, how many bundle as many resources as allowed.
    pub large_bundle_per_mille: u32,
    /// Of the other reserves, how many bundle a single resource (many small
    /// leases fill the lease table).
    pub single_bundle_per_mille: u32,
    /// Of the reserves, how many use `fixed_ttl` (clamped to `max_ttl_slots`),
    /// so that deadlines pile up in one timing-wheel bucket.
    pub fixed_ttl_per_mille: u32,
    pub fixed_ttl: u64,
    /// Size of the hot resource set (clamped below `max_resources`).
    pub hot_resources: u32,
    /// Number of distinct holders.
    pub holders: u32,
    /// The fault kinds on for this seed, with their rates.
    pub faults: BTreeMap<FaultKind, u32>,
    /// Crash points `ArmCrash` may arm, in [`CrashPoint::ALL`] order;
    /// `RecoveryAfterReplayedFrame(1)` stands for every frame `1..=replay_frame_max`.
    pub crash_points: Vec<CrashPoint>,
    pub replay_frame_max: u64,
    /// Persist failures `PersistFailure` may arm; a `PartialAppend` gets a
    /// fresh size each time.
    pub persist_failures: Vec<PersistFailure>,
    /// Aim at a bound or one past it (`workload/edges.rs`): a ttl of 0, 1,
    /// max or max+1, a bundle of the bound or one more, a tick at a
    /// deadline or one slot before, a re-used operation id at the last slot
    /// of its dedupe window or the first after, a lease read at its
    /// retirement slot or one before, a read fenced at the applied LSN or
    /// one past.
    pub edge_per_mille: u32,
    /// Jump the clock to the end of time: the last request slot (`u64::MAX`
    /// minus the widest window), a little before it, or one past it. Most
    /// seeds never do.
    pub end_of_time_per_mille: u32,
    /// While the engine is halted (its clients cannot know), a client
    /// sends something (a write, a retry, a burst, a read, a tick, a
    /// checkpoint) rather than the operator restarting it.
    pub halted_request_per_mille: u32,
    /// Of the fresh submits, how many a buggy caller sends with operation
    /// id 0 (`malformed`).
    pub malformed_per_mille: u32,
    /// Of the fresh submits, how many are stamped behind the clock: as a
    /// request queued before a tick that ran first (not behind the
    /// engine's last request slot: legal), or a stale caller's (behind it:
    /// `slot_rewound`), half each.
    pub stale_stamp_per_mille: u32,
    /// The workload's other rates: the same for every seed (not drawn, so
    /// not in [`Mix::describe`]).
    pub rates: FixedRates,
}

impl Mix {
    /// Draws one seed's mix. `FaultSelection::None` gives a mix without
    /// any fault.
    pub fn swarm(rng: &mut SimRng, selection: &FaultSelection) -> Mix {
        // A pressure seed crawls through time with many small reserves
        // spread over every resource, so that the lease, member, operation
        // and expiry tables fill before their records retire.
        let pressure = rng.chance(300);
        let mut command_weights = [0u32; 6];
        for op in ClientOp::ALL {
            let weight = match op {
                ClientOp::Create => rng.between(1, 4),
                ClientOp::Reserve if pressure => rng.between(6, 10),
                ClientOp::Reserve => rng.between(3, 10),
                _ => {
                    if rng.chance(750) {
                        rng.between(1, 8)
                    } else {
                        0
                    }
                }
            };
            command_weights[op.index()] = weight as u32;
        }
        let retry_same_per_mille = sometimes(rng, 800, (5, 60));
        let retry_conflict_per_mille = sometimes(rng, 700, (2, 30));
        // Pressure seeds let time crawl, so that terminal leases and
        // operation records pile up before they retire and the tables fill
        // (slower still, the operation table would be full all the time).
        // One draw from the pressure range or the normal one.
        let rate = |rng: &mut SimRng, under: (u64, u64), normal: (u64, u64)| {
            let (low, high) = if pressure { under } else { normal };
            rng.between(low, high) as u32
        };
        let advance_per_mille = rate(rng, (20, 40), (30, 250));
        let advance_jump_per_mille = rate(rng, (0, 10), (5, 80));
        let tick_per_mille = if pressure {
            rng.between(3, 60)
        } else if rng.chance(200) {
            rng.between(3, 20)
        } else {
            rng.between(20, 250)
        } as u32;
        let checkpoint_per_mille = rng.between(3, 30) as u32;
        let read_per_mille = rng.between(5, 100) as u32;
        let in_flight_retry_per_mille = rng.between(600, 950) as u32;
        let invalid_per_mille = rate(rng, (10, 60), (20, 150));
        let spread_per_mille = rate(rng, (600, 1000), (0, 900));
        // Under pressure: either many single-resource leases (lease table)
        // or full bundles (member table).
        let large_first = rng.chance(400);
        let large_bundle_per_mille = match (pressure, large_first) {
            (true, true) => rng.between(500, 900),
            (true, false) => rng.between(0, 100),
            (false, _) => rng.between(0, 600),
        } as u32;
        let single_bundle_per_mille = if (pressure && !large_first) || rng.chance(400) {
            rng.between(300, 900) as u32
        } else {
            0
        };
        let fixed_ttl_per_mille = if pressure || rng.chance(400) {
            rng.between(300, 900) as u32
        } else {
            0
        };
        let fixed_ttl = rng.between(1, 64);
        let hot_resources = rng.between(6, 10) as u32;
        let holders = rng.between(4, 48) as u32;

        // I/O errors are drawn last of all (below), so that the draws up to
        // there are those of a mix without them.
        let selected: Vec<FaultKind> = selection
            .kinds()
            .into_iter()
            .filter(|&kind| kind != FaultKind::IoError)
            .collect();
        let mut faults = BTreeMap::new();
        for &kind in &selected {
            if rng.chance(750) {
                faults.insert(kind, Mix::draw_rate(rng, kind));
            }
        }
        if faults.is_empty() && !selected.is_empty() {
            let kind = *rng.pick(&selected);
            faults.insert(kind, Mix::draw_rate(rng, kind));
        }

        let mut crash_points = Vec::new();
        let mut replay_frame_max = 0;
        if faults.contains_key(&FaultKind::ArmCrash) {
            crash_points = Mix::draw_subset(rng, &CrashPoint::ALL);
            if crash_points.contains(&CrashPoint::RecoveryAfterReplayedFrame(1)) {
                replay_frame_max = rng.between(1, 4);
            }
        }
        let mut persist_failures = Vec::new();
        if faults.contains_key(&FaultKind::PersistFailure) {
            persist_failures = Mix::draw_subset(rng, &PERSIST_FAILURE_KINDS);
        }

        // Drawn last, so that the draws above are those of a mix without
        // bursts. Some seeds never burst; most do now and then, mostly a
        // few requests, rarely a flood of the submission queue.
        let burst_per_mille = sometimes(rng, 800, (5, 50));
        let burst_max = rng.between(2, 8) as u32;
        let burst_flood_per_mille = sometimes(rng, 600, (10, 80));
        // Drawn after the bursts, for the same reason.
        let edge_per_mille = sometimes(rng, 750, (5, 40));
        // Past the end of time every write is refused, so a seed that gets
        // there spends the rest of its steps on faults and reads: few
        // seeds go, and late.
        let end_of_time_per_mille = sometimes(rng, 60, (1, 4));
        // Drawn last, for the same reason: callers that cannot know the
        // engine halted, buggy callers, and late or stale requests.
        let halted_request_per_mille = sometimes(rng, 800, (300, 900));
        let malformed_per_mille = sometimes(rng, 500, (2, 15));
        let stale_stamp_per_mille = sometimes(rng, 700, (5, 60));
        if selection.includes(FaultKind::IoError) && (faults.is_empty() || rng.chance(750)) {
            faults.insert(FaultKind::IoError, Mix::draw_rate(rng, FaultKind::IoError));
        }

        Mix {
            pressure,
            command_weights,
            retry_same_per_mille,
            retry_conflict_per_mille,
            advance_per_mille,
            advance_jump_per_mille,
            tick_per_mille,
            checkpoint_per_mille,
            read_per_mille,
            in_flight_retry_per_mille,
            burst_per_mille,
            burst_max,
            burst_flood_per_mille,
            invalid_per_mille,
            spread_per_mille,
            large_bundle_per_mille,
            single_bundle_per_mille,
            fixed_ttl_per_mille,
            fixed_ttl,
            hot_resources,
            holders,
            faults,
            crash_points,
            replay_frame_max,
            persist_failures,
            edge_per_mille,
            end_of_time_per_mille,
            halted_request_per_mille,
            malformed_per_mille,
            stale_stamp_per_mille,
            rates: FixedRates::DEFAULT,
        }
    }

    fn draw_rate(rng: &mut SimRng, kind: FaultKind) -> u32 {
        let (low, high) = match kind {
            FaultKind::ArmCrash => (5, 40),
            FaultKind::PersistFailure => (3, 25),
            // Most fire at the next checkpoint, and each halts the engine:
            // a rate like a persist failure's would kill most armed crash
            // points before their path comes.
            FaultKind::IoError => (2, 12),
            FaultKind::Crash => (2, 20),
            FaultKind::TearLastFrame => (100, 500),
            FaultKind::FlipWalBit | FaultKind::FlipSnapshotBit => (30, 250),
            FaultKind::ReadFault => (20, 150),
            FaultKind::LoseEntries | FaultKind::LoseFileData => (300, 1000),
        };
        rng.between(low, high) as u32
    }

    /// Each item on with probability 1/2, at least one, in input order.
    fn draw_subset<T: Copy>(rng: &mut SimRng, items: &[T]) -> Vec<T> {
        let mut on: Vec<bool> = items.iter().map(|_| rng.chance(500)).collect();
        if !on.iter().any(|&b| b) {
            on[rng.below(items.len() as u64) as usize] = true;
        }
        items
            .iter()
            .zip(on)
            .filter(|(_, on)| *on)
            .map(|(&item, _)| item)
            .collect()
    }

    /// The mix with every fault removed (the workload part unchanged).
    pub fn without_faults(&self) -> Mix {
        Mix {
            faults: BTreeMap::new(),
            crash_points: Vec::new(),
            replay_frame_max: 0,
            persist_failures: Vec::new(),
            ..self.clone()
        }
    }

    pub fn weight(&self, op: ClientOp) -> u32 {
        self.command_weights[op.index()]
    }

    /// The rate of a fault kind, `None` when it is off for this seed.
    pub fn fault_rate(&self, kind: FaultKind) -> Option<u32> {
        self.faults.get(&kind).copied()
    }

    pub fn has_faults(&self) -> bool {
        !self.faults.is_empty()
    }

    fn arms(&self, pred: impl Fn(CrashPoint) -> bool) -> bool {
        self.faults.contains_key(&FaultKind::ArmCrash) && self.crash_points.iter().any(|&p| pred(p))
    }

    /// The action kinds this mix can produce, given a driver that lets armed
    /// faults fire where the core would (client points on a write, expire
    /// points on a tick that expires, checkpoint points on a checkpoint,
    /// recovery points on a restart) and a run long enough.
    pub fn reachable_kinds(&self) -> BTreeSet<ActionKind> {
        let on = |kind| self.faults.contains_key(&kind);
        let crash = on(FaultKind::Crash);
        // An I/O error halts the engine, or leaves it down when it fails a
        // recovery, as a persist failure does.
        let persist = on(FaultKind::PersistFailure) || on(FaultKind::IoError);
        // A recovery point fires only on a restart, which needs the engine
        // down or halted by something else first. (The torn-tail point is
        // armed only while down with an unsynced tail.)
        let armed_while_up = |p: CrashPoint| {
            matches!(
                p,
                CrashPoint::RecoveryAfterSnapshotLoad | CrashPoint::RecoveryAfterReplayedFrame(_)
            )
        };
        let down = crash
            || self.arms(|p| p.path() != CrashPath::Recovery)
            || (self.arms(armed_while_up) && persist);
        // Writes interrupted by a crash point or a persist failure stay in
        // flight (and get retried), and so do those sent while down.
        let in_flight = persist || self.arms(|p| p.path() == CrashPath::Client) || down;
        // A tear needs an unsynced tail while down.
        let unsynced_down = self.arms(|p| {
            matches!(
                p,
                CrashPoint::ClientAfterAppend | CrashPoint::ExpireAfterAppend
            )
        });
        // (A crash leaves nothing unsynced: what survives a power loss is
        // on disk. A halted engine's unsynced tail is not down.)

        let mut kinds = BTreeSet::from([
            ActionKind::Submit,
            ActionKind::AdvanceSlot,
            ActionKind::Tick,
            ActionKind::Checkpoint,
            ActionKind::Read,
        ]);
        let mut add = |yes: bool, kind: ActionKind| {
            if yes {
                kinds.insert(kind);
            }
        };
        let torn_point = |p| p == CrashPoint::RecoveryAfterTornTailTruncate;
        add(
            self.arms(|p| !torn_point(p)) || (self.arms(torn_point) && unsynced_down),
            ActionKind::ArmCrash,
        );
        add(self.burst_per_mille > 0, ActionKind::Burst);
        add(on(FaultKind::PersistFailure), ActionKind::ArmPersistFailure);
        add(on(FaultKind::IoError), ActionKind::ArmIoError);
        add(crash, ActionKind::Crash);
        add(down || persist, ActionKind::Restart);
        // An edge re-sends an operation at its dedupe window's end.
        add(
            self.retry_same_per_mille > 0 || in_flight || self.edge_per_mille > 0,
            ActionKind::Retry,
        );
        add(
            on(FaultKind::TearLastFrame) && unsynced_down,
            ActionKind::TearLastFrame,
        );
        add(on(FaultKind::FlipWalBit) && down, ActionKind::FlipWalBit);
        add(
            on(FaultKind::FlipSnapshotBit) && down,
            ActionKind::FlipSnapshotBit,
        );
        add(on(FaultKind::ReadFault) && down, ActionKind::ArmReadFault);
        kinds
    }

    /// A deterministic one-line description for the transcript header.
    pub fn describe(&self) -> String {
        let commands: Vec<String> = ClientOp::ALL
            .iter()
            .map(|&op| format!("{}={}", op.name(), self.weight(op)))
            .collect();
        let mut text = format!(
            "pressure={} commands[{}] per_mille[retry_same={} retry_conflict={} advance={} \
             advance_jump={} tick={} checkpoint={} read={} in_flight_retry={} burst={} \
             burst_flood={} invalid={} spread={} large_bundle={} single_bundle={} fixed_ttl={} \
             edge={} end_of_time={} halted_request={} malformed={} stale_stamp={}] \
             fixed_ttl={} burst_max={} hot_resources={} holders={}",
            if self.pressure { "yes" } else { "no" },
            commands.join(" "),
            self.retry_same_per_mille,
            self.retry_conflict_per_mille,
            self.advance_per_mille,
            self.advance_jump_per_mille,
            self.tick_per_mille,
            self.checkpoint_per_mille,
            self.read_per_mille,
            self.in_flight_retry_per_mille,
            self.burst_per_mille,
            self.burst_flood_per_mille,
            self.invalid_per_mille,
            self.spread_per_mille,
            self.large_bundle_per_mille,
            self.single_bundle_per_mille,
            self.fixed_ttl_per_mille,
            self.edge_per_mille,
            self.end_of_time_per_mille,
            self.halted_request_per_mille,
            self.malformed_per_mille,
            self.stale_stamp_per_mille,
            self.fixed_ttl,
            self.burst_max,
            self.hot_resources,
            self.holders,
        );
        if self.faults.is_empty() {
            text.push_str(" faults=none");
            return text;
        }
        let mut parts = Vec::new();
        for (&kind, &rate) in &self.faults {
            let mut part = format!("{}={}", kind.name(), rate);
            match kind {
                FaultKind::ArmCrash => {
                    let points: Vec<String> = self
                        .crash_points
                        .iter()
                        .map(|&point| match point {
                            CrashPoint::RecoveryAfterReplayedFrame(_) => {
                                format!("{}(1..={})", point.name(), self.replay_frame_max)
                            }
                            _ => point.name().to_owned(),
                        })
                        .collect();
                    part.push_str(&format!("[{}]", points.join(",")));
                }
                FaultKind::PersistFailure => {
                    let failures: Vec<&str> = self
                        .persist_failures
                        .iter()
                        .map(|&failure| persist_failure_name(failure))
                        .collect();
                    part.push_str(&format!("[{}]", failures.join(",")));
                }
                _ => {}
            }
            parts.push(part);
        }
        text.push_str(&format!(" faults_per_mille[{}]", parts.join(" ")));
        text
    }
}

/// A rate that is on for `on_per_mille` of seeds, drawn from `range`
/// when it is, 0 when not.
fn sometimes(rng: &mut SimRng, on_per_mille: u32, (low, high): (u64, u64)) -> u32 {
    if rng.chance(on_per_mille) {
        rng.between(low, high) as u32
    } else {
        0
    }
}
