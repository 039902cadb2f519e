//! The scenario file format: the types a RON scenario deserialises into.
//! `docs/scenario-format.md` is the reference for authors; every type here
//! refuses unknown fields and unknown variants.

use crate::action::Action;
use crate::answer::Code;
use crate::driver::{SelfTest, SimConfig};
use crate::event::FailKind;
use crate::oracle::Oracle;
use crate::run::sweep_config;
use allocdb_core::engine::{EngineConfig, StartMode};
use allocdb_core::{ConfigError, LeaseState, ResourceState};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Orders same-slot ingress (bursts). Nothing else in a scenario is
    /// random.
    #[serde(default)]
    pub seed: u64,
    /// Changes to the default engine config (the sweep's small one).
    #[serde(default, skip_serializing_if = "ConfigOverride::is_empty")]
    pub config: ConfigOverride,
    /// A self-test switch of the simulator, for repros of self-test runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selftest: Option<SelfTest>,
    /// Strict (the default): a step that can have no effect, or a fault
    /// armed and never reached, is an error. Repros of generated runs say
    /// `strict: false`, since a generated workload aims blindly.
    #[serde(default = "strict_by_default", skip_serializing_if = "is_strict")]
    pub strict: bool,
    /// After the last step, the liveness phase every seed ends with
    /// (`crate::run::liveness`): faults stop, every operation in flight gets a
    /// definite answer and every due expiry commits, within its bound.
    /// Repros of generated runs say `liveness: true`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub liveness: bool,
    pub steps: Vec<Entry>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn strict_by_default() -> bool {
    true
}

fn is_strict(strict: &bool) -> bool {
    *strict
}

impl Scenario {
    /// A strict scenario of `steps` on the default config.
    pub fn new(seed: u64, steps: Vec<Entry>) -> Scenario {
        Scenario {
            seed,
            config: ConfigOverride::default(),
            selftest: None,
            strict: true,
            liveness: false,
            steps,
        }
    }

    /// The actions, in order (expectations describe one run, not the
    /// variants a shrinker or an explorer makes of it).
    pub fn actions(&self) -> Vec<Action> {
        self.steps
            .iter()
            .filter_map(|entry| match entry {
                Entry::Action(action) => Some(action.clone()),
                Entry::Expect(_) => None,
            })
            .collect()
    }

    /// This scenario's header (seed, config, self-test) over `actions`, not
    /// strict: the repro of one run made from it.
    pub fn repro_of(&self, actions: &[Action]) -> Scenario {
        Scenario {
            strict: false,
            steps: actions.iter().cloned().map(Entry::Action).collect(),
            ..self.clone()
        }
    }

    /// How the simulator runs it (strict or not as the file says).
    pub fn sim_config(&self) -> Result<SimConfig, ConfigOverrideError> {
        Ok(SimConfig {
            selftest: self.selftest,
            strict: self.strict,
            ..SimConfig::new(self.config.apply(sweep_config())?)
        })
    }
}

/// One entry of `steps`: an action the simulator runs, or an expectation
/// about what the actions so far did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Entry {
    Action(Action),
    Expect(Expect),
}

/// Checks on the step just before (results, recovery) or on the engine's
/// state now (resources, leases).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Expect {
    /// The answer to the previous step (a submit or a retry), freshly
    /// committed or refused: not the stored outcome of an earlier commit.
    ExpectResult(Code),
    /// The previous step (a retry) got this stored outcome from the retry
    /// cache.
    ExpectCached(Code),
    /// The last answer `operation` got, in any step so far.
    ExpectOperation { operation: u128, result: Code },
    ExpectResource {
        resource: u128,
        state: ResourceStateName,
        /// The lease holding it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lease: Option<u128>,
    },
    ExpectLease {
        lease: u128,
        state: LeaseStateName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<u64>,
    },
    /// The previous step (a restart) recovered like this.
    ExpectRecovery {
        mode: Mode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot_lsn: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replayed: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        torn_bytes: Option<u64>,
    },
    /// The previous step (a restart) found the flipped bit and recovery
    /// refused this file.
    ExpectFailClosed(FailKind),
    /// The previous step (a restart) read the flipped last frame as a torn
    /// tail and cut it.
    ExpectReadAsTorn,
    /// The previous step failed this oracle; the run ends there. Only as
    /// the last entry.
    ExpectOracleFailure(Oracle),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "ResourceState")]
pub enum ResourceStateName {
    /// Never created.
    Missing,
    Available,
    Reserved,
    Active,
    Revoking,
}

impl ResourceStateName {
    pub fn of(state: Option<ResourceState>) -> ResourceStateName {
        match state {
            None => ResourceStateName::Missing,
            Some(ResourceState::Available) => ResourceStateName::Available,
            Some(ResourceState::Reserved) => ResourceStateName::Reserved,
            Some(ResourceState::Active) => ResourceStateName::Active,
            Some(ResourceState::Revoking) => ResourceStateName::Revoking,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "LeaseState")]
pub enum LeaseStateName {
    Reserved,
    Active,
    Revoking,
    Released,
    Expired,
    Revoked,
    /// Terminal and past its history window: the records are gone.
    Retired,
    NotFound,
}

impl LeaseStateName {
    pub fn of(state: LeaseState) -> LeaseStateName {
        match state {
            LeaseState::Reserved => LeaseStateName::Reserved,
            LeaseState::Active => LeaseStateName::Active,
            LeaseState::Revoking => LeaseStateName::Revoking,
            LeaseState::Released => LeaseStateName::Released,
            LeaseState::Expired => LeaseStateName::Expired,
            LeaseState::Revoked => LeaseStateName::Revoked,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "StartMode")]
pub enum Mode {
    Fresh,
    WalOnly,
    SnapshotOnly,
    SnapshotAndWal,
}

impl Mode {
    pub fn of(mode: StartMode) -> Mode {
        match mode {
            StartMode::Fresh => Mode::Fresh,
            StartMode::WalOnly => Mode::WalOnly,
            StartMode::SnapshotOnly => Mode::SnapshotOnly,
            StartMode::SnapshotAndWal => Mode::SnapshotAndWal,
        }
    }
}

/// Fields to change in the base engine config; absent fields keep the
/// base value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Config", deny_unknown_fields)]
pub struct ConfigOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resources: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_leases: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bundle_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lease_members: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_operations: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl_slots: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_client_retry_window_slots: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_window_slots: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_expiration_bucket_len: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_expirations_per_tick: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_submission_queue: Option<u32>,
}

/// Why an overridden config cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigOverrideError {
    #[error(transparent)]
    Core(#[from] ConfigError),
    #[error("invalid config: `max_submission_queue` must be at least 1")]
    EmptyQueue,
}

impl ConfigOverride {
    pub fn is_empty(&self) -> bool {
        *self == ConfigOverride::default()
    }

    /// `base` with every present field replaced, validated.
    /// The fields of `config` that differ from `base`: applied to `base`,
    /// it gives `config` back (the shard id is not a field: both use 0).
    pub fn between(base: &EngineConfig, config: &EngineConfig) -> ConfigOverride {
        let (b, c) = (&base.core, &config.core);
        let differs32 = |b: u32, c: u32| (b != c).then_some(c);
        let differs64 = |b: u64, c: u64| (b != c).then_some(c);
        ConfigOverride {
            max_resources: differs32(b.max_resources, c.max_resources),
            max_leases: differs32(b.max_leases, c.max_leases),
            max_bundle_size: differs32(b.max_bundle_size, c.max_bundle_size),
            max_lease_members: differs32(b.max_lease_members, c.max_lease_members),
            max_operations: differs32(b.max_operations, c.max_operations),
            max_ttl_slots: differs64(b.max_ttl_slots, c.max_ttl_slots),
            max_client_retry_window_slots: differs64(
                b.max_client_retry_window_slots,
                c.max_client_retry_window_slots,
            ),
            history_window_slots: differs64(b.history_window_slots, c.history_window_slots),
            max_expiration_bucket_len: differs32(
                b.max_expiration_bucket_len,
                c.max_expiration_bucket_len,
            ),
            max_expirations_per_tick: differs32(
                b.max_expirations_per_tick,
                c.max_expirations_per_tick,
            ),
            max_submission_queue: differs32(base.max_submission_queue, config.max_submission_queue),
        }
    }

    pub fn apply(&self, base: EngineConfig) -> Result<EngineConfig, ConfigOverrideError> {
        let mut config = base;
        let core = &mut config.core;
        let set32 = |field: &mut u32, value: Option<u32>| *field = value.unwrap_or(*field);
        let set64 = |field: &mut u64, value: Option<u64>| *field = value.unwrap_or(*field);
        set32(&mut core.max_resources, self.max_resources);
        set32(&mut core.max_leases, self.max_leases);
        set32(&mut core.max_bundle_size, self.max_bundle_size);
        set32(&mut core.max_lease_members, self.max_lease_members);
        set32(&mut core.max_operations, self.max_operations);
        set64(&mut core.max_ttl_slots, self.max_ttl_slots);
        set64(
            &mut core.max_client_retry_window_slots,
            self.max_client_retry_window_slots,
        );
        set64(&mut core.history_window_slots, self.history_window_slots);
        set32(
            &mut core.max_expiration_bucket_len,
            self.max_expiration_bucket_len,
        );
        set32(
            &mut core.max_expirations_per_tick,
            self.max_expirations_per_tick,
        );
        set32(&mut config.max_submission_queue, self.max_submission_queue);
        config.core.validate()?;
        if config.max_submission_queue == 0 {
            return Err(ConfigOverrideError::EmptyQueue);
        }
        Ok(config)
    }
}

/// Entries numbered as the transcript numbers steps: actions count from 1;
/// an expectation carries the number of the action before it (0 before any).
pub fn numbered(steps: &[Entry]) -> impl Iterator<Item = (u64, &Entry)> {
    steps.iter().scan(0u64, |step, entry| {
        if let Entry::Action(_) = entry {
            *step += 1;
        }
        Some((*step, entry))
    })
}
