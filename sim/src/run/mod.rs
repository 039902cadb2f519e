//! One seed, start to finish: the seed draws the fault mix and drives the
//! workload; every generated action is kept so that a failure can be
//! replayed, shrunk and written as a scenario.

use crate::action::{Action, Unsynced};
use crate::driver::{
    panicked_failure, AuditCadence, EngineCall, RunError, SelfTest, SimConfig, Simulator,
};
use crate::oracle::isolate;
use crate::phase_clock::{self, Phase};
use crate::rng::SimRng;
use crate::run_dir::KeptRun;
use crate::stats::RunStats;
use crate::transcript::{Transcript, TranscriptMode};
use crate::view::EngineStatus;
use crate::workload::config::{seed_config, ConfigChoice};
use crate::workload::mix::{FaultSelection, Mix};
use crate::workload::Workload;
use allocdb_core::engine::EngineConfig;
use liveness::run_liveness;

pub mod engine_alone;
pub mod liveness;

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
    /// Keep the run directory (WAL, snapshot) when the run fails (or is
    /// stopped before a step, `stop_before`).
    pub keep_files: bool,
    /// Drawn for the seed, or the fixed small config.
    pub config: ConfigChoice,
    /// How often the full audit runs besides its fixed occasions.
    pub audit: AuditCadence,
    /// Whether the report carries the transcript's text or only its
    /// digest; a sweep needs only the digest.
    pub transcript: TranscriptMode,
    /// Record this step's action but do not run it, and end the run
    /// there: the repro of a step that hung, derived by running the seed
    /// again up to it.
    pub stop_before: Option<u64>,
    /// Keep every call the run makes of the engine (`engine_alone`).
    pub engine_calls: bool,
}

impl SeedSpec {
    pub fn new(seed: u64, steps: u64) -> SeedSpec {
        SeedSpec {
            seed,
            steps,
            faults: FaultSelection::All,
            selftest: None,
            keep_files: false,
            config: ConfigChoice::Swarm,
            audit: AuditCadence::SWEEP,
            transcript: TranscriptMode::Digest,
            stop_before: None,
            engine_calls: false,
        }
    }
}

/// What running one seed produced.
pub struct SeedReport {
    pub seed: u64,
    /// The engine config the seed ran with.
    pub config: EngineConfig,
    /// Its digest always; its text when the spec asked for it.
    pub transcript: Transcript,
    pub stats: RunStats,
    /// Every action run, in order (the failing one last, on failure).
    pub actions: Vec<Action>,
    pub failure: Option<RunError>,
    /// The run directory, kept because the run failed and the spec asked.
    pub kept_files: Option<KeptRun>,
    /// Every call made of the engine, when the spec asked.
    pub engine_calls: Vec<EngineCall>,
}

/// The actions that close every run: the process dies keeping its page
/// cache, and recovery must reproduce the live state exactly (a restart
/// stopped at a recovery crash point armed earlier gets one more).
pub fn closing_actions() -> [Action; 2] {
    [Action::crash(Unsynced::Keep), Action::Restart]
}

pub fn run_seed(spec: &SeedSpec) -> SeedReport {
    run_seed_watched(spec, &mut |_| true)
}

/// [`run_seed`], calling `watch` once when the simulator has started
/// (at step 0) and after every step that passed; the run ends there
/// (without the closing actions) when `watch` returns false.
pub fn run_seed_watched(spec: &SeedSpec, watch: &mut dyn FnMut(&Simulator) -> bool) -> SeedReport {
    let mut rng = SimRng::new(spec.seed);
    let mix = Mix::swarm(&mut rng, &spec.faults);
    let (engine, kind) = seed_config(spec.seed, spec.config);
    // The last generated step gets a full audit of its own. The liveness
    // phase and the closing crash and restart come after it; the restart
    // audits the recovered state too, but that is the state rebuilt from
    // the files, not the one the live engine reached.
    let config = SimConfig {
        selftest: spec.selftest,
        audit: spec.audit,
        last_step: Some(spec.steps),
        transcript: spec.transcript,
        engine_calls: spec.engine_calls,
        ..SimConfig::new(engine)
    };
    let header = vec![
        format!("steps: {}", spec.steps),
        format!("config drawn: {}", kind.name()),
        format!("mix: {}", mix.describe()),
    ];
    let workload = Workload::new(mix, &config.engine, DEFAULT_CLIENTS);
    let mut actions = Vec::with_capacity(spec.steps as usize + 2);
    let mut sim = match Simulator::new(spec.seed, config, &header) {
        Ok(sim) => sim,
        Err(error) => {
            return SeedReport {
                seed: spec.seed,
                config: engine,
                transcript: Transcript::empty(spec.transcript),
                stats: RunStats::default(),
                actions,
                failure: Some(error),
                kept_files: None,
                engine_calls: Vec::new(),
            }
        }
    };
    let mut steps = Steps {
        actions: &mut actions,
        watch,
        stop_before: spec.stop_before,
        ended: false,
    };
    // Every step isolates its own panics; this catches the workload's.
    let failure = match isolate(|| steps.run_phases(&mut sim, spec.steps, workload, rng)) {
        Ok(result) => result.err(),
        Err(panicked) => Some(panicked_failure(spec.seed, sim.steps() + 1, panicked)),
    };
    let transcript = sim.transcript().clone();
    let stats = sim.stats().clone();
    let engine_calls = sim.engine_calls().map_or_else(Vec::new, <[_]>::to_vec);
    // A run stopped before a step that hung keeps its files as that step
    // found them.
    let kept_files = ((failure.is_some() || spec.stop_before.is_some()) && spec.keep_files)
        .then(|| sim.keep_dir());
    SeedReport {
        seed: spec.seed,
        config: engine,
        transcript,
        stats,
        actions,
        failure,
        kept_files,
        engine_calls,
    }
}

/// Every action of a seed's three phases (generated steps, liveness,
/// the closing crash and restart) goes through [`Steps::step`].
struct Steps<'a> {
    actions: &'a mut Vec<Action>,
    watch: &'a mut dyn FnMut(&Simulator) -> bool,
    stop_before: Option<u64>,
    /// The watcher or `stop_before` ended the run.
    ended: bool,
}

impl Steps<'_> {
    fn run_phases(
        &mut self,
        sim: &mut Simulator,
        steps: u64,
        mut workload: Workload,
        mut rng: SimRng,
    ) -> Result<(), RunError> {
        self.ended = !(self.watch)(sim);
        for _ in 0..steps {
            if self.ended {
                return Ok(());
            }
            let action = {
                let _workload = phase_clock::enter(Phase::Workload);
                workload.next(&mut rng, &sim.view())
            };
            self.step(sim, action)?;
        }
        if self.ended {
            return Ok(());
        }
        run_liveness(sim, &mut |sim, action| {
            self.step(sim, action)?;
            Ok(!self.ended)
        })?;
        for action in closing_actions() {
            if self.ended {
                return Ok(());
            }
            self.step(sim, action)?;
        }
        // A recovery crash point armed before the closing restart stops it:
        // one more restart recovers, and the closing check is made then.
        if !self.ended && sim.view().status != EngineStatus::Up {
            self.step(sim, Action::Restart)?;
        }
        Ok(())
    }

    /// Records `action` as the next step and runs it, unless it is
    /// `stop_before`: that one is recorded, not run, and ends the run
    /// (what a watchdog needs to write the repro of a step that never
    /// returned).
    fn step(&mut self, sim: &mut Simulator, action: Action) -> Result<(), RunError> {
        self.actions.push(action);
        if self.stop_before == Some(sim.steps() + 1) {
            self.ended = true;
            return Ok(());
        }
        sim.step(self.actions.last().expect("just pushed"))?;
        self.ended = !(self.watch)(sim);
        Ok(())
    }
}
