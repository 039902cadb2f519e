//! The refusals a write owes at the engine's door: what a running or
//! halted engine must answer before anything reaches its WAL, worked out
//! from the config's fields and what the simulator itself knows (the state
//! its own books put the engine in, the request as sent and the slot it was
//! stamped with, the model's last request slot and LSN, how many requests
//! it queued), never from the engine. An engine that refuses what it
//! should take, takes what it should refuse, or refuses with another code
//! fails `model_agreement` here.
//!
//! The order, as `docs/semantics.md` states it: a halted engine answers
//! `engine_halted` before it looks at anything; then `malformed`
//! (operation id 0), `request_slot_too_large` (past the last request
//! slot), `slot_rewound` (before the engine's last request slot),
//! `lsn_exhausted` (no LSN left); the first that applies is the answer.
//! (`command_too_large` cannot be built: `coverage/matrix.rs` says why.)
//! The queue's door refuses only a halted engine and a full queue.

use super::failure::{Oracle, Violation};
use super::model::windows::last_request_slot;
use crate::answer::Code;
use allocdb_core::{Config, Slot};

/// Where a write met the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    /// A client write's commit (a submit, or a queued request's turn),
    /// stamped with `slot`.
    Commit(Request),
    /// A tick at `slot` with `due` expiries due, as the model counts
    /// them: with none it commits nothing, so a running engine has
    /// nothing to refuse.
    Tick { slot: Slot, due: usize },
    /// The bounded submission queue, holding `held` of its `bound`.
    Queue { held: usize, bound: usize },
}

/// What the door of a client write looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub operation: u128,
    pub slot: Slot,
}

/// What the simulator knows of the engine at the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Engine {
    /// Halted by a storage failure (the simulator's books say so).
    pub halted: bool,
    /// The model's last applied request slot.
    pub last_request_slot: Slot,
    /// No LSN is left for another frame (the books' next LSN would
    /// overflow).
    pub lsn_exhausted: bool,
}

/// The refusal a correct engine gives at `door`, if any.
pub fn predicted(config: &Config, engine: Engine, door: Door) -> Option<Code> {
    if engine.halted {
        return Some(Code::EngineHalted);
    }
    match door {
        Door::Queue { held, bound } => (held >= bound).then_some(Code::Overloaded),
        Door::Tick { due: 0, .. } => None,
        Door::Tick { slot, .. } => stamped(config, engine, slot),
        Door::Commit(request) if request.operation == 0 => Some(Code::Malformed),
        Door::Commit(request) => stamped(config, engine, request.slot),
    }
}

/// The refusals of a write stamped with `slot`, past the request's own.
fn stamped(config: &Config, engine: Engine, slot: Slot) -> Option<Code> {
    if slot.0 > last_request_slot(config) {
        Some(Code::RequestSlotTooLarge)
    } else if slot < engine.last_request_slot {
        Some(Code::SlotRewound)
    } else if engine.lsn_exhausted {
        Some(Code::LsnExhausted)
    } else {
        None
    }
}

/// The engine's refusal (`None`: it took the write) against the
/// prediction.
pub fn check(door: Door, engine: Option<Code>, predicted: Option<Code>) -> Result<(), Violation> {
    if engine == predicted {
        return Ok(());
    }
    let say = |code: Option<Code>| {
        code.map_or("took it".to_string(), |c| format!("refused {}", c.name()))
    };
    Err(Violation::new(
        Oracle::ModelAgreement,
        format!(
            "at {door:?}: engine {}, model {}",
            say(engine),
            say(predicted)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last() -> u64 {
        // Config::small(): the widest window is the dedupe window, 48.
        u64::MAX - 48
    }

    fn running() -> Engine {
        Engine {
            halted: false,
            last_request_slot: Slot(5),
            lsn_exhausted: false,
        }
    }

    fn commit(operation: u128, slot: u64) -> Door {
        Door::Commit(Request {
            operation,
            slot: Slot(slot),
        })
    }

    #[test]
    fn the_last_request_slot_is_taken_and_the_next_refused() {
        let config = Config::small();
        assert_eq!(predicted(&config, running(), commit(1, last())), None);
        assert_eq!(
            predicted(&config, running(), commit(1, last() + 1)),
            Some(Code::RequestSlotTooLarge)
        );
    }

    #[test]
    fn a_tick_past_the_last_slot_is_refused_only_with_an_expiry_due() {
        let config = Config::small();
        let past = Slot(last() + 1);
        let tick = |due| Door::Tick { slot: past, due };
        assert_eq!(predicted(&config, running(), tick(0)), None);
        assert_eq!(
            predicted(&config, running(), tick(2)),
            Some(Code::RequestSlotTooLarge)
        );
    }

    #[test]
    fn a_full_queue_refuses_and_one_with_room_takes() {
        let config = Config::small();
        let queue = |held| Door::Queue { held, bound: 4 };
        assert_eq!(predicted(&config, running(), queue(3)), None);
        assert_eq!(
            predicted(&config, running(), queue(4)),
            Some(Code::Overloaded)
        );
    }

    /// Each refusal in the documented order, and a halted engine before
    /// all of them, a tick and the queue included.
    #[test]
    fn the_first_refusal_that_applies_is_the_answer() {
        let config = Config::small();
        let halted = Engine {
            halted: true,
            ..running()
        };
        let exhausted = Engine {
            lsn_exhausted: true,
            ..running()
        };
        for door in [
            commit(0, last() + 1),
            Door::Tick {
                slot: Slot(1),
                due: 0,
            },
            Door::Queue { held: 0, bound: 4 },
        ] {
            assert_eq!(
                predicted(&config, halted, door),
                Some(Code::EngineHalted),
                "{door:?}"
            );
        }
        assert_eq!(
            predicted(&config, exhausted, commit(0, 4)),
            Some(Code::Malformed)
        );
        assert_eq!(
            predicted(&config, exhausted, commit(1, last() + 1)),
            Some(Code::RequestSlotTooLarge)
        );
        assert_eq!(
            predicted(&config, exhausted, commit(1, 4)),
            Some(Code::SlotRewound)
        );
        assert_eq!(
            predicted(&config, exhausted, commit(1, 5)),
            Some(Code::LsnExhausted)
        );
        assert_eq!(predicted(&config, running(), commit(1, 5)), None);
    }

    /// Fed a deliberately wrong observation, the check fires both ways.
    #[test]
    fn a_wrong_refusal_and_a_missing_one_are_named() {
        let door = commit(1, 1);
        let missing = check(door, None, Some(Code::RequestSlotTooLarge)).unwrap_err();
        assert_eq!(missing.oracle, Oracle::ModelAgreement);
        assert_eq!(
            missing.detail,
            "at Commit(Request { operation: 1, slot: Slot(1) }): engine took it, model refused request_slot_too_large"
        );
        let wrong = check(
            Door::Queue { held: 1, bound: 4 },
            Some(Code::Overloaded),
            None,
        )
        .unwrap_err();
        assert_eq!(
            wrong.detail,
            "at Queue { held: 1, bound: 4 }: engine refused overloaded, model took it"
        );
        assert_eq!(check(door, None, None), Ok(()));
    }
}
