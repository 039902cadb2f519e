//! Committed outcomes. Failures the spec lists are results, not errors: they
//! are committed, logged and replayed like successes.

use crate::ids::{LeaseEpoch, LeaseId, Lsn, Slot};

/// Every result code of the semantics spec, as one flat list. `Ok` stands for
/// any success; the success payload is in [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ResultCode {
    Ok = 0,
    Noop = 1,
    AlreadyExists = 2,
    ResourceTableFull = 3,
    BundleTooLarge = 4,
    ResourceNotFound = 5,
    ResourceBusy = 6,
    TtlOutOfRange = 7,
    LeaseTableFull = 8,
    LeaseMemberTableFull = 9,
    ExpirationIndexFull = 10,
    SlotOverflow = 11,
    InvalidRequest = 12,
    LeaseNotFound = 13,
    LeaseRetired = 14,
    InvalidState = 15,
    HolderMismatch = 16,
    StaleEpoch = 17,
    OperationConflict = 18,
    OperationTableFull = 19,
}

impl ResultCode {
    pub const ALL: [ResultCode; 20] = [
        ResultCode::Ok,
        ResultCode::Noop,
        ResultCode::AlreadyExists,
        ResultCode::ResourceTableFull,
        ResultCode::BundleTooLarge,
        ResultCode::ResourceNotFound,
        ResultCode::ResourceBusy,
        ResultCode::TtlOutOfRange,
        ResultCode::LeaseTableFull,
        ResultCode::LeaseMemberTableFull,
        ResultCode::ExpirationIndexFull,
        ResultCode::SlotOverflow,
        ResultCode::InvalidRequest,
        ResultCode::LeaseNotFound,
        ResultCode::LeaseRetired,
        ResultCode::InvalidState,
        ResultCode::HolderMismatch,
        ResultCode::StaleEpoch,
        ResultCode::OperationConflict,
        ResultCode::OperationTableFull,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ResultCode::Ok => "ok",
            ResultCode::Noop => "noop",
            ResultCode::AlreadyExists => "already_exists",
            ResultCode::ResourceTableFull => "resource_table_full",
            ResultCode::BundleTooLarge => "bundle_too_large",
            ResultCode::ResourceNotFound => "resource_not_found",
            ResultCode::ResourceBusy => "resource_busy",
            ResultCode::TtlOutOfRange => "ttl_out_of_range",
            ResultCode::LeaseTableFull => "lease_table_full",
            ResultCode::LeaseMemberTableFull => "lease_member_table_full",
            ResultCode::ExpirationIndexFull => "expiration_index_full",
            ResultCode::SlotOverflow => "slot_overflow",
            ResultCode::InvalidRequest => "invalid_request",
            ResultCode::LeaseNotFound => "lease_not_found",
            ResultCode::LeaseRetired => "lease_retired",
            ResultCode::InvalidState => "invalid_state",
            ResultCode::HolderMismatch => "holder_mismatch",
            ResultCode::StaleEpoch => "stale_epoch",
            ResultCode::OperationConflict => "operation_conflict",
            ResultCode::OperationTableFull => "operation_table_full",
        }
    }

    pub fn from_u8(value: u8) -> Option<ResultCode> {
        ResultCode::ALL.get(usize::from(value)).copied()
    }
}

impl core::fmt::Display for ResultCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The committed outcome of one command. Successes carry what the client
/// needs next (the lease id and the current fencing epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    ResourceCreated,
    Reserved {
        lease_id: LeaseId,
        lease_epoch: LeaseEpoch,
        deadline_slot: Slot,
    },
    Activated {
        lease_id: LeaseId,
        lease_epoch: LeaseEpoch,
    },
    Released {
        lease_id: LeaseId,
        lease_epoch: LeaseEpoch,
    },
    Revoked {
        lease_id: LeaseId,
        lease_epoch: LeaseEpoch,
    },
    Reclaimed {
        lease_id: LeaseId,
    },
    Expired {
        lease_id: LeaseId,
        lease_epoch: LeaseEpoch,
    },
    /// Any result code other than `Ok` (including the expire `noop`).
    Rejected(ResultCode),
}

impl Outcome {
    pub const fn code(&self) -> ResultCode {
        match self {
            Outcome::Rejected(code) => *code,
            _ => ResultCode::Ok,
        }
    }

    pub const fn is_success(&self) -> bool {
        !matches!(self, Outcome::Rejected(_))
    }
}

/// What applying one log command produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub lsn: Lsn,
    pub outcome: Outcome,
    /// The outcome is the stored one of an earlier command with the same
    /// `operation_id`; nothing executed now.
    pub from_retry_cache: bool,
}
