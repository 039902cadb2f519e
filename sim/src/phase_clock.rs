//! Where a step's time goes, for `cargo xtask bench sim` only: built with
//! the `phase-clock` feature, each phase's wall time is summed per thread.
//! Without the feature every call here is empty and compiles away, so no
//! clock exists in a sweep, a replay or a transcript.
//!
//! Time belongs to the innermost phase entered, except inside a restart or
//! a checkpoint, which keep everything done within them (their recovery,
//! expected model and checks): those are the costs of the action itself.

/// A share of a step's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Choosing the next action.
    Workload,
    /// Driver bookkeeping between the others: resolving references,
    /// clients, the books of the WAL and of the file system.
    Driver,
    /// Calls into the engine outside restarts and checkpoints.
    Engine,
    /// The reference model's apply and queries.
    Model,
    /// The per-step oracles and the full audit.
    Oracles,
    /// A restart, whole.
    Restart,
    /// A checkpoint, whole.
    Checkpoint,
    /// Formatting the transcript.
    Transcript,
}

impl Phase {
    pub const ALL: [Phase; 8] = [
        Phase::Workload,
        Phase::Driver,
        Phase::Engine,
        Phase::Model,
        Phase::Oracles,
        Phase::Restart,
        Phase::Checkpoint,
        Phase::Transcript,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Workload => "workload",
            Phase::Driver => "driver",
            Phase::Engine => "engine",
            Phase::Model => "model",
            Phase::Oracles => "oracles",
            Phase::Restart => "restart",
            Phase::Checkpoint => "checkpoint",
            Phase::Transcript => "transcript",
        }
    }

    /// Keeps the time of every phase entered within it.
    #[cfg(any(test, feature = "phase-clock"))]
    fn is_whole(self) -> bool {
        matches!(self, Phase::Restart | Phase::Checkpoint)
    }
}

/// Nanoseconds per phase, indexed as [`Phase::ALL`].
pub type PhaseTimes = [u64; Phase::ALL.len()];

// Compiled for the crate's own tests too, so the clock is tested in
// every `cargo test` run; only the feature wires it into the driver.
#[cfg(any(test, feature = "phase-clock"))]
mod clock {
    use super::{Phase, PhaseTimes};
    use std::cell::RefCell;
    use std::time::Instant;

    /// Deep enough for any nesting the driver has.
    const MAX_DEPTH: usize = 16;

    struct Clock {
        times: PhaseTimes,
        stack: [Phase; MAX_DEPTH],
        depth: usize,
        since: Option<Instant>,
    }

    thread_local! {
        static CLOCK: RefCell<Clock> = const {
            RefCell::new(Clock {
                times: [0; Phase::ALL.len()],
                stack: [Phase::Driver; MAX_DEPTH],
                depth: 0,
                since: None,
            })
        };
    }

    impl Clock {
        /// Charges the time since the last change to the phase on top.
        fn charge(&mut self, now: Instant) {
            if let (Some(since), Some(top)) = (self.since, self.top()) {
                self.times[top as usize] += (now - since).as_nanos() as u64;
            }
            self.since = Some(now);
        }

        fn top(&self) -> Option<Phase> {
            self.depth.checked_sub(1).map(|i| self.stack[i])
        }
    }

    /// Returns whether `phase` was pushed (and must be popped).
    pub fn enter(phase: Phase) -> bool {
        CLOCK.with_borrow_mut(|clock| {
            if clock.top().is_some_and(Phase::is_whole) {
                return false;
            }
            assert!(clock.depth < MAX_DEPTH, "phases nest too deep");
            clock.charge(Instant::now());
            clock.stack[clock.depth] = phase;
            clock.depth += 1;
            true
        })
    }

    pub fn leave() {
        CLOCK.with_borrow_mut(|clock| {
            clock.charge(Instant::now());
            clock.depth -= 1;
        });
    }

    pub fn take() -> PhaseTimes {
        CLOCK.with_borrow_mut(|clock| std::mem::replace(&mut clock.times, [0; Phase::ALL.len()]))
    }
}

/// Time from here to the end of the scope goes to `phase`.
#[must_use = "the phase ends when the guard is dropped"]
pub struct InPhase {
    #[cfg(feature = "phase-clock")]
    pushed: bool,
}

#[inline(always)]
pub fn enter(phase: Phase) -> InPhase {
    #[cfg(feature = "phase-clock")]
    {
        InPhase {
            pushed: clock::enter(phase),
        }
    }
    #[cfg(not(feature = "phase-clock"))]
    {
        let _ = phase;
        InPhase {}
    }
}

impl Drop for InPhase {
    #[inline(always)]
    fn drop(&mut self) {
        #[cfg(feature = "phase-clock")]
        if self.pushed {
            clock::leave();
        }
    }
}

/// The times summed on this thread since the last call (all zero without
/// the `phase-clock` feature), and a fresh start.
pub fn take() -> PhaseTimes {
    #[cfg(feature = "phase-clock")]
    {
        clock::take()
    }
    #[cfg(not(feature = "phase-clock"))]
    {
        [0; Phase::ALL.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(micros: u64) {
        let start = std::time::Instant::now();
        while start.elapsed().as_micros() < u128::from(micros) {}
    }

    /// The clock itself, as the feature's guards drive it.
    fn within(phase: Phase, inner: impl FnOnce()) {
        let pushed = clock::enter(phase);
        inner();
        if pushed {
            clock::leave();
        }
    }

    #[test]
    fn time_goes_to_the_innermost_phase_except_within_a_whole_one() {
        clock::take();
        within(Phase::Driver, || {
            spin(2_000);
            within(Phase::Model, || spin(2_000));
            within(Phase::Restart, || within(Phase::Engine, || spin(2_000)));
        });
        let times = clock::take();
        for phase in [Phase::Driver, Phase::Model, Phase::Restart] {
            assert!(times[phase as usize] >= 2_000_000, "{phase:?}: {times:?}");
        }
        assert_eq!(times[Phase::Engine as usize], 0);
        assert_eq!(clock::take(), [0; Phase::ALL.len()]);
    }
}
