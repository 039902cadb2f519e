//! Recovery scan: walk the frames of a WAL image from offset 0 and decide how
//! it ends.
//!
//! Each frame that decodes must have an LSN strictly greater than the frame
//! before it and a request slot no smaller; otherwise the scan stops with
//! [`Corruption`] at that frame. At the first frame that does not decode, at
//! offset `o` with `r` bytes from `o` to the end of the input, the scan stops
//! with either a torn tail or corruption.
//!
//! # The torn-tail rule
//!
//! A crash during the last append can leave only that one frame damaged: a
//! prefix of it, or its full length with some of its bytes never written.
//! It can never leave bytes after the frame. So the bad frame is a
//! [`ScanEnd::TornTail`] with `valid_len = o` exactly when all three hold:
//!
//! 1. **It reaches the end of the input.** Either `r < FRAME_HEADER_LEN`
//!    (the header itself is cut), or the header passed its magic, version
//!    and record-type checks and the extent it claims, `FRAME_HEADER_LEN +
//!    payload_len`, is `>= r`. When magic, version or record type are bad
//!    the header is not trusted at all, its length included, and this
//!    condition holds by default (condition 2 bounds it instead).
//! 2. **It fits in one frame:** `r <= MAX_FRAME_LEN`.
//! 3. **Nothing valid follows it:** no complete, checksum-valid frame starts
//!    at any offset in `o + 1 .. o + r`.
//!
//! Anything else is [`Corruption`] at offset `o`, reported with the first
//! condition that failed ([`NotTorn`]), checked in the order 1, 2, 3. The
//! scan never rewrites anything; repairing a torn tail by truncating to
//! `valid_len` is the caller's decision.
//!
//! Consequences, frame by frame, for a single flipped bit:
//!
//! * In any frame but the last: its extent ends before the input does
//!   (condition 1 fails), or, if the flip grew `payload_len` past the end or
//!   broke the magic, version or record type, the next frame is still valid
//!   (condition 3 fails). Always corruption at the damaged frame.
//! * In the last frame, anywhere but `payload_len`: the frame still ends
//!   exactly at EOF and nothing follows it, so it is a torn tail at the
//!   previous boundary. Such a flip cannot be told apart from a torn write;
//!   dropping the frame loses only a write whose sync may never have
//!   completed.
//! * In the last frame's `payload_len`, growing it (including past
//!   `MAX_PAYLOAD_LEN`): the frame now claims to run past EOF, exactly what
//!   a torn write looks like. Torn tail.
//! * In the last frame's `payload_len`, shrinking it: the frame claims to
//!   end before EOF, so bytes follow it. A torn write cannot produce that
//!   (a torn prefix has the true length), so it is corruption.
//!
//! Zeroed or garbage bytes at the end of the file (a file system that grew
//! the file but lost the data of the last append) fail the magic check, so
//! their length is not trusted and they are a torn tail as long as they fit
//! in one frame and hide no valid frame.
//!
//! Offsets and lengths are byte positions in the scanned slice, which the
//! caller maps to file positions.

use core::iter::FusedIterator;

use thiserror::Error;

use super::frame::{
    decode_frame, raw_payload_len, Frame, FrameError, FrameHeader, FRAME_HEADER_LEN, MAX_FRAME_LEN,
};
use crate::ids::{Lsn, Slot};

/// One valid frame and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScannedFrame<'a> {
    pub offset: usize,
    pub frame: Frame<'a>,
}

impl ScannedFrame<'_> {
    /// Offset one past this frame: the next frame boundary.
    pub fn end(&self) -> usize {
        self.offset + self.frame.encoded_len()
    }
}

/// How a scan that found no corruption ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanEnd {
    /// The input ends on a frame boundary (including an empty input).
    CleanEof,
    /// The last frame is damaged the way a torn append leaves it; the first
    /// `valid_len` bytes are whole valid frames.
    TornTail { valid_len: usize, error: FrameError },
}

/// Summary of a scan that found no corruption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanReport {
    pub end: ScanEnd,
    /// Bytes covered by valid frames: the whole input for a clean EOF, the
    /// length to truncate to for a torn tail.
    pub valid_len: usize,
    pub frame_count: u64,
    pub first_lsn: Option<Lsn>,
    pub last_lsn: Option<Lsn>,
    pub last_request_slot: Option<Slot>,
}

/// The input cannot be trusted from `offset` on; recovery must fail closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("WAL corruption at byte {offset}: {kind}")]
pub struct Corruption {
    /// Start of the offending frame.
    pub offset: usize,
    pub kind: CorruptionKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum CorruptionKind {
    /// The frame does not decode, and is not a torn tail.
    #[error("bad frame ({error}) that is not a torn tail: {not_torn}")]
    BadFrame {
        error: FrameError,
        not_torn: NotTorn,
    },
    #[error("LSN {found} does not follow LSN {previous}")]
    LsnNotIncreasing { previous: Lsn, found: Lsn },
    #[error("request slot {found} is before the previous frame's slot {previous}")]
    RequestSlotWentBackwards { previous: Slot, found: Slot },
}

/// Which condition of the torn-tail rule a bad frame failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum NotTorn {
    /// The header is well-formed and claims the frame ends at `claimed_end`,
    /// before the end of the input.
    #[error("bytes follow its claimed end at {claimed_end}")]
    BytesAfterClaimedEnd { claimed_end: usize },
    /// More bytes remain than the largest frame could hold.
    #[error("{tail_len} bytes remain, more than one frame can hold")]
    TailLongerThanFrame { tail_len: usize },
    /// A valid frame starts at `next_frame`.
    #[error("a valid frame follows at {next_frame}")]
    ValidFrameFollows { next_frame: usize },
}

/// Scans the whole input. Allocation-free; frames are checked, not kept.
pub fn scan(bytes: &[u8]) -> Result<ScanReport, Corruption> {
    let mut frames = Frames::new(bytes);
    let mut tally = Tally::default();
    // Every frame holds at least a header: the scan ends within this many.
    let steps_bound = bytes.len() / FRAME_HEADER_LEN + 1;
    for _ in 0..=steps_bound {
        match frames.step() {
            Step::Frame(scanned) => tally.count(&scanned),
            Step::End(end) => return Ok(tally.report(end, frames.valid_len())),
            Step::Corrupt(corruption) => return Err(corruption),
            Step::Done => unreachable!("a scan ends by End or Corrupt before Done"),
        }
    }
    panic!(
        "the scan went past its bound of {steps_bound} frames for {} bytes",
        bytes.len()
    )
}

/// What a scan remembers of the frames it checked, for its [`ScanReport`].
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Tally {
    frame_count: u64,
    first_lsn: Option<Lsn>,
    last: Option<FrameHeader>,
}

impl Tally {
    pub(super) fn count(&mut self, scanned: &ScannedFrame<'_>) {
        self.frame_count += 1;
        self.first_lsn = self.first_lsn.or(Some(scanned.frame.header.lsn));
        self.last = Some(scanned.frame.header);
    }

    pub(super) fn report(self, end: ScanEnd, valid_len: usize) -> ScanReport {
        ScanReport {
            end,
            valid_len,
            frame_count: self.frame_count,
            first_lsn: self.first_lsn,
            last_lsn: self.last.map(|h| h.lsn),
            last_request_slot: self.last.map(|h| h.request_slot),
        }
    }
}

/// Iterator over the valid frames of `bytes`, in order, with the same checks
/// as [`scan`]. Yields `Err` once on corruption and then stops; after it
/// returns `None` without an error, [`Frames::end`] says how the input ended.
///
/// Frames before a corruption are yielded before the corruption is found.
/// A replay that must not apply anything from a corrupt log runs [`scan`]
/// first and then iterates `frames(&bytes[..report.valid_len])`.
pub fn frames(bytes: &[u8]) -> Frames<'_> {
    Frames::new(bytes)
}

#[derive(Clone, Debug)]
pub struct Frames<'a> {
    bytes: &'a [u8],
    cursor: ScanCursor,
}

/// Where a scan stands: the offset of the next frame (also the length of
/// the valid prefix), the last header seen, and whether it has stopped. The
/// same rules whether the input is one slice ([`Frames`]) or a file read a
/// window at a time ([`WalReader`](super::reader::WalReader)).
#[derive(Clone, Debug)]
pub(super) struct ScanCursor {
    offset: usize,
    previous: Option<(Lsn, Slot)>,
    state: State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Scanning,
    Ended(ScanEnd),
    /// Stopped on an error: corruption, or the reader's I/O.
    Stopped,
}

pub(super) enum Step<'a> {
    Frame(ScannedFrame<'a>),
    End(ScanEnd),
    Corrupt(Corruption),
    /// Called again after `End`, `Corrupt` or [`ScanCursor::stop`].
    Done,
}

impl ScanCursor {
    pub(super) const fn new() -> ScanCursor {
        ScanCursor {
            offset: 0,
            previous: None,
            state: State::Scanning,
        }
    }

    /// Offset of the next frame; also the length of the valid prefix.
    pub(super) fn offset(&self) -> usize {
        self.offset
    }

    pub(super) fn is_scanning(&self) -> bool {
        self.state == State::Scanning
    }

    /// How the input ended; `None` while scanning or after an error.
    pub(super) fn end(&self) -> Option<ScanEnd> {
        match self.state {
            State::Ended(end) => Some(end),
            State::Scanning | State::Stopped => None,
        }
    }

    /// Ends the scan without a verdict (the reader could not read on).
    pub(super) fn stop(&mut self) {
        self.state = State::Stopped;
    }

    /// Checks the frame at [`Self::offset`]. The input has `rest` bytes from
    /// there; `tail` holds all of them, or more than [`MAX_FRAME_LEN`] of
    /// them, which is all the torn-tail rule ever reads.
    pub(super) fn step<'b>(&mut self, tail: &'b [u8], rest: usize) -> Step<'b> {
        if self.state != State::Scanning {
            return Step::Done;
        }
        assert!(
            tail.len() == rest || (MAX_FRAME_LEN < tail.len() && tail.len() < rest),
            "the scan needs the whole rest of the input or more than a frame of it"
        );
        let offset = self.offset;
        if rest == 0 {
            self.state = State::Ended(ScanEnd::CleanEof);
            return Step::End(ScanEnd::CleanEof);
        }
        let frame = match decode_frame(tail) {
            Ok((frame, _)) => frame,
            Err(error) => {
                return match classify_bad_frame(tail, rest, offset, &error) {
                    None => {
                        let end = ScanEnd::TornTail {
                            valid_len: offset,
                            error,
                        };
                        self.state = State::Ended(end);
                        Step::End(end)
                    }
                    Some(not_torn) => {
                        self.corrupt(offset, CorruptionKind::BadFrame { error, not_torn })
                    }
                };
            }
        };
        let FrameHeader {
            lsn, request_slot, ..
        } = frame.header;
        if let Some((previous_lsn, previous_slot)) = self.previous {
            if lsn <= previous_lsn {
                return self.corrupt(
                    offset,
                    CorruptionKind::LsnNotIncreasing {
                        previous: previous_lsn,
                        found: lsn,
                    },
                );
            }
            if request_slot < previous_slot {
                return self.corrupt(
                    offset,
                    CorruptionKind::RequestSlotWentBackwards {
                        previous: previous_slot,
                        found: request_slot,
                    },
                );
            }
        }
        self.previous = Some((lsn, request_slot));
        self.offset = offset + frame.encoded_len();
        Step::Frame(ScannedFrame { offset, frame })
    }

    fn corrupt<'b>(&mut self, offset: usize, kind: CorruptionKind) -> Step<'b> {
        self.state = State::Stopped;
        Step::Corrupt(Corruption { offset, kind })
    }
}

impl<'a> Frames<'a> {
    pub fn new(bytes: &'a [u8]) -> Frames<'a> {
        Frames {
            bytes,
            cursor: ScanCursor::new(),
        }
    }

    /// How the input ended; `None` while scanning or after corruption.
    pub fn end(&self) -> Option<ScanEnd> {
        self.cursor.end()
    }

    /// Bytes covered by the valid frames yielded so far.
    pub fn valid_len(&self) -> usize {
        self.cursor.offset()
    }

    fn step(&mut self) -> Step<'a> {
        let tail = self.bytes.get(self.cursor.offset()..).unwrap_or_default();
        self.cursor.step(tail, tail.len())
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<ScannedFrame<'a>, Corruption>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Step::Frame(scanned) => Some(Ok(scanned)),
            Step::Corrupt(corruption) => Some(Err(corruption)),
            Step::End(_) | Step::Done => None,
        }
    }
}

impl FusedIterator for Frames<'_> {}

/// Applies the torn-tail rule (module docs) to a frame at `offset` that
/// failed with `error`. The input has `rest` bytes from `offset`; `tail`
/// starts there and holds all of them, or more than [`MAX_FRAME_LEN`].
/// `None` means torn tail.
fn classify_bad_frame(
    tail: &[u8],
    rest: usize,
    offset: usize,
    error: &FrameError,
) -> Option<NotTorn> {
    let header_trusted = match error {
        FrameError::BadMagic { .. }
        | FrameError::BadVersion { .. }
        | FrameError::BadRecordType { .. } => false,
        FrameError::Incomplete { .. }
        | FrameError::PayloadTooLarge { .. }
        | FrameError::ChecksumMismatch { .. } => true,
    };
    // `None` when the header itself is cut, which reaches EOF by definition.
    if let (true, Some(payload_len)) = (header_trusted, raw_payload_len(tail)) {
        // In u64: a damaged length near u32::MAX must not overflow a 32-bit usize.
        let claimed_len = FRAME_HEADER_LEN as u64 + u64::from(payload_len);
        if claimed_len < rest as u64 {
            return Some(NotTorn::BytesAfterClaimedEnd {
                // Lossless: less than rest.
                claimed_end: offset + claimed_len as usize,
            });
        }
    }
    if rest > MAX_FRAME_LEN {
        return Some(NotTorn::TailLongerThanFrame { tail_len: rest });
    }
    // Here `tail` is the whole rest of the input. Bounded by MAX_FRAME_LEN
    // positions; most fail the 4-byte magic compare.
    (1..tail.len())
        .find(|&at| {
            tail.get(at..)
                .is_some_and(|rest| decode_frame(rest).is_ok())
        })
        .map(|at| NotTorn::ValidFrameFollows {
            next_frame: offset + at,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::frame::{encode_frame, RecordType};

    fn push_frame(log: &mut Vec<u8>, lsn: u64, slot: u64, payload: &[u8]) -> usize {
        let start = log.len();
        log.resize(start + FRAME_HEADER_LEN + payload.len(), 0);
        let header = FrameHeader {
            record_type: RecordType::ClientCommand,
            lsn: Lsn(lsn),
            request_slot: Slot(slot),
        };
        encode_frame(&header, payload, &mut log[start..]);
        start
    }

    #[test]
    fn empty_input_is_a_clean_eof() {
        let report = scan(&[]).unwrap();
        assert_eq!(report.end, ScanEnd::CleanEof);
        assert_eq!(report.valid_len, 0);
        assert_eq!(report.frame_count, 0);
        assert_eq!(report.first_lsn, None);
        assert_eq!(report.last_lsn, None);
    }

    #[test]
    fn clean_log_reports_its_frames() {
        let mut log = Vec::new();
        push_frame(&mut log, 5, 1, b"a");
        push_frame(&mut log, 6, 1, b"bb");
        push_frame(&mut log, 9, 4, b"");
        let report = scan(&log).unwrap();
        assert_eq!(report.end, ScanEnd::CleanEof);
        assert_eq!(report.valid_len, log.len());
        assert_eq!(report.frame_count, 3);
        assert_eq!(report.first_lsn, Some(Lsn(5)));
        assert_eq!(report.last_lsn, Some(Lsn(9)));
        assert_eq!(report.last_request_slot, Some(Slot(4)));

        let mut it = frames(&log);
        let seen: Vec<_> = it.by_ref().map(Result::unwrap).collect();
        assert_eq!(
            seen.iter()
                .map(|f| (f.offset, f.frame.header.lsn.get(), f.frame.payload))
                .collect::<Vec<_>>(),
            vec![(0, 5, &b"a"[..]), (33, 6, &b"bb"[..]), (67, 9, &b""[..])]
        );
        assert_eq!(seen[2].end(), log.len());
        assert_eq!(it.end(), Some(ScanEnd::CleanEof));
        assert!(it.next().is_none());
    }

    #[test]
    fn corruption_is_yielded_once_then_the_iterator_stops() {
        let mut log = Vec::new();
        push_frame(&mut log, 1, 0, b"x");
        push_frame(&mut log, 1, 0, b"y");
        let mut it = frames(&log);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(
            it.next(),
            Some(Err(Corruption {
                offset: 33,
                kind: CorruptionKind::LsnNotIncreasing {
                    previous: Lsn(1),
                    found: Lsn(1)
                }
            }))
        );
        assert_eq!(it.next(), None);
        assert_eq!(it.end(), None);
        assert_eq!(it.valid_len(), 33);
    }

    #[test]
    fn huge_length_mid_file_is_corruption_not_a_chase() {
        let mut log = Vec::new();
        push_frame(&mut log, 1, 0, b"x");
        let second = push_frame(&mut log, 2, 0, b"y");
        push_frame(&mut log, 3, 0, b"z");
        log[second + 24..second + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        // Pad so the tail is longer than any frame.
        log.extend_from_slice(&[0u8; MAX_FRAME_LEN]);
        assert_eq!(
            scan(&log),
            Err(Corruption {
                offset: second,
                kind: CorruptionKind::BadFrame {
                    error: FrameError::PayloadTooLarge { len: u32::MAX },
                    not_torn: NotTorn::TailLongerThanFrame {
                        tail_len: log.len() - second
                    }
                }
            })
        );
    }
}
