//! When the full audit runs: the core's invariant audit, the model's running digest
//! against its own recomputation, and every record against the model's.
//! Each is O(records), so a sweep runs them after every restart,
//! checkpoint and fault action, at a seed's last generated step, and every
//! Nth step (`testbed.md`); a replay runs them after every step, so the
//! first broken step of a failing seed is found exactly.

use crate::action::{Action, ActionKind};
use std::fmt;
use std::num::NonZeroU64;

/// Every how many steps the periodic full audit runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditCadence {
    every: NonZeroU64,
}

impl AuditCadence {
    /// A sweep's default (`--audit-every 32`).
    pub const SWEEP: AuditCadence = AuditCadence::every_const(32);
    /// A replay's and a scenario's: every step.
    pub const EVERY_STEP: AuditCadence = AuditCadence::every_const(1);

    const fn every_const(steps: u64) -> AuditCadence {
        match NonZeroU64::new(steps) {
            Some(every) => AuditCadence { every },
            None => panic!("an audit cadence is at least one step"),
        }
    }

    /// `None` for 0: a cadence of no steps would never audit.
    pub fn every(steps: u64) -> Option<AuditCadence> {
        NonZeroU64::new(steps).map(|every| AuditCadence { every })
    }

    pub fn steps(self) -> u64 {
        self.every.get()
    }

    /// Why the full audit runs after `action`, step `step`; `None` when it
    /// does not. `last_step` marks a seed's last generated step.
    pub fn due(self, action: &Action, step: u64, last_step: bool) -> Option<AuditReason> {
        let kind = action.kind();
        if kind == ActionKind::Restart {
            Some(AuditReason::Restart)
        } else if kind == ActionKind::Checkpoint {
            Some(AuditReason::Checkpoint)
        } else if ActionKind::FAULTS.contains(&kind) {
            Some(AuditReason::Fault(kind))
        } else if last_step {
            Some(AuditReason::LastStep)
        } else if step % self.steps() == 0 {
            Some(AuditReason::Periodic(self))
        } else {
            None
        }
    }
}

/// Which occasion of the cadence ran a full audit, for failure messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditReason {
    Restart,
    Checkpoint,
    Fault(ActionKind),
    LastStep,
    Periodic(AuditCadence),
}

impl fmt::Display for AuditReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditReason::Restart => write!(f, "full audit (after restart)"),
            AuditReason::Checkpoint => write!(f, "full audit (after checkpoint)"),
            AuditReason::Fault(kind) => {
                write!(f, "full audit (after fault action {})", kind.name())
            }
            AuditReason::LastStep => write!(f, "full audit (the seed's last generated step)"),
            AuditReason::Periodic(cadence) if cadence.steps() == 1 => {
                write!(f, "full audit (every step)")
            }
            AuditReason::Periodic(cadence) => {
                write!(f, "full audit (every {} step)", ordinal(cadence.steps()))
            }
        }
    }
}

/// `2nd`, `3rd`, `32nd`, `11th`, ...
fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Unsynced;

    #[test]
    fn restarts_checkpoints_and_faults_always_audit() {
        let cadence = AuditCadence::SWEEP;
        assert_eq!(
            cadence.due(&Action::Restart, 5, false),
            Some(AuditReason::Restart)
        );
        assert_eq!(
            cadence.due(&Action::Checkpoint, 5, false),
            Some(AuditReason::Checkpoint)
        );
        assert_eq!(
            cadence.due(&Action::crash(Unsynced::Keep), 5, false),
            Some(AuditReason::Fault(ActionKind::Crash))
        );
        assert_eq!(
            cadence
                .due(&Action::crash(Unsynced::Keep), 5, false)
                .unwrap()
                .to_string(),
            "full audit (after fault action crash)"
        );
    }

    #[test]
    fn other_steps_audit_every_nth_and_at_the_last() {
        let cadence = AuditCadence::every(32).unwrap();
        assert_eq!(cadence, AuditCadence::SWEEP);
        let tick = Action::Tick;
        assert_eq!(cadence.due(&tick, 31, false), None);
        assert_eq!(cadence.due(&tick, 33, false), None);
        let periodic = cadence.due(&tick, 64, false).unwrap();
        assert_eq!(periodic.to_string(), "full audit (every 32nd step)");
        let last = cadence.due(&tick, 33, true).unwrap();
        assert_eq!(
            last.to_string(),
            "full audit (the seed's last generated step)"
        );
        let every = AuditCadence::EVERY_STEP;
        assert!((1..100).all(|step| every.due(&tick, step, false).is_some()));
        assert_eq!(
            every.due(&tick, 7, false).unwrap().to_string(),
            "full audit (every step)"
        );
        assert_eq!(AuditCadence::every(0), None);
    }

    #[test]
    fn ordinals_read_as_english() {
        let names: Vec<String> = [2, 3, 4, 11, 12, 13, 21, 32, 101, 111]
            .map(ordinal)
            .to_vec();
        assert_eq!(
            names,
            ["2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "32nd", "101st", "111th"]
        );
    }
}
