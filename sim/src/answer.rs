//! What a client was told, as one flat code: every committed result code of
//! the core plus every way the engine can refuse or lose a request. Steps
//! record it and scenario expectations name it.

use allocdb_core::engine::SubmitError;
use allocdb_core::{Applied, ResultCode};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Code {
    // Committed (the core's result codes).
    Ok,
    Noop,
    AlreadyExists,
    ResourceTableFull,
    BundleTooLarge,
    ResourceNotFound,
    ResourceBusy,
    TtlOutOfRange,
    LeaseTableFull,
    LeaseMemberTableFull,
    ExpirationIndexFull,
    SlotOverflow,
    InvalidRequest,
    LeaseNotFound,
    LeaseRetired,
    InvalidState,
    HolderMismatch,
    StaleEpoch,
    OperationConflict,
    OperationTableFull,
    // Definite refusals before the WAL.
    Malformed,
    CommandTooLarge,
    RequestSlotTooLarge,
    SlotRewound,
    Overloaded,
    LsnExhausted,
    // Indefinite: the client must retry.
    StorageFailure,
    EngineHalted,
    Crashed,
    /// The engine process was down: nothing reached it.
    Undelivered,
}

impl Code {
    pub fn committed(code: ResultCode) -> Code {
        match code {
            ResultCode::Ok => Code::Ok,
            ResultCode::Noop => Code::Noop,
            ResultCode::AlreadyExists => Code::AlreadyExists,
            ResultCode::ResourceTableFull => Code::ResourceTableFull,
            ResultCode::BundleTooLarge => Code::BundleTooLarge,
            ResultCode::ResourceNotFound => Code::ResourceNotFound,
            ResultCode::ResourceBusy => Code::ResourceBusy,
            ResultCode::TtlOutOfRange => Code::TtlOutOfRange,
            ResultCode::LeaseTableFull => Code::LeaseTableFull,
            ResultCode::LeaseMemberTableFull => Code::LeaseMemberTableFull,
            ResultCode::ExpirationIndexFull => Code::ExpirationIndexFull,
            ResultCode::SlotOverflow => Code::SlotOverflow,
            ResultCode::InvalidRequest => Code::InvalidRequest,
            ResultCode::LeaseNotFound => Code::LeaseNotFound,
            ResultCode::LeaseRetired => Code::LeaseRetired,
            ResultCode::InvalidState => Code::InvalidState,
            ResultCode::HolderMismatch => Code::HolderMismatch,
            ResultCode::StaleEpoch => Code::StaleEpoch,
            ResultCode::OperationConflict => Code::OperationConflict,
            ResultCode::OperationTableFull => Code::OperationTableFull,
        }
    }

    pub fn refused(error: &SubmitError) -> Code {
        match error {
            SubmitError::Malformed { .. } => Code::Malformed,
            SubmitError::CommandTooLarge { .. } => Code::CommandTooLarge,
            SubmitError::SlotOverflow { .. } => Code::RequestSlotTooLarge,
            SubmitError::SlotRewound { .. } => Code::SlotRewound,
            SubmitError::Overloaded => Code::Overloaded,
            SubmitError::LsnExhausted => Code::LsnExhausted,
            SubmitError::StorageFailure { .. } => Code::StorageFailure,
            SubmitError::EngineHalted => Code::EngineHalted,
            SubmitError::Crashed(_) => Code::Crashed,
        }
    }
}

/// One request's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub code: Code,
    /// The stored outcome of an earlier commit, returned to a retry.
    pub cached: bool,
}

impl Answer {
    pub fn of(result: &Result<Applied, SubmitError>) -> Answer {
        match result {
            Ok(applied) => Answer {
                code: Code::committed(applied.outcome.code()),
                cached: applied.from_retry_cache,
            },
            Err(error) => Answer::uncached(Code::refused(error)),
        }
    }

    pub fn uncached(code: Code) -> Answer {
        Answer {
            code,
            cached: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_code_maps_to_its_own_code() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ResultCode::ALL {
            assert!(seen.insert(Code::committed(code)), "{code:?} collides");
        }
        assert_eq!(seen.len(), ResultCode::ALL.len());
    }
}
