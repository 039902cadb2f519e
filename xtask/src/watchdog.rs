//! Steps that never return: an engine call stuck in a loop stalls a run
//! forever, and a stuck thread cannot be stopped. Runs are watched from
//! another thread by the wall clock (used for the verdict only, never by
//! the run), and a run that outlives its budget is reported by the step
//! that did not return; the process then ends, leaving the stuck thread.
//!
//! Each run publishes the number of the last step that returned in a
//! [`StepMark`]; the step that hung is the one after it. Runs are
//! deterministic, so running the seed again and stopping before that
//! step gives every action up to and including it: the hang's repro.

use allocdb_sim::action::Action;
use allocdb_sim::driver::Simulator;
use allocdb_sim::run::{run_seed, SeedReport, SeedSpec};
use allocdb_sim::transcript::describe_action;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Seconds a seed may take per 1,000 steps before it counts as hung, and
/// at least this much: the slowest seed of a default sweep takes well
/// under a second on this project's slowest machine, so this is many
/// times that even on a loaded CI machine, yet a hang is named within
/// seconds.
pub const SECONDS_PER_THOUSAND_STEPS: u64 = 5;

/// The same for a shrink's candidates. A shrink judges a hanging repro's
/// candidates one at a time in child processes, and every candidate that
/// hangs costs its whole budget, so it takes a fifth of the sweep's: the
/// candidates are no longer than the repro, whose passing steps take
/// milliseconds, and `--seed-timeout` raises it where that is not so.
pub const SHRINK_SECONDS_PER_THOUSAND_STEPS: u64 = 1;

/// The default `--seed-timeout` for seeds of `steps` steps.
pub fn default_seed_timeout(steps: u64) -> Duration {
    Duration::from_secs(SECONDS_PER_THOUSAND_STEPS * steps.div_ceil(1000).max(1))
}

/// The default `--seed-timeout` of a shrink's runs of `steps` steps.
pub fn default_shrink_timeout(steps: u64) -> Duration {
    Duration::from_secs(SHRINK_SECONDS_PER_THOUSAND_STEPS * steps.div_ceil(1000).max(1))
}

/// What a run publishes for its watchdog: the last step that returned
/// (0: none yet), and its directory once its simulator started.
#[derive(Debug, Default)]
pub struct StepMark {
    returned: AtomicU64,
    dir: Mutex<Option<PathBuf>>,
}

impl StepMark {
    /// A run's watch callback: at the start (step 0) and after each step.
    pub fn saw(&self, sim: &Simulator) {
        let step = sim.steps();
        if step == 0 {
            *self.dir.lock().expect("never poisoned") = Some(sim.run_dir().to_path_buf());
        }
        self.returned.store(step, Ordering::Relaxed);
    }

    /// A new run starts: nothing of the last one holds.
    pub fn reset(&self) {
        self.returned.store(0, Ordering::Relaxed);
        *self.dir.lock().expect("never poisoned") = None;
    }

    /// Whether the run's simulator has started.
    pub fn started(&self) -> bool {
        self.dir.lock().expect("never poisoned").is_some()
    }

    /// The step running now: the one after the last that returned.
    pub fn running(&self) -> u64 {
        self.returned.load(Ordering::Relaxed) + 1
    }

    /// Removes the run's directory: the run is stuck, and the process
    /// ends under it without dropping what would have removed it.
    pub fn abandon(&self) {
        if let Some(dir) = self.dir.lock().expect("never poisoned").take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A step that did not return within the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hung {
    pub step: u64,
    pub budget: Duration,
}

impl Hung {
    /// The failure's one line, as the other oracles word theirs.
    pub fn detail(&self, action: Option<&Action>) -> String {
        let mut detail = format!(
            "step {} did not return within {} s",
            self.step,
            self.budget.as_secs()
        );
        if let Some(action) = action {
            detail.push_str(&format!(": {}", describe_action(action)));
        }
        detail
    }
}

/// Runs `work` on a thread of its own, handing it the mark to publish
/// its steps in; `Err` when it has not ended within `budget` (the thread
/// stays where it is stuck).
pub fn run_watched<T: Send + 'static>(
    budget: Duration,
    work: impl FnOnce(&StepMark) -> T + Send + 'static,
) -> Result<T, Hung> {
    let mark = Arc::new(StepMark::default());
    let (done, result) = mpsc::channel();
    let published = Arc::clone(&mark);
    std::thread::spawn(move || {
        let _ = done.send(work(&published));
    });
    match result.recv_timeout(budget) {
        Ok(value) => Ok(value),
        // A panic that escaped the run's own isolation ends the thread
        // without a result; say so as the hang it would otherwise look like.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("a watched run ended without a result: it panicked outside its isolation")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            mark.abandon();
            Err(Hung {
                step: mark.running(),
                budget,
            })
        }
    }
}

/// The seed run again up to the step that hung, which is recorded, not
/// run: its actions are the hang's repro (the last one hung).
pub fn run_up_to(spec: &SeedSpec, hung: Hung) -> SeedReport {
    run_seed(&SeedSpec {
        stop_before: Some(hung.step),
        ..spec.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_ends_in_time_gives_its_result() {
        let result = run_watched(Duration::from_secs(10), |mark| {
            assert!(!mark.started());
            7
        });
        assert_eq!(result, Ok(7));
    }

    #[test]
    fn a_run_that_does_not_end_is_named_by_its_step() {
        let hung = run_watched(Duration::from_millis(200), |mark| {
            mark.returned.store(4, Ordering::Relaxed);
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .unwrap_err();
        assert_eq!(hung.step, 5);
        assert_eq!(hung.detail(None), "step 5 did not return within 0 s");
    }

    #[test]
    fn the_default_budget_grows_with_the_steps() {
        assert_eq!(default_seed_timeout(1000), Duration::from_secs(5));
        assert_eq!(default_seed_timeout(10), Duration::from_secs(5));
        assert_eq!(default_seed_timeout(20_000), Duration::from_secs(100));
        assert_eq!(default_shrink_timeout(300), Duration::from_secs(1));
        assert_eq!(default_shrink_timeout(20_000), Duration::from_secs(20));
    }
}
