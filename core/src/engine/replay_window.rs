//! The frames recovery replays, decoded a few frames ahead of the one being
//! applied so that the state machine can prefetch what they will look up.
//!
//! Frames come out in log order, each exactly once, with the same values and
//! errors as decoding them one at a time: a frame that fails to decode is
//! returned in its place, and the scan error that ends the frames comes
//! after every frame before it.

use std::io::Read;

use super::OpenError;
use crate::machine::StateMachine;
use crate::ring::Ring;
use crate::wal::{
    decode_record, FrameHeader, PayloadError, ScanEnd, WalReadError, WalReader, WalRecord,
};

/// Frames decoded ahead of the one being applied. Far enough that a frame's
/// slots arrive before it is applied (about one DRAM latency of work on the
/// frames in between), near enough that they are not evicted again.
pub const REPLAY_LOOKAHEAD: usize = 16;

#[derive(Clone, Copy, Debug)]
pub(super) struct DecodedFrame {
    pub offset: usize,
    pub header: FrameHeader,
    pub record: Result<WalRecord, PayloadError>,
}

pub(super) struct ReplayWindow<R> {
    frames: WalReader<R>,
    /// Frames decoded and not yet done with, oldest first.
    ring: Ring<DecodedFrame>,
    /// The oldest frame was lent out by the last `next`; it leaves the ring
    /// at the next call, once the caller has let go of it.
    front_lent: bool,
    /// The error that ended the frames, returned once the ring drains.
    ended_by: Option<WalReadError>,
}

impl<R: Read> ReplayWindow<R> {
    pub fn new(frames: WalReader<R>) -> ReplayWindow<R> {
        ReplayWindow {
            frames,
            ring: Ring::with_capacity(REPLAY_LOOKAHEAD as u32),
            front_lent: false,
            ended_by: None,
        }
    }

    /// The next frame in log order; `sm` receives the prefetch hints of the
    /// frames decoded to refill the window.
    /// Borrowed in place: a decoded command is a few hundred bytes, and the
    /// ring slot is only reused after the caller lets go of it.
    pub fn next(&mut self, sm: &StateMachine) -> Option<Result<&DecodedFrame, WalReadError>> {
        if self.front_lent {
            self.ring.pop_front();
            self.front_lent = false;
        }
        self.fill(sm);
        if self.ring.is_empty() {
            return self.ended_by.take().map(Err);
        }
        self.front_lent = true;
        self.ring.front().map(Ok)
    }

    /// Once [`ReplayWindow::next`] returned `None`: whether the frames
    /// ended cleanly exactly at `scanned_len`, where the scan before the
    /// replay said the valid log ends. Recovery reads the file twice, so
    /// anything else means the file changed in between.
    pub fn finish(&self, scanned_len: usize) -> Result<(), OpenError> {
        match self.frames.end() {
            Some(ScanEnd::CleanEof) if self.frames.valid_len() == scanned_len => Ok(()),
            _ => Err(OpenError::WalChanged { scanned_len }),
        }
    }

    fn fill(&mut self, sm: &StateMachine) {
        while self.ring.len() < REPLAY_LOOKAHEAD && self.ended_by.is_none() {
            let scanned = match self.frames.next_frame() {
                None => return,
                Some(Err(error)) => {
                    self.ended_by = Some(error);
                    return;
                }
                Some(Ok(scanned)) => scanned,
            };
            let header = scanned.frame.header;
            let record = decode_record(header.record_type, scanned.frame.payload);
            // Frames the snapshot covers are not applied, so their hints are
            // wasted; they are at most one checkpoint's overlap.
            if let Ok(WalRecord::Command(command)) = &record {
                sm.prefetch(header.lsn, command);
            }
            self.ring.push_back(DecodedFrame {
                offset: scanned.offset,
                header,
                record,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{ClientRequest, Command};
    use crate::config::Config;
    use crate::ids::{ClientId, Lsn, OperationId, ResourceId, Slot};
    use crate::wal::{
        encode_frame, encode_record_frame, frames, CorruptionKind, RecordType, MAX_FRAME_LEN,
    };

    const FRAMES: u64 = 3 * REPLAY_LOOKAHEAD as u64 + 5;

    fn create(lsn: u64) -> WalRecord {
        WalRecord::Command(crate::command::LogCommand::Client(ClientRequest {
            operation_id: OperationId(u128::from(lsn)),
            client_id: ClientId(1),
            command: Command::CreateResource {
                resource_id: ResourceId(u128::from(lsn)),
            },
        }))
    }

    /// `FRAMES` creates at LSNs 1.., where the frame at `bad_payload` holds
    /// bytes that are a valid frame but no valid command.
    fn wal(bad_payload: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; FRAMES as usize * crate::wal::MAX_FRAME_LEN];
        let mut at = 0;
        for lsn in 1..=FRAMES {
            if lsn == bad_payload {
                let header = FrameHeader {
                    record_type: RecordType::ClientCommand,
                    lsn: Lsn(lsn),
                    request_slot: Slot(1),
                };
                at += encode_frame(&header, &[0xFF; 7], &mut bytes[at..]);
            } else {
                at += encode_record_frame(Lsn(lsn), Slot(1), &create(lsn), &mut bytes[at..]);
            }
        }
        bytes.truncate(at);
        bytes
    }

    /// A window over `bytes` read through the smallest buffer a reader
    /// takes, so that frames straddle refills.
    fn window(bytes: &[u8]) -> ReplayWindow<&[u8]> {
        let reader = WalReader::with_buffer_len(bytes, bytes.len() as u64, MAX_FRAME_LEN + 1);
        ReplayWindow::new(reader.unwrap())
    }

    fn drain(window: &mut ReplayWindow<&[u8]>) -> Vec<Result<DecodedFrame, WalReadError>> {
        let sm = StateMachine::new(Config::small()).unwrap();
        std::iter::from_fn(|| window.next(&sm).map(|next| next.copied())).collect()
    }

    /// Every frame comes out once, in order, as decoding it alone would give
    /// it, including a frame whose payload does not decode: it is returned
    /// in its place and the frames after it still follow.
    #[test]
    fn frames_come_out_in_log_order_as_decoded_one_at_a_time() {
        let bad = 2 * REPLAY_LOOKAHEAD as u64;
        let bytes = wal(bad);
        let expected: Vec<DecodedFrame> = frames(&bytes)
            .map(|scanned| {
                let scanned = scanned.unwrap();
                DecodedFrame {
                    offset: scanned.offset,
                    header: scanned.frame.header,
                    record: decode_record(scanned.frame.header.record_type, scanned.frame.payload),
                }
            })
            .collect();
        assert_eq!(expected.len() as u64, FRAMES);
        assert!(expected[bad as usize - 1].record.is_err());

        let mut window = window(&bytes);
        let got = drain(&mut window);
        assert_eq!(got.len(), expected.len());
        for (got, expected) in got.iter().zip(&expected) {
            let got = got.as_ref().unwrap();
            assert_eq!(got.offset, expected.offset);
            assert_eq!(got.header, expected.header);
            assert_eq!(got.record, expected.record);
        }
        assert!(window
            .next(&StateMachine::new(Config::small()).unwrap())
            .is_none());
        assert!(window.finish(bytes.len()).is_ok());
        assert!(matches!(
            window.finish(bytes.len() - 1),
            Err(OpenError::WalChanged { scanned_len }) if scanned_len == bytes.len() - 1
        ));
    }

    /// A log that now ends in a torn tail (the scan before saw it whole)
    /// is not the log the scan checked.
    #[test]
    fn a_torn_end_where_the_scan_saw_a_clean_one_is_a_changed_wal() {
        let mut bytes = wal(0);
        let scanned = bytes.len();
        bytes.truncate(scanned - 3);
        let mut window = window(&bytes);
        let got = drain(&mut window);
        assert_eq!(
            got.len() as u64,
            FRAMES - 1,
            "the torn frame is not replayed"
        );
        assert!(matches!(
            window.finish(scanned),
            Err(OpenError::WalChanged { scanned_len }) if scanned_len == scanned
        ));
    }

    /// A scan error ends the frames only after every frame before it.
    #[test]
    fn a_scan_error_comes_after_every_frame_before_it() {
        let mut bytes = wal(0);
        let good = bytes.len();
        let mut repeat = vec![0u8; crate::wal::MAX_FRAME_LEN];
        let len = encode_record_frame(Lsn(3), Slot(1), &create(3), &mut repeat);
        bytes.extend_from_slice(&repeat[..len]);

        let mut window = window(&bytes);
        let mut got = drain(&mut window);
        assert!(
            matches!(window.finish(good), Err(OpenError::WalChanged { .. })),
            "corruption is no clean end"
        );
        assert_eq!(got.len() as u64, FRAMES + 1);
        for (index, frame) in got[..FRAMES as usize].iter().enumerate() {
            assert_eq!(frame.as_ref().unwrap().header.lsn, Lsn(index as u64 + 1));
        }
        let Some(Err(WalReadError::Corruption(corruption))) = got.pop() else {
            panic!("the last item is the corruption");
        };
        assert_eq!(corruption.offset, good);
        assert!(matches!(
            corruption.kind,
            CorruptionKind::LsnNotIncreasing { .. }
        ));
    }
}
