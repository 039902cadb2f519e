//! `wal_scan`: a whole WAL image (`core/src/wal/scan.rs`), then what
//! recovery does with its valid prefix. The scan works on bytes in memory
//! (`scan`, `frames`), so no file is involved; recovery reads the file
//! through `WalReader` (`core/src/wal/reader.rs`), which drives the same
//! scan a window at a time.
//!
//! Properties beyond "no panic":
//! * `scan` and the `frames` iterator agree: the same frames, the same end
//!   or the same corruption, the same valid length;
//! * `WalReader` over the same bytes, through the smallest buffer it takes
//!   (so frames straddle refills), gives the same report or corruption;
//! * the scan's end obeys the documented rule: a clean EOF covers the
//!   whole input; a torn tail leaves at most one frame's worth of bytes;
//!   corruption lies inside the input;
//! * the valid frames tile the prefix from offset 0 without gaps, and
//!   re-encoding each gives back exactly its bytes (so the accepted part
//!   re-encodes to itself);
//! * replay as recovery does it without a snapshot (first LSN 1, then
//!   consecutive; every payload decoded; commands through
//!   `StateMachine::apply` for `FUZZ_CONFIG`) never gets an `ApplyError`
//!   (the scan already enforced increasing LSNs and slots), and leaves a
//!   machine that passes the full invariant audit.

use allocdb_core::wal::{
    decode_record, encode_frame, frames, scan, CorruptionKind, ScanEnd, WalReadError, WalReader,
    WalRecord, MAX_FRAME_LEN,
};
use allocdb_core::{Lsn, StateMachine};

use super::payload::payload_error_label;
use super::wal_frame::frame_error_label;
use super::{Outcome, FUZZ_CONFIG};

pub fn run(input: &[u8]) -> Outcome {
    let scanned = scan(input);
    let streamed = WalReader::with_buffer_len(input, input.len() as u64, MAX_FRAME_LEN + 1)
        .expect("the input's length fits")
        .scan()
        .map_err(|error| match error {
            WalReadError::Corruption(corruption) => corruption,
            WalReadError::Io(error) => panic!("reading a whole slice failed: {error}"),
        });
    assert_eq!(
        streamed, scanned,
        "the reader and the in-memory scan disagree"
    );

    let mut iter = frames(input);
    let mut frame_count = 0u64;
    let mut next_offset = 0usize;
    let mut corruption = None;
    for item in iter.by_ref() {
        match item {
            Ok(scanned_frame) => {
                frame_count += 1;
                assert_eq!(
                    scanned_frame.offset, next_offset,
                    "frames do not tile the valid prefix"
                );
                let end = scanned_frame.end();
                let stored = input
                    .get(scanned_frame.offset..end)
                    .expect("a scanned frame lies inside the input");
                let mut out = [0u8; MAX_FRAME_LEN];
                let written = encode_frame(
                    &scanned_frame.frame.header,
                    scanned_frame.frame.payload,
                    &mut out,
                );
                assert!(
                    &out[..written] == stored,
                    "a scanned frame re-encodes to different bytes"
                );
                next_offset = end;
            }
            Err(found) => corruption = Some(found),
        }
    }

    let report = match scanned {
        Err(found) => {
            assert_eq!(corruption, Some(found), "scan and frames disagree");
            assert_eq!(iter.end(), None);
            assert!(found.offset < input.len(), "corruption past the input");
            assert_eq!(found.offset, next_offset, "corruption not at a boundary");
            return Outcome::Rejected(corruption_label(&found.kind));
        }
        Ok(report) => report,
    };
    assert_eq!(corruption, None, "frames found corruption scan did not");
    assert_eq!(
        iter.end(),
        Some(report.end),
        "scan and frames end differently"
    );
    assert_eq!(iter.valid_len(), report.valid_len);
    assert_eq!(frame_count, report.frame_count);
    assert_eq!(next_offset, report.valid_len, "valid frames do not tile");
    match report.end {
        ScanEnd::CleanEof => assert_eq!(report.valid_len, input.len()),
        ScanEnd::TornTail { valid_len, .. } => {
            assert_eq!(valid_len, report.valid_len);
            assert!(valid_len < input.len(), "a torn tail of no bytes");
            assert!(
                input.len() - valid_len <= MAX_FRAME_LEN,
                "a torn tail longer than one frame"
            );
        }
    }

    let replayed = replay(&input[..report.valid_len]);
    match (replayed, report.end) {
        (Outcome::Accepted, ScanEnd::TornTail { .. }) => Outcome::Rejected("scan: torn tail cut"),
        (outcome, _) => outcome,
    }
}

/// Recovery's replay loop (`engine/recovery.rs`) for a WAL without a
/// snapshot, on the valid prefix.
fn replay(valid: &[u8]) -> Outcome {
    let mut machine = StateMachine::new(FUZZ_CONFIG).expect("FUZZ_CONFIG is valid");
    let mut previous: Option<Lsn> = None;
    for scanned in frames(valid) {
        let scanned = scanned.expect("the valid prefix of a scan scans clean");
        let header = scanned.frame.header;
        let expected = match previous {
            Some(lsn) => match lsn.next() {
                Some(next) => next,
                None => return Outcome::Rejected("replay: lsn gap"),
            },
            None => Lsn(1),
        };
        if header.lsn != expected {
            return Outcome::Rejected("replay: lsn gap");
        }
        previous = Some(header.lsn);
        let record = match decode_record(header.record_type, scanned.frame.payload) {
            Ok(record) => record,
            Err(error) => return Outcome::Rejected(payload_error_label(&error)),
        };
        let WalRecord::Command(command) = record else {
            continue;
        };
        if let Err(error) = machine.apply(header.lsn, header.request_slot, &command) {
            panic!("replay of a scanned, gap-free log failed to apply: {error}");
        }
    }
    if let Err(violation) = machine.check_invariants() {
        panic!("replay left a machine that fails the audit: {violation}");
    }
    if previous.is_none() {
        return Outcome::Rejected("scan: empty");
    }
    Outcome::Accepted
}

fn corruption_label(kind: &CorruptionKind) -> &'static str {
    match kind {
        CorruptionKind::BadFrame { error, .. } => match frame_error_label(error) {
            "frame: incomplete" => "corruption: incomplete frame",
            "frame: bad magic" => "corruption: bad magic",
            "frame: bad version" => "corruption: bad version",
            "frame: bad record type" => "corruption: bad record type",
            "frame: payload too large" => "corruption: payload too large",
            _ => "corruption: checksum mismatch",
        },
        CorruptionKind::LsnNotIncreasing { .. } => "corruption: lsn not increasing",
        CorruptionKind::RequestSlotWentBackwards { .. } => "corruption: slot went backwards",
    }
}
