//! The transcript: a header (seed, config, fault mix) and one line per step
//! (step, slot, action, outcome, LSN, state digest). Only values the run
//! itself decides go in: no clock, no paths, no hash-map order.

mod describe;
mod digest;

pub use describe::{
    describe_action, describe_applied, describe_command, describe_io_failure, io_effect_name,
    point_label, read_fault_name, read_target_name,
};
pub use digest::{transcript_digest, TranscriptDigest};

use crate::phase_clock::{self, Phase};
use allocdb_core::engine::EngineConfig;
use allocdb_core::{Lsn, Slot};
use std::fmt::{Display, Write};

/// What a run keeps of its transcript. Text and digest write the same
/// bytes in the same order, and the digest is of those bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranscriptMode {
    /// The text, for a person (replay, scenarios, a failure run again),
    /// and its digest.
    Text,
    /// Only the running digest of the text (`--check-determinism`,
    /// exploration): each line is folded as it is written and dropped, so
    /// nothing grows with the run.
    Digest,
    /// Nothing: no line is formatted and there is no digest. A sweep's
    /// passing seeds need neither, and formatting a line costs a twentieth
    /// of a step; a failed seed is run again to write its transcript.
    Off,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    mode: TranscriptMode,
    /// The text so far, in [`TranscriptMode::Text`].
    text: Option<String>,
    /// Of every byte written so far, kept or not.
    digest: TranscriptDigest,
    /// In [`TranscriptMode::Digest`], the line being written: each line
    /// is formatted here, folded and cleared, so its capacity is reused.
    line: String,
}

impl Transcript {
    /// A transcript with nothing written yet.
    pub fn empty(mode: TranscriptMode) -> Transcript {
        Transcript {
            mode,
            text: match mode {
                TranscriptMode::Text => Some(String::new()),
                TranscriptMode::Digest | TranscriptMode::Off => None,
            },
            digest: TranscriptDigest::new(),
            line: String::new(),
        }
    }

    pub fn new(mode: TranscriptMode, seed: u64, config: &EngineConfig) -> Transcript {
        let mut transcript = Transcript::empty(mode);
        transcript.header(format_args!("seed: {seed}"));
        transcript.header(format_args!("config: {config:?}"));
        transcript
    }

    pub fn header(&mut self, line: impl Display) {
        self.write_line(|out| writeln!(out, "# {line}"));
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
        self.write_line(|out| {
            write!(
                out,
                "{step:>5} slot={:<4} {action} => {outcome} | lsn=",
                slot.0
            )?;
            match lsn {
                Some(lsn) => write!(out, "{}", lsn.0)?,
                None => out.write_str("-")?,
            }
            match digest {
                Some(digest) => writeln!(out, " digest={digest:016x}"),
                None => writeln!(out, " digest=-"),
            }
        });
    }

    /// A line that is not a step (an expectation checked, a verdict).
    pub fn note(&mut self, line: impl Display) {
        self.write_line(|out| writeln!(out, "      {line}"));
    }

    pub fn mode(&self) -> TranscriptMode {
        self.mode
    }

    /// The digest of the text written so far, in text and digest mode:
    /// what [`transcript_digest`] of the text gives. None when off.
    pub fn digest(&self) -> Option<u64> {
        (self.mode != TranscriptMode::Off).then(|| self.digest.value())
    }

    /// The text, in [`TranscriptMode::Text`].
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    pub fn into_text(self) -> Option<String> {
        self.text
    }

    /// Writes one line where the mode keeps it (the text, or the reused
    /// line buffer) and folds its bytes into the digest.
    fn write_line(&mut self, write: impl FnOnce(&mut String) -> std::fmt::Result) {
        if self.mode == TranscriptMode::Off {
            return;
        }
        let _transcript = phase_clock::enter(Phase::Transcript);
        let out = match &mut self.text {
            Some(text) => text,
            None => &mut self.line,
        };
        let start = out.len();
        // Writing to a String cannot fail; a Display of ours never does.
        let _ = write(out);
        self.digest.fold(&out.as_bytes()[start..]);
        self.line.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(mode: TranscriptMode) -> Transcript {
        let mut transcript = Transcript::new(mode, 3, &EngineConfig::small());
        transcript.header("mix: none");
        for step in 1..=40 {
            let lsn = (step % 3 != 0).then_some(Lsn(step));
            let digest = (step % 5 != 0).then_some(step.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            transcript.step(
                step,
                Slot(step / 4),
                "tick",
                "expired 0 noop 0",
                lsn,
                digest,
            );
        }
        transcript.note("failed: nothing, this is a test");
        transcript
    }

    #[test]
    fn both_modes_digest_the_same_bytes_and_only_text_keeps_them() {
        let text = write(TranscriptMode::Text);
        let digest = write(TranscriptMode::Digest);
        let written = text.text().expect("text mode keeps the text");
        assert_eq!(text.digest(), Some(transcript_digest(written)));
        assert_eq!(digest.digest(), text.digest());
        assert_eq!(digest.text(), None);
        assert_eq!(digest.mode(), TranscriptMode::Digest);
        assert_eq!(written.lines().count(), 2 + 1 + 40 + 1);
        assert!(written.contains("\n    3 slot=0    tick => expired 0 noop 0 | lsn=- digest="));
        assert!(written.contains("\n    5 slot=1    tick => expired 0 noop 0 | lsn=5 digest=-\n"));
    }

    #[test]
    fn a_digest_mode_line_is_not_kept() {
        let mut transcript = Transcript::empty(TranscriptMode::Digest);
        transcript.note("a line");
        assert_eq!(transcript.line, "");
        assert_eq!(
            transcript.digest(),
            Some(transcript_digest("      a line\n"))
        );
    }

    #[test]
    fn an_off_transcript_writes_nothing_and_has_no_digest() {
        let off = write(TranscriptMode::Off);
        assert_eq!(off.mode(), TranscriptMode::Off);
        assert_eq!((off.text(), off.digest()), (None, None));
        assert_eq!(off.digest, TranscriptDigest::new(), "nothing was folded");
    }
}
