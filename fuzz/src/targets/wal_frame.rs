//! `wal_frame`: one WAL frame at the start of the input
//! (`core/src/wal/frame.rs`), then its payload as recovery reads it.
//!
//! Properties beyond "no panic":
//! * an accepted frame re-encodes (`encode_frame` of the decoded header and
//!   payload) to exactly the bytes it was decoded from, and its length is
//!   what the header says and within `MAX_FRAME_LEN`;
//! * when its payload also decodes, `encode_record_frame` of the record at
//!   the frame's LSN and slot gives those same bytes again;
//! * an `Incomplete` error names a length the input does not reach, and a
//!   length the bound allows; `PayloadTooLarge` names one over the bound.

use allocdb_core::wal::{
    decode_frame, decode_record, encode_frame, encode_record_frame, FrameError, MAX_FRAME_LEN,
    MAX_PAYLOAD_LEN,
};

use super::payload::payload_error_label;
use super::Outcome;

pub fn run(input: &[u8]) -> Outcome {
    let (frame, len) = match decode_frame(input) {
        Ok(decoded) => decoded,
        Err(error) => {
            check_error(input, &error);
            return Outcome::Rejected(frame_error_label(&error));
        }
    };
    assert!(
        len <= input.len() && len <= MAX_FRAME_LEN && len == frame.encoded_len(),
        "decode_frame returned length {len} for {} input bytes",
        input.len()
    );
    let stored = &input[..len];
    let mut out = [0u8; MAX_FRAME_LEN];
    let written = encode_frame(&frame.header, frame.payload, &mut out);
    assert!(
        &out[..written] == stored,
        "an accepted frame re-encodes to different bytes"
    );

    match decode_record(frame.header.record_type, frame.payload) {
        Ok(record) => {
            let mut again = [0u8; MAX_FRAME_LEN];
            let written = encode_record_frame(
                frame.header.lsn,
                frame.header.request_slot,
                &record,
                &mut again,
            );
            assert!(
                &again[..written] == stored,
                "a frame whose payload decodes re-encodes differently from its record"
            );
            Outcome::Accepted
        }
        Err(error) => Outcome::Rejected(payload_error_label(&error)),
    }
}

fn check_error(input: &[u8], error: &FrameError) {
    match *error {
        FrameError::Incomplete { needed } => assert!(
            needed > input.len() && needed <= MAX_FRAME_LEN,
            "Incomplete {{ needed: {needed} }} for an input of {} bytes",
            input.len()
        ),
        FrameError::PayloadTooLarge { len } => assert!(
            len as usize > MAX_PAYLOAD_LEN,
            "PayloadTooLarge for a length of {len}"
        ),
        FrameError::ChecksumMismatch { stored, computed } => {
            assert_ne!(stored, computed, "a checksum mismatch of equal sums")
        }
        FrameError::BadMagic { .. }
        | FrameError::BadVersion { .. }
        | FrameError::BadRecordType { .. } => {}
    }
}

pub(crate) fn frame_error_label(error: &FrameError) -> &'static str {
    match error {
        FrameError::Incomplete { .. } => "frame: incomplete",
        FrameError::BadMagic { .. } => "frame: bad magic",
        FrameError::BadVersion { .. } => "frame: bad version",
        FrameError::BadRecordType { .. } => "frame: bad record type",
        FrameError::PayloadTooLarge { .. } => "frame: payload too large",
        FrameError::ChecksumMismatch { .. } => "frame: checksum mismatch",
    }
}
