//! Typed oracle failures: which oracle, at which step of which seed, and
//! what differed.

use super::panic::Panicked;
use std::fmt;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Oracle {
    /// The core's full invariant audit failed.
    InvariantAudit,
    /// A committed result differs from the reference model's prediction.
    ModelAgreement,
    /// The engine's state digest differs from the model's.
    StateDigest,
    /// A record the engine holds differs from the model's, field by field
    /// (checked at every full audit).
    StateRecords,
    /// A definite success is missing after a crash, or was acknowledged
    /// before it was durable.
    Durability,
    /// Recovery produced a different state or report than the durable
    /// prefix predicts.
    ReplayEquivalence,
    /// A resource became reusable before its lease's deadline, release or
    /// reclaim.
    EarlyReuse,
    /// Damage that cannot be a torn tail was accepted, or the failure named
    /// the wrong place.
    FailClosed,
    /// The liveness phase that ends a seed did not get every operation a
    /// definite answer and every due expiry committed within its bound.
    Liveness,
    /// The engine answered in a way no correct engine may (an unexpected
    /// error, a crash at a point that was not armed, ...).
    EngineBehaviour,
    /// The step panicked: one of the engine's own assertions, or the
    /// simulator's (`OracleFailure::panic` says which, and where).
    Panic,
    /// A step did not return within the seed's time budget: a watchdog's
    /// verdict from another thread or process (a stuck step cannot judge
    /// itself), never a check inside a run.
    Hang,
}

impl Oracle {
    pub fn name(self) -> &'static str {
        match self {
            Oracle::InvariantAudit => "invariant_audit",
            Oracle::ModelAgreement => "model_agreement",
            Oracle::StateDigest => "state_digest",
            Oracle::StateRecords => "state_records",
            Oracle::Durability => "durability",
            Oracle::ReplayEquivalence => "replay_equivalence",
            Oracle::EarlyReuse => "early_reuse",
            Oracle::FailClosed => "fail_closed",
            Oracle::Liveness => "liveness",
            Oracle::EngineBehaviour => "engine_behaviour",
            Oracle::Panic => "panic",
            Oracle::Hang => "hang",
        }
    }
}

/// One oracle's verdict, before the driver adds where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub oracle: Oracle,
    pub detail: String,
}

impl Violation {
    pub fn new(oracle: Oracle, detail: impl Into<String>) -> Violation {
        Violation {
            oracle,
            detail: detail.into(),
        }
    }
}

/// A failed run: the oracle, the step, the seed and what differed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct OracleFailure {
    pub oracle: Oracle,
    pub seed: u64,
    pub step: u64,
    pub detail: String,
    /// What panicked, for oracle `panic` (`detail` says it in one line).
    pub panic: Option<Box<Panicked>>,
}

impl OracleFailure {
    /// What a shrunk run must keep to fail "the same way": the oracle,
    /// and for a panic the source location that panicked. The location,
    /// not the message: a message often carries values (an LSN, a length)
    /// that change as the shrinker deletes steps, while the assertion that
    /// fires stays where it is.
    pub fn signature(&self) -> FailureSignature {
        FailureSignature {
            oracle: self.oracle,
            panicked_at: self.panic.as_ref().map(|p| p.location.clone()),
        }
    }
}

/// See [`OracleFailure::signature`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureSignature {
    pub oracle: Oracle,
    pub panicked_at: Option<String>,
}

impl fmt::Display for FailureSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oracle `{}`", self.oracle.name())?;
        if let Some(location) = &self.panicked_at {
            write!(f, " at {location}")?;
        }
        Ok(())
    }
}

impl fmt::Display for OracleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "oracle `{}` failed at step {} of seed {}: {}",
            self.oracle.name(),
            self.step,
            self.seed,
            self.detail
        )
    }
}
