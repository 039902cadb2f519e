//! One WAL frame: a fixed 32-byte little-endian header, then the payload.
//!
//! ```text
//! offset size field
//!      0    4 magic         FRAME_MAGIC, the ASCII bytes "ADBW" on disk
//!      4    2 version       FRAME_VERSION
//!      6    2 record_type   RecordType
//!      8    8 lsn
//!     16    8 request_slot
//!     24    4 payload_len   at most MAX_PAYLOAD_LEN
//!     28    4 crc32c
//!     32    n payload       payload_len bytes
//! ```
//!
//! The checksum is CRC32C over header bytes `0..28` followed by the payload,
//! i.e. over every stored byte of the frame except the checksum itself.
//! Skipping the field, rather than zeroing it, lets the decoder verify the
//! borrowed bytes in place without a scratch copy of the header.
//!
//! Decoding checks, in order: a whole header is present, magic, version,
//! record type, the payload length bound, the whole payload is present, the
//! checksum. Nothing is trusted before the check that guards it, so a damaged
//! length can never make the decoder read past the bound.

use thiserror::Error;

use crate::ids::{Lsn, Slot};

/// First four bytes of every frame. Spells "ADBW" on disk so a hex dump of a
/// WAL is recognisable, and so a frame boundary is unlikely to be found by
/// chance inside zeroed or text-like garbage.
pub const FRAME_MAGIC: u32 = u32::from_le_bytes(*b"ADBW");

/// Bumped on any change to the header or payload encoding.
pub const FRAME_VERSION: u16 = 1;

pub const FRAME_HEADER_LEN: usize = 32;

/// Fixed bound on `payload_len`. The largest encoded command (a reserve with
/// a full bundle) is 314 bytes; the margin leaves room for format growth
/// without a version bump of this bound, while keeping a damaged length from
/// ever asking the reader for more than one small frame.
pub const MAX_PAYLOAD_LEN: usize = 512;

/// The largest frame that can exist: also the most bytes a single torn
/// append can leave behind.
pub const MAX_FRAME_LEN: usize = FRAME_HEADER_LEN + MAX_PAYLOAD_LEN;

const MAGIC_AT: usize = 0;
const VERSION_AT: usize = 4;
const RECORD_TYPE_AT: usize = 6;
const LSN_AT: usize = 8;
const REQUEST_SLOT_AT: usize = 16;
const PAYLOAD_LEN_AT: usize = 24;
const CRC_AT: usize = 28;

/// What a frame's payload holds. Stored as `u16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u16)]
pub enum RecordType {
    ClientCommand = 1,
    InternalExpire = 2,
    SnapshotMarker = 3,
}

impl RecordType {
    pub const ALL: [RecordType; 3] = [
        RecordType::ClientCommand,
        RecordType::InternalExpire,
        RecordType::SnapshotMarker,
    ];

    pub const fn as_u16(self) -> u16 {
        self as u16
    }

    pub const fn from_u16(value: u16) -> Option<RecordType> {
        match value {
            1 => Some(RecordType::ClientCommand),
            2 => Some(RecordType::InternalExpire),
            3 => Some(RecordType::SnapshotMarker),
            _ => None,
        }
    }
}

/// The header fields a writer chooses; magic, version, length and checksum
/// are derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub record_type: RecordType,
    pub lsn: Lsn,
    pub request_slot: Slot,
}

/// A decoded, checksum-verified frame borrowing its payload from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub header: FrameHeader,
    pub payload: &'a [u8],
}

impl Frame<'_> {
    /// Bytes this frame occupies on disk.
    pub fn encoded_len(&self) -> usize {
        frame_len(self.payload.len())
    }
}

/// Why bytes are not a valid frame. Offsets are the caller's business: the
/// scan wraps these with the byte offset of the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    /// Fewer bytes than the header, or than header plus `payload_len`.
    /// `needed` counts from the start of the frame.
    #[error("incomplete frame: {needed} bytes needed")]
    Incomplete { needed: usize },
    #[error("bad frame magic {found:#010x}")]
    BadMagic { found: u32 },
    #[error("unsupported frame version {found}")]
    BadVersion { found: u16 },
    #[error("unknown record type {found}")]
    BadRecordType { found: u16 },
    #[error("payload length {len} exceeds the bound {MAX_PAYLOAD_LEN}")]
    PayloadTooLarge { len: u32 },
    #[error("frame checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch { stored: u32, computed: u32 },
}

/// Bytes a frame with a payload of `payload_len` bytes occupies.
pub const fn frame_len(payload_len: usize) -> usize {
    FRAME_HEADER_LEN + payload_len
}

/// Writes one frame at the start of `out` and returns its length.
///
/// # Panics
///
/// If `payload` is longer than [`MAX_PAYLOAD_LEN`] (the decoder would reject
/// the frame, so writing it would be a latent corruption) or `out` is shorter
/// than [`frame_len`]`(payload.len())`. Both are caller bugs: payloads come
/// from the payload encoders, which stay within the bound.
pub fn encode_frame(header: &FrameHeader, payload: &[u8], out: &mut [u8]) -> usize {
    assert!(
        payload.len() <= MAX_PAYLOAD_LEN,
        "encode_frame: payload of {} bytes exceeds MAX_PAYLOAD_LEN ({MAX_PAYLOAD_LEN})",
        payload.len()
    );
    let len = frame_len(payload.len());
    assert!(
        out.len() >= len,
        "encode_frame: buffer of {} bytes, frame needs {len}",
        out.len()
    );
    let (head, body) = out.split_at_mut(FRAME_HEADER_LEN);
    head[MAGIC_AT..VERSION_AT].copy_from_slice(&FRAME_MAGIC.to_le_bytes());
    head[VERSION_AT..RECORD_TYPE_AT].copy_from_slice(&FRAME_VERSION.to_le_bytes());
    head[RECORD_TYPE_AT..LSN_AT].copy_from_slice(&header.record_type.as_u16().to_le_bytes());
    head[LSN_AT..REQUEST_SLOT_AT].copy_from_slice(&header.lsn.get().to_le_bytes());
    head[REQUEST_SLOT_AT..PAYLOAD_LEN_AT].copy_from_slice(&header.request_slot.get().to_le_bytes());
    // Lossless: bounded by MAX_PAYLOAD_LEN above.
    let payload_len = payload.len() as u32;
    head[PAYLOAD_LEN_AT..CRC_AT].copy_from_slice(&payload_len.to_le_bytes());
    body[..payload.len()].copy_from_slice(payload);
    let crc = checksum(&head[..CRC_AT], payload);
    head[CRC_AT..FRAME_HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    len
}

/// Decodes the frame at the start of `bytes`, returning it and its length.
/// Bytes after the frame are ignored. Never panics, never allocates.
pub fn decode_frame(bytes: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let Some(head) = bytes.first_chunk::<FRAME_HEADER_LEN>() else {
        return Err(FrameError::Incomplete {
            needed: FRAME_HEADER_LEN,
        });
    };
    let magic = le_u32(head, MAGIC_AT);
    if magic != FRAME_MAGIC {
        return Err(FrameError::BadMagic { found: magic });
    }
    let version = le_u16(head, VERSION_AT);
    if version != FRAME_VERSION {
        return Err(FrameError::BadVersion { found: version });
    }
    let raw_record_type = le_u16(head, RECORD_TYPE_AT);
    let Some(record_type) = RecordType::from_u16(raw_record_type) else {
        return Err(FrameError::BadRecordType {
            found: raw_record_type,
        });
    };
    let payload_len = le_u32(head, PAYLOAD_LEN_AT);
    if payload_len as usize > MAX_PAYLOAD_LEN {
        return Err(FrameError::PayloadTooLarge { len: payload_len });
    }
    let len = frame_len(payload_len as usize);
    let Some(payload) = bytes.get(FRAME_HEADER_LEN..len) else {
        return Err(FrameError::Incomplete { needed: len });
    };
    let stored = le_u32(head, CRC_AT);
    let computed = checksum(&head[..CRC_AT], payload);
    if stored != computed {
        return Err(FrameError::ChecksumMismatch { stored, computed });
    }
    let header = FrameHeader {
        record_type,
        lsn: Lsn(le_u64(head, LSN_AT)),
        request_slot: Slot(le_u64(head, REQUEST_SLOT_AT)),
    };
    Ok((Frame { header, payload }, len))
}

/// The raw `payload_len` field of a header at the start of `bytes`, whether
/// or not the rest of the header is valid. `None` if the header is cut short.
pub(crate) fn raw_payload_len(bytes: &[u8]) -> Option<u32> {
    bytes
        .first_chunk::<FRAME_HEADER_LEN>()
        .map(|head| le_u32(head, PAYLOAD_LEN_AT))
}

fn checksum(header_before_crc: &[u8], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(header_before_crc), payload)
}

// The offsets below are the constants above, all inside the fixed-size
// header array, so indexing cannot fail.
fn le_u16(head: &[u8; FRAME_HEADER_LEN], at: usize) -> u16 {
    u16::from_le_bytes([head[at], head[at + 1]])
}

fn le_u32(head: &[u8; FRAME_HEADER_LEN], at: usize) -> u32 {
    u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]])
}

fn le_u64(head: &[u8; FRAME_HEADER_LEN], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&head[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(record_type: RecordType, lsn: u64, slot: u64) -> FrameHeader {
        FrameHeader {
            record_type,
            lsn: Lsn(lsn),
            request_slot: Slot(slot),
        }
    }

    fn encode(header: &FrameHeader, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; frame_len(payload.len())];
        let written = encode_frame(header, payload, &mut out);
        assert_eq!(written, out.len());
        out
    }

    #[test]
    fn layout_is_exactly_the_documented_one() {
        let h = header(
            RecordType::InternalExpire,
            0x0102_0304_0506_0708,
            0x1112_1314_1516_1718,
        );
        let payload = [0xAA, 0xBB, 0xCC];
        let bytes = encode(&h, &payload);
        assert_eq!(bytes.len(), 35);
        assert_eq!(&bytes[0..4], b"ADBW");
        assert_eq!(&bytes[4..6], &[1, 0]);
        assert_eq!(&bytes[6..8], &[2, 0]);
        assert_eq!(&bytes[8..16], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(
            &bytes[16..24],
            &[0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11]
        );
        assert_eq!(&bytes[24..28], &[3, 0, 0, 0]);
        let mut covered = bytes[..28].to_vec();
        covered.extend_from_slice(&payload);
        assert_eq!(&bytes[28..32], &crc32c::crc32c(&covered).to_le_bytes());
        assert_eq!(&bytes[32..], &payload);
    }

    #[test]
    fn round_trips_every_record_type_and_payload_size_bounds() {
        let max = [0x5Au8; MAX_PAYLOAD_LEN];
        for record_type in RecordType::ALL {
            for payload in [&[][..], &[7u8][..], &max[..]] {
                let h = header(record_type, u64::MAX, 0);
                let mut bytes = encode(&h, payload);
                // Trailing bytes belong to the next frame, not this one.
                bytes.extend_from_slice(&[0xFF; 5]);
                let (frame, len) = decode_frame(&bytes).unwrap();
                assert_eq!(len, FRAME_HEADER_LEN + payload.len());
                assert_eq!(frame.header, h);
                assert_eq!(frame.payload, payload);
                assert_eq!(frame.encoded_len(), len);
            }
        }
    }

    #[test]
    fn record_type_codes_are_stable() {
        for (code, record_type) in (1u16..).zip(RecordType::ALL) {
            assert_eq!(record_type.as_u16(), code);
            assert_eq!(RecordType::from_u16(code), Some(record_type));
        }
        assert_eq!(RecordType::from_u16(0), None);
        assert_eq!(RecordType::from_u16(4), None);
    }

    #[test]
    fn every_error_variant_is_reported() {
        let good = encode(&header(RecordType::ClientCommand, 9, 3), &[1, 2, 3, 4]);

        assert_eq!(
            decode_frame(&good[..31]),
            Err(FrameError::Incomplete { needed: 32 })
        );
        assert_eq!(
            decode_frame(&[]),
            Err(FrameError::Incomplete { needed: 32 })
        );
        assert_eq!(
            decode_frame(&good[..35]),
            Err(FrameError::Incomplete { needed: 36 })
        );

        let mut bad = good.clone();
        bad[0] ^= 1;
        assert_eq!(
            decode_frame(&bad),
            Err(FrameError::BadMagic {
                found: FRAME_MAGIC ^ 1
            })
        );

        let mut bad = good.clone();
        bad[4] = 2;
        assert_eq!(decode_frame(&bad), Err(FrameError::BadVersion { found: 2 }));

        let mut bad = good.clone();
        bad[6] = 0;
        assert_eq!(
            decode_frame(&bad),
            Err(FrameError::BadRecordType { found: 0 })
        );
        bad[6] = 4;
        assert_eq!(
            decode_frame(&bad),
            Err(FrameError::BadRecordType { found: 4 })
        );

        let mut bad = good.clone();
        bad[24..28].copy_from_slice(&513u32.to_le_bytes());
        assert_eq!(
            decode_frame(&bad),
            Err(FrameError::PayloadTooLarge { len: 513 })
        );
        bad[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            decode_frame(&bad),
            Err(FrameError::PayloadTooLarge { len: u32::MAX })
        );

        let stored = u32::from_le_bytes(good[28..32].try_into().unwrap());
        for flip_at in [8, 20, 28, 33] {
            let mut bad = good.clone();
            bad[flip_at] ^= 0x80;
            match decode_frame(&bad) {
                Err(FrameError::ChecksumMismatch {
                    stored: s,
                    computed,
                }) => {
                    assert_ne!(s, computed);
                    if flip_at == 28 {
                        assert_eq!(s, stored ^ 0x80);
                    } else {
                        assert_eq!(s, stored);
                    }
                }
                other => panic!("flip at {flip_at}: {other:?}"),
            }
        }
    }

    #[test]
    fn length_is_checked_against_the_bound_before_the_payload_is_sought() {
        // A huge length on a short buffer must say "too large", not
        // "incomplete, need 4 GiB": the reader must never chase it.
        let mut bad = encode(&header(RecordType::ClientCommand, 1, 1), &[]);
        bad[24..28].copy_from_slice(&(MAX_PAYLOAD_LEN as u32 + 1).to_le_bytes());
        assert_eq!(
            decode_frame(&bad),
            Err(FrameError::PayloadTooLarge {
                len: MAX_PAYLOAD_LEN as u32 + 1
            })
        );
    }

    #[test]
    #[should_panic(expected = "exceeds MAX_PAYLOAD_LEN")]
    fn encoding_an_oversized_payload_is_refused() {
        let payload = [0u8; MAX_PAYLOAD_LEN + 1];
        let mut out = [0u8; MAX_FRAME_LEN + 1];
        encode_frame(&header(RecordType::ClientCommand, 1, 1), &payload, &mut out);
    }

    #[test]
    #[should_panic(expected = "frame needs 33")]
    fn encoding_into_a_short_buffer_is_refused() {
        let mut out = [0u8; 32];
        encode_frame(&header(RecordType::ClientCommand, 1, 1), &[0], &mut out);
    }
}
