//! A deterministic, steady-state mixed workload for the state machine.
//!
//! Shared by the allocation test (`tests/alloc_free.rs`) and the apply
//! benchmark (`benches/apply.rs`) through `#[path]`, so both measure the same
//! command mix.
//!
//! - Seeded by one `u64` (splitmix64 inline): no `rand`, no wall clock, so a
//!   seed always produces the same command stream against the same config.
//! - [`Workload::step`] generates and applies exactly one command and never
//!   touches the heap: every buffer (the live-lease array, the tick buffer,
//!   the counters) is allocated or inlined in [`Workload::new`].
//! - Slots advance every `commands_per_slot` client commands. At each new
//!   slot a maintenance tick runs to exhaustion: `due_expirations`, then one
//!   `LogCommand::Expire` per entry, each returned by its own `step`.
//! - The workload tracks every lease it intends to drive (id, holder, epoch,
//!   state, deadline) in a fixed array, so it knows the exact expected outcome
//!   of each lease command; a mismatch is counted in [`Stats::surprises`].
//!
//! Command mix (measured: [`Stats::kind_summary`]): reserve ~40-45% (1, 2 or
//! 4 members, ~30% aimed at a small hot set of resources, ~12% abandoned
//! with a short ttl so the tick expires them), activate/release/revoke/
//! reclaim on a random tracked lease ~50-55% (a few with a stale epoch, the
//! wrong holder or in the wrong state), expires ~3.5%, retries of the
//! previous request 2%, create_resource 0.5%.
//! Rejections come from contention (`resource_busy`), fencing
//! (`stale_epoch`, `holder_mismatch`), wrong-state and late commands
//! (`invalid_state`, `lease_retired`) and duplicate creates
//! (`already_exists`); [`Stats::rejection_ratio`] reports the measured share.

// Each includer uses a different subset of the API.
#![allow(dead_code)]

use allocdb_core::{
    Applied, Bundle, ClientId, ClientRequest, Command, CommandKind, Config, DueExpiry, HolderId,
    LeaseEpoch, LeaseId, LogCommand, Lsn, OperationId, Outcome, ResourceId, ResultCode, Slot,
    StateMachine,
};

/// Most members one generated reserve bundles (clamped to `max_bundle_size`).
const MAX_GENERATED_BUNDLE: usize = 4;
/// Expiry entries fetched per `due_expirations` call; inline in the struct.
const TICK_BUFFER: usize = 64;
/// Resource ids start here so that they never look like small integers.
const RESOURCE_BASE: u128 = 1 << 96;
const OPERATION_BASE: u128 = 1 << 100;

/// splitmix64: tiny, seedable, good enough to shuffle a workload.
#[derive(Clone, Copy, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is negligible here).
    fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn per_mille(&mut self) -> u64 {
        self.below(1000)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tracked {
    Reserved,
    Active,
    Revoking,
}

/// A lease the workload drives, as the state machine must see it.
#[derive(Clone, Copy, Debug)]
struct Live {
    lease_id: LeaseId,
    holder_id: HolderId,
    epoch: LeaseEpoch,
    deadline: Slot,
    state: Tracked,
}

const NO_LEASE: Live = Live {
    lease_id: LeaseId(0),
    holder_id: HolderId(0),
    epoch: LeaseEpoch(0),
    deadline: Slot(0),
    state: Tracked::Reserved,
};

const NO_DUE: DueExpiry = DueExpiry {
    deadline_slot: Slot(0),
    lease_id: LeaseId(0),
};

/// What one command is expected to produce, for the surprise check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Success,
    Reject(ResultCode),
    /// A late command on a lease the tick expired: `stale_epoch` (expiry
    /// bumped the epoch) while the lease is in its history window,
    /// `lease_retired` after.
    Late,
}

impl Expect {
    fn matches(self, outcome: &Outcome) -> bool {
        match self {
            Expect::Success => outcome.is_success(),
            Expect::Reject(code) => outcome.code() == code,
            Expect::Late => matches!(
                outcome.code(),
                ResultCode::StaleEpoch | ResultCode::LeaseRetired
            ),
        }
    }
}

/// Counters over every command `step` applied (setup excluded).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub commands: u64,
    /// Indexed by `CommandKind as usize` (the order of `CommandKind::ALL`).
    pub by_kind: [u64; 7],
    /// Indexed by `ResultCode as usize`; `Ok` counts successes.
    pub by_code: [u64; 20],
    /// Commands whose outcome is `Rejected(_)` (including retry-cache hits
    /// that return a stored rejection).
    pub rejections: u64,
    /// Client commands answered from the retry cache.
    pub retry_hits: u64,
    /// Outcomes that differ from what the workload's tracking predicted.
    pub surprises: u64,
    /// Slots advanced (one maintenance tick each).
    pub slots: u64,
}

impl Stats {
    pub fn rejection_ratio(&self) -> f64 {
        self.rejections as f64 / self.commands.max(1) as f64
    }

    pub fn kind(&self, kind: CommandKind) -> u64 {
        self.by_kind[kind as usize]
    }

    pub fn code(&self, code: ResultCode) -> u64 {
        self.by_code[code as usize]
    }

    /// Share of each command kind, e.g. `reserve=47.9% activate=22.6% ..`.
    /// For reports; allocates.
    pub fn kind_summary(&self) -> String {
        CommandKind::ALL
            .iter()
            .map(|k| {
                let share = 100.0 * self.kind(*k) as f64 / self.commands.max(1) as f64;
                format!("{}={share:.1}%", k.name())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Rejections by code, most frequent first, e.g.
    /// `resource_busy=1234 stale_epoch=56`. For reports; allocates.
    pub fn rejection_summary(&self) -> String {
        let mut codes: Vec<(u64, ResultCode)> = ResultCode::ALL
            .iter()
            .filter(|c| **c != ResultCode::Ok && self.code(**c) > 0)
            .map(|c| (self.code(*c), *c))
            .collect();
        codes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        codes
            .iter()
            .map(|(n, c)| format!("{}={n}", c.name()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub struct Workload {
    config: Config,
    rng: SplitMix64,
    lsn: u64,
    slot: u64,
    commands_per_slot: u64,
    /// Client commands applied at the current slot.
    in_slot: u64,
    /// Resources `0..created` exist (ids `RESOURCE_BASE + index`).
    created: u32,
    /// Resources created by `setup`; the rest are left to `create_resource`
    /// commands in the mix.
    initial_resources: u32,
    hot_len: u32,
    max_bundle: usize,
    tracked_ttl_min: u64,
    abandoned_ttl_max: u64,
    /// Tracked leases: `live[..live_len]`; fixed length, never grows.
    live: Box<[Live]>,
    live_len: usize,
    /// Expiries fetched by the current tick but not yet applied:
    /// `due[due_next..due_len]`.
    due: [DueExpiry; TICK_BUFFER],
    due_len: usize,
    due_next: usize,
    ticking: bool,
    /// Expires the running tick has committed: each reserved lease at most
    /// once, so never more than the lease bound.
    tick_expires: u32,
    next_operation: u128,
    last_request: Option<ClientRequest>,
    stats: Stats,
}

impl Workload {
    /// Sizes every buffer from `config`; this is the only place that
    /// allocates (besides `setup`, which applies through the state machine).
    pub fn new(seed: u64, config: &Config) -> Workload {
        let resources = config.max_resources;
        // Leave a few resources for `create_resource` commands in the mix.
        let spare = (resources / 64).clamp(1, 1024).min(resources - 1);
        let initial_resources = resources - spare;
        // Tracked leases hold roughly 1/16 of the resources (bundles average
        // ~1.5 members), the abandoned ones a little more.
        let live_capacity = (resources / 16).max(1).min(config.max_leases / 4).max(1) as usize;
        let max_bundle = MAX_GENERATED_BUNDLE.min(config.max_bundle_size as usize);
        let ttl = config.max_ttl_slots;
        Workload {
            config: *config,
            rng: SplitMix64(seed),
            lsn: 0,
            slot: 1,
            commands_per_slot: commands_per_slot(config, live_capacity as u64, max_bundle as u64),
            in_slot: 0,
            created: 0,
            initial_resources,
            hot_len: (initial_resources / 4096)
                .max(max_bundle as u32)
                .min(initial_resources),
            max_bundle,
            tracked_ttl_min: (ttl / 2).max(1),
            abandoned_ttl_max: ttl.min(8),
            live: vec![NO_LEASE; live_capacity].into_boxed_slice(),
            live_len: 0,
            due: [NO_DUE; TICK_BUFFER],
            due_len: 0,
            due_next: 0,
            ticking: false,
            tick_expires: 0,
            next_operation: 0,
            last_request: None,
            stats: Stats::default(),
        }
    }

    /// Creates the initial resources (through `apply`, slot by slot like any
    /// other client command). Not counted in [`Workload::stats`].
    pub fn setup(&mut self, sm: &mut StateMachine) {
        while self.created < self.initial_resources {
            if let Some(applied) = self.tick_or_advance(sm) {
                assert!(
                    matches!(applied.outcome, Outcome::Rejected(ResultCode::Noop))
                        || applied.outcome.is_success(),
                    "setup tick: {applied:?}"
                );
                continue;
            }
            let resource_id = self.resource(self.created);
            let applied = self.apply_client(sm, Command::CreateResource { resource_id });
            assert_eq!(applied.outcome, Outcome::ResourceCreated, "setup create");
            self.created += 1;
        }
        self.stats = Stats::default();
    }

    /// Runs `steps` commands, e.g. to reach the steady state before a
    /// measurement; the stats then start afresh.
    pub fn warm_up(&mut self, sm: &mut StateMachine, steps: u64) {
        for _ in 0..steps {
            self.step(sm);
        }
        self.stats = Stats::default();
    }

    /// Generates and applies one command: the next expire of a running tick,
    /// or a client command. Never allocates.
    pub fn step(&mut self, sm: &mut StateMachine) -> Applied {
        if let Some(applied) = self.tick_or_advance(sm) {
            self.record(&applied, CommandKind::Expire);
            if !matches!(applied.outcome, Outcome::Expired { .. }) {
                self.stats.surprises += 1;
            }
            return applied;
        }
        let roll = self.rng.per_mille();
        let (applied, kind) = if roll < 5 {
            self.create(sm)
        } else if roll < 25 && self.last_request.is_some() {
            self.retry(sm)
        } else if (roll < 575 && self.live_len < self.live.len()) || self.live_len == 0 {
            self.reserve(sm)
        } else {
            self.advance_lease(sm)
        };
        self.record(&applied, kind);
        applied
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn rejections(&self) -> u64 {
        self.stats.rejections
    }

    pub fn commands_per_slot(&self) -> u64 {
        self.commands_per_slot
    }

    /// Tracked (live) leases right now.
    pub fn live_leases(&self) -> usize {
        self.live_len
    }

    pub fn slot(&self) -> Slot {
        Slot(self.slot)
    }

    // --- slots and the maintenance tick ---------------------------------

    /// The next expire of a running tick, if any; otherwise advances the
    /// slot when the current one is full (starting a tick) and returns the
    /// tick's first expire, or `None` when a client command is due.
    fn tick_or_advance(&mut self, sm: &mut StateMachine) -> Option<Applied> {
        loop {
            if self.ticking {
                if self.due_next == self.due_len {
                    self.due_len = sm.due_expirations(Slot(self.slot), &mut self.due);
                    self.due_next = 0;
                    if self.due_len == 0 {
                        self.ticking = false;
                        continue;
                    }
                }
                let due = self.due[self.due_next];
                self.due_next += 1;
                self.tick_expires += 1;
                assert!(
                    self.tick_expires <= self.config.max_leases,
                    "one tick expired more leases than can exist"
                );
                let command = LogCommand::Expire {
                    lease_id: due.lease_id,
                    deadline_slot: due.deadline_slot,
                };
                return Some(self.apply(sm, &command));
            }
            if self.in_slot < self.commands_per_slot {
                return None;
            }
            self.slot += 1;
            self.in_slot = 0;
            self.stats.slots += 1;
            self.ticking = true;
            self.tick_expires = 0;
        }
    }

    fn apply(&mut self, sm: &mut StateMachine, command: &LogCommand) -> Applied {
        self.lsn += 1;
        sm.apply(Lsn(self.lsn), Slot(self.slot), command)
            .expect("the workload's lsn and slot only move forward")
    }

    fn apply_client(&mut self, sm: &mut StateMachine, command: Command) -> Applied {
        self.next_operation += 1;
        let request = ClientRequest {
            operation_id: OperationId(OPERATION_BASE + self.next_operation),
            client_id: ClientId(u128::from(self.rng.below(1024))),
            command,
        };
        self.last_request = Some(request);
        self.in_slot += 1;
        self.apply(sm, &LogCommand::Client(request))
    }

    fn record(&mut self, applied: &Applied, kind: CommandKind) {
        let stats = &mut self.stats;
        stats.commands += 1;
        stats.by_kind[kind as usize] += 1;
        stats.by_code[applied.outcome.code() as usize] += 1;
        if !applied.outcome.is_success() {
            stats.rejections += 1;
        }
        if applied.from_retry_cache {
            stats.retry_hits += 1;
        }
    }

    fn check(&mut self, expect: Expect, applied: &Applied) {
        if applied.from_retry_cache || !expect.matches(&applied.outcome) {
            self.stats.surprises += 1;
        }
    }

    // --- client commands -------------------------------------------------

    fn resource(&self, index: u32) -> ResourceId {
        ResourceId(RESOURCE_BASE + u128::from(index))
    }

    fn create(&mut self, sm: &mut StateMachine) -> (Applied, CommandKind) {
        let (index, expect) = if self.created < self.config.max_resources {
            (self.created, Expect::Success)
        } else {
            let index = self.rng.below(u64::from(self.created)) as u32;
            (index, Expect::Reject(ResultCode::AlreadyExists))
        };
        let resource_id = self.resource(index);
        let applied = self.apply_client(sm, Command::CreateResource { resource_id });
        self.check(expect, &applied);
        if applied.outcome == Outcome::ResourceCreated {
            self.created += 1;
        }
        (applied, CommandKind::CreateResource)
    }

    /// The previous client request again, same operation id: answered from
    /// the retry cache.
    fn retry(&mut self, sm: &mut StateMachine) -> (Applied, CommandKind) {
        let request = self.last_request.expect("checked by the caller");
        self.in_slot += 1;
        let applied = self.apply(sm, &LogCommand::Client(request));
        if !applied.from_retry_cache {
            self.stats.surprises += 1;
        }
        (applied, request.command.kind())
    }

    fn reserve(&mut self, sm: &mut StateMachine) -> (Applied, CommandKind) {
        let size_roll = self.rng.below(100);
        let size = if size_roll < 70 {
            1
        } else if size_roll < 90 {
            2
        } else {
            MAX_GENERATED_BUNDLE
        };
        let size = size.min(self.max_bundle).min(self.created as usize).max(1);
        let hot = self.rng.below(100) < 30;
        let mut chosen = [0u32; MAX_GENERATED_BUNDLE];
        for i in 0..size {
            let range = if hot && i == 0 {
                self.hot_len
            } else {
                self.created
            };
            let mut index = self.rng.below(u64::from(range)) as u32;
            // Distinct members: step past duplicates (size <= created).
            while chosen[..i].contains(&index) {
                index = (index + 1) % self.created;
            }
            chosen[i] = index;
        }
        let mut resources = Bundle::EMPTY;
        for index in &chosen[..size] {
            resources
                .push(self.resource(*index))
                .expect("size <= MAX_GENERATED_BUNDLE <= BUNDLE_SIZE_LIMIT");
        }
        // Abandoned leases are never touched again: the tick expires them.
        let abandoned = self.rng.below(100) < 12;
        let ttl_slots = if abandoned {
            1 + self.rng.below(self.abandoned_ttl_max)
        } else {
            let span = self.config.max_ttl_slots - self.tracked_ttl_min + 1;
            self.tracked_ttl_min + self.rng.below(span)
        };
        let holder_id = HolderId(u128::from(self.rng.next_u64()) << 8 | 1);
        let applied = self.apply_client(
            sm,
            Command::Reserve {
                resources,
                holder_id,
                ttl_slots,
            },
        );
        match applied.outcome {
            Outcome::Reserved {
                lease_id,
                lease_epoch,
                deadline_slot,
            } => {
                if applied.from_retry_cache {
                    self.stats.surprises += 1;
                } else if !abandoned {
                    self.live[self.live_len] = Live {
                        lease_id,
                        holder_id,
                        epoch: lease_epoch,
                        deadline: deadline_slot,
                        state: Tracked::Reserved,
                    };
                    self.live_len += 1;
                }
            }
            // Contention: some member is held by another lease.
            Outcome::Rejected(ResultCode::ResourceBusy) => {}
            _ => self.stats.surprises += 1,
        }
        (applied, CommandKind::Reserve)
    }

    /// One command on a random tracked lease.
    fn advance_lease(&mut self, sm: &mut StateMachine) -> (Applied, CommandKind) {
        let index = self.rng.below(self.live_len as u64) as usize;
        let lease = self.live[index];
        let roll = self.rng.below(100);
        let activate = Command::Activate {
            lease_id: lease.lease_id,
            holder_id: lease.holder_id,
            lease_epoch: lease.epoch,
        };
        let release = Command::Release {
            lease_id: lease.lease_id,
            holder_id: lease.holder_id,
            lease_epoch: lease.epoch,
        };
        // (command, expected outcome, the lease's next tracked state or
        // `None` when it leaves the tracked set)
        let (command, expect, next) = match lease.state {
            Tracked::Reserved if lease.deadline.0 <= self.slot => {
                // The tick at this slot already expired it; the client
                // learns now.
                (activate, Expect::Late, None)
            }
            Tracked::Reserved => {
                if roll < 80 {
                    (activate, Expect::Success, Some(Tracked::Active))
                } else if roll < 90 {
                    (release, Expect::Success, None)
                } else if roll < 95 {
                    let stale = Command::Activate {
                        lease_id: lease.lease_id,
                        holder_id: lease.holder_id,
                        lease_epoch: lease.epoch.bumped(),
                    };
                    (
                        stale,
                        Expect::Reject(ResultCode::StaleEpoch),
                        Some(Tracked::Reserved),
                    )
                } else {
                    let intruder = Command::Release {
                        lease_id: lease.lease_id,
                        holder_id: HolderId(lease.holder_id.0 ^ 0x80),
                        lease_epoch: lease.epoch,
                    };
                    (
                        intruder,
                        Expect::Reject(ResultCode::HolderMismatch),
                        Some(Tracked::Reserved),
                    )
                }
            }
            Tracked::Active => {
                if roll < 80 {
                    (release, Expect::Success, None)
                } else if roll < 95 {
                    let revoke = Command::Revoke {
                        lease_id: lease.lease_id,
                    };
                    (revoke, Expect::Success, Some(Tracked::Revoking))
                } else {
                    // A duplicate confirmation from a confused client.
                    (
                        activate,
                        Expect::Reject(ResultCode::InvalidState),
                        Some(Tracked::Active),
                    )
                }
            }
            Tracked::Revoking => {
                if roll < 90 {
                    let reclaim = Command::Reclaim {
                        lease_id: lease.lease_id,
                    };
                    (reclaim, Expect::Success, None)
                } else {
                    // The holder has not heard of the revoke yet.
                    (
                        release,
                        Expect::Reject(ResultCode::InvalidState),
                        Some(Tracked::Revoking),
                    )
                }
            }
        };
        let applied = self.apply_client(sm, command);
        self.check(expect, &applied);
        let epoch = match applied.outcome {
            Outcome::Released { lease_epoch, .. }
            | Outcome::Revoked { lease_epoch, .. }
            | Outcome::Activated { lease_epoch, .. } => lease_epoch,
            _ => lease.epoch,
        };
        let next = if expect.matches(&applied.outcome) {
            next
        } else {
            // Unexpected: stop driving this lease rather than compound it.
            None
        };
        match next {
            Some(state) => {
                self.live[index].state = state;
                self.live[index].epoch = epoch;
            }
            None => {
                self.live_len -= 1;
                self.live[index] = self.live[self.live_len];
            }
        }
        (applied, command.kind())
    }
}

/// Client commands per slot such that, in the steady state, the operation,
/// lease and member tables and the expiry buckets stay well inside their
/// bounds (so rejections come from contention, not capacity).
///
/// - operations: every client command stores a record for
///   `dedupe_window + 1` slots: `C * (dedupe + 1) <= max_operations / 2`;
/// - leases: at most ~45% of commands create one, held for at most
///   `history + 2` slots after ending: `0.45 C (history + 2) <= (max_leases -
///   tracked) * 2/3`, and likewise for members (`max_bundle` each);
/// - expiry buckets: one deadline collects well under `0.6 C` leases.
fn commands_per_slot(config: &Config, tracked: u64, max_bundle: u64) -> u64 {
    let dedupe = config.dedupe_window_slots() + 1;
    let retained = config.history_window_slots + 2;
    let by_operations = u64::from(config.max_operations) / 2 / dedupe;
    let lease_room = u64::from(config.max_leases).saturating_sub(tracked) * 2 / 3;
    let by_leases = lease_room * 100 / 45 / retained;
    let member_room =
        u64::from(config.max_lease_members).saturating_sub(tracked * max_bundle) * 2 / 3;
    // Bundles average ~1.5 members.
    let by_members = member_room * 100 / 45 * 2 / 3 / retained;
    let by_buckets = u64::from(config.max_expiration_bucket_len) * 100 / 60;
    by_operations
        .min(by_leases)
        .min(by_members)
        .min(by_buckets)
        .max(1)
}
