//! Frame payloads: one [`LogCommand`] or a snapshot marker, hand-encoded as a
//! one-byte tag followed by fixed-width little-endian fields.
//!
//! ```text
//! tag  name             record type      fields after the tag
//!   1  create_resource  client_command   operation_id u128 | client_id u128 | resource_id u128
//!   2  reserve          client_command   operation_id u128 | client_id u128 | holder_id u128
//!                                        | ttl_slots u64 | count u8 | count x resource_id u128
//!   3  activate         client_command   operation_id u128 | client_id u128 | lease_id u128
//!                                        | holder_id u128 | lease_epoch u64
//!   4  release          client_command   as activate
//!   5  revoke           client_command   operation_id u128 | client_id u128 | lease_id u128
//!   6  reclaim          client_command   as revoke
//!   7  expire           internal_expire  lease_id u128 | deadline_slot u64
//!   8  snapshot_marker  snapshot_marker  snapshot_lsn u64
//! ```
//!
//! Expire and the marker carry a tag although their record type already
//! names them: every payload is then self-describing, and a frame whose
//! record type disagrees with its payload is caught instead of misread.
//!
//! The codec checks shape, not meaning. An empty bundle, duplicate members
//! or a bundle over the configured `max_bundle_size` decode fine: such
//! commands are committed as rejections and must replay the same way. Only
//! what the in-memory types cannot hold (more than [`BUNDLE_SIZE_LIMIT`]
//! members) is refused.
//!
//! Every field is fixed-width and the length must match exactly, so each
//! payload the decoder accepts has exactly one encoding: re-encoding it gives
//! back the same bytes.

use thiserror::Error;

use super::frame::{encode_frame, FrameHeader, RecordType, MAX_PAYLOAD_LEN};
use crate::codec::{Reader, Writer};
use crate::command::{Bundle, ClientRequest, Command, LogCommand};
use crate::config::BUNDLE_SIZE_LIMIT;
use crate::ids::{ClientId, HolderId, LeaseEpoch, LeaseId, Lsn, OperationId, ResourceId, Slot};

mod tag {
    pub const CREATE_RESOURCE: u8 = 1;
    pub const RESERVE: u8 = 2;
    pub const ACTIVATE: u8 = 3;
    pub const RELEASE: u8 = 4;
    pub const REVOKE: u8 = 5;
    pub const RECLAIM: u8 = 6;
    pub const EXPIRE: u8 = 7;
    pub const SNAPSHOT_MARKER: u8 = 8;
}

const TAG_LEN: usize = 1;
const ID_LEN: usize = 16;
const U64_LEN: usize = 8;
const CLIENT_PREFIX_LEN: usize = TAG_LEN + 2 * ID_LEN;
const CREATE_RESOURCE_LEN: usize = CLIENT_PREFIX_LEN + ID_LEN;
/// Up to and including the count byte.
const RESERVE_FIXED_LEN: usize = CLIENT_PREFIX_LEN + ID_LEN + U64_LEN + 1;
const LEASE_TRANSITION_LEN: usize = CLIENT_PREFIX_LEN + 2 * ID_LEN + U64_LEN;
const LEASE_ONLY_LEN: usize = CLIENT_PREFIX_LEN + ID_LEN;
const EXPIRE_LEN: usize = TAG_LEN + ID_LEN + U64_LEN;

/// Encoded length of a snapshot marker payload.
pub const SNAPSHOT_MARKER_LEN: usize = TAG_LEN + U64_LEN;

/// The longest encoded command: a reserve with a full bundle (314 bytes).
pub const MAX_ENCODED_COMMAND_LEN: usize = RESERVE_FIXED_LEN + BUNDLE_SIZE_LIMIT * ID_LEN;

// A command the frame layer would refuse must not be encodable.
const _: () = assert!(MAX_ENCODED_COMMAND_LEN <= MAX_PAYLOAD_LEN);
const _: () = assert!(SNAPSHOT_MARKER_LEN <= MAX_PAYLOAD_LEN);
// The count byte must be able to express every legal bundle.
const _: () = assert!(BUNDLE_SIZE_LIMIT <= u8::MAX as usize);

/// What a frame carries, once its payload is decoded.
#[allow(
    clippy::large_enum_variant,
    reason = "commands are Copy and inline by design, so decoding never allocates"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalRecord {
    Command(LogCommand),
    /// The log was rewritten by a checkpoint whose snapshot is at this LSN.
    SnapshotMarker {
        snapshot_lsn: Lsn,
    },
}

impl WalRecord {
    pub const fn record_type(&self) -> RecordType {
        match self {
            WalRecord::Command(command) => command_record_type(command),
            WalRecord::SnapshotMarker { .. } => RecordType::SnapshotMarker,
        }
    }
}

/// Why a payload was refused. Never raised for a payload this module wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum PayloadError {
    #[error("empty payload")]
    Empty,
    #[error("unknown payload tag {tag}")]
    UnknownTag { tag: u8 },
    /// `expected` is the exact length the tag (and, for a reserve, its count)
    /// implies; for a reserve cut before its count byte it is the length up
    /// to and including that byte.
    #[error("payload with tag {tag} is {found} bytes, expected {expected}")]
    WrongLength {
        tag: u8,
        expected: usize,
        found: usize,
    },
    #[error("reserve of {count} resources exceeds BUNDLE_SIZE_LIMIT ({BUNDLE_SIZE_LIMIT})")]
    BundleTooLarge { count: u8 },
    /// The payload's tag belongs under another record type.
    #[error("payload tag {tag} does not belong under record type {record_type:?}")]
    RecordTypeMismatch { record_type: RecordType, tag: u8 },
    /// [`decode_command`] was given a snapshot marker, or
    /// [`decode_snapshot_marker`] a command.
    #[error("a {record_type:?} record is not what the caller asked to decode")]
    WrongRecordKind { record_type: RecordType },
}

/// The record type a command is logged under.
pub const fn command_record_type(command: &LogCommand) -> RecordType {
    match command {
        LogCommand::Client(_) => RecordType::ClientCommand,
        LogCommand::Expire { .. } => RecordType::InternalExpire,
    }
}

/// Exact encoded length of `command`.
pub fn encoded_command_len(command: &LogCommand) -> usize {
    match command {
        LogCommand::Client(request) => match request.command {
            Command::CreateResource { .. } => CREATE_RESOURCE_LEN,
            Command::Reserve { resources, .. } => RESERVE_FIXED_LEN + resources.len() * ID_LEN,
            Command::Activate { .. } | Command::Release { .. } => LEASE_TRANSITION_LEN,
            Command::Revoke { .. } | Command::Reclaim { .. } => LEASE_ONLY_LEN,
        },
        LogCommand::Expire { .. } => EXPIRE_LEN,
    }
}

/// Writes `command` at the start of `out` and returns its length. A buffer
/// of [`MAX_ENCODED_COMMAND_LEN`] bytes always suffices.
///
/// # Panics
///
/// If `out` is shorter than [`encoded_command_len`]`(command)`.
pub fn encode_command(command: &LogCommand, out: &mut [u8]) -> usize {
    let len = encoded_command_len(command);
    assert!(
        out.len() >= len,
        "encode_command: buffer of {} bytes, command needs {len}",
        out.len()
    );
    let mut w = Writer::new(out);
    match command {
        LogCommand::Client(request) => {
            let command_tag = match request.command {
                Command::CreateResource { .. } => tag::CREATE_RESOURCE,
                Command::Reserve { .. } => tag::RESERVE,
                Command::Activate { .. } => tag::ACTIVATE,
                Command::Release { .. } => tag::RELEASE,
                Command::Revoke { .. } => tag::REVOKE,
                Command::Reclaim { .. } => tag::RECLAIM,
            };
            w.u8(command_tag);
            w.u128(request.operation_id.get());
            w.u128(request.client_id.get());
            match request.command {
                Command::CreateResource { resource_id } => w.u128(resource_id.get()),
                Command::Reserve {
                    resources,
                    holder_id,
                    ttl_slots,
                } => {
                    w.u128(holder_id.get());
                    w.u64(ttl_slots);
                    // Lossless: a Bundle holds at most BUNDLE_SIZE_LIMIT <= 255.
                    w.u8(resources.len() as u8);
                    for id in resources.as_slice() {
                        w.u128(id.get());
                    }
                }
                Command::Activate {
                    lease_id,
                    holder_id,
                    lease_epoch,
                }
                | Command::Release {
                    lease_id,
                    holder_id,
                    lease_epoch,
                } => {
                    w.u128(lease_id.get());
                    w.u128(holder_id.get());
                    w.u64(lease_epoch.get());
                }
                Command::Revoke { lease_id } | Command::Reclaim { lease_id } => {
                    w.u128(lease_id.get());
                }
            }
        }
        LogCommand::Expire {
            lease_id,
            deadline_slot,
        } => {
            w.u8(tag::EXPIRE);
            w.u128(lease_id.get());
            w.u64(deadline_slot.get());
        }
    }
    debug_assert_eq!(w.position(), len);
    len
}

/// Writes a snapshot marker payload at the start of `out`.
///
/// # Panics
///
/// If `out` is shorter than [`SNAPSHOT_MARKER_LEN`].
pub fn encode_snapshot_marker(snapshot_lsn: Lsn, out: &mut [u8]) -> usize {
    assert!(
        out.len() >= SNAPSHOT_MARKER_LEN,
        "encode_snapshot_marker: buffer of {} bytes, marker needs {SNAPSHOT_MARKER_LEN}",
        out.len()
    );
    let mut w = Writer::new(out);
    w.u8(tag::SNAPSHOT_MARKER);
    w.u64(snapshot_lsn.get());
    SNAPSHOT_MARKER_LEN
}

/// Writes the payload of `record` at the start of `out`.
///
/// # Panics
///
/// If `out` is too short; [`MAX_ENCODED_COMMAND_LEN`] bytes always suffice.
pub fn encode_record(record: &WalRecord, out: &mut [u8]) -> usize {
    match record {
        WalRecord::Command(command) => encode_command(command, out),
        WalRecord::SnapshotMarker { snapshot_lsn } => encode_snapshot_marker(*snapshot_lsn, out),
    }
}

/// Writes a whole frame for `record` (record type chosen from the record) at
/// the start of `out` and returns its length. A buffer of
/// [`super::MAX_FRAME_LEN`] bytes always suffices.
///
/// # Panics
///
/// If `out` is shorter than the frame.
pub fn encode_record_frame(
    lsn: Lsn,
    request_slot: Slot,
    record: &WalRecord,
    out: &mut [u8],
) -> usize {
    let mut payload = [0u8; MAX_ENCODED_COMMAND_LEN];
    let payload_len = encode_record(record, &mut payload);
    let header = FrameHeader {
        record_type: record.record_type(),
        lsn,
        request_slot,
    };
    encode_frame(&header, &payload[..payload_len], out)
}

/// Decodes a frame payload of any record type. Never panics, never allocates.
pub fn decode_record(record_type: RecordType, payload: &[u8]) -> Result<WalRecord, PayloadError> {
    let Some((&payload_tag, fields)) = payload.split_first() else {
        return Err(PayloadError::Empty);
    };
    let tag_record_type = match payload_tag {
        tag::CREATE_RESOURCE..=tag::RECLAIM => RecordType::ClientCommand,
        tag::EXPIRE => RecordType::InternalExpire,
        tag::SNAPSHOT_MARKER => RecordType::SnapshotMarker,
        _ => return Err(PayloadError::UnknownTag { tag: payload_tag }),
    };
    if tag_record_type != record_type {
        return Err(PayloadError::RecordTypeMismatch {
            record_type,
            tag: payload_tag,
        });
    }

    let expected = match payload_tag {
        tag::CREATE_RESOURCE => CREATE_RESOURCE_LEN,
        tag::RESERVE => {
            let Some(&count) = payload.get(RESERVE_FIXED_LEN - 1) else {
                return Err(PayloadError::WrongLength {
                    tag: payload_tag,
                    expected: RESERVE_FIXED_LEN,
                    found: payload.len(),
                });
            };
            if usize::from(count) > BUNDLE_SIZE_LIMIT {
                return Err(PayloadError::BundleTooLarge { count });
            }
            RESERVE_FIXED_LEN + usize::from(count) * ID_LEN
        }
        tag::ACTIVATE | tag::RELEASE => LEASE_TRANSITION_LEN,
        tag::REVOKE | tag::RECLAIM => LEASE_ONLY_LEN,
        tag::EXPIRE => EXPIRE_LEN,
        _ => SNAPSHOT_MARKER_LEN,
    };
    // Checked once here so that the field reads below cannot come up short
    // and trailing bytes cannot slip through.
    if payload.len() != expected {
        return Err(PayloadError::WrongLength {
            tag: payload_tag,
            expected,
            found: payload.len(),
        });
    }

    let mut r = Fields {
        reader: Reader::new(fields),
        short: PayloadError::WrongLength {
            tag: payload_tag,
            expected,
            found: payload.len(),
        },
    };
    let record = match payload_tag {
        tag::EXPIRE => WalRecord::Command(LogCommand::Expire {
            lease_id: LeaseId(r.u128()?),
            deadline_slot: Slot(r.u64()?),
        }),
        tag::SNAPSHOT_MARKER => WalRecord::SnapshotMarker {
            snapshot_lsn: Lsn(r.u64()?),
        },
        client_tag => {
            let operation_id = OperationId(r.u128()?);
            let client_id = ClientId(r.u128()?);
            let command = match client_tag {
                tag::CREATE_RESOURCE => Command::CreateResource {
                    resource_id: ResourceId(r.u128()?),
                },
                tag::RESERVE => {
                    let holder_id = HolderId(r.u128()?);
                    let ttl_slots = r.u64()?;
                    let count = r.u8()?;
                    let mut resources = Bundle::EMPTY;
                    for _ in 0..count {
                        resources
                            .push(ResourceId(r.u128()?))
                            .map_err(|_| PayloadError::BundleTooLarge { count })?;
                    }
                    Command::Reserve {
                        resources,
                        holder_id,
                        ttl_slots,
                    }
                }
                tag::ACTIVATE => Command::Activate {
                    lease_id: LeaseId(r.u128()?),
                    holder_id: HolderId(r.u128()?),
                    lease_epoch: LeaseEpoch(r.u64()?),
                },
                tag::RELEASE => Command::Release {
                    lease_id: LeaseId(r.u128()?),
                    holder_id: HolderId(r.u128()?),
                    lease_epoch: LeaseEpoch(r.u64()?),
                },
                tag::REVOKE => Command::Revoke {
                    lease_id: LeaseId(r.u128()?),
                },
                _ => Command::Reclaim {
                    lease_id: LeaseId(r.u128()?),
                },
            };
            WalRecord::Command(LogCommand::Client(ClientRequest {
                operation_id,
                client_id,
                command,
            }))
        }
    };
    r.finish()?;
    Ok(record)
}

/// Decodes the payload of a `ClientCommand` or `InternalExpire` frame.
/// Never panics, never allocates.
pub fn decode_command(record_type: RecordType, payload: &[u8]) -> Result<LogCommand, PayloadError> {
    match decode_record(record_type, payload)? {
        WalRecord::Command(command) => Ok(command),
        WalRecord::SnapshotMarker { .. } => Err(PayloadError::WrongRecordKind { record_type }),
    }
}

/// Decodes the payload of a `SnapshotMarker` frame into its snapshot LSN.
pub fn decode_snapshot_marker(
    record_type: RecordType,
    payload: &[u8],
) -> Result<Lsn, PayloadError> {
    match decode_record(record_type, payload)? {
        WalRecord::SnapshotMarker { snapshot_lsn } => Ok(snapshot_lsn),
        WalRecord::Command(_) => Err(PayloadError::WrongRecordKind { record_type }),
    }
}

/// Reads fields after the length check, reporting a short read as the length
/// error it would be, so decoding has no panicking path even if that check
/// were wrong.
struct Fields<'a> {
    reader: Reader<'a>,
    short: PayloadError,
}

impl Fields<'_> {
    fn u8(&mut self) -> Result<u8, PayloadError> {
        self.reader.u8().map_err(|_| self.short)
    }

    fn u64(&mut self) -> Result<u64, PayloadError> {
        self.reader.u64().map_err(|_| self.short)
    }

    fn u128(&mut self) -> Result<u128, PayloadError> {
        self.reader.u128().map_err(|_| self.short)
    }

    fn finish(&self) -> Result<(), PayloadError> {
        if self.reader.remaining() == 0 {
            Ok(())
        } else {
            Err(self.short)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::frame::{decode_frame, MAX_FRAME_LEN};

    fn client(command: Command) -> LogCommand {
        LogCommand::Client(ClientRequest {
            operation_id: OperationId(0x0101_0101_0101_0101_0101_0101_0101_0101),
            client_id: ClientId(u128::MAX - 7),
            command,
        })
    }

    fn full_bundle() -> Bundle {
        let ids: Vec<ResourceId> = (0..BUNDLE_SIZE_LIMIT as u128)
            .map(|i| ResourceId(u128::MAX - i))
            .collect();
        Bundle::from_slice(&ids).unwrap()
    }

    /// One of every command kind, with edge-of-range values and bundle sizes
    /// 0, 1, a duplicate pair and the maximum.
    fn samples() -> Vec<LogCommand> {
        let mut out = vec![
            client(Command::CreateResource {
                resource_id: ResourceId(u128::MAX),
            }),
            client(Command::Activate {
                lease_id: LeaseId::new(3, Lsn(77)),
                holder_id: HolderId(5),
                lease_epoch: LeaseEpoch(u64::MAX),
            }),
            client(Command::Release {
                lease_id: LeaseId(1),
                holder_id: HolderId(u128::MAX),
                lease_epoch: LeaseEpoch::INITIAL,
            }),
            client(Command::Revoke {
                lease_id: LeaseId(0),
            }),
            client(Command::Reclaim {
                lease_id: LeaseId(u128::MAX),
            }),
            LogCommand::Expire {
                lease_id: LeaseId::new(u64::MAX, Lsn(u64::MAX)),
                deadline_slot: Slot(u64::MAX),
            },
        ];
        let bundles = [
            Bundle::EMPTY,
            Bundle::from_slice(&[ResourceId(42)]).unwrap(),
            Bundle::from_slice(&[ResourceId(9), ResourceId(9)]).unwrap(),
            full_bundle(),
        ];
        for resources in bundles {
            out.push(client(Command::Reserve {
                resources,
                holder_id: HolderId(0xDEAD_BEEF),
                ttl_slots: u64::MAX,
            }));
        }
        out
    }

    fn encode(command: &LogCommand) -> Vec<u8> {
        let mut out = [0u8; MAX_ENCODED_COMMAND_LEN];
        let len = encode_command(command, &mut out);
        assert_eq!(len, encoded_command_len(command));
        out[..len].to_vec()
    }

    #[test]
    fn every_command_kind_round_trips() {
        let samples = samples();
        let mut kinds: Vec<_> = samples.iter().map(LogCommand::kind).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), crate::CommandKind::ALL.len());
        for command in samples {
            let bytes = encode(&command);
            let record_type = command_record_type(&command);
            assert_eq!(decode_command(record_type, &bytes), Ok(command));
            assert_eq!(
                decode_record(record_type, &bytes),
                Ok(WalRecord::Command(command))
            );
        }
    }

    #[test]
    fn max_bundle_is_the_longest_command() {
        let command = client(Command::Reserve {
            resources: full_bundle(),
            holder_id: HolderId(1),
            ttl_slots: 1,
        });
        let bytes = encode(&command);
        assert_eq!(bytes.len(), MAX_ENCODED_COMMAND_LEN);
        assert_eq!(MAX_ENCODED_COMMAND_LEN, 314);
        assert!(samples()
            .iter()
            .all(|c| encoded_command_len(c) <= MAX_ENCODED_COMMAND_LEN));
    }

    #[test]
    fn snapshot_marker_round_trips() {
        for lsn in [Lsn(0), Lsn(1), Lsn(u64::MAX)] {
            let mut out = [0u8; SNAPSHOT_MARKER_LEN];
            assert_eq!(encode_snapshot_marker(lsn, &mut out), SNAPSHOT_MARKER_LEN);
            assert_eq!(
                decode_snapshot_marker(RecordType::SnapshotMarker, &out),
                Ok(lsn)
            );
            assert_eq!(
                decode_record(RecordType::SnapshotMarker, &out),
                Ok(WalRecord::SnapshotMarker { snapshot_lsn: lsn })
            );
        }
    }

    #[test]
    fn byte_layout_is_pinned() {
        let command = LogCommand::Client(ClientRequest {
            operation_id: OperationId(0x11),
            client_id: ClientId(0x22),
            command: Command::Reserve {
                resources: Bundle::from_slice(&[ResourceId(0x33), ResourceId(0x44)]).unwrap(),
                holder_id: HolderId(0x55),
                ttl_slots: 0x0102,
            },
        });
        let mut expected = vec![2u8];
        for value in [0x11u128, 0x22, 0x55] {
            expected.extend_from_slice(&value.to_le_bytes());
        }
        expected.extend_from_slice(&0x0102u64.to_le_bytes());
        expected.push(2);
        expected.extend_from_slice(&0x33u128.to_le_bytes());
        expected.extend_from_slice(&0x44u128.to_le_bytes());
        assert_eq!(encode(&command), expected);

        let expire = LogCommand::Expire {
            lease_id: LeaseId(0x0A0B),
            deadline_slot: Slot(0x0C),
        };
        let mut expected = vec![7u8];
        expected.extend_from_slice(&0x0A0Bu128.to_le_bytes());
        expected.extend_from_slice(&0x0Cu64.to_le_bytes());
        assert_eq!(encode(&expire), expected);

        let mut marker = [0u8; SNAPSHOT_MARKER_LEN];
        encode_snapshot_marker(Lsn(0x0102_0304), &mut marker);
        assert_eq!(marker, [8, 4, 3, 2, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn every_error_variant_is_reported() {
        use PayloadError::*;
        let cc = RecordType::ClientCommand;

        assert_eq!(decode_command(cc, &[]), Err(Empty));
        for unknown in [0u8, 9, 0x80, 255] {
            assert_eq!(
                decode_command(cc, &[unknown; 40]),
                Err(UnknownTag { tag: unknown })
            );
        }

        let create = encode(&samples()[0]);
        assert_eq!(
            decode_command(cc, &create[..48]),
            Err(WrongLength {
                tag: 1,
                expected: 49,
                found: 48
            })
        );
        let mut trailing = create.clone();
        trailing.push(0);
        assert_eq!(
            decode_command(cc, &trailing),
            Err(WrongLength {
                tag: 1,
                expected: 49,
                found: 50
            })
        );

        // A reserve cut before its count byte, and one whose count disagrees
        // with its length.
        let reserve = encode(&samples()[9]);
        assert_eq!(
            decode_command(cc, &reserve[..57]),
            Err(WrongLength {
                tag: 2,
                expected: 58,
                found: 57
            })
        );
        let mut recounted = reserve.clone();
        recounted[57] = 15;
        assert_eq!(
            decode_command(cc, &recounted),
            Err(WrongLength {
                tag: 2,
                expected: 298,
                found: 314
            })
        );

        for count in [17u8, 200, 255] {
            let mut over = reserve.clone();
            over[57] = count;
            over.resize(58 + 16 * usize::from(count), 0);
            assert_eq!(decode_command(cc, &over), Err(BundleTooLarge { count }));
        }

        let expire = encode(&samples()[5]);
        assert_eq!(
            decode_command(cc, &expire),
            Err(RecordTypeMismatch {
                record_type: cc,
                tag: 7
            })
        );
        assert_eq!(
            decode_command(RecordType::InternalExpire, &create),
            Err(RecordTypeMismatch {
                record_type: RecordType::InternalExpire,
                tag: 1
            })
        );
        assert_eq!(
            decode_command(RecordType::SnapshotMarker, &expire),
            Err(RecordTypeMismatch {
                record_type: RecordType::SnapshotMarker,
                tag: 7
            })
        );
        let mut marker = [0u8; SNAPSHOT_MARKER_LEN];
        encode_snapshot_marker(Lsn(5), &mut marker);
        assert_eq!(
            decode_command(cc, &marker),
            Err(RecordTypeMismatch {
                record_type: cc,
                tag: 8
            })
        );

        assert_eq!(
            decode_command(RecordType::SnapshotMarker, &marker),
            Err(WrongRecordKind {
                record_type: RecordType::SnapshotMarker
            })
        );
        assert_eq!(
            decode_snapshot_marker(cc, &create),
            Err(WrongRecordKind { record_type: cc })
        );
    }

    #[test]
    fn every_truncation_and_extension_is_rejected() {
        for command in samples() {
            let bytes = encode(&command);
            let record_type = command_record_type(&command);
            for cut in 0..bytes.len() {
                let err = decode_command(record_type, &bytes[..cut]).unwrap_err();
                let expected_err = if cut == 0 {
                    PayloadError::Empty
                } else {
                    PayloadError::WrongLength {
                        tag: bytes[0],
                        expected: if bytes[0] == tag::RESERVE && cut < RESERVE_FIXED_LEN {
                            RESERVE_FIXED_LEN
                        } else {
                            bytes.len()
                        },
                        found: cut,
                    }
                };
                assert_eq!(err, expected_err, "{command:?} cut at {cut}");
            }
            for extra in [1usize, 15, 16] {
                let mut longer = bytes.clone();
                longer.resize(bytes.len() + extra, 0);
                assert!(
                    matches!(
                        decode_command(record_type, &longer),
                        Err(PayloadError::WrongLength { .. })
                    ),
                    "{command:?} + {extra} bytes"
                );
            }
        }
    }

    #[test]
    fn any_accepted_mutation_re_encodes_to_the_same_bytes() {
        // Every single-byte substitution of every valid encoding, under every
        // record type: whatever decodes must re-encode byte for byte.
        let mut accepted = 0usize;
        for command in samples() {
            let bytes = encode(&command);
            for at in 0..bytes.len() {
                for value in [0u8, 1, 2, 7, 8, 16, 17, 0x7F, 0xFF] {
                    let mut mutated = bytes.clone();
                    mutated[at] = value;
                    for record_type in RecordType::ALL {
                        if let Ok(record) = decode_record(record_type, &mutated) {
                            accepted += 1;
                            assert_eq!(record.record_type(), record_type);
                            let mut out = [0u8; MAX_ENCODED_COMMAND_LEN];
                            let len = encode_record(&record, &mut out);
                            assert_eq!(&out[..len], &mutated[..], "{record:?}");
                        }
                    }
                }
            }
        }
        assert!(accepted > 1000, "mutations mostly stayed valid: {accepted}");
    }

    #[test]
    fn record_frames_carry_the_right_record_type() {
        let mut records: Vec<WalRecord> = samples().into_iter().map(WalRecord::Command).collect();
        records.push(WalRecord::SnapshotMarker {
            snapshot_lsn: Lsn(12),
        });
        for record in records {
            let mut out = [0u8; MAX_FRAME_LEN];
            let len = encode_record_frame(Lsn(4), Slot(9), &record, &mut out);
            let (frame, frame_len) = decode_frame(&out[..len]).unwrap();
            assert_eq!(frame_len, len);
            assert_eq!(frame.header.lsn, Lsn(4));
            assert_eq!(frame.header.request_slot, Slot(9));
            assert_eq!(frame.header.record_type, record.record_type());
            assert_eq!(
                decode_record(frame.header.record_type, frame.payload),
                Ok(record)
            );
        }
    }

    #[test]
    #[should_panic(expected = "command needs 49")]
    fn encoding_into_a_short_buffer_is_refused() {
        let mut out = [0u8; 48];
        encode_command(&samples()[0], &mut out);
    }
}
