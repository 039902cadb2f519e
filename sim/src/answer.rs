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
    pub const ALL: [Code; 30] = [
        Code::Ok,
        Code::Noop,
        Code::AlreadyExists,
        Code::ResourceTableFull,
        Code::BundleTooLarge,
        Code::ResourceNotFound,
        Code::ResourceBusy,
        Code::TtlOutOfRange,
        Code::LeaseTableFull,
        Code::LeaseMemberTableFull,
        Code::ExpirationIndexFull,
        Code::SlotOverflow,
        Code::InvalidRequest,
        Code::LeaseNotFound,
        Code::LeaseRetired,
        Code::InvalidState,
        Code::HolderMismatch,
        Code::StaleEpoch,
        Code::OperationConflict,
        Code::OperationTableFull,
        Code::Malformed,
        Code::CommandTooLarge,
        Code::RequestSlotTooLarge,
        Code::SlotRewound,
        Code::Overloaded,
        Code::LsnExhausted,
        Code::StorageFailure,
        Code::EngineHalted,
        Code::Crashed,
        Code::Undelivered,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::Noop => "noop",
            Code::AlreadyExists => "already_exists",
            Code::ResourceTableFull => "resource_table_full",
            Code::BundleTooLarge => "bundle_too_large",
            Code::ResourceNotFound => "resource_not_found",
            Code::ResourceBusy => "resource_busy",
            Code::TtlOutOfRange => "ttl_out_of_range",
            Code::LeaseTableFull => "lease_table_full",
            Code::LeaseMemberTableFull => "lease_member_table_full",
            Code::ExpirationIndexFull => "expiration_index_full",
            Code::SlotOverflow => "slot_overflow",
            Code::InvalidRequest => "invalid_request",
            Code::LeaseNotFound => "lease_not_found",
            Code::LeaseRetired => "lease_retired",
            Code::InvalidState => "invalid_state",
            Code::HolderMismatch => "holder_mismatch",
            Code::StaleEpoch => "stale_epoch",
            Code::OperationConflict => "operation_conflict",
            Code::OperationTableFull => "operation_table_full",
            Code::Malformed => "malformed",
            Code::CommandTooLarge => "command_too_large",
            Code::RequestSlotTooLarge => "request_slot_too_large",
            Code::SlotRewound => "slot_rewound",
            Code::Overloaded => "overloaded",
            Code::LsnExhausted => "lsn_exhausted",
            Code::StorageFailure => "storage_failure",
            Code::EngineHalted => "engine_halted",
            Code::Crashed => "crashed",
            Code::Undelivered => "undelivered",
        }
    }

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

    /// Whether a client told this knows what became of its request. The
    /// others (the engine failed to persist, was halted or crashed, or was
    /// not there) leave it in flight: its client retries.
    pub const fn is_definite(self) -> bool {
        !matches!(
            self,
            Code::StorageFailure | Code::EngineHalted | Code::Crashed | Code::Undelivered
        )
    }

    /// The code of a write's answer.
    pub fn of(result: &Result<Applied, SubmitError>) -> Code {
        Answer::of(result).code
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
    fn every_code_is_listed_once_with_its_own_name() {
        let names: std::collections::BTreeSet<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Code::ALL.len());
        assert_eq!(Code::ResourceTableFull.name(), "resource_table_full");
    }

    #[test]
    fn every_result_code_maps_to_its_own_code() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ResultCode::ALL {
            assert!(seen.insert(Code::committed(code)), "{code:?} collides");
        }
        assert_eq!(seen.len(), ResultCode::ALL.len());
    }
}
