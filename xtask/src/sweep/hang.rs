//! The sweep's watchdog: each worker says which seed it runs and which
//! step last returned; the main thread looks every so often, and a seed
//! that has run longer than its budget has hung. Its report is that of
//! any failure (seed, step, replay command, repro), with oracle `hang`;
//! the repro comes from running the seed again, stopped before the step
//! that hung ([`run_up_to`]). Before the process ends, the directories of
//! the seeds still running are removed (the run again keeps its files,
//! with `--keep-failures`, as the step that hung found them).

use super::{keep_files_of, write_report_beside, write_seed_repro, Failed, SweepArgs};
use crate::error::Error;
use crate::repro_file::default_repro_dir;
use crate::watchdog::{run_up_to, Hung, StepMark};
use allocdb_sim::oracle::Oracle;
use allocdb_sim::timeline::record_hung_seed;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What each worker is running.
pub struct Workers {
    slots: Vec<Slot>,
}

#[derive(Default)]
pub struct Slot {
    mark: StepMark,
    running: Mutex<Option<Running>>,
}

struct Running {
    seed: u64,
    started: Instant,
}

/// A seed that did not return.
pub struct Stuck {
    seed: u64,
    /// `None`: its simulator never started.
    hung: Option<Hung>,
}

impl Slot {
    pub fn mark(&self) -> &StepMark {
        &self.mark
    }
}

impl Workers {
    pub fn new(jobs: usize) -> Workers {
        Workers {
            slots: (0..jobs).map(|_| Slot::default()).collect(),
        }
    }

    pub fn begin(&self, worker: usize, seed: u64) -> &Slot {
        let slot = &self.slots[worker];
        slot.mark.reset();
        *slot.running.lock().expect("never poisoned") = Some(Running {
            seed,
            started: Instant::now(),
        });
        slot
    }

    pub fn end(&self, worker: usize) {
        *self.slots[worker].running.lock().expect("never poisoned") = None;
    }

    /// Removes the run directory of every seed still running: the process
    /// is about to end under them, and nothing else would.
    pub fn abandon(&self) {
        for slot in &self.slots {
            if slot.running.lock().expect("never poisoned").is_some() {
                slot.mark.abandon();
            }
        }
    }

    /// A seed that has run longer than `budget`, if any.
    pub fn hung(&self, budget: Duration) -> Option<Stuck> {
        self.slots.iter().find_map(|slot| {
            let running = slot.running.lock().expect("never poisoned");
            let running = running.as_ref().filter(|r| r.started.elapsed() > budget)?;
            Some(Stuck {
                seed: running.seed,
                hung: slot.mark.started().then(|| Hung {
                    step: slot.mark.running(),
                    budget,
                }),
            })
        })
    }
}

/// The hang as a failure: its repro written, the hung run's files gone.
pub fn record(args: &SweepArgs, stuck: Stuck) -> Result<Failed, Error> {
    let Stuck { seed, hung } = stuck;
    let replay = args.replay_command(seed);
    let Some(hung) = hung else {
        return Ok(Failed {
            seed,
            transcript_digest: None,
            error: format!(
                "oracle `hang` failed at step 0 of seed {seed}: the simulator did not start within {} s",
                args.seed_budget().as_secs()
            ),
            oracle: Some(Oracle::Hang.name()),
            step: Some(0),
            panic: None,
            replay,
            repro: None,
            report: None,
            files: None,
        });
    };
    let report = run_up_to(&args.spec(seed), hung);
    let action = report.actions.get(hung.step as usize - 1);
    let error = format!(
        "oracle `hang` failed at step {} of seed {seed}: {}",
        hung.step,
        hung.detail(action)
    );
    let dir = args.keep_failures.clone().unwrap_or_else(default_repro_dir);
    let (repro, files, timeline_report) = if report.actions.len() as u64 == hung.step {
        let repro = write_seed_repro(&dir, args, &report, &error)?;
        // The report beside the repro: the steps that returned, and the
        // one that did not as the failure.
        let timeline = record_hung_seed(&args.spec(seed), hung.step, hung.detail(action));
        let path = write_report_beside(&repro, &timeline)?;
        (Some(repro), keep_files_of(&dir, &report)?, Some(path))
    } else {
        // The run again did not get as far: the seed is not deterministic,
        // and a repro would not hang where this one did.
        (None, None, None)
    };
    Ok(Failed {
        seed,
        transcript_digest: None,
        error,
        oracle: Some(Oracle::Hang.name()),
        step: Some(hung.step),
        panic: None,
        replay,
        repro,
        report: timeline_report,
        files,
    })
}
