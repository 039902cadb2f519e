//! Typed oracle failures: which oracle, at which step of which seed, and
//! what differed.

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
