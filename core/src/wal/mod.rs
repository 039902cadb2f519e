//! The write-ahead log: its byte formats (the frame codec, the payload codec
//! and the recovery scan, with no I/O), the scan over a file, and the file.
//! The engine is built on top of this API.
//!
//! * [`frame`]: the 32-byte little-endian frame header, its CRC32C and the
//!   structural checks ([`encode_frame`], [`decode_frame`]).
//! * [`payload`]: one [`LogCommand`](crate::LogCommand) or a snapshot marker
//!   per frame payload ([`encode_command`], [`decode_command`],
//!   [`decode_record`]).
//! * [`scan`](mod@scan): walks a WAL image, enforces strictly increasing LSNs
//!   and non-decreasing request slots, and classifies the end as a clean
//!   EOF, a torn tail to truncate, or corruption to fail closed on. The
//!   exact torn-tail rule is documented there.
//! * [`reader`]: the same scan over a file read through one fixed buffer
//!   ([`WalReader`]), which is how recovery reads the log.
//! * [`file`](mod@file): the WAL file itself: append, sync, truncate, replace.
//!
//! Decoding never panics on any input: a WAL is untrusted bytes. The codecs
//! and the scan are allocation-free; the reader allocates its buffer once.

pub mod file;
pub mod frame;
pub mod payload;
pub mod reader;
pub mod scan;

pub use file::{WalFile, WAL_FILE_NAME};
pub use frame::{
    decode_frame, encode_frame, frame_len, Frame, FrameError, FrameHeader, RecordType,
    FRAME_HEADER_LEN, FRAME_MAGIC, FRAME_VERSION, MAX_FRAME_LEN, MAX_PAYLOAD_LEN,
};
pub use payload::{
    command_record_type, decode_command, decode_record, decode_snapshot_marker, encode_command,
    encode_record, encode_record_frame, encode_snapshot_marker, encoded_command_len, PayloadError,
    WalRecord, MAX_ENCODED_COMMAND_LEN, SNAPSHOT_MARKER_LEN,
};
pub use reader::{WalReadError, WalReader, READ_BUFFER_LEN};
pub use scan::{
    frames, scan, Corruption, CorruptionKind, Frames, NotTorn, ScanEnd, ScanReport, ScannedFrame,
};
