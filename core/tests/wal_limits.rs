//! The WAL's size limits as numbers, not as the constants that define them:
//! every other test measures against `MAX_FRAME_LEN` itself, so a wrong
//! constant would move both sides of their comparisons at once (mutation
//! testing found that `MAX_FRAME_LEN = FRAME_HEADER_LEN * MAX_PAYLOAD_LEN`
//! passed them all). `docs/storage-format.md`: a 32-byte header, payloads
//! of at most 512 bytes, so a torn append leaves at most 544 bytes.

use allocdb_core::wal::{
    encode_record_frame, scan, Corruption, CorruptionKind, NotTorn, ScanEnd, WalRecord,
    FRAME_HEADER_LEN, MAX_FRAME_LEN, MAX_PAYLOAD_LEN,
};
use allocdb_core::{Lsn, Slot};

#[test]
fn the_limits_are_the_documented_numbers() {
    assert_eq!(FRAME_HEADER_LEN, 32);
    assert_eq!(MAX_PAYLOAD_LEN, 512);
    assert_eq!(MAX_FRAME_LEN, 544);
}

/// One valid frame, then `zeros` zero bytes: what a torn append of an
/// all-zero block leaves.
fn frame_then_zeros(zeros: usize) -> (Vec<u8>, usize) {
    let mut frame = vec![0u8; 4096];
    let record = WalRecord::SnapshotMarker {
        snapshot_lsn: Lsn(0),
    };
    let len = encode_record_frame(Lsn(1), Slot(1), &record, &mut frame);
    frame.truncate(len);
    frame.resize(len + zeros, 0);
    (frame, len)
}

#[test]
fn a_zero_tail_of_544_bytes_is_torn_and_of_545_is_corruption() {
    let (log, valid_len) = frame_then_zeros(544);
    let report = scan(&log).expect("a tail that fits in one frame is torn");
    assert!(
        matches!(report.end, ScanEnd::TornTail { valid_len: v, .. } if v == valid_len),
        "{report:?}"
    );

    let (log, valid_len) = frame_then_zeros(545);
    match scan(&log) {
        Err(Corruption {
            offset,
            kind:
                CorruptionKind::BadFrame {
                    not_torn: NotTorn::TailLongerThanFrame { tail_len },
                    ..
                },
        }) => assert_eq!((offset, tail_len), (valid_len, 545)),
        other => panic!("545 zero bytes cannot be one torn frame: {other:?}"),
    }
}
