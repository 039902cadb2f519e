//! Differential test: the real core against the reference model.
//!
//! Random command sequences over a tiny id space and a tight, per-case config,
//! so that tables, wheel buckets, the operation table and retirement are all
//! exercised. After every step the two must agree on the applied outcome, the
//! state digest and every read, and the core must pass its own audit.

use allocdb_core::machine::{DueExpiry, StateMachine};
use allocdb_core::{
    Applied, Bundle, ClientId, ClientRequest, Command, Config, HolderId, LeaseEpoch, LeaseId,
    LogCommand, Lsn, OperationId, Outcome, ResourceId, ResultCode, Slot,
};
use allocdb_sim::oracle::model::Model;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The id spaces: tiny, so commands collide, but including the extremes of
/// `u128` so that an id is never mistaken for an empty-slot marker.
const RESOURCE_IDS: [u128; 6] = [0, 1, 2, 3, 1 << 64, u128::MAX];
const HOLDER_IDS: [u128; 4] = [0, 1, 1 << 100, u128::MAX];
const CLIENT_IDS: [u128; 2] = [0, u128::MAX];
const RESOURCES: u8 = RESOURCE_IDS.len() as u8;
const HOLDERS: u8 = HOLDER_IDS.len() as u8;
const CLIENTS: u8 = CLIENT_IDS.len() as u8;

fn resource_id(index: u8) -> ResourceId {
    ResourceId(RESOURCE_IDS[usize::from(index)])
}

fn holder_id(index: u8) -> HolderId {
    HolderId(HOLDER_IDS[usize::from(index)])
}

fn client_id(index: u8) -> ClientId {
    ClientId(CLIENT_IDS[usize::from(index)])
}

/// Operation ids spread over the whole `u128` range, distinct for distinct `n`.
fn operation_id(n: u128) -> OperationId {
    OperationId(n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835))
}

#[derive(Clone, Copy, Debug)]
enum LeasePick {
    /// An id seen in an outcome, counted back from the most recent.
    Seen(u8),
    /// `LeaseId::new(shard, lsn)` for an arbitrary small lsn, maybe on the other shard.
    Raw { lsn: u8, other_shard: bool },
}

#[derive(Clone, Copy, Debug)]
enum HolderPick {
    Right,
    Any(u8),
}

#[derive(Clone, Copy, Debug)]
enum EpochPick {
    Right,
    Stale,
    Ahead,
}

#[derive(Clone, Copy, Debug)]
enum TtlPick {
    /// `1 + n % max_ttl_slots`.
    InRange(u8),
    Zero,
    /// `max_ttl_slots + 1`.
    TooLong,
}

#[derive(Clone, Debug)]
enum Step {
    Create {
        resource: u8,
        client: u8,
    },
    Reserve {
        members: Vec<u8>,
        holder: u8,
        ttl: TtlPick,
        client: u8,
    },
    Activate {
        lease: LeasePick,
        holder: HolderPick,
        epoch: EpochPick,
        client: u8,
    },
    Release {
        lease: LeasePick,
        holder: HolderPick,
        epoch: EpochPick,
        client: u8,
    },
    Revoke {
        lease: LeasePick,
        client: u8,
    },
    Reclaim {
        lease: LeasePick,
        client: u8,
    },
    /// Resubmit an earlier `(operation_id, request)`, unchanged or altered.
    Retry {
        index: u8,
        altered: bool,
    },
    Advance {
        by: u8,
    },
    /// Ask the core what is due, compare with the model, expire each entry.
    Tick {
        buf_len: u8,
    },
    /// Ask what is due `ahead` slots from now without expiring anything: the
    /// listing is a pure read, whenever and however often it is asked.
    Peek {
        buf_len: u8,
        ahead: u8,
    },
    /// Leave a hole in the LSN sequence (LSNs must increase, not be dense).
    LsnGap {
        by: u8,
    },
    /// An expire whose deadline is off by `delta` from the lease's real one.
    WrongExpire {
        lease: LeasePick,
        delta: i8,
    },
    /// A log position that must be refused: a repeated lsn or a rewound slot.
    BadPosition {
        rewind_slot: bool,
    },
}

fn lease_pick() -> impl Strategy<Value = LeasePick> {
    prop_oneof![
        4 => (0u8..3).prop_map(LeasePick::Seen),
        2 => any::<u8>().prop_map(LeasePick::Seen),
        1 => (0u8..40, proptest::bool::weighted(0.3))
            .prop_map(|(lsn, other_shard)| LeasePick::Raw { lsn, other_shard }),
    ]
}

fn holder_pick() -> impl Strategy<Value = HolderPick> {
    prop_oneof![
        4 => Just(HolderPick::Right),
        1 => (0..HOLDERS).prop_map(HolderPick::Any),
    ]
}

fn epoch_pick() -> impl Strategy<Value = EpochPick> {
    prop_oneof![
        6 => Just(EpochPick::Right),
        1 => Just(EpochPick::Stale),
        1 => Just(EpochPick::Ahead),
    ]
}

fn ttl_pick() -> impl Strategy<Value = TtlPick> {
    prop_oneof![
        6 => any::<u8>().prop_map(TtlPick::InRange),
        1 => Just(TtlPick::Zero),
        1 => Just(TtlPick::TooLong),
    ]
}

fn client() -> impl Strategy<Value = u8> {
    0..CLIENTS
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..RESOURCES, client()).prop_map(|(resource, client)| Step::Create { resource, client }),
        8 => (
            prop_oneof![
                6 => proptest::collection::vec(0..RESOURCES, 1..=1),
                4 => proptest::collection::vec(0..RESOURCES, 2..=2),
                3 => proptest::collection::vec(0..RESOURCES, 3..=5),
                1 => Just(Vec::new()),
            ],
            0..HOLDERS,
            ttl_pick(),
            client(),
        )
            .prop_map(|(members, holder, ttl, client)| Step::Reserve { members, holder, ttl, client }),
        3 => (lease_pick(), holder_pick(), epoch_pick(), client())
            .prop_map(|(lease, holder, epoch, client)| Step::Activate { lease, holder, epoch, client }),
        3 => (lease_pick(), holder_pick(), epoch_pick(), client())
            .prop_map(|(lease, holder, epoch, client)| Step::Release { lease, holder, epoch, client }),
        2 => (lease_pick(), client()).prop_map(|(lease, client)| Step::Revoke { lease, client }),
        2 => (lease_pick(), client()).prop_map(|(lease, client)| Step::Reclaim { lease, client }),
        3 => (any::<u8>(), proptest::bool::weighted(0.35))
            .prop_map(|(index, altered)| Step::Retry { index, altered }),
        8 => any::<u8>().prop_map(|by| Step::Advance { by }),
        4 => (0u8..=6).prop_map(|buf_len| Step::Tick { buf_len }),
        1 => (0u8..=6, 0u8..=3).prop_map(|(buf_len, ahead)| Step::Peek { buf_len, ahead }),
        1 => (1u8..=3).prop_map(|by| Step::LsnGap { by }),
        1 => (lease_pick(), -2i8..=2).prop_map(|(lease, delta)| Step::WrongExpire { lease, delta }),
        1 => any::<bool>().prop_map(|rewind_slot| Step::BadPosition { rewind_slot }),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        (
            0u64..=1,
            prop_oneof![1 => 1u32..=3, 4 => 4u32..=7],
            1u32..=8,
            prop_oneof![1 => 1u32..=1, 3 => 2u32..=4],
            0u32..=8,
            prop_oneof![1 => 1u32..=3, 4 => 8u32..=96],
        ),
        (1u64..=6, 0u64..=4, 1u64..=4, 1u32..=3, 1u32..=4),
    )
        .prop_map(
            |(
                (
                    shard_id,
                    max_resources,
                    max_leases,
                    max_bundle_size,
                    extra_members,
                    max_operations,
                ),
                (max_ttl_slots, retry, history, bucket, per_tick),
            )| Config {
                shard_id,
                max_resources,
                max_leases,
                max_bundle_size,
                max_lease_members: max_bundle_size + extra_members,
                max_operations,
                max_ttl_slots,
                max_client_retry_window_slots: retry,
                history_window_slots: history,
                max_expiration_bucket_len: bucket,
                max_expirations_per_tick: per_tick,
            },
        )
}

/// Where in the run (if at all) the slot jumps next to `max_request_slot`,
/// and by how much it lands before (negative) or past it.
fn far_jump() -> impl Strategy<Value = Option<(usize, i8)>> {
    proptest::option::weighted(0.2, (0usize..200, -4i8..=3))
}

struct Harness {
    core: StateMachine,
    model: Model,
    config: Config,
    lsn: u64,
    slot: u64,
    next_operation: u128,
    seen_leases: Vec<LeaseId>,
    requests: Vec<ClientRequest>,
    log: Vec<(u64, u64, LogCommand)>,
}

impl Harness {
    fn new(config: Config) -> Harness {
        Harness {
            core: StateMachine::new(config).expect("generated configs are valid"),
            model: Model::new(config),
            config,
            lsn: 0,
            slot: 0,
            next_operation: 0,
            seen_leases: Vec::new(),
            requests: Vec::new(),
            log: Vec::new(),
        }
    }

    fn history(&self) -> String {
        let mut out = format!("config: {:?}\nlog:\n", self.config);
        for (lsn, slot, command) in &self.log {
            out.push_str(&format!("  lsn {lsn} slot {slot}: {command:?}\n"));
        }
        out
    }

    fn fail(&self, what: String) -> TestCaseError {
        TestCaseError::fail(format!("{what}\n{}", self.history()))
    }

    fn resolve(&self, pick: LeasePick) -> LeaseId {
        match pick {
            LeasePick::Seen(back) if !self.seen_leases.is_empty() => {
                let len = self.seen_leases.len();
                self.seen_leases[len - 1 - usize::from(back) % len]
            }
            LeasePick::Seen(back) => LeaseId::new(self.config.shard_id, Lsn(u64::from(back % 8))),
            LeasePick::Raw { lsn, other_shard } => {
                let shard = if other_shard {
                    self.config.shard_id ^ 1
                } else {
                    self.config.shard_id
                };
                LeaseId::new(shard, Lsn(u64::from(lsn)))
            }
        }
    }

    fn holder(&self, lease_id: LeaseId, pick: HolderPick) -> HolderId {
        match pick {
            HolderPick::Right => self
                .model
                .get_lease(lease_id)
                .map_or(HolderId(0), |lease| lease.holder_id),
            HolderPick::Any(h) => holder_id(h),
        }
    }

    fn epoch(&self, lease_id: LeaseId, pick: EpochPick) -> LeaseEpoch {
        let right = self
            .model
            .get_lease(lease_id)
            .map_or(LeaseEpoch::INITIAL, |lease| lease.lease_epoch);
        match pick {
            EpochPick::Right => right,
            EpochPick::Stale => LeaseEpoch(right.0.saturating_sub(1)),
            EpochPick::Ahead => right.bumped(),
        }
    }

    fn submit(&mut self, client: u8, command: Command) -> Result<(), TestCaseError> {
        let request = ClientRequest {
            operation_id: operation_id(self.next_operation),
            client_id: client_id(client),
            command,
        };
        self.next_operation += 1;
        self.requests.push(request);
        self.apply(LogCommand::Client(request)).map(|_| ())
    }

    fn apply(&mut self, command: LogCommand) -> Result<Applied, TestCaseError> {
        self.lsn += 1;
        self.log.push((self.lsn, self.slot, command));
        let (lsn, slot) = (Lsn(self.lsn), Slot(self.slot));
        let core = self.core.apply(lsn, slot, &command);
        let model = self.model.apply(lsn, slot, &command);
        let applied = match (core, model) {
            (Ok(core), Ok(model)) if core == model => core,
            (core, model) => {
                return Err(self.fail(format!(
                    "apply disagrees\n  core:  {core:?}\n  model: {model:?}"
                )))
            }
        };
        if let Outcome::Reserved { lease_id, .. } = applied.outcome {
            if !self.seen_leases.contains(&lease_id) {
                self.seen_leases.push(lease_id);
            }
        }
        self.check()?;
        Ok(applied)
    }

    fn check(&self) -> Result<(), TestCaseError> {
        if let Err(violation) = self.core.check_invariants() {
            return Err(self.fail(format!("core invariant violated: {violation:?}")));
        }
        if self.core.digest() != self.model.digest() {
            return Err(self.fail("digests differ".to_string()));
        }
        if self.core.last_applied_lsn() != self.model.last_applied_lsn()
            || self.core.last_request_slot() != self.model.last_request_slot()
        {
            return Err(self.fail("last applied position differs".to_string()));
        }
        for r in 0..RESOURCES {
            let id = resource_id(r);
            let (core, model) = (self.core.get_resource(id), self.model.get_resource(id));
            if core != model {
                return Err(self.fail(format!(
                    "get_resource({id:?})\n  core:  {core:?}\n  model: {model:?}"
                )));
            }
        }
        let shard = self.config.shard_id;
        let probes = [
            LeaseId(0),
            LeaseId::new(shard, Lsn(0)),
            LeaseId::new(shard, Lsn(self.lsn + 1)),
            LeaseId::new(shard ^ 1, Lsn(1)),
            LeaseId::new(shard, Lsn(u64::MAX)),
            LeaseId(u128::MAX),
        ];
        for id in self.seen_leases.iter().chain(&probes) {
            let (core, model) = (self.core.get_lease(*id), self.model.get_lease(*id));
            if core != model {
                return Err(self.fail(format!(
                    "get_lease({id:?})\n  core:  {core:?}\n  model: {model:?}"
                )));
            }
        }
        for op in 0..self.next_operation {
            let id = operation_id(op);
            let (core, model) = (self.core.get_operation(id), self.model.get_operation(id));
            if core != model {
                return Err(self.fail(format!(
                    "get_operation({id:?})\n  core:  {core:?}\n  model: {model:?}"
                )));
            }
        }
        Ok(())
    }

    fn tick(&mut self, buf_len: u8) -> Result<(), TestCaseError> {
        let due = self.due(Slot(self.slot), buf_len)?;
        for (lease_id, deadline_slot) in due {
            self.apply(LogCommand::Expire {
                lease_id,
                deadline_slot,
            })?;
        }
        Ok(())
    }

    fn due(&mut self, now: Slot, buf_len: u8) -> Result<Vec<(LeaseId, Slot)>, TestCaseError> {
        let mut buf = [DueExpiry {
            deadline_slot: Slot(0),
            lease_id: LeaseId(0),
        }; 6];
        let buf = &mut buf[..usize::from(buf_len)];
        let n = self.core.due_expirations(now, buf);
        let core: Vec<(LeaseId, Slot)> = buf[..n]
            .iter()
            .map(|due| (due.lease_id, due.deadline_slot))
            .collect();
        let limit = buf.len().min(self.config.max_expirations_per_tick as usize);
        let model = self.model.due_expirations(now, limit);
        if core != model {
            return Err(self.fail(format!(
                "due_expirations({now:?}, limit {limit})\n  core:  {core:?}\n  model: {model:?}"
            )));
        }
        // Listing what is due is a read: it must leave the state untouched.
        self.check()?;
        Ok(model)
    }

    fn bad_position(&mut self, rewind_slot: bool) -> Result<(), TestCaseError> {
        let (lsn, slot) = if rewind_slot {
            let last = self.model.last_request_slot().0;
            if last == 0 {
                return Ok(());
            }
            (Lsn(self.lsn + 1), Slot(last - 1))
        } else {
            (
                self.model.last_applied_lsn().unwrap_or(Lsn(0)),
                Slot(self.slot),
            )
        };
        let command = LogCommand::Client(ClientRequest {
            operation_id: operation_id(0),
            client_id: ClientId(0),
            command: Command::CreateResource {
                resource_id: ResourceId(0),
            },
        });
        let core = self.core.apply(lsn, slot, &command);
        let model = self.model.apply(lsn, slot, &command);
        if core.is_ok() || model.is_ok() {
            return Err(self.fail(format!(
                "out-of-order apply at lsn {lsn:?} slot {slot:?} was accepted\n  core:  {core:?}\n  model: {model:?}"
            )));
        }
        self.check()
    }

    fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match *step {
            Step::Create { resource, client } => self.submit(
                client,
                Command::CreateResource {
                    resource_id: resource_id(resource),
                },
            ),
            Step::Reserve {
                ref members,
                holder,
                ttl,
                client,
            } => {
                let max = self.config.max_bundle_size as usize + 1;
                let ids: Vec<ResourceId> =
                    members.iter().take(max).map(|&r| resource_id(r)).collect();
                let resources = Bundle::from_slice(&ids).expect("at most 5 members");
                let max_ttl = self.config.max_ttl_slots;
                let ttl_slots = match ttl {
                    TtlPick::InRange(n) => 1 + u64::from(n) % max_ttl,
                    TtlPick::Zero => 0,
                    TtlPick::TooLong => max_ttl + 1,
                };
                self.submit(
                    client,
                    Command::Reserve {
                        resources,
                        holder_id: holder_id(holder),
                        ttl_slots,
                    },
                )
            }
            Step::Activate {
                lease,
                holder,
                epoch,
                client,
            } => {
                let lease_id = self.resolve(lease);
                let command = Command::Activate {
                    lease_id,
                    holder_id: self.holder(lease_id, holder),
                    lease_epoch: self.epoch(lease_id, epoch),
                };
                self.submit(client, command)
            }
            Step::Release {
                lease,
                holder,
                epoch,
                client,
            } => {
                let lease_id = self.resolve(lease);
                let command = Command::Release {
                    lease_id,
                    holder_id: self.holder(lease_id, holder),
                    lease_epoch: self.epoch(lease_id, epoch),
                };
                self.submit(client, command)
            }
            Step::Revoke { lease, client } => {
                let lease_id = self.resolve(lease);
                self.submit(client, Command::Revoke { lease_id })
            }
            Step::Reclaim { lease, client } => {
                let lease_id = self.resolve(lease);
                self.submit(client, Command::Reclaim { lease_id })
            }
            Step::Retry { index, altered } => {
                if self.requests.is_empty() {
                    return Ok(());
                }
                let len = self.requests.len();
                let mut request = self.requests[len - 1 - usize::from(index) % len];
                if altered {
                    request = alter(request);
                }
                self.apply(LogCommand::Client(request)).map(|_| ())
            }
            Step::Advance { by } => {
                let by = u64::from(by) % (self.config.history_window_slots + 3);
                self.slot = self.slot.saturating_add(by);
                Ok(())
            }
            Step::Tick { buf_len } => self.tick(buf_len),
            Step::Peek { buf_len, ahead } => {
                let now = Slot(self.slot.saturating_add(u64::from(ahead)));
                self.due(now, buf_len).map(|_| ())
            }
            Step::LsnGap { by } => {
                self.lsn += u64::from(by);
                Ok(())
            }
            Step::WrongExpire { lease, delta } => {
                let lease_id = self.resolve(lease);
                let deadline = self
                    .model
                    .get_lease(lease_id)
                    .map_or(self.slot, |lease| lease.deadline_slot.0);
                let deadline_slot = Slot(deadline.saturating_add_signed(i64::from(delta)));
                self.apply(LogCommand::Expire {
                    lease_id,
                    deadline_slot,
                })
                .map(|_| ())
            }
            Step::BadPosition { rewind_slot } => self.bad_position(rewind_slot),
        }
    }
}

/// The same operation id with different contents: another client, or a
/// changed payload.
fn alter(mut request: ClientRequest) -> ClientRequest {
    request.command = match request.command {
        Command::CreateResource { resource_id } => Command::CreateResource {
            resource_id: ResourceId(if resource_id.0 == RESOURCE_IDS[0] {
                RESOURCE_IDS[1]
            } else {
                RESOURCE_IDS[0]
            }),
        },
        Command::Reserve {
            resources,
            holder_id,
            ttl_slots,
        } => Command::Reserve {
            resources,
            holder_id,
            ttl_slots: ttl_slots + 1,
        },
        Command::Activate {
            lease_id,
            holder_id,
            lease_epoch,
        } => Command::Release {
            lease_id,
            holder_id,
            lease_epoch,
        },
        Command::Release {
            lease_id,
            holder_id,
            lease_epoch,
        } => Command::Activate {
            lease_id,
            holder_id,
            lease_epoch,
        },
        Command::Revoke { lease_id } => Command::Reclaim { lease_id },
        Command::Reclaim { lease_id } => {
            request.client_id = ClientId(if request.client_id.0 == CLIENT_IDS[0] {
                CLIENT_IDS[1]
            } else {
                CLIENT_IDS[0]
            });
            Command::Reclaim { lease_id }
        }
    };
    request
}

fn run(
    config: Config,
    start_lsn: u64,
    steps: &[Step],
    jump: Option<(usize, i8)>,
) -> Result<(), TestCaseError> {
    let mut harness = Harness::new(config);
    harness.lsn = start_lsn;
    harness.check()?;
    for (i, step) in steps.iter().enumerate() {
        if let Some((at, offset)) = jump {
            if at == i {
                let target = config
                    .max_request_slot()
                    .saturating_add_signed(i64::from(offset));
                harness.slot = harness.slot.max(target);
            }
        }
        harness.step(step)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn core_matches_model(
        config in config(),
        steps in proptest::collection::vec(step(), 1..200),
        start_lsn in prop_oneof![3 => Just(0u64), 1 => Just(u64::MAX - 4_000)],
        jump in far_jump(),
    ) {
        run(config, start_lsn, &steps, jump)?;
    }
}

fn create(op: u128, resource: u128) -> LogCommand {
    LogCommand::Client(ClientRequest {
        operation_id: OperationId(op),
        client_id: ClientId(0),
        command: Command::CreateResource {
            resource_id: ResourceId(resource),
        },
    })
}

/// The oracle is only worth something if it can fail: a core fed a different
/// command than the model must show a different digest.
#[test]
fn oracle_detects_a_divergent_command() {
    let config = Config::small();
    let mut core = StateMachine::new(config).unwrap();
    let mut model = Model::new(config);
    core.apply(Lsn(1), Slot(0), &create(1, 7)).unwrap();
    model.apply(Lsn(1), Slot(0), &create(1, 7)).unwrap();
    assert_eq!(core.digest(), model.digest());

    core.apply(Lsn(2), Slot(0), &create(2, 8)).unwrap();
    model.apply(Lsn(2), Slot(0), &create(2, 9)).unwrap();
    assert_ne!(core.digest(), model.digest());
    assert_ne!(
        core.get_resource(ResourceId(8)),
        model.get_resource(ResourceId(8))
    );
}

/// Position alone (the slot of the last command) is part of the digest.
#[test]
fn oracle_detects_a_divergent_slot() {
    let config = Config::small();
    let mut core = StateMachine::new(config).unwrap();
    let mut model = Model::new(config);
    core.apply(Lsn(1), Slot(3), &create(1, 7)).unwrap();
    model.apply(Lsn(1), Slot(4), &create(1, 7)).unwrap();
    assert_ne!(core.digest(), model.digest());
}

/// One lease diverges (expired in the core, still reserved in the model):
/// both the read and the digest must notice.
#[test]
fn oracle_detects_a_divergent_lease() {
    let config = Config::small();
    let mut core = StateMachine::new(config).unwrap();
    let mut model = Model::new(config);
    let reserve = LogCommand::Client(ClientRequest {
        operation_id: OperationId(2),
        client_id: ClientId(0),
        command: Command::Reserve {
            resources: Bundle::from_slice(&[ResourceId(7)]).unwrap(),
            holder_id: HolderId(1),
            ttl_slots: 4,
        },
    });
    for (lsn, command) in [(1, create(1, 7)), (2, reserve)] {
        assert_eq!(
            core.apply(Lsn(lsn), Slot(0), &command).unwrap(),
            model.apply(Lsn(lsn), Slot(0), &command).unwrap()
        );
    }
    let lease_id = LeaseId::new(config.shard_id, Lsn(2));
    let expire = LogCommand::Expire {
        lease_id,
        deadline_slot: Slot(4),
    };
    let applied = core.apply(Lsn(3), Slot(4), &expire).unwrap();
    assert_eq!(applied.outcome.code(), ResultCode::Ok);
    let noop = model.apply(Lsn(3), Slot(4), &create(3, 7)).unwrap();
    assert_eq!(noop.outcome, Outcome::Rejected(ResultCode::AlreadyExists));
    assert_ne!(core.digest(), model.digest());
    assert_ne!(core.get_lease(lease_id), model.get_lease(lease_id));
}
