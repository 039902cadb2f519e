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
use std::fmt::Write;

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
        action: &str,
        outcome: &str,
        lsn: Option<Lsn>,
        digest: Option<u64>,
    ) {
        let lsn = lsn.map_or("-".to_string(), |l| l.0.to_string());
        let digest = digest.map_or("-".to_string(), |d| format!("{d:016x}"));
        let _ = writeln!(
            self.text,
            "{step:>5} slot={:<4} {action} => {outcome} | lsn={lsn} digest={digest}",
            slot.0
        );
    }

    /// A line that is not a step (an expectation checked, a verdict).
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.text, "      {line}");
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}
