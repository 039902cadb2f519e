//! Each seed draws its own engine config (swarm testing over the bounds):
//! some seeds run every bound at its smallest legal value, some at sizes
//! where tables rarely fill, the rest anywhere between. The draw has a
//! ChaCha stream of its own, so the config depends on the seed alone and
//! `replay --seed` reproduces it. `Fixed` keeps the one small config
//! every seed ran before, for comparisons.

use crate::rng::SimRng;
use allocdb_core::Config;

/// The config type, for tools that hold a seed's config without the core.
pub use allocdb_core::engine::EngineConfig;

/// The stream the config is drawn from (the workload uses 0, ingress 1).
const CONFIG_STREAM: u64 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigChoice {
    /// Drawn per seed.
    Swarm,
    /// `EngineConfig::small()` for every seed.
    Fixed,
}

/// Which part of the space a seed's config came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigKind {
    Fixed,
    /// Every bound at its smallest legal value.
    Smallest,
    /// Tables and windows large enough that they rarely fill.
    Roomy,
    /// Each bound drawn on its own between the two.
    Spread,
}

impl ConfigKind {
    pub fn name(self) -> &'static str {
        match self {
            ConfigKind::Fixed => "fixed",
            ConfigKind::Smallest => "smallest",
            ConfigKind::Roomy => "roomy",
            ConfigKind::Spread => "spread",
        }
    }
}

/// Per mille of seeds at the smallest bounds, and at roomy ones.
const SMALLEST_PER_MILLE: u32 = 125;
const ROOMY_PER_MILLE: u32 = 125;

const SMALLEST: EngineConfig = EngineConfig {
    core: Config {
        shard_id: 0,
        max_resources: 1,
        max_leases: 1,
        max_bundle_size: 1,
        max_lease_members: 1,
        max_operations: 1,
        max_ttl_slots: 1,
        max_client_retry_window_slots: 0,
        history_window_slots: 1,
        max_expiration_bucket_len: 1,
        max_expirations_per_tick: 1,
    },
    max_submission_queue: 1,
};

const ROOMY: EngineConfig = EngineConfig {
    core: Config {
        shard_id: 0,
        max_resources: 1024,
        max_leases: 1024,
        max_bundle_size: 16,
        max_lease_members: 4096,
        max_operations: 4096,
        max_ttl_slots: 64,
        max_client_retry_window_slots: 32,
        history_window_slots: 32,
        max_expiration_bucket_len: 64,
        max_expirations_per_tick: 64,
    },
    max_submission_queue: 64,
};

/// The config seed `seed` runs with.
pub fn seed_config(seed: u64, choice: ConfigChoice) -> (EngineConfig, ConfigKind) {
    if choice == ConfigChoice::Fixed {
        return (EngineConfig::small(), ConfigKind::Fixed);
    }
    let mut rng = SimRng::with_stream(seed, CONFIG_STREAM);
    if rng.chance(SMALLEST_PER_MILLE) {
        return (SMALLEST, ConfigKind::Smallest);
    }
    if rng.chance(ROOMY_PER_MILLE) {
        return (ROOMY, ConfigKind::Roomy);
    }
    (spread(&mut rng), ConfigKind::Spread)
}

/// Each bound between its smallest and its roomy value, independently;
/// the member bound at least one full bundle.
fn spread(rng: &mut SimRng) -> EngineConfig {
    let (low, high) = (SMALLEST.core, ROOMY.core);
    let u32_between =
        |rng: &mut SimRng, a: u32, b: u32| rng.between(u64::from(a), u64::from(b)) as u32;
    let max_bundle_size = u32_between(rng, low.max_bundle_size, high.max_bundle_size);
    let max_leases = u32_between(rng, low.max_leases, 128);
    EngineConfig {
        core: Config {
            shard_id: 0,
            max_resources: u32_between(rng, low.max_resources, 128),
            max_leases,
            max_bundle_size,
            max_lease_members: u32_between(rng, max_bundle_size, max_bundle_size * max_leases),
            max_operations: u32_between(rng, low.max_operations, 512),
            max_ttl_slots: rng.between(low.max_ttl_slots, high.max_ttl_slots),
            max_client_retry_window_slots: rng.between(
                low.max_client_retry_window_slots,
                high.max_client_retry_window_slots,
            ),
            history_window_slots: rng.between(low.history_window_slots, high.history_window_slots),
            max_expiration_bucket_len: u32_between(rng, low.max_expiration_bucket_len, 16),
            max_expirations_per_tick: u32_between(rng, low.max_expirations_per_tick, 16),
        },
        max_submission_queue: u32_between(rng, SMALLEST.max_submission_queue, 32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_and_roomy_configs_validate() {
        assert_eq!(SMALLEST.core.validate(), Ok(()));
        assert_eq!(ROOMY.core.validate(), Ok(()));
    }

    /// 1,000 seeds: every drawn config validates; each kind is drawn; every
    /// bound takes its smallest legal value on some seed and spreads above it.
    #[test]
    fn a_thousand_seeds_cover_every_bound_from_its_minimum_up() {
        let mut kinds = std::collections::BTreeSet::new();
        let configs: Vec<EngineConfig> = (0..1000)
            .map(|seed| {
                let (config, kind) = seed_config(seed, ConfigChoice::Swarm);
                assert_eq!(config.core.validate(), Ok(()), "seed {seed}: {config:?}");
                assert!(config.max_submission_queue >= 1, "seed {seed}");
                kinds.insert(kind.name());
                config
            })
            .collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        type Field = (&'static str, fn(&EngineConfig) -> u64, u64);
        let fields: [Field; 11] = [
            ("max_resources", |c| u64::from(c.core.max_resources), 1),
            ("max_leases", |c| u64::from(c.core.max_leases), 1),
            ("max_bundle_size", |c| u64::from(c.core.max_bundle_size), 1),
            (
                "max_lease_members",
                |c| u64::from(c.core.max_lease_members),
                1,
            ),
            ("max_operations", |c| u64::from(c.core.max_operations), 1),
            ("max_ttl_slots", |c| c.core.max_ttl_slots, 1),
            (
                "max_client_retry_window_slots",
                |c| c.core.max_client_retry_window_slots,
                0,
            ),
            ("history_window_slots", |c| c.core.history_window_slots, 1),
            (
                "max_expiration_bucket_len",
                |c| u64::from(c.core.max_expiration_bucket_len),
                1,
            ),
            (
                "max_expirations_per_tick",
                |c| u64::from(c.core.max_expirations_per_tick),
                1,
            ),
            (
                "max_submission_queue",
                |c| u64::from(c.max_submission_queue),
                1,
            ),
        ];
        for (name, field, minimum) in fields {
            let values: std::collections::BTreeSet<u64> = configs.iter().map(field).collect();
            assert_eq!(values.first(), Some(&minimum), "{name}");
            assert!(values.len() >= 10, "{name} takes only {values:?}");
        }
    }

    #[test]
    fn the_config_depends_on_the_seed_alone() {
        for seed in 0..50 {
            assert_eq!(
                seed_config(seed, ConfigChoice::Swarm),
                seed_config(seed, ConfigChoice::Swarm)
            );
        }
        assert_eq!(
            seed_config(7, ConfigChoice::Fixed),
            (EngineConfig::small(), ConfigKind::Fixed)
        );
    }
}
