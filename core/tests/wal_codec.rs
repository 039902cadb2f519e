//! WAL codec and recovery scan against damaged logs: every truncation of the
//! last frame, every single-bit flip of a whole log, ordering violations, and
//! property tests over generated commands and arbitrary bytes.

use std::mem::discriminant;

use allocdb_core::wal::{
    decode_frame, decode_record, encode_record, encode_record_frame, frames, scan, Corruption,
    CorruptionKind, FrameError, NotTorn, RecordType, ScanEnd, ScanReport, WalRecord,
    FRAME_HEADER_LEN, MAX_ENCODED_COMMAND_LEN, MAX_FRAME_LEN, MAX_PAYLOAD_LEN,
};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, HolderId, LeaseEpoch, LeaseId, LogCommand, Lsn,
    OperationId, ResourceId, Slot, BUNDLE_SIZE_LIMIT,
};
use proptest::prelude::*;

const PAYLOAD_LEN_AT: usize = 24;

fn request(op: u128, command: Command) -> WalRecord {
    WalRecord::Command(LogCommand::Client(ClientRequest {
        operation_id: OperationId(op),
        client_id: ClientId(op * 31 + 1),
        command,
    }))
}

/// Records of every record type, cycled to build logs of any length.
fn record(i: usize) -> WalRecord {
    match i % 5 {
        0 => request(
            i as u128,
            Command::CreateResource {
                resource_id: ResourceId(1000 + i as u128),
            },
        ),
        1 => request(
            i as u128,
            Command::Reserve {
                resources: Bundle::from_slice(&[ResourceId(1), ResourceId(2)]).unwrap(),
                holder_id: HolderId(7),
                ttl_slots: 5,
            },
        ),
        2 => WalRecord::Command(LogCommand::Expire {
            lease_id: LeaseId::new(0, Lsn(2)),
            deadline_slot: Slot(9),
        }),
        3 => WalRecord::SnapshotMarker {
            snapshot_lsn: Lsn(3),
        },
        _ => request(
            i as u128,
            Command::Release {
                lease_id: LeaseId::new(0, Lsn(2)),
                holder_id: HolderId(7),
                lease_epoch: LeaseEpoch(2),
            },
        ),
    }
}

/// A log of `n` frames (LSNs 1.., slots non-decreasing with a repeat) and
/// its frame boundaries, `n + 1` of them from 0 to the length.
fn log_of(n: usize) -> (Vec<u8>, Vec<usize>) {
    let mut log = Vec::new();
    let mut boundaries = vec![0];
    for i in 0..n {
        let mut frame = [0u8; MAX_FRAME_LEN];
        let len = encode_record_frame(
            Lsn(i as u64 + 1),
            Slot(10 + i as u64 / 2),
            &record(i),
            &mut frame,
        );
        log.extend_from_slice(&frame[..len]);
        boundaries.push(log.len());
    }
    (log, boundaries)
}

fn report(end: ScanEnd, valid_len: usize, frame_count: u64) -> ScanReport {
    ScanReport {
        end,
        valid_len,
        frame_count,
        first_lsn: (frame_count > 0).then_some(Lsn(1)),
        last_lsn: (frame_count > 0).then_some(Lsn(frame_count)),
        last_request_slot: (frame_count > 0).then(|| Slot(10 + (frame_count - 1) / 2)),
    }
}

#[test]
fn intact_logs_scan_clean_and_replay_every_record() {
    for n in 0..=6 {
        let (log, boundaries) = log_of(n);
        assert_eq!(
            scan(&log),
            Ok(report(ScanEnd::CleanEof, log.len(), n as u64))
        );
        let mut it = frames(&log);
        for (i, scanned) in it.by_ref().enumerate() {
            let scanned = scanned.unwrap();
            assert_eq!(scanned.offset, boundaries[i]);
            assert_eq!(scanned.end(), boundaries[i + 1]);
            assert_eq!(scanned.frame.header.lsn, Lsn(i as u64 + 1));
            assert_eq!(
                decode_record(scanned.frame.header.record_type, scanned.frame.payload),
                Ok(record(i))
            );
        }
        assert_eq!(it.end(), Some(ScanEnd::CleanEof));
        assert_eq!(it.valid_len(), log.len());
    }
}

#[test]
fn every_truncation_of_the_last_frame_is_a_torn_tail_at_the_previous_boundary() {
    for n in 3..=5 {
        let (log, boundaries) = log_of(n);
        let last = boundaries[n - 1];
        let last_len = log.len() - last;
        assert_eq!(
            scan(&log[..last]),
            Ok(report(ScanEnd::CleanEof, last, n as u64 - 1))
        );
        for cut in last + 1..log.len() {
            let needed = if cut - last < FRAME_HEADER_LEN {
                FRAME_HEADER_LEN
            } else {
                last_len
            };
            let torn = ScanEnd::TornTail {
                valid_len: last,
                error: FrameError::Incomplete { needed },
            };
            assert_eq!(
                scan(&log[..cut]),
                Ok(report(torn, last, n as u64 - 1)),
                "{n} frames cut at {cut}"
            );
            let mut it = frames(&log[..cut]);
            assert_eq!(it.by_ref().count(), n - 1);
            assert_eq!(it.end(), Some(torn));
        }
    }
}

#[test]
fn every_truncation_anywhere_lands_on_the_last_whole_frame() {
    let (log, boundaries) = log_of(5);
    for cut in 0..=log.len() {
        let whole = boundaries.iter().rposition(|&b| b <= cut).unwrap();
        let got = scan(&log[..cut]).unwrap();
        assert_eq!(got.valid_len, boundaries[whole], "cut at {cut}");
        assert_eq!(got.frame_count, whole as u64);
        if cut == boundaries[whole] {
            assert_eq!(got.end, ScanEnd::CleanEof);
        } else {
            assert!(matches!(got.end, ScanEnd::TornTail { .. }), "cut at {cut}");
        }
    }
}

/// The frame error a header/payload with one flipped bit must produce,
/// derived from the field the bit is in. `tail_len` is the bytes from the
/// frame start to EOF. Checksum mismatches are compared by variant only.
fn expected_frame_error(
    flipped: &[u8],
    at_in_frame: usize,
    true_payload_len: usize,
    tail_len: usize,
) -> FrameError {
    let le16 = |at: usize| u16::from_le_bytes([flipped[at], flipped[at + 1]]);
    let le32 = |at: usize| u32::from_le_bytes(flipped[at..at + 4].try_into().unwrap());
    match at_in_frame {
        0..=3 => FrameError::BadMagic { found: le32(0) },
        4..=5 => FrameError::BadVersion { found: le16(4) },
        6..=7 if !(1..=3).contains(&le16(6)) => FrameError::BadRecordType { found: le16(6) },
        24..=27 => {
            let len = le32(PAYLOAD_LEN_AT);
            if len as usize > MAX_PAYLOAD_LEN {
                FrameError::PayloadTooLarge { len }
            } else if FRAME_HEADER_LEN + len as usize > tail_len {
                FrameError::Incomplete {
                    needed: FRAME_HEADER_LEN + len as usize,
                }
            } else {
                assert_ne!(len as usize, true_payload_len);
                FrameError::ChecksumMismatch {
                    stored: 0,
                    computed: 0,
                }
            }
        }
        _ => FrameError::ChecksumMismatch {
            stored: 0,
            computed: 0,
        },
    }
}

fn same_error(got: &FrameError, want: &FrameError) -> bool {
    match want {
        FrameError::ChecksumMismatch { .. } => discriminant(got) == discriminant(want),
        _ => got == want,
    }
}

#[test]
fn every_single_bit_flip_is_torn_tail_in_the_last_frame_and_corruption_elsewhere() {
    let (log, boundaries) = log_of(4);
    // Every tail fits in one frame, so the rule's size condition never
    // decides here; the test below covers it.
    assert!(log.len() <= MAX_FRAME_LEN);
    let last = 3;
    let (mut torn, mut corrupt) = (0, 0);
    for at in 0..log.len() {
        let k = boundaries.iter().rposition(|&b| b <= at).unwrap();
        let (start, end) = (boundaries[k], boundaries[k + 1]);
        let in_frame = at - start;
        let true_payload_len = end - start - FRAME_HEADER_LEN;
        for bit in 0..8 {
            let mut bad = log.clone();
            bad[at] ^= 1 << bit;
            let got = scan(&bad);
            let want_error =
                expected_frame_error(&bad[start..], in_frame, true_payload_len, bad.len() - start);
            let flipped_len =
                u32::from_le_bytes(bad[start + 24..start + 28].try_into().unwrap()) as usize;
            let context = format!("byte {at} (frame {k}, +{in_frame}) bit {bit}: {got:?}");

            let header_trusted = !matches!(
                want_error,
                FrameError::BadMagic { .. }
                    | FrameError::BadVersion { .. }
                    | FrameError::BadRecordType { .. }
            );
            let claimed_end = start + FRAME_HEADER_LEN + flipped_len;
            // The rule, spelled out for this log: bytes after a trusted
            // claimed end are corruption; otherwise a later valid frame is.
            let want_not_torn = if header_trusted && claimed_end < bad.len() {
                Some(NotTorn::BytesAfterClaimedEnd { claimed_end })
            } else if k < last {
                Some(NotTorn::ValidFrameFollows { next_frame: end })
            } else {
                None
            };
            // Only a shrunken length can leave bytes after the last frame.
            assert_eq!(
                k == last && want_not_torn.is_some(),
                k == last && (24..28).contains(&in_frame) && flipped_len < true_payload_len,
                "{context}"
            );

            match (want_not_torn, got) {
                (None, Ok(report)) => {
                    torn += 1;
                    assert_eq!(report.valid_len, start, "{context}");
                    assert_eq!(report.frame_count, 3, "{context}");
                    let ScanEnd::TornTail { valid_len, error } = report.end else {
                        panic!("{context}");
                    };
                    assert_eq!(valid_len, start, "{context}");
                    assert!(same_error(&error, &want_error), "{context}");
                }
                (
                    Some(want),
                    Err(Corruption {
                        offset,
                        kind: CorruptionKind::BadFrame { error, not_torn },
                    }),
                ) => {
                    corrupt += 1;
                    assert_eq!(offset, start, "{context}");
                    assert_eq!(not_torn, want, "{context}");
                    assert!(same_error(&error, &want_error), "{context}");
                }
                _ => panic!("{context}"),
            }
        }
    }
    // In the last frame, exactly the flips that clear a set bit of its
    // payload_len shrink it and are corruption; every other flip is torn.
    let last_frame_bits = (log.len() - boundaries[last]) * 8;
    let last_payload_len = (log.len() - boundaries[last] - FRAME_HEADER_LEN) as u32;
    assert_eq!(
        torn,
        last_frame_bits - last_payload_len.count_ones() as usize
    );
    assert_eq!(
        corrupt,
        boundaries[last] * 8 + last_payload_len.count_ones() as usize
    );
}

#[test]
fn shrinking_the_last_frames_length_is_corruption_growing_it_is_torn() {
    let (log, boundaries) = log_of(4);
    let last = boundaries[3];
    let true_len = log.len() - last - FRAME_HEADER_LEN;
    for len in [
        0,
        true_len - 1,
        true_len + 1,
        MAX_PAYLOAD_LEN + 1,
        u32::MAX as usize,
    ] {
        let mut bad = log.clone();
        bad[last + 24..last + 28].copy_from_slice(&(len as u32).to_le_bytes());
        let error = decode_frame(&bad[last..]).unwrap_err();
        if len < true_len {
            assert!(matches!(error, FrameError::ChecksumMismatch { .. }));
            assert_eq!(
                scan(&bad),
                Err(Corruption {
                    offset: last,
                    kind: CorruptionKind::BadFrame {
                        error,
                        not_torn: NotTorn::BytesAfterClaimedEnd {
                            claimed_end: last + FRAME_HEADER_LEN + len
                        }
                    }
                })
            );
        } else {
            let torn = ScanEnd::TornTail {
                valid_len: last,
                error,
            };
            assert_eq!(scan(&bad), Ok(report(torn, last, 3)));
        }
    }
}

#[test]
fn lsn_that_does_not_increase_is_corruption() {
    for (lsns, bad_frame) in [
        (&[1u64, 2, 2, 3][..], 2),
        (&[1, 3, 2, 4][..], 2),
        (&[5, 6, 7, 1][..], 3),
        (&[1, 1][..], 1),
    ] {
        let mut log = Vec::new();
        let mut offsets = Vec::new();
        for (i, &lsn) in lsns.iter().enumerate() {
            offsets.push(log.len());
            let mut frame = [0u8; MAX_FRAME_LEN];
            let len = encode_record_frame(Lsn(lsn), Slot(1), &record(i), &mut frame);
            log.extend_from_slice(&frame[..len]);
        }
        assert_eq!(
            scan(&log),
            Err(Corruption {
                offset: offsets[bad_frame],
                kind: CorruptionKind::LsnNotIncreasing {
                    previous: Lsn(lsns[bad_frame - 1]),
                    found: Lsn(lsns[bad_frame]),
                },
            }),
            "{lsns:?}"
        );
    }
}

#[test]
fn request_slot_that_rewinds_is_corruption_and_repeats_are_fine() {
    let slots = [3u64, 3, 8, 7, 9];
    let mut log = Vec::new();
    let mut offsets = Vec::new();
    for (i, &slot) in slots.iter().enumerate() {
        offsets.push(log.len());
        let mut frame = [0u8; MAX_FRAME_LEN];
        let len = encode_record_frame(Lsn(i as u64 * 2 + 1), Slot(slot), &record(i), &mut frame);
        log.extend_from_slice(&frame[..len]);
    }
    assert_eq!(
        scan(&log),
        Err(Corruption {
            offset: offsets[3],
            kind: CorruptionKind::RequestSlotWentBackwards {
                previous: Slot(8),
                found: Slot(7),
            },
        })
    );
    let fine = scan(&log[..offsets[3]]).unwrap();
    assert_eq!(fine.end, ScanEnd::CleanEof);
    assert_eq!(fine.frame_count, 3);
    assert_eq!(fine.last_request_slot, Some(Slot(8)));
}

#[test]
fn zeroed_tail_is_torn_if_it_fits_in_a_frame() {
    let (log, _) = log_of(3);
    for zeros in [1, 31, 32, 100, MAX_FRAME_LEN] {
        let mut padded = log.clone();
        padded.resize(log.len() + zeros, 0);
        let want = if zeros < FRAME_HEADER_LEN {
            FrameError::Incomplete {
                needed: FRAME_HEADER_LEN,
            }
        } else {
            FrameError::BadMagic { found: 0 }
        };
        assert_eq!(
            scan(&padded),
            Ok(report(
                ScanEnd::TornTail {
                    valid_len: log.len(),
                    error: want
                },
                log.len(),
                3
            )),
            "{zeros} zero bytes"
        );
    }
    let mut padded = log.clone();
    padded.resize(log.len() + MAX_FRAME_LEN + 1, 0);
    assert_eq!(
        scan(&padded),
        Err(Corruption {
            offset: log.len(),
            kind: CorruptionKind::BadFrame {
                error: FrameError::BadMagic { found: 0 },
                not_torn: NotTorn::TailLongerThanFrame {
                    tail_len: MAX_FRAME_LEN + 1
                },
            },
        })
    );
}

#[test]
fn a_torn_frame_with_a_valid_frame_after_it_is_corruption() {
    // A torn append followed by a later, complete append: the torn frame is
    // no longer the last thing in the file. Its header is part old frame,
    // part new frame, so only the resync can tell.
    let (log, boundaries) = log_of(5);
    let torn_at = boundaries[3];
    let mut spliced = log[..torn_at + 10].to_vec();
    spliced.extend_from_slice(&log[boundaries[4]..]);
    let error = decode_frame(&spliced[torn_at..]).unwrap_err();
    assert_eq!(
        scan(&spliced),
        Err(Corruption {
            offset: torn_at,
            kind: CorruptionKind::BadFrame {
                error,
                not_torn: NotTorn::ValidFrameFollows {
                    next_frame: torn_at + 10
                },
            },
        })
    );
}

fn arb_command() -> impl Strategy<Value = LogCommand> {
    let id = any::<u128>();
    let client = (any::<u128>(), any::<u128>());
    let bundle = prop::collection::vec(any::<u128>(), 0..=BUNDLE_SIZE_LIMIT).prop_map(|ids| {
        Bundle::from_slice(&ids.into_iter().map(ResourceId).collect::<Vec<_>>()).unwrap()
    });
    let command = prop_oneof![
        id.prop_map(|r| Command::CreateResource {
            resource_id: ResourceId(r)
        }),
        (bundle, any::<u128>(), any::<u64>()).prop_map(|(resources, h, ttl)| Command::Reserve {
            resources,
            holder_id: HolderId(h),
            ttl_slots: ttl
        }),
        (any::<u128>(), any::<u128>(), any::<u64>()).prop_map(|(l, h, e)| Command::Activate {
            lease_id: LeaseId(l),
            holder_id: HolderId(h),
            lease_epoch: LeaseEpoch(e)
        }),
        (any::<u128>(), any::<u128>(), any::<u64>()).prop_map(|(l, h, e)| Command::Release {
            lease_id: LeaseId(l),
            holder_id: HolderId(h),
            lease_epoch: LeaseEpoch(e)
        }),
        any::<u128>().prop_map(|l| Command::Revoke {
            lease_id: LeaseId(l)
        }),
        any::<u128>().prop_map(|l| Command::Reclaim {
            lease_id: LeaseId(l)
        }),
    ];
    prop_oneof![
        (client, command).prop_map(|((op, c), command)| LogCommand::Client(ClientRequest {
            operation_id: OperationId(op),
            client_id: ClientId(c),
            command
        })),
        (any::<u128>(), any::<u64>()).prop_map(|(l, d)| LogCommand::Expire {
            lease_id: LeaseId(l),
            deadline_slot: Slot(d)
        }),
    ]
}

proptest! {
    #[test]
    fn generated_logs_replay_exactly(
        commands in prop::collection::vec(arb_command(), 0..20),
        slot_steps in prop::collection::vec(0u64..3, 20),
    ) {
        let mut log = Vec::new();
        let mut slot = 0;
        for (i, command) in commands.iter().enumerate() {
            slot += slot_steps[i];
            let mut frame = [0u8; MAX_FRAME_LEN];
            let len = encode_record_frame(Lsn(i as u64 + 1), Slot(slot), &WalRecord::Command(*command), &mut frame);
            log.extend_from_slice(&frame[..len]);
        }
        let report = scan(&log).unwrap();
        prop_assert_eq!(report.end, ScanEnd::CleanEof);
        prop_assert_eq!(report.frame_count, commands.len() as u64);
        let replayed: Vec<_> = frames(&log)
            .map(|f| {
                let f = f.unwrap();
                decode_record(f.frame.header.record_type, f.frame.payload).unwrap()
            })
            .collect();
        let expected: Vec<_> = commands.iter().copied().map(WalRecord::Command).collect();
        prop_assert_eq!(replayed, expected);
    }

    #[test]
    fn accepted_payloads_re_encode_identically(
        command in arb_command(),
        edits in prop::collection::vec((0usize..MAX_ENCODED_COMMAND_LEN, any::<u8>()), 0..4),
        cut in 0usize..=MAX_ENCODED_COMMAND_LEN + 2,
        raw in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let mut buf = [0u8; MAX_ENCODED_COMMAND_LEN + 2];
        let len = encode_record(&WalRecord::Command(command), &mut buf);
        for (at, value) in edits {
            buf[at % (len + 2)] = value;
        }
        let candidates = [&buf[..cut.min(len + 2)], &buf[..len], &raw[..]];
        for bytes in candidates {
            for record_type in RecordType::ALL {
                if let Ok(record) = decode_record(record_type, bytes) {
                    let mut out = [0u8; MAX_ENCODED_COMMAND_LEN];
                    let n = encode_record(&record, &mut out);
                    prop_assert_eq!(&out[..n], bytes);
                    prop_assert_eq!(record.record_type(), record_type);
                }
            }
        }
    }

    #[test]
    fn scanning_arbitrary_damage_is_self_consistent(
        n in 0usize..6,
        cut_back in 0usize..80,
        flips in prop::collection::vec((any::<usize>(), 0u8..8), 0..3),
        junk in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let (mut log, boundaries) = log_of(n);
        log.truncate(log.len().saturating_sub(cut_back));
        log.extend_from_slice(&junk);
        if !log.is_empty() {
            for (at, bit) in flips {
                let at = at % log.len();
                log[at] ^= 1 << bit;
            }
        }
        match scan(&log) {
            Ok(report) => {
                // The valid prefix is a run of whole frames that scans clean.
                prop_assert!(report.valid_len <= log.len());
                let again = scan(&log[..report.valid_len]).unwrap();
                prop_assert_eq!(again.end, ScanEnd::CleanEof);
                prop_assert_eq!(again.frame_count, report.frame_count);
                prop_assert_eq!(report.end == ScanEnd::CleanEof, report.valid_len == log.len());
                if let ScanEnd::TornTail { valid_len, .. } = report.end {
                    prop_assert_eq!(valid_len, report.valid_len);
                    prop_assert!(log.len() - valid_len <= MAX_FRAME_LEN);
                }
            }
            Err(corruption) => {
                prop_assert!(corruption.offset < log.len());
                // Everything before the corruption is whole frames.
                let prefix = scan(&log[..corruption.offset]).unwrap();
                prop_assert_eq!(prefix.end, ScanEnd::CleanEof);
                if cut_back == 0 && junk.is_empty() {
                    prop_assert!(boundaries.contains(&corruption.offset));
                }
            }
        }
    }
}
