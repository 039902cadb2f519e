//! The simulator's book of the WAL file: which frame sits at which bytes,
//! what command it carries, how much of it was written, and how much is
//! durable. It is kept from what the simulator did and saw (frame sizes
//! from the format), so that it can say what must survive a crash without
//! asking the engine. No I/O.

use allocdb_core::ids::Lsn;
use allocdb_core::wal::{encoded_command_len, FRAME_HEADER_LEN, SNAPSHOT_MARKER_LEN};
use allocdb_core::{LogCommand, Slot};

/// What a frame holds.
#[expect(
    clippy::large_enum_variant,
    reason = "frames live by value in one Vec, and a marker is as rare as a checkpoint"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameContent {
    /// A command, applied at `slot` when it committed.
    Command { slot: Slot, command: LogCommand },
    /// A checkpoint's snapshot marker.
    Marker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookedFrame {
    pub lsn: Lsn,
    pub content: FrameContent,
    pub start: u64,
    /// Bytes of the whole frame.
    pub len: u64,
    /// Bytes of it in the file (`< len` for a torn or partial frame).
    pub written: u64,
}

impl BookedFrame {
    pub fn end(&self) -> u64 {
        self.start + self.written
    }

    pub fn is_complete(&self) -> bool {
        self.written == self.len
    }

    pub fn is_command(&self) -> bool {
        matches!(self.content, FrameContent::Command { .. })
    }
}

pub fn command_frame_len(command: &LogCommand) -> u64 {
    (FRAME_HEADER_LEN + encoded_command_len(command)) as u64
}

/// The shortest frame there is.
pub fn marker_frame_len() -> u64 {
    (FRAME_HEADER_LEN + SNAPSHOT_MARKER_LEN) as u64
}

#[derive(Clone, Debug, Default)]
pub struct WalBook {
    frames: Vec<BookedFrame>,
    durable_len: u64,
}

impl WalBook {
    pub fn frames(&self) -> &[BookedFrame] {
        &self.frames
    }

    /// Bytes in the WAL file.
    pub fn file_len(&self) -> u64 {
        self.frames.last().map_or(0, BookedFrame::end)
    }

    pub fn durable_len(&self) -> u64 {
        self.durable_len
    }

    pub fn unsynced(&self) -> u64 {
        self.file_len() - self.durable_len
    }

    /// Records a frame appended (fully or in part) at the end.
    pub fn push(&mut self, lsn: Lsn, content: FrameContent, len: u64, written: u64) {
        assert!(written <= len);
        assert!(
            self.frames.last().is_none_or(BookedFrame::is_complete),
            "nothing is appended after a partial frame without recovery first"
        );
        assert!(
            self.frames.last().is_none_or(|last| last.lsn < lsn),
            "frames carry strictly increasing LSNs"
        );
        let start = self.file_len();
        self.frames.push(BookedFrame {
            lsn,
            content,
            start,
            len,
            written,
        });
    }

    /// The file system says `len` bytes of the file are durable.
    pub fn set_durable(&mut self, len: u64) {
        self.durable_len = len.min(self.file_len());
    }

    /// The file was cut to `len` bytes.
    pub fn truncate(&mut self, len: u64) {
        self.frames.retain(|f| f.start < len);
        if let Some(last) = self.frames.last_mut() {
            last.written = last.written.min(len - last.start);
        }
        self.durable_len = self.durable_len.min(len);
    }

    /// End of the last complete frame: where recovery cuts a torn tail.
    pub fn complete_len(&self) -> u64 {
        self.last_complete().map_or(0, BookedFrame::end)
    }

    pub fn last_complete_lsn(&self) -> Option<Lsn> {
        self.last_complete().map(|f| f.lsn)
    }

    fn last_complete(&self) -> Option<&BookedFrame> {
        self.frames.iter().rev().find(|f| f.is_complete())
    }

    /// Recovery truncated the torn tail.
    pub fn recovered(&mut self) {
        self.truncate(self.complete_len());
    }

    /// The book of the log a checkpoint writes in place of this one: the
    /// frames after `previous` snapshot's LSN plus a marker at
    /// `marker_lsn` (a new file: nothing of it is durable until the file
    /// system says so).
    pub fn rewritten(&self, previous: Lsn, marker_lsn: Lsn) -> WalBook {
        let mut new = WalBook::default();
        for frame in self
            .frames
            .iter()
            .filter(|f| f.lsn > previous && f.is_complete())
        {
            new.push(frame.lsn, frame.content, frame.len, frame.len);
        }
        let marker = marker_frame_len();
        new.push(marker_lsn, FrameContent::Marker, marker, marker);
        new
    }
}
