//! The liveness phase that ends every seed: faults stop, and the system
//! must get every client a definite answer and commit every expiry that
//! is due. Its actions are the only ones that follow: a restart while the
//! engine is not up, a retry of the oldest operation in flight, a tick
//! while a reserved lease's deadline has passed. They are chosen from the
//! simulator's view alone, so a replay (or a shrunk repro, which asks for
//! the phase with `liveness: true`) derives the same ones.
//!
//! The oracle: the phase must end within its bound, stated in steps when
//! it starts, with the engine up. A failure names the operation still in
//! flight or the lease still due.
//!
//! Past the last request slot (the end of time: `u64::MAX` minus the
//! widest window) a correct engine refuses every write, retries and
//! expires included, so nothing is owed there but a running engine.

use crate::action::Action;
use crate::driver::{RunError, Simulator};
use crate::oracle::model::windows::last_request_slot;
use crate::oracle::{Oracle, Violation};
use crate::view::{EngineStatus, InFlight, SimView};
use allocdb_core::{LeaseId, Slot};

/// Steps the phase may take besides those its work needs: restarts
/// after faults armed before it (a crash point, a persist failure, a read
/// fault, a recovery crash each cost at most one more restart).
pub const SLACK_STEPS: u64 = 8;
/// Steps each operation in flight may need: a retry, and a restart when
/// an armed fault kills the process on the way.
pub const STEPS_PER_OPERATION: u64 = 3;

/// The phase's bound for what is left to do when it starts.
pub fn bound(view: &SimView) -> u64 {
    let per_tick = u64::from(view.model.config().max_expirations_per_tick.max(1));
    let due = due(view).len() as u64;
    SLACK_STEPS + STEPS_PER_OPERATION * owed(view).len() as u64 + 2 * due.div_ceil(per_tick)
}

/// Every reserved lease whose deadline has passed, while the engine can
/// still commit its expire.
fn due(view: &SimView) -> Vec<(LeaseId, Slot)> {
    if past_the_end_of_time(view) {
        return Vec::new();
    }
    view.model.due_expirations(view.slot, usize::MAX)
}

/// Operations waiting for an answer the engine can still give.
fn owed<'a>(view: &SimView<'a>) -> &'a [InFlight] {
    if past_the_end_of_time(view) {
        return &[];
    }
    view.in_flight
}

fn past_the_end_of_time(view: &SimView) -> bool {
    view.slot.0 > last_request_slot(view.model.config())
}

/// What the phase does next; `None` when nothing is left to do.
pub fn next(view: &SimView) -> Option<Action> {
    if view.status != EngineStatus::Up {
        return Some(Action::Restart);
    }
    if let Some(oldest) = owed(view).first() {
        return Some(Action::Retry {
            operation: oldest.operation,
        });
    }
    (!due(view).is_empty()).then_some(Action::Tick)
}

/// The oracle's verdict on what is left when the phase stopped.
pub fn verdict(
    status: EngineStatus,
    in_flight: &[InFlight],
    due: &[(LeaseId, Slot)],
    bound: u64,
) -> Result<(), Violation> {
    let fail = |what: String| {
        Err(Violation::new(
            Oracle::Liveness,
            format!("after {bound} steps of the liveness phase (its bound) {what}"),
        ))
    };
    if let Some(stuck) = in_flight.first() {
        return fail(format!(
            "operation {} of client {} has no definite answer",
            stuck.operation, stuck.client
        ));
    }
    if let Some((lease, deadline)) = due.first() {
        return fail(format!(
            "lease {lease:?} is still reserved past its deadline {}",
            deadline.0
        ));
    }
    if status != EngineStatus::Up {
        return fail(format!("the engine is {status:?}, not running"));
    }
    Ok(())
}

/// Runs the phase on `sim`, each action it takes through `step` (which
/// runs it; `Ok(false)`: the caller ends the run there, and the phase
/// with it, unjudged).
pub fn run_liveness(
    sim: &mut Simulator,
    step: &mut dyn FnMut(&mut Simulator, Action) -> Result<bool, RunError>,
) -> Result<(), RunError> {
    let bound = bound(&sim.view());
    for _ in 0..bound {
        let Some(action) = next(&sim.view()) else {
            return Ok(());
        };
        if !step(sim, action)? {
            return Ok(());
        }
    }
    let view = sim.view();
    verdict(view.status, owed(&view), &due(&view), bound).map_err(|v| sim.fail(v))
}

#[cfg(test)]
mod tests {
    //! Fed a deliberately wrong observation (an operation left
    //! unresolved, a lease left due, an engine left down), the oracle
    //! fires and names it.
    use super::*;

    #[test]
    fn nothing_left_passes() {
        assert_eq!(verdict(EngineStatus::Up, &[], &[], 8), Ok(()));
    }

    #[test]
    fn an_operation_left_unresolved_is_named() {
        let stuck = [InFlight {
            client: 2,
            operation: 17,
        }];
        let violation = verdict(EngineStatus::Up, &stuck, &[], 11).unwrap_err();
        assert_eq!(violation.oracle, Oracle::Liveness);
        assert_eq!(
            violation.detail,
            "after 11 steps of the liveness phase (its bound) operation 17 of client 2 has no definite answer"
        );
    }

    #[test]
    fn a_lease_left_due_and_an_engine_left_down_are_named() {
        let due = [(LeaseId(5), Slot(9))];
        let violation = verdict(EngineStatus::Up, &[], &due, 8).unwrap_err();
        assert!(violation
            .detail
            .ends_with("lease LeaseId(5) is still reserved past its deadline 9"));
        let violation = verdict(EngineStatus::Down, &[], &[], 8).unwrap_err();
        assert!(violation
            .detail
            .ends_with("the engine is Down, not running"));
    }
}
