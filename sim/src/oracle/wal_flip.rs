//! What one flipped bit in a WAL frame must make recovery do, worked out
//! from the documented frame layout (`docs/storage-format.md`) and the
//! torn-tail rule (`docs/fault-model.md`), never by asking the core's
//! scanner: the verdict is exact, one outcome for each flip.
//!
//! The scan stops at the damaged frame, at offset `o`, with `rest` bytes
//! from `o` to the end of the file. The frame fails to decode with the
//! first check the flipped bytes fail, in the documented order: a header
//! cut short (`incomplete`), magic, version, record type, a payload length
//! over the bound, fewer bytes than the length claims (`incomplete`), the
//! checksum. A bad magic, version or record type makes the header
//! untrusted, its length included. Then the rule: the frame is a torn
//! tail unless (1) its header is trusted, whole, and claims an end before
//! the file's; (2) more bytes remain than one frame holds; (3) a complete,
//! checksum-valid frame starts anywhere after `o` within the rest. The
//! first of these that holds names the corruption, at `o`.
//!
//! Condition 3 reads the rest of the file (at most one frame's worth when
//! it is reached) and looks for a valid frame with this module's own
//! reading of the layout and CRC32C, not the core's decoder.

use allocdb_core::wal::{
    FRAME_HEADER_LEN, FRAME_MAGIC, FRAME_VERSION, MAX_FRAME_LEN, MAX_PAYLOAD_LEN,
};

/// The record types the layout documents.
const RECORD_TYPES: [u16; 3] = [1, 2, 3];

/// Where each header field sits in a frame, as the layout documents it.
const MAGIC: std::ops::Range<u64> = 0..4;
const VERSION: std::ops::Range<u64> = 4..6;
const RECORD_TYPE: std::ops::Range<u64> = 6..8;
const PAYLOAD_LEN: std::ops::Range<u64> = 24..28;
const CRC: std::ops::Range<u64> = 28..32;

/// The damaged frame as the simulator's books know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DamagedFrame {
    /// Where it starts in the file.
    pub start: u64,
    /// Its whole length.
    pub len: u64,
    /// Its bytes in the file (fewer than `len` for a torn or partial frame).
    pub written: u64,
    pub record_type: u16,
}

/// How the damaged frame fails to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadFrame {
    Incomplete { needed: u64 },
    BadMagic { found: u32 },
    BadVersion { found: u16 },
    BadRecordType { found: u16 },
    PayloadTooLarge { len: u32 },
    ChecksumMismatch,
}

/// Which condition of the torn-tail rule the frame fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotTorn {
    BytesAfterClaimedEnd { claimed_end: u64 },
    TailLongerThanFrame { tail_len: u64 },
    ValidFrameFollows { next_frame: u64 },
}

/// The one outcome a flip may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlipVerdict {
    /// Read as a torn tail: the file is cut at the frame's start.
    Torn { bad: BadFrame },
    /// Recovery must refuse, naming the frame's start.
    Corrupt {
        offset: u64,
        bad: BadFrame,
        not_torn: NotTorn,
    },
}

impl FlipVerdict {
    /// The region of a frame a flip at `byte` lands in, for the coverage
    /// probes: each header field, the payload, its last byte.
    pub fn region(byte: u64, len: u64) -> &'static str {
        match byte {
            _ if byte + 1 == len && len > FRAME_HEADER_LEN as u64 => "payload_last_byte",
            0..4 => "magic",
            4..6 => "version",
            6..8 => "record_type",
            8..16 => "lsn",
            16..24 => "request_slot",
            24..28 => "payload_len",
            28..32 => "crc",
            _ => "payload",
        }
    }
}

/// The value of a little-endian field of `width` bytes at `range` with bit
/// `bit` of byte `byte` flipped, when the flip is in it.
fn flipped(value: u64, range: std::ops::Range<u64>, byte: u64, bit: u8) -> u64 {
    if range.contains(&byte) {
        value ^ (1 << ((byte - range.start) * 8 + u64::from(bit)))
    } else {
        value
    }
}

/// The verdict of flipping bit `bit` of byte `byte` of `frame`, in a file
/// of `file_len` bytes; `rest_of_file` reads the file from the frame's
/// start to its end (asked only for condition 3).
pub fn verdict(
    frame: DamagedFrame,
    byte: u64,
    bit: u8,
    file_len: u64,
    rest_of_file: impl FnOnce() -> Vec<u8>,
) -> FlipVerdict {
    let o = frame.start;
    let rest = file_len - o;
    let header = FRAME_HEADER_LEN as u64;
    let (bad, claimed) = if rest < header {
        // The header itself is cut: it reaches the file's end by definition.
        (BadFrame::Incomplete { needed: header }, None)
    } else {
        let magic = flipped(u64::from(FRAME_MAGIC), MAGIC, byte, bit) as u32;
        let version = flipped(u64::from(FRAME_VERSION), VERSION, byte, bit) as u16;
        let record_type = flipped(u64::from(frame.record_type), RECORD_TYPE, byte, bit) as u16;
        let payload_len = flipped(frame.len - header, PAYLOAD_LEN, byte, bit) as u32;
        let claimed = header + u64::from(payload_len);
        if magic != FRAME_MAGIC {
            (BadFrame::BadMagic { found: magic }, None)
        } else if version != FRAME_VERSION {
            (BadFrame::BadVersion { found: version }, None)
        } else if !RECORD_TYPES.contains(&record_type) {
            (BadFrame::BadRecordType { found: record_type }, None)
        } else if payload_len as usize > MAX_PAYLOAD_LEN {
            (
                BadFrame::PayloadTooLarge { len: payload_len },
                Some(claimed),
            )
        } else if claimed > rest {
            (BadFrame::Incomplete { needed: claimed }, Some(claimed))
        } else {
            (BadFrame::ChecksumMismatch, Some(claimed))
        }
    };
    let corrupt = |not_torn| FlipVerdict::Corrupt {
        offset: o,
        bad,
        not_torn,
    };
    if let Some(claimed) = claimed.filter(|&claimed| claimed < rest) {
        return corrupt(NotTorn::BytesAfterClaimedEnd {
            claimed_end: o + claimed,
        });
    }
    if rest > MAX_FRAME_LEN as u64 {
        return corrupt(NotTorn::TailLongerThanFrame { tail_len: rest });
    }
    let bytes = rest_of_file();
    if let Some(at) = (1..bytes.len()).find(|&at| valid_frame_at(&bytes[at..])) {
        return corrupt(NotTorn::ValidFrameFollows {
            next_frame: o + at as u64,
        });
    }
    FlipVerdict::Torn { bad }
}

/// Whether a complete frame that passes every check starts at `bytes[0]`,
/// by the documented layout: magic, version, a known record type, a
/// payload within the bound and present, and CRC32C over bytes 0..28 then
/// the payload equal to the stored one.
fn valid_frame_at(bytes: &[u8]) -> bool {
    let Some(head) = bytes.get(..FRAME_HEADER_LEN) else {
        return false;
    };
    let field = |range: std::ops::Range<u64>| {
        head[range.start as usize..range.end as usize]
            .iter()
            .rev()
            .fold(0u64, |value, &b| (value << 8) | u64::from(b))
    };
    let payload_len = field(PAYLOAD_LEN) as usize;
    if field(MAGIC) != u64::from(FRAME_MAGIC)
        || field(VERSION) != u64::from(FRAME_VERSION)
        || !RECORD_TYPES.contains(&(field(RECORD_TYPE) as u16))
        || payload_len > MAX_PAYLOAD_LEN
    {
        return false;
    }
    let Some(payload) = bytes.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + payload_len) else {
        return false;
    };
    let crc = crc32c::crc32c_append(crc32c::crc32c(&head[..CRC.start as usize]), payload);
    u64::from(crc) == field(CRC)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command frame of 90 bytes at the start of a file.
    fn frame(written: u64) -> DamagedFrame {
        DamagedFrame {
            start: 0,
            len: 90,
            written,
            record_type: 1,
        }
    }

    fn no_bytes() -> Vec<u8> {
        Vec::new()
    }

    #[test]
    fn a_flip_in_the_last_frame_is_torn_unless_its_length_shrank() {
        // A payload byte, the LSN, the CRC: the checksum fails, the frame
        // still ends at the file's end.
        for byte in [8, 30, 40, 89] {
            assert_eq!(
                verdict(frame(90), byte, 3, 90, no_bytes),
                FlipVerdict::Torn {
                    bad: BadFrame::ChecksumMismatch
                },
                "byte {byte}"
            );
        }
        // The length grown: the frame claims to run past the end.
        assert_eq!(
            verdict(frame(90), 24, 6, 90, no_bytes),
            FlipVerdict::Torn {
                bad: BadFrame::Incomplete { needed: 154 }
            }
        );
        assert_eq!(
            verdict(frame(90), 25, 2, 90, no_bytes),
            FlipVerdict::Torn {
                bad: BadFrame::PayloadTooLarge { len: 58 + 1024 }
            }
        );
        // Shrunk: bytes follow its claimed end, which no torn write leaves.
        assert_eq!(
            verdict(frame(90), 24, 1, 90, no_bytes),
            FlipVerdict::Corrupt {
                offset: 0,
                bad: BadFrame::ChecksumMismatch,
                not_torn: NotTorn::BytesAfterClaimedEnd { claimed_end: 88 }
            }
        );
        // A broken magic: the header is not trusted, nothing valid follows.
        assert_eq!(
            verdict(frame(90), 0, 0, 90, || vec![0; 90]),
            FlipVerdict::Torn {
                bad: BadFrame::BadMagic {
                    found: FRAME_MAGIC ^ 1
                }
            }
        );
    }

    #[test]
    fn a_flip_before_the_last_frame_names_why_it_is_not_torn() {
        // Two more frames follow: bytes after the claimed end.
        assert_eq!(
            verdict(frame(90), 40, 0, 300, no_bytes),
            FlipVerdict::Corrupt {
                offset: 0,
                bad: BadFrame::ChecksumMismatch,
                not_torn: NotTorn::BytesAfterClaimedEnd { claimed_end: 90 }
            }
        );
        // A broken version over a long file: more than one frame remains.
        assert_eq!(
            verdict(frame(90), 4, 0, 2000, no_bytes),
            FlipVerdict::Corrupt {
                offset: 0,
                bad: BadFrame::BadVersion { found: 0 },
                not_torn: NotTorn::TailLongerThanFrame { tail_len: 2000 }
            }
        );
    }

    #[test]
    fn a_cut_header_is_incomplete_whatever_the_flip() {
        assert_eq!(
            verdict(frame(10), 0, 7, 10, || vec![0; 10]),
            FlipVerdict::Torn {
                bad: BadFrame::Incomplete { needed: 32 }
            }
        );
    }

    #[test]
    fn regions_name_every_field() {
        let names: Vec<&str> = [0, 4, 6, 8, 16, 24, 28, 32, 89]
            .iter()
            .map(|&b| FlipVerdict::region(b, 90))
            .collect();
        assert_eq!(
            names,
            [
                "magic",
                "version",
                "record_type",
                "lsn",
                "request_slot",
                "payload_len",
                "crc",
                "payload",
                "payload_last_byte"
            ]
        );
    }
}
