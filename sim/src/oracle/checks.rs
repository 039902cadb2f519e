//! The oracles as pure functions over observations, so that each can be fed
//! a deliberately wrong observation in a test and shown to fire.

use super::failure::{Oracle, Violation};
use super::wal_flip::{BadFrame, NotTorn};
use crate::driver::IoFailure;
use crate::transcript::describe_io_failure;
use allocdb_core::engine::{OpenError, RecoveryReport};
use allocdb_core::fs::fault::{IoEffect, IoErrorKind};
use allocdb_core::fs::Site;
use allocdb_core::snapshot::format::{
    SnapshotError, HEADER_LEN as SNAPSHOT_HEADER_LEN, TRAILER_LEN as SNAPSHOT_TRAILER_LEN,
};
use allocdb_core::snapshot::LoadError;
use allocdb_core::wal::{Corruption, CorruptionKind, FrameError, NotTorn as CoreNotTorn};
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
    use std::ops::Bound::{Excluded, Unbounded};
    match acknowledged.range((Excluded(recovered), Unbounded)).next() {
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

/// A recovery that an I/O error stopped must refuse with the error of the
/// operation that failed, as the fault seam documents it
/// (`core/src/fs/fault.rs`): a failed operation's own errno; a short WAL
/// read ends early, and the reader, which knows the length it must get,
/// says `UnexpectedEof`; a short snapshot read of `bytes` is shorter than
/// header and trailer (`TooShort`) or fails the whole-file checksum.
pub fn io_refused(failure: IoFailure, error: &OpenError) -> Check {
    let typed = match (failure.site, failure.effect, error) {
        (Site::SnapshotRead, IoEffect::Fail(kind), OpenError::Snapshot(LoadError::Io(e))) => {
            IoErrorKind::of(e) == Some(kind)
        }
        (
            Site::SnapshotRead,
            IoEffect::Short { bytes },
            OpenError::Snapshot(LoadError::Invalid(e)),
        ) => {
            if (bytes as usize) < SNAPSHOT_HEADER_LEN + SNAPSHOT_TRAILER_LEN {
                *e == SnapshotError::TooShort {
                    len: bytes as usize,
                }
            } else {
                matches!(e, SnapshotError::Checksum { .. })
            }
        }
        (Site::SnapshotRead, ..) => false,
        (_, _, OpenError::Io(e)) => failure.matches(e),
        _ => false,
    };
    if typed {
        Ok(())
    } else {
        Err(Violation::new(
            Oracle::FailClosed,
            format!(
                "recovery met {} and refused with the wrong error: {error}",
                describe_io_failure(failure)
            ),
        ))
    }
}

/// What damage on disk must make recovery do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedFailure {
    /// WAL corruption at `offset`, for the reason `wal_flip` predicts.
    WalCorruption {
        offset: u64,
        bad: BadFrame,
        not_torn: NotTorn,
    },
    /// A snapshot refused by its whole-file checksum, which catches every
    /// single flip and is checked before anything else.
    SnapshotChecksum,
}

/// The core's corruption in the simulator's terms (a checksum mismatch
/// without its values, which only the CRC gives).
fn as_predicted(corruption: &Corruption) -> Option<(u64, BadFrame, NotTorn)> {
    let CorruptionKind::BadFrame { error, not_torn } = corruption.kind else {
        return None;
    };
    let bad = match error {
        FrameError::Incomplete { needed } => BadFrame::Incomplete {
            needed: needed as u64,
        },
        FrameError::BadMagic { found } => BadFrame::BadMagic { found },
        FrameError::BadVersion { found } => BadFrame::BadVersion { found },
        FrameError::BadRecordType { found } => BadFrame::BadRecordType { found },
        FrameError::PayloadTooLarge { len } => BadFrame::PayloadTooLarge { len },
        FrameError::ChecksumMismatch { .. } => BadFrame::ChecksumMismatch,
    };
    let not_torn = match not_torn {
        CoreNotTorn::BytesAfterClaimedEnd { claimed_end } => NotTorn::BytesAfterClaimedEnd {
            claimed_end: claimed_end as u64,
        },
        CoreNotTorn::TailLongerThanFrame { tail_len } => NotTorn::TailLongerThanFrame {
            tail_len: tail_len as u64,
        },
        CoreNotTorn::ValidFrameFollows { next_frame } => NotTorn::ValidFrameFollows {
            next_frame: next_frame as u64,
        },
    };
    Some((corruption.offset as u64, bad, not_torn))
}

pub fn fail_closed(expected: ExpectedFailure, result: &Result<RecoveryReport, OpenError>) -> Check {
    let fail = |detail: String| Err(Violation::new(Oracle::FailClosed, detail));
    match (expected, result) {
        (_, Ok(report)) => fail(format!(
            "recovery accepted damaged storage ({expected:?}) and reported {report:?}"
        )),
        (
            ExpectedFailure::WalCorruption {
                offset,
                bad,
                not_torn,
            },
            Err(OpenError::WalCorruption(c)),
        ) => {
            if as_predicted(c) == Some((offset, bad, not_torn)) {
                Ok(())
            } else {
                fail(format!(
                    "recovery refused with {c}; the flip makes corruption at byte {offset}: {bad:?}, {not_torn:?}"
                ))
            }
        }
        (
            ExpectedFailure::SnapshotChecksum,
            Err(OpenError::Snapshot(LoadError::Invalid(SnapshotError::Checksum { .. }))),
        ) => Ok(()),
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
    fn a_corrupted_log_that_recovery_accepted_or_refused_for_another_reason() {
        let expected = ExpectedFailure::WalCorruption {
            offset: 64,
            bad: BadFrame::ChecksumMismatch,
            not_torn: NotTorn::BytesAfterClaimedEnd { claimed_end: 154 },
        };
        assert_eq!(
            oracle(fail_closed(expected, &Ok(report()))),
            Oracle::FailClosed
        );
        let refused = |offset, not_torn| {
            Err(OpenError::WalCorruption(Corruption {
                offset,
                kind: CorruptionKind::BadFrame {
                    error: FrameError::ChecksumMismatch {
                        stored: 1,
                        computed: 2,
                    },
                    not_torn,
                },
            }))
        };
        let right = refused(64, CoreNotTorn::BytesAfterClaimedEnd { claimed_end: 154 });
        assert!(fail_closed(expected, &right).is_ok());
        // The right place, another reason: still wrong.
        let other_reason = refused(64, CoreNotTorn::ValidFrameFollows { next_frame: 154 });
        assert_eq!(
            oracle(fail_closed(expected, &other_reason)),
            Oracle::FailClosed
        );
        let elsewhere = Err(OpenError::WalCorruption(Corruption {
            offset: 64,
            kind: CorruptionKind::LsnNotIncreasing {
                previous: Lsn(2),
                found: Lsn(2),
            },
        }));
        assert_eq!(
            oracle(fail_closed(expected, &elsewhere)),
            Oracle::FailClosed
        );
        assert_eq!(
            oracle(fail_closed(
                ExpectedFailure::SnapshotChecksum,
                &Ok(report())
            )),
            Oracle::FailClosed
        );
        let bounds = Err(OpenError::Snapshot(LoadError::Invalid(
            SnapshotError::TooShort { len: 3 },
        )));
        assert_eq!(
            oracle(fail_closed(ExpectedFailure::SnapshotChecksum, &bounds)),
            Oracle::FailClosed,
            "a single flip must fail the checksum, which is checked first"
        );
    }

    #[test]
    fn an_io_error_must_be_refused_with_its_own_error() {
        use allocdb_core::fs::FsOpKind;
        let failure = |site, op, effect| IoFailure { site, op, effect };
        let io = |error: std::io::Error| OpenError::Io(error);
        let eio = IoEffect::Fail(IoErrorKind::Eio);
        let sync = failure(Site::WalOpen, FsOpKind::Sync, eio);
        assert!(io_refused(sync, &io(IoErrorKind::Eio.error())).is_ok());
        assert!(io_refused(sync, &io(IoErrorKind::Enospc.error())).is_err());
        let wal_short = failure(Site::WalScan, FsOpKind::Read, IoEffect::Short { bytes: 0 });
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert!(io_refused(wal_short, &io(eof)).is_ok());
        assert!(io_refused(wal_short, &io(IoErrorKind::Eio.error())).is_err());
        let snapshot_short = |bytes| {
            failure(
                Site::SnapshotRead,
                FsOpKind::Read,
                IoEffect::Short { bytes },
            )
        };
        let too_short =
            |len| OpenError::Snapshot(LoadError::Invalid(SnapshotError::TooShort { len }));
        assert!(io_refused(snapshot_short(28), &too_short(28)).is_ok());
        assert!(io_refused(snapshot_short(28), &too_short(27)).is_err());
        assert!(
            io_refused(snapshot_short(100), &too_short(100)).is_err(),
            "100 bytes hold header and trailer: the checksum fails"
        );
        let snapshot_eio = failure(Site::SnapshotRead, FsOpKind::Read, eio);
        let load_io = OpenError::Snapshot(LoadError::Io(IoErrorKind::Eio.error()));
        assert!(io_refused(snapshot_eio, &load_io).is_ok());
        assert!(io_refused(snapshot_eio, &io(IoErrorKind::Eio.error())).is_err());
    }
}
