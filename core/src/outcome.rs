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

/// An outcome flattened to fixed fields, the one shape every binary format
/// (snapshot, digest) encodes. Fields a variant does not carry are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeParts {
    /// 1 created, 2 reserved, 3 activated, 4 released, 5 revoked,
    /// 6 reclaimed, 7 expired, 8 rejected.
    pub tag: u8,
    pub code: ResultCode,
    pub lease_id: LeaseId,
    pub lease_epoch: LeaseEpoch,
    pub deadline_slot: Slot,
}

impl Outcome {
    pub const fn parts(&self) -> OutcomeParts {
        let zero_lease = LeaseId(0);
        let zero_epoch = LeaseEpoch(0);
        let zero_slot = Slot(0);
        let (tag, lease_id, lease_epoch, deadline_slot) = match *self {
            Outcome::ResourceCreated => (1, zero_lease, zero_epoch, zero_slot),
            Outcome::Reserved {
                lease_id,
                lease_epoch,
                deadline_slot,
            } => (2, lease_id, lease_epoch, deadline_slot),
            Outcome::Activated {
                lease_id,
                lease_epoch,
            } => (3, lease_id, lease_epoch, zero_slot),
            Outcome::Released {
                lease_id,
                lease_epoch,
            } => (4, lease_id, lease_epoch, zero_slot),
            Outcome::Revoked {
                lease_id,
                lease_epoch,
            } => (5, lease_id, lease_epoch, zero_slot),
            Outcome::Reclaimed { lease_id } => (6, lease_id, zero_epoch, zero_slot),
            Outcome::Expired {
                lease_id,
                lease_epoch,
            } => (7, lease_id, lease_epoch, zero_slot),
            Outcome::Rejected(_) => (8, zero_lease, zero_epoch, zero_slot),
        };
        OutcomeParts {
            tag,
            code: self.code(),
            lease_id,
            lease_epoch,
            deadline_slot,
        }
    }

    /// The inverse of [`Outcome::parts`]; `None` unless `parts` is exactly
    /// what some outcome flattens to (so decoders stay canonical).
    pub fn from_parts(parts: OutcomeParts) -> Option<Outcome> {
        let OutcomeParts {
            tag,
            code,
            lease_id,
            lease_epoch,
            deadline_slot,
        } = parts;
        let outcome = match tag {
            1 => Outcome::ResourceCreated,
            2 => Outcome::Reserved {
                lease_id,
                lease_epoch,
                deadline_slot,
            },
            3 => Outcome::Activated {
                lease_id,
                lease_epoch,
            },
            4 => Outcome::Released {
                lease_id,
                lease_epoch,
            },
            5 => Outcome::Revoked {
                lease_id,
                lease_epoch,
            },
            6 => Outcome::Reclaimed { lease_id },
            7 => Outcome::Expired {
                lease_id,
                lease_epoch,
            },
            8 => Outcome::Rejected(code),
            _ => return None,
        };
        (outcome.parts() == parts).then_some(outcome)
    }
}
