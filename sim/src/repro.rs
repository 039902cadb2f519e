//! A failing run as a scenario file: the seed's exact actions up to the
//! failing one, on the same config and self-test switch, so that replaying
//! the file fails the same way. Repros are not strict: a generated
//! workload arms faults it never reaches, and that is not the failure.
//! They end with the liveness phase, as the seed did (`liveness: true`),
//! so a liveness failure replays and shrinks like any other.

use crate::action::Action;
use crate::driver::SelfTest;
use crate::run::sweep_config;
use crate::scenario::{ConfigOverride, Scenario};
use allocdb_core::engine::EngineConfig;

pub fn repro(
    seed: u64,
    selftest: Option<SelfTest>,
    config: &EngineConfig,
    actions: &[Action],
) -> Scenario {
    Scenario {
        selftest,
        liveness: true,
        config: ConfigOverride::between(&sweep_config(), config),
        ..Scenario::new(seed, Vec::new())
    }
    .repro_of(actions)
}

/// The comment block of a repro file: what failed, and how to replay it.
pub fn repro_comments(seed: u64, steps: u64, failure: &str, file: &str) -> Vec<String> {
    vec![
        format!("Repro of seed {seed} ({steps} steps per seed), written by `cargo xtask sweep`."),
        format!("Failure: {failure}"),
        format!("Replay: cargo xtask replay {file}"),
        format!("Shrink: cargo xtask shrink {file}"),
        "Once the bug is fixed this file passes and stays as a regression test.".to_string(),
    ]
}
