//! One seed, start to finish: the seed draws the fault mix and drives the
//! workload; every generated action is kept so that a failure can be
//! replayed, shrunk and written as a scenario.

use crate::action::{Action, Unsynced};
use crate::driver::{RunError, SelfTest, SimConfig, Simulator};
use crate::rng::SimRng;
use crate::stats::RunStats;
use crate::swarm::{FaultSelection, Mix};
use crate::workload::Workload;
use allocdb_core::engine::EngineConfig;

/// Simulated clients per seed: enough that same-slot ingress interleaves.
pub const DEFAULT_CLIENTS: u32 = 6;

/// The config every default sweep runs: small bounds, so capacity edges,
/// window expiry and full buckets are reached within a thousand steps.
pub fn sweep_config() -> EngineConfig {
    EngineConfig::small()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSpec {
    pub seed: u64,
    pub steps: u64,
    pub faults: FaultSelection,
    pub selftest: Option<SelfTest>,
}

impl SeedSpec {
    pub fn new(seed: u64, steps: u64) -> SeedSpec {
        SeedSpec {
            seed,
            steps,
            faults: FaultSelection::All,
            selftest: None,
        }
    }
}

/// What running one seed produced.
pub struct SeedReport {
    pub seed: u64,
    pub transcript: String,
    pub stats: RunStats,
    /// Every action run, in order (the failing one last, on failure).
    pub actions: Vec<Action>,
    pub failure: Option<RunError>,
}

/// The actions that close every run: the process dies keeping its page
/// cache, and recovery must reproduce the live state exactly.
pub fn closing_actions() -> [Action; 2] {
    [
        Action::Crash {
            unsynced: Unsynced::Keep,
        },
        Action::Restart,
    ]
}

pub fn run_seed(spec: &SeedSpec) -> SeedReport {
    let mut rng = SimRng::new(spec.seed);
    let mix = Mix::swarm(&mut rng, &spec.faults);
    let config = SimConfig {
        engine: sweep_config(),
        selftest: spec.selftest,
    };
    let header = vec![
        format!("steps: {}", spec.steps),
        format!("mix: {}", mix.describe()),
    ];
    let mut workload = Workload::new(mix, &config.engine.core, DEFAULT_CLIENTS);
    let mut actions = Vec::with_capacity(spec.steps as usize + 2);
    let mut sim = match Simulator::new(spec.seed, config, &header) {
        Ok(sim) => sim,
        Err(error) => {
            return SeedReport {
                seed: spec.seed,
                transcript: String::new(),
                stats: RunStats::default(),
                actions,
                failure: Some(error),
            }
        }
    };
    let mut failure = None;
    for _ in 0..spec.steps {
        let action = workload.next(&mut rng, &sim.view());
        actions.push(action.clone());
        if let Err(error) = sim.step(&action) {
            failure = Some(error);
            break;
        }
    }
    if failure.is_none() {
        for action in closing_actions() {
            actions.push(action.clone());
            if let Err(error) = sim.step(&action) {
                failure = Some(error);
                break;
            }
        }
    }
    SeedReport {
        seed: spec.seed,
        transcript: sim.transcript().as_str().to_string(),
        stats: sim.stats().clone(),
        actions,
        failure,
    }
}

/// Replays explicit actions (a scenario or a shrunk repro) on a fresh run.
pub fn run_actions(
    seed: u64,
    config: SimConfig,
    header: &[String],
    actions: &[Action],
) -> (String, RunStats, Result<(), RunError>) {
    let mut sim = match Simulator::new(seed, config, header) {
        Ok(sim) => sim,
        Err(error) => return (String::new(), RunStats::default(), Err(error)),
    };
    let result = actions.iter().try_for_each(|action| sim.step(action));
    (
        sim.transcript().as_str().to_string(),
        sim.stats().clone(),
        result,
    )
}
