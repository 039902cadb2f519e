//! `payload`: one frame payload (`core/src/wal/payload.rs`), the input
//! exactly, decoded under each of the three record types.
//!
//! Properties beyond "no panic":
//! * at most one record type accepts a payload (its tag decides), and the
//!   decoded record says it belongs under that type;
//! * an accepted payload re-encodes (`encode_record`) to exactly the input,
//!   and `encoded_command_len` of a decoded command is the input's length;
//! * `decode_command` and `decode_snapshot_marker` agree with
//!   `decode_record` (the same value, or `WrongRecordKind`).

use allocdb_core::wal::{
    decode_command, decode_record, decode_snapshot_marker, encode_record, encoded_command_len,
    PayloadError, RecordType, WalRecord, MAX_ENCODED_COMMAND_LEN,
};

use super::Outcome;

pub fn run(input: &[u8]) -> Outcome {
    let mut accepted: Option<RecordType> = None;
    // The label of the first refusal that is not "wrong record type", which
    // says more about the input than the mismatches do.
    let mut label = None;
    for record_type in RecordType::ALL {
        match decode_record(record_type, input) {
            Ok(record) => {
                assert!(
                    accepted.is_none(),
                    "a payload accepted under {accepted:?} and {record_type:?}"
                );
                accepted = Some(record_type);
                check_accepted(record_type, input, &record);
            }
            Err(error) => {
                assert!(
                    decode_command(record_type, input) == Err(error)
                        && decode_snapshot_marker(record_type, input) == Err(error),
                    "decode_command / decode_snapshot_marker disagree with decode_record"
                );
                if !matches!(error, PayloadError::RecordTypeMismatch { .. }) && label.is_none() {
                    label = Some(payload_error_label(&error));
                }
            }
        }
    }
    match accepted {
        Some(_) => Outcome::Accepted,
        None => Outcome::Rejected(label.unwrap_or("payload: record type mismatch")),
    }
}

fn check_accepted(record_type: RecordType, input: &[u8], record: &WalRecord) {
    assert_eq!(
        record.record_type(),
        record_type,
        "a payload decoded under {record_type:?} into a record of another type"
    );
    let mut out = [0u8; MAX_ENCODED_COMMAND_LEN];
    let written = encode_record(record, &mut out);
    assert!(
        &out[..written] == input,
        "an accepted payload re-encodes to different bytes"
    );
    match record {
        WalRecord::Command(command) => {
            assert_eq!(encoded_command_len(command), input.len());
            assert_eq!(decode_command(record_type, input), Ok(*command));
            assert_eq!(
                decode_snapshot_marker(record_type, input),
                Err(PayloadError::WrongRecordKind { record_type })
            );
        }
        WalRecord::SnapshotMarker { snapshot_lsn } => {
            assert_eq!(
                decode_snapshot_marker(record_type, input),
                Ok(*snapshot_lsn)
            );
            assert_eq!(
                decode_command(record_type, input),
                Err(PayloadError::WrongRecordKind { record_type })
            );
        }
    }
}

pub(crate) fn payload_error_label(error: &PayloadError) -> &'static str {
    match error {
        PayloadError::Empty => "payload: empty",
        PayloadError::UnknownTag { .. } => "payload: unknown tag",
        PayloadError::WrongLength { .. } => "payload: wrong length",
        PayloadError::BundleTooLarge { .. } => "payload: bundle too large",
        PayloadError::RecordTypeMismatch { .. } => "payload: record type mismatch",
        PayloadError::WrongRecordKind { .. } => "payload: wrong record kind",
    }
}
