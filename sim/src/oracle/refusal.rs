//! Definite refusals: what the engine must refuse before anything reaches
//! its WAL, worked out from the config's fields and what the simulator
//! itself knows (the slot it set, how many requests it queued), never from
//! the engine. An engine that refuses what it should take, or takes what
//! it should refuse, fails `model_agreement` here.

use super::failure::{Oracle, Violation};
use super::model::windows::last_request_slot;
use crate::answer::Code;
use allocdb_core::{Config, Slot};

/// Where a write met the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    /// A commit: a submit or a queued request's turn.
    Commit,
    /// A tick with `due` expiries due, as the model counts them: with none
    /// it commits nothing, so it has nothing to refuse.
    Tick { due: usize },
    /// The bounded submission queue, holding `held` of its `bound`.
    Queue { held: usize, bound: usize },
}

/// The refusal a correct running engine gives at `door` at `slot`, if any.
/// The simulator never sends operation id 0, a command too large for a
/// frame, a slot before the last one, or 2^64 commands, so no other
/// refusal is ever due.
pub fn predicted(config: &Config, slot: Slot, door: Door) -> Option<Code> {
    match door {
        Door::Queue { held, bound } => (held >= bound).then_some(Code::Overloaded),
        Door::Commit => (slot.0 > last_request_slot(config)).then_some(Code::RequestSlotTooLarge),
        Door::Tick { due: 0 } => None,
        Door::Tick { .. } => predicted(config, slot, Door::Commit),
    }
}

/// The engine's definite refusal (`None`: it took the write) against the
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
            "definite refusal at {door:?}: engine {}, model {}",
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

    #[test]
    fn the_last_request_slot_is_taken_and_the_next_refused() {
        let config = Config::small();
        assert_eq!(predicted(&config, Slot(last()), Door::Commit), None);
        assert_eq!(
            predicted(&config, Slot(last() + 1), Door::Commit),
            Some(Code::RequestSlotTooLarge)
        );
    }

    #[test]
    fn a_tick_past_the_last_slot_is_refused_only_with_an_expiry_due() {
        let config = Config::small();
        let past = Slot(last() + 1);
        assert_eq!(predicted(&config, past, Door::Tick { due: 0 }), None);
        assert_eq!(
            predicted(&config, past, Door::Tick { due: 2 }),
            Some(Code::RequestSlotTooLarge)
        );
        assert_eq!(
            predicted(&config, Slot(last()), Door::Tick { due: 2 }),
            None
        );
    }

    #[test]
    fn a_full_queue_refuses_and_one_with_room_takes() {
        let config = Config::small();
        let queue = |held| Door::Queue { held, bound: 4 };
        assert_eq!(predicted(&config, Slot(1), queue(3)), None);
        assert_eq!(
            predicted(&config, Slot(1), queue(4)),
            Some(Code::Overloaded)
        );
    }

    /// Fed a deliberately wrong observation, the check fires both ways.
    #[test]
    fn a_wrong_refusal_and_a_missing_one_are_named() {
        let missing = check(Door::Commit, None, Some(Code::RequestSlotTooLarge)).unwrap_err();
        assert_eq!(missing.oracle, Oracle::ModelAgreement);
        assert_eq!(
            missing.detail,
            "definite refusal at Commit: engine took it, model refused request_slot_too_large"
        );
        let wrong = check(
            Door::Queue { held: 1, bound: 4 },
            Some(Code::Overloaded),
            None,
        )
        .unwrap_err();
        assert_eq!(
            wrong.detail,
            "definite refusal at Queue { held: 1, bound: 4 }: engine refused overloaded, model took it"
        );
        assert_eq!(check(Door::Commit, None, None), Ok(()));
    }
}
