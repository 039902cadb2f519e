//! The oracles as pure functions over observations, so that each can be fed
//! a deliberately wrong observation in a test and shown to fire.

use super::failure::{Oracle, Violation};
use allocdb_core::engine::{OpenError, RecoveryReport};
use allocdb_core::fs::{FileName, ReadFault, ReadFaultKind};
use allocdb_core::snapshot::LoadError;
use allocdb_core::{Applied, LeaseId, Lsn, Slot, StateMachine};
use std::collections::BTreeSet;

pub type Check = Result<(), Violation>;

/// The core's own full audit.
pub fn audit(sm: &StateMachine) -> Check {
    sm.check_invariants()
        .map_err(|v| Violation::new(Oracle::InvariantAudit, v.to_string()))
}

/// A committed result against the model's prediction.
pub fn agreement(what: &str, engine: &Applied, model: &Applied) -> Check {
    if engine == model {
        return Ok(());
    }
    Err(Violation::new(
        Oracle::ModelAgreement,
        format!("{what}: engine {engine:?}, model {model:?}"),
    ))
}

pub fn digest(engine: u64, model: u64) -> Check {
    if engine == model {
        return Ok(());
    }
    Err(Violation::new(
        Oracle::StateDigest,
        format!("engine digest {engine:016x}, model digest {model:016x}"),
    ))
}

/// A reply was published: the frame must already be durable.
pub fn acknowledged_durable(lsn: Lsn, frame_end: u64, durable_len: u64) -> Check {
    if frame_end <= durable_len {
        return Ok(());
    }
    Err(Violation::new(
        Oracle::Durability,
        format!(
            "lsn {} acknowledged with its frame ending at byte {frame_end}, but only {durable_len} bytes are synced",
            lsn.0
        ),
    ))
}

/// After recovery every acknowledged LSN must be applied.
pub fn acknowledged_survive(acknowledged: &BTreeSet<Lsn>, recovered: Option<Lsn>) -> Check {
    let recovered = recovered.unwrap_or(Lsn(0));
    match acknowledged.range(Lsn(recovered.0 + 1)..).next() {
        None => Ok(()),
        Some(lost) => Err(Violation::new(
            Oracle::Durability,
            format!(
                "lsn {} was acknowledged but recovery stopped at lsn {}",
                lost.0, recovered.0
            ),
        )),
    }
}

/// What recovery must report, from the simulator's own bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedRecovery {
    pub report: RecoveryReport,
    pub digest: u64,
}

pub fn recovery(expected: &ExpectedRecovery, report: &RecoveryReport, digest: u64) -> Check {
    if report != &expected.report {
        return Err(Violation::new(
            Oracle::ReplayEquivalence,
            format!(
                "recovery reported {report:?}, expected {:?}",
                expected.report
            ),
        ));
    }
    if digest != expected.digest {
        return Err(Violation::new(
            Oracle::ReplayEquivalence,
            format!(
                "recovered digest {digest:016x}, durable prefix digest {:016x}",
                expected.digest
            ),
        ));
    }
    Ok(())
}

/// A recovery read that failed must make recovery refuse with the error
/// of that read: an I/O error for the WAL (a short read is an unexpected
/// end, since the reader knows the length it must get), a load error for
/// the snapshot (I/O, or an invalid file when it read short).
pub fn read_fault_refused(fault: ReadFault, error: &OpenError) -> Check {
    let typed = match (fault.file, fault.kind, error) {
        (FileName::Wal, ReadFaultKind::Short, OpenError::Io(e)) => {
            e.kind() == std::io::ErrorKind::UnexpectedEof
        }
        (FileName::Wal, ReadFaultKind::Error, OpenError::Io(e)) => {
            e.kind() != std::io::ErrorKind::UnexpectedEof
        }
        (FileName::Snapshot, ReadFaultKind::Error, OpenError::Snapshot(LoadError::Io(_))) => true,
        (FileName::Snapshot, ReadFaultKind::Short, OpenError::Snapshot(LoadError::Invalid(_))) => {
            true
        }
        _ => false,
    };
    if typed {
        Ok(())
    } else {
        Err(Violation::new(
            Oracle::FailClosed,
            format!(
                "a {:?} read fault on {:?} was refused with the wrong error: {error}",
                fault.kind, fault.file
            ),
        ))
    }
}

/// What damage on disk must make recovery do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedFailure {
    /// WAL corruption naming the frame that starts at `offset`.
    WalCorruptionAt { offset: u64 },
    /// A rejected snapshot.
    Snapshot,
}

pub fn fail_closed(expected: ExpectedFailure, result: &Result<RecoveryReport, OpenError>) -> Check {
    let fail = |detail: String| Err(Violation::new(Oracle::FailClosed, detail));
    match (expected, result) {
        (_, Ok(report)) => fail(format!(
            "recovery accepted damaged storage ({expected:?}) and reported {report:?}"
        )),
        (ExpectedFailure::WalCorruptionAt { offset }, Err(OpenError::WalCorruption(c))) => {
            if c.offset as u64 == offset {
                Ok(())
            } else {
                fail(format!(
                    "corruption reported at byte {}, damage is in the frame at {offset}",
                    c.offset
                ))
            }
        }
        (ExpectedFailure::Snapshot, Err(OpenError::Snapshot(_))) => Ok(()),
        (_, Err(other)) => fail(format!(
            "expected {expected:?}, recovery failed with: {other}"
        )),
    }
}

/// Invariant 8: a lease the engine expires at slot `expired_at` had its
/// deadline at or before it, as the model recorded the deadline when the
/// lease was reserved (`None`: the model holds no such lease), never as
/// the engine's own records would derive it. (Release and reclaim are the
/// holder's and the observer's own acts, never early.)
pub fn no_early_expiry(lease_id: LeaseId, expired_at: Slot, deadline: Option<Slot>) -> Check {
    match deadline {
        None => Err(Violation::new(
            Oracle::EarlyReuse,
            format!(
                "lease {lease_id:?} expired at slot {}, a lease the model does not hold",
                expired_at.0
            ),
        )),
        Some(deadline) if expired_at < deadline => Err(Violation::new(
            Oracle::EarlyReuse,
            format!(
                "lease {lease_id:?} expired at slot {} before its deadline {}",
                expired_at.0, deadline.0
            ),
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    //! Every oracle fed a deliberately wrong observation fires, with its own
    //! typed failure. (The core's audit is shown to fire by the core's
    //! restore tests: a broken image is refused with the violation.)
    use super::*;
    use allocdb_core::engine::StartMode;
    use allocdb_core::wal::{Corruption, CorruptionKind};
    use allocdb_core::{Outcome, ResultCode};

    fn applied(outcome: Outcome) -> Applied {
        Applied {
            lsn: Lsn(3),
            outcome,
            from_retry_cache: false,
        }
    }

    fn report() -> RecoveryReport {
        RecoveryReport {
            mode: StartMode::WalOnly,
            snapshot_lsn: None,
            frames_replayed: 3,
            torn_bytes: 0,
            last_applied_lsn: Some(Lsn(3)),
        }
    }

    fn oracle(check: Check) -> Oracle {
        check.expect_err("the oracle must fire").oracle
    }

    #[test]
    fn a_result_the_model_disagrees_with() {
        let engine = applied(Outcome::ResourceCreated);
        let model = applied(Outcome::Rejected(ResultCode::AlreadyExists));
        assert_eq!(
            oracle(agreement("x", &engine, &model)),
            Oracle::ModelAgreement
        );
        assert!(agreement("x", &engine, &engine).is_ok());
    }

    #[test]
    fn a_digest_mismatch_live_and_after_restart() {
        assert_eq!(oracle(digest(1, 2)), Oracle::StateDigest);
        let expected = ExpectedRecovery {
            report: report(),
            digest: 7,
        };
        assert_eq!(
            oracle(recovery(&expected, &report(), 8)),
            Oracle::ReplayEquivalence
        );
        let mut other = report();
        other.frames_replayed = 2;
        assert_eq!(
            oracle(recovery(&expected, &other, 7)),
            Oracle::ReplayEquivalence
        );
        assert!(recovery(&expected, &report(), 7).is_ok());
    }

    #[test]
    fn a_definite_success_missing_after_a_crash() {
        let acknowledged: BTreeSet<Lsn> = [Lsn(2), Lsn(5)].into();
        assert_eq!(
            oracle(acknowledged_survive(&acknowledged, Some(Lsn(4)))),
            Oracle::Durability
        );
        assert_eq!(
            oracle(acknowledged_survive(&acknowledged, None)),
            Oracle::Durability
        );
        assert!(acknowledged_survive(&acknowledged, Some(Lsn(5))).is_ok());
        assert_eq!(
            oracle(acknowledged_durable(Lsn(5), 200, 150)),
            Oracle::Durability
        );
    }

    #[test]
    fn a_lease_expired_early() {
        let lease = LeaseId(1);
        assert_eq!(
            oracle(no_early_expiry(lease, Slot(9), Some(Slot(10)))),
            Oracle::EarlyReuse
        );
        assert_eq!(
            oracle(no_early_expiry(lease, Slot(9), None)),
            Oracle::EarlyReuse
        );
        assert!(no_early_expiry(lease, Slot(10), Some(Slot(10))).is_ok());
        assert!(no_early_expiry(lease, Slot(0), Some(Slot(0))).is_ok());
    }

    #[test]
    fn a_corrupted_log_that_recovery_accepted() {
        let expected = ExpectedFailure::WalCorruptionAt { offset: 64 };
        assert_eq!(
            oracle(fail_closed(expected, &Ok(report()))),
            Oracle::FailClosed
        );
        let elsewhere = Err(OpenError::WalCorruption(Corruption {
            offset: 128,
            kind: CorruptionKind::LsnNotIncreasing {
                previous: Lsn(2),
                found: Lsn(2),
            },
        }));
        assert_eq!(
            oracle(fail_closed(expected, &elsewhere)),
            Oracle::FailClosed
        );
        let right = Err(OpenError::WalCorruption(Corruption {
            offset: 64,
            kind: CorruptionKind::LsnNotIncreasing {
                previous: Lsn(2),
                found: Lsn(2),
            },
        }));
        assert!(fail_closed(expected, &right).is_ok());
        assert_eq!(
            oracle(fail_closed(ExpectedFailure::Snapshot, &Ok(report()))),
            Oracle::FailClosed
        );
    }
}
