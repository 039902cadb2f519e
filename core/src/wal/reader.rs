//! The recovery scan over a WAL read from a file a window at a time, so that
//! recovery's memory is one fixed buffer whatever the length of the log.
//!
//! The frames, their order, the checks and the verdict (clean EOF, torn
//! tail, or corruption at an offset) are exactly those of [`scan`] and
//! [`frames`] over the same bytes held in memory: both drive the same
//! `ScanCursor`. The torn-tail rule never reads more than one frame past
//! the start of the bad frame, so a window that holds more than
//! [`MAX_FRAME_LEN`] bytes from the next frame (or everything up to the end)
//! is always enough; the reader refills before the window gets shorter.
//!
//! [`scan`]: super::scan::scan
//! [`frames`]: super::scan::frames

use std::io::{self, Read};

use thiserror::Error;

use super::frame::{FRAME_HEADER_LEN, MAX_FRAME_LEN};
use super::scan::{Corruption, ScanCursor, ScanEnd, ScanReport, ScannedFrame, Step, Tally};

/// The reader's buffer: large enough that refills are rare and cheap next to
/// the frames they carry, small enough to stay in a core's cache.
pub const READ_BUFFER_LEN: usize = 256 * 1024;

/// Why reading frames stopped early.
#[derive(Debug, Error)]
pub enum WalReadError {
    #[error("reading the WAL failed: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Corruption(#[from] Corruption),
}

/// The frames of the first `len` bytes of `source`, read in order.
pub struct WalReader<R> {
    source: R,
    len: usize,
    buffer: Box<[u8]>,
    /// Input offset of `buffer[0]`.
    buffer_start: usize,
    /// Bytes of `buffer` that hold input.
    filled: usize,
    cursor: ScanCursor,
}

impl<R: Read> WalReader<R> {
    /// `source` must yield at least `len` bytes; fewer is an I/O error
    /// (`UnexpectedEof`), never a shorter log. The buffer is
    /// [`READ_BUFFER_LEN`], or less when the whole input fits in less: a
    /// short log (the simulator's) costs a short buffer.
    pub fn new(source: R, len: u64) -> io::Result<WalReader<R>> {
        let fits = usize::try_from(len).map_or(READ_BUFFER_LEN, |len| len.max(MAX_FRAME_LEN + 1));
        WalReader::with_buffer_len(source, len, fits.min(READ_BUFFER_LEN))
    }

    /// As [`WalReader::new`] with a buffer of `buffer_len` bytes, which must
    /// exceed [`MAX_FRAME_LEN`].
    pub fn with_buffer_len(source: R, len: u64, buffer_len: usize) -> io::Result<WalReader<R>> {
        assert!(
            buffer_len > MAX_FRAME_LEN,
            "the window must hold more than one frame"
        );
        let len = usize::try_from(len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the WAL is longer than this platform can address",
            )
        })?;
        Ok(WalReader {
            source,
            len,
            buffer: vec![0; buffer_len].into_boxed_slice(),
            buffer_start: 0,
            filled: 0,
            cursor: ScanCursor::new(),
        })
    }

    /// The next valid frame. After `Some(Err(_))` or `None` there are no
    /// more; [`WalReader::end`] then says how a log without errors ended.
    /// The frame borrows the buffer, so it is gone at the next call.
    pub fn next_frame(&mut self) -> Option<Result<ScannedFrame<'_>, WalReadError>> {
        match self.step() {
            Ok(Step::Frame(scanned)) => Some(Ok(scanned)),
            Ok(Step::Corrupt(corruption)) => Some(Err(corruption.into())),
            Ok(Step::End(_) | Step::Done) => None,
            Err(error) => Some(Err(error.into())),
        }
    }

    /// Reads to the end: the same report as [`scan`](super::scan::scan) of
    /// the whole input.
    pub fn scan(mut self) -> Result<ScanReport, WalReadError> {
        let mut tally = Tally::default();
        // Every frame holds at least a header: the scan ends within this many.
        let steps_bound = self.len / FRAME_HEADER_LEN + 1;
        for _ in 0..=steps_bound {
            match self.step()? {
                Step::Frame(scanned) => tally.count(&scanned),
                Step::End(end) => return Ok(tally.report(end, self.valid_len())),
                Step::Corrupt(corruption) => return Err(corruption.into()),
                Step::Done => unreachable!("a scan ends by End or Corrupt before Done"),
            }
        }
        panic!(
            "the scan went past its bound of {steps_bound} frames for {} bytes",
            self.len
        )
    }

    /// How the input ended; `None` while reading or after an error.
    pub fn end(&self) -> Option<ScanEnd> {
        self.cursor.end()
    }

    /// Bytes covered by the valid frames read so far.
    pub fn valid_len(&self) -> usize {
        self.cursor.offset()
    }

    fn step(&mut self) -> io::Result<Step<'_>> {
        if !self.cursor.is_scanning() {
            return Ok(Step::Done);
        }
        if let Err(error) = self.refill() {
            self.cursor.stop();
            return Err(error);
        }
        let offset = self.cursor.offset();
        let tail = &self.buffer[offset - self.buffer_start..self.filled];
        Ok(self.cursor.step(tail, self.len - offset))
    }

    /// Makes the window from the next frame hold the whole rest of the input
    /// or more than one frame of it, moving what is left to the front of the
    /// buffer and reading as much as fits.
    fn refill(&mut self) -> io::Result<()> {
        let offset = self.cursor.offset();
        let window = self.buffer_start + self.filled - offset;
        let rest = self.len - offset;
        if window == rest || window > MAX_FRAME_LEN {
            return Ok(());
        }
        self.buffer
            .copy_within(offset - self.buffer_start..self.filled, 0);
        self.buffer_start = offset;
        // Consistent before the read, which may fail and leave it so.
        self.filled = window;
        let target = rest.min(self.buffer.len());
        self.source.read_exact(&mut self.buffer[window..target])?;
        self.filled = target;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Lsn, Slot};
    use crate::wal::frame::{encode_frame, FrameHeader, RecordType, MAX_PAYLOAD_LEN};
    use crate::wal::scan::{frames, scan};
    use proptest::prelude::*;

    /// The smallest window a reader takes: frames straddle every refill.
    const SMALLEST_BUFFER: usize = MAX_FRAME_LEN + 1;

    type Seen = (usize, FrameHeader, Vec<u8>);

    /// Frames, then how the input ended or the corruption that stopped it.
    type Verdict = (Vec<Seen>, Result<(ScanEnd, usize), Corruption>);

    fn via_slice(input: &[u8]) -> Verdict {
        let mut it = frames(input);
        let mut seen = Vec::new();
        for item in it.by_ref() {
            match item {
                Ok(f) => seen.push((f.offset, f.frame.header, f.frame.payload.to_vec())),
                Err(corruption) => return (seen, Err(corruption)),
            }
        }
        let end = it.end().expect("no error, so an end");
        (seen, Ok((end, it.valid_len())))
    }

    fn via_reader(input: &[u8], buffer_len: usize) -> Verdict {
        let mut reader = WalReader::with_buffer_len(input, input.len() as u64, buffer_len).unwrap();
        let mut seen = Vec::new();
        while let Some(item) = reader.next_frame() {
            match item {
                Ok(f) => seen.push((f.offset, f.frame.header, f.frame.payload.to_vec())),
                Err(WalReadError::Corruption(corruption)) => {
                    assert!(reader.next_frame().is_none(), "nothing after an error");
                    return (seen, Err(corruption));
                }
                Err(WalReadError::Io(error)) => panic!("a slice reads whole: {error}"),
            }
        }
        let end = reader.end().expect("no error, so an end");
        (seen, Ok((end, reader.valid_len())))
    }

    /// The reader agrees with the in-memory scan on `input`: same frames,
    /// same end or corruption, same summary.
    fn assert_agrees(input: &[u8], buffer_len: usize) {
        assert_eq!(
            via_reader(input, buffer_len),
            via_slice(input),
            "buffer of {buffer_len} bytes"
        );
        let streamed = WalReader::with_buffer_len(input, input.len() as u64, buffer_len)
            .unwrap()
            .scan()
            .map_err(|error| match error {
                WalReadError::Corruption(corruption) => corruption,
                WalReadError::Io(error) => panic!("a slice reads whole: {error}"),
            });
        assert_eq!(streamed, scan(input), "buffer of {buffer_len} bytes");
    }

    /// Frames with LSNs 1.. in slot order; payload `i` is `sizes[i]` bytes.
    fn log(sizes: &[usize]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            let header = FrameHeader {
                record_type: RecordType::ClientCommand,
                lsn: Lsn(i as u64 + 1),
                request_slot: Slot(i as u64 / 3),
            };
            let payload: Vec<u8> = (0..size).map(|b| (b * 7 + i) as u8).collect();
            let start = bytes.len();
            bytes.resize(start + MAX_FRAME_LEN, 0);
            let len = encode_frame(&header, &payload, &mut bytes[start..]);
            bytes.truncate(start + len);
        }
        bytes
    }

    /// Large and small frames, so that window edges fall everywhere.
    fn mixed_log() -> Vec<u8> {
        log(&[
            MAX_PAYLOAD_LEN,
            3,
            0,
            200,
            MAX_PAYLOAD_LEN,
            17,
            511,
            64,
            1,
            300,
        ])
    }

    #[test]
    fn every_flip_and_cut_reads_as_the_in_memory_scan() {
        let clean = mixed_log();
        for buffer_len in [SMALLEST_BUFFER, SMALLEST_BUFFER + 13, 2 * MAX_FRAME_LEN] {
            assert_agrees(&clean, buffer_len);
            for len in 0..clean.len() {
                assert_agrees(&clean[..len], buffer_len);
            }
            for byte in 0..clean.len() {
                for bit in 0..8 {
                    let mut damaged = clean.clone();
                    damaged[byte] ^= 1 << bit;
                    assert_agrees(&damaged, buffer_len);
                }
            }
        }
    }

    #[test]
    fn garbage_and_zeroes_after_the_frames_read_as_the_in_memory_scan() {
        let clean = mixed_log();
        for extra in [
            1,
            31,
            32,
            MAX_FRAME_LEN - 1,
            MAX_FRAME_LEN,
            MAX_FRAME_LEN + 1,
        ] {
            for fill in [0x00u8, 0xA5] {
                let mut input = clean.clone();
                input.resize(clean.len() + extra, fill);
                assert_agrees(&input, SMALLEST_BUFFER);
            }
        }
    }

    #[test]
    fn a_source_shorter_than_its_length_is_an_io_error_then_nothing() {
        let clean = mixed_log();
        let claimed = clean.len() as u64 + 1;
        let mut reader = WalReader::with_buffer_len(&clean[..], claimed, SMALLEST_BUFFER).unwrap();
        let mut frames_read = 0;
        let error = loop {
            match reader.next_frame() {
                Some(Ok(_)) => frames_read += 1,
                Some(Err(error)) => break error,
                None => panic!("the missing byte must be an error"),
            }
        };
        let WalReadError::Io(error) = error else {
            panic!("expected an I/O error, got {error}");
        };
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(frames_read < 10, "the last frame needs the missing byte");
        assert!(reader.next_frame().is_none());
        assert_eq!(reader.end(), None);
    }

    #[test]
    fn a_short_input_gets_a_buffer_of_its_length() {
        let clean = mixed_log();
        let reader = WalReader::new(&clean[..], clean.len() as u64).unwrap();
        assert_eq!(reader.buffer.len(), clean.len());
        assert_eq!(reader.scan().unwrap(), scan(&clean).unwrap());
        let reader = WalReader::new(&[][..], 0).unwrap();
        assert_eq!(reader.buffer.len(), MAX_FRAME_LEN + 1);
        let long = vec![0u8; 2 * READ_BUFFER_LEN];
        let reader = WalReader::new(&long[..], long.len() as u64).unwrap();
        assert_eq!(reader.buffer.len(), READ_BUFFER_LEN);
    }

    /// Counts the reads a reader makes of its source.
    struct Counted<'a> {
        bytes: &'a [u8],
        reads: usize,
    }

    impl Read for Counted<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            self.bytes.read(out)
        }
    }

    /// A read happens only when the window runs short, so a log costs about
    /// one read per buffer's worth, not one per frame.
    #[test]
    fn reads_come_a_buffer_at_a_time() {
        let sizes: Vec<usize> = (0..200).map(|i| (i * 37) % (MAX_PAYLOAD_LEN + 1)).collect();
        let clean = log(&sizes);
        let buffer_len = 4 * MAX_FRAME_LEN;
        let mut source = Counted {
            bytes: &clean,
            reads: 0,
        };
        let report = WalReader::with_buffer_len(&mut source, clean.len() as u64, buffer_len)
            .unwrap()
            .scan()
            .unwrap();
        assert_eq!(report.frame_count, 200);
        assert!(source.bytes.is_empty(), "read to the end");
        let most = clean.len().div_ceil(buffer_len - MAX_FRAME_LEN) + 1;
        assert!(
            source.reads <= most,
            "{} reads for {} bytes through {buffer_len} bytes (at most {most})",
            source.reads,
            clean.len()
        );
    }

    #[test]
    #[should_panic(expected = "more than one frame")]
    fn a_buffer_of_one_frame_is_refused() {
        let _ = WalReader::with_buffer_len(&[][..], 0, MAX_FRAME_LEN);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Random logs, damaged at random (a flip, a cut, the first frame
        /// repeated at the end, appended bytes), read through random small
        /// buffers.
        #[test]
        fn random_damage_reads_as_the_in_memory_scan(
            sizes in prop::collection::vec(0..=MAX_PAYLOAD_LEN, 0..24),
            flip in prop::option::of((any::<prop::sample::Index>(), 0u8..8)),
            cut in prop::option::of(any::<prop::sample::Index>()),
            repeat_first in any::<bool>(),
            extra in prop::collection::vec(any::<u8>(), 0..2 * MAX_FRAME_LEN),
            buffer_len in SMALLEST_BUFFER..4 * MAX_FRAME_LEN,
        ) {
            let mut input = log(&sizes);
            if repeat_first && !sizes.is_empty() {
                // LSN 1 again after the whole log: not increasing.
                let first = log(&sizes[..1]);
                input.extend_from_slice(&first);
            }
            input.extend_from_slice(&extra);
            if let (Some((at, bit)), false) = (flip, input.is_empty()) {
                let at = at.index(input.len());
                input[at] ^= 1 << bit;
            }
            if let (Some(cut), false) = (cut, input.is_empty()) {
                input.truncate(cut.index(input.len()));
            }
            assert_agrees(&input, buffer_len);
        }
    }
}
