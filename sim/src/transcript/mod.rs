//! The transcript: a header (seed, config, fault mix) and one line per step
//! (step, slot, action, outcome, LSN, state digest). Only values the run
//! itself decides go in: no clock, no paths, no hash-map order.

mod describe;
mod digest;

pub use describe::{
    describe_action, describe_applied, describe_command, point_label, read_fault_name,
    read_target_name,
};
pub use digest::{transcript_digest, TranscriptDigest};

use allocdb_core::engine::EngineConfig;
use allocdb_core::{Lsn, Slot};
use std::fmt::{Display, Write};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    text: String,
}

impl Transcript {
    pub fn new(seed: u64, config: &EngineConfig) -> Transcript {
        let mut transcript = Transcript::default();
        transcript.header(&format!("seed: {seed}"));
        transcript.header(&format!("config: {config:?}"));
        transcript
    }

    pub fn header(&mut self, line: &str) {
        let _ = writeln!(self.text, "# {line}");
    }

    pub fn step(
        &mut self,
        step: u64,
        slot: Slot,
        action: impl Display,
        outcome: impl Display,
        lsn: Option<Lsn>,
        digest: Option<u64>,
    ) {
        let text = &mut self.text;
        let _ = write!(
            text,
            "{step:>5} slot={:<4} {action} => {outcome} | lsn=",
            slot.0
        );
        let _ = match lsn {
            Some(lsn) => write!(text, "{}", lsn.0),
            None => text.write_str("-"),
        };
        let _ = match digest {
            Some(digest) => writeln!(text, " digest={digest:016x}"),
            None => writeln!(text, " digest=-"),
        };
    }

    /// A line that is not a step (an expectation checked, a verdict).
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.text, "      {line}");
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}
