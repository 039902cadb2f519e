//! The determinism check: a seed run twice must write the same transcript,
//! byte for byte. Transcripts are compared by a digest of their own (not
//! the core's hash), and a difference names the first line that differs.
//!
//! A sweep keeps only the digests. When they differ, the seed runs twice
//! more keeping the text, which names the line; runs are deterministic
//! unless this check is failing, so the difference usually comes back.
//! When it does not, the divergence is still reported, by its digests.

use crate::driver::Simulator;
use crate::run::{run_seed, run_seed_watched, SeedReport, SeedSpec};
use crate::transcript::{transcript_digest, TranscriptMode};
use std::fmt;

/// Two runs of one seed that wrote different transcripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub first_digest: u64,
    pub second_digest: u64,
    /// Where the texts part; `None` when the runs kept only their digests
    /// and two more runs keeping the text wrote the same text.
    pub line: Option<DifferingLine>,
}

/// The first line two transcripts differ at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DifferingLine {
    /// 1-based; the line of the shorter transcript past its end when one
    /// is a prefix of the other.
    pub number: usize,
    pub first: Option<String>,
    pub second: Option<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not deterministic: the second run's transcript (digest {:016x}) differs from the first's ({:016x})",
            self.second_digest, self.first_digest,
        )?;
        let Some(line) = &self.line else {
            return f.write_str(
                "; run twice more keeping the text, it wrote the same text both times, so no line can be named",
            );
        };
        let shown = |line: &Option<String>| line.clone().unwrap_or_else(|| "(none)".to_string());
        write!(
            f,
            " at line {}: first `{}`, second `{}`",
            line.number,
            shown(&line.first),
            shown(&line.second)
        )
    }
}

/// Where two transcripts part, if they do.
pub fn divergence(first: &str, second: &str) -> Option<Divergence> {
    let (first_digest, second_digest) = (transcript_digest(first), transcript_digest(second));
    if first_digest == second_digest && first == second {
        return None;
    }
    let mut a = first.lines();
    let mut b = second.lines();
    let mut number = 1;
    let line = loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => number += 1,
            // Equal lines throughout: they differ in line endings only.
            (None, None) => {
                break DifferingLine {
                    number,
                    first: None,
                    second: None,
                }
            }
            (x, y) => {
                break DifferingLine {
                    number,
                    first: x.map(str::to_string),
                    second: y.map(str::to_string),
                }
            }
        }
    };
    Some(Divergence {
        first_digest,
        second_digest,
        line: Some(line),
    })
}

/// Runs `spec` twice (keeping files of the first run only, as asked):
/// the first report, and how the second run's transcript differs.
pub fn run_seed_twice(spec: &SeedSpec) -> (SeedReport, Option<Divergence>) {
    run_twice_with(spec, &mut run_seed)
}

/// [`run_seed_twice`], each run watched as [`run_seed_watched`] watches
/// it (a watchdog's step mark).
pub fn run_seed_twice_watched(
    spec: &SeedSpec,
    watch: &mut dyn FnMut(&Simulator) -> bool,
) -> (SeedReport, Option<Divergence>) {
    run_twice_with(spec, &mut |spec| run_seed_watched(spec, watch))
}

/// [`run_seed_twice`] with `run` for [`run_seed`]: a test plants a
/// nondeterminism there.
fn run_twice_with(
    spec: &SeedSpec,
    run: &mut dyn FnMut(&SeedSpec) -> SeedReport,
) -> (SeedReport, Option<Divergence>) {
    // The runs are compared by what they write: each writes its digest at
    // least.
    let spec = &SeedSpec {
        transcript: match spec.transcript {
            TranscriptMode::Off => TranscriptMode::Digest,
            kept => kept,
        },
        ..spec.clone()
    };
    let first = run(spec);
    let again = SeedSpec {
        keep_files: false,
        ..spec.clone()
    };
    let second = run(&again);
    let (a, b) = (&first.transcript, &second.transcript);
    let diverged = match (a.text(), b.text()) {
        (Some(a), Some(b)) => divergence(a, b),
        _ if a.digest() == b.digest() => None,
        _ => Some(Divergence {
            first_digest: a.digest().expect("written in digest mode"),
            second_digest: b.digest().expect("written in digest mode"),
            line: differing_line_kept(&again, run),
        }),
    };
    (first, diverged)
}

/// Runs `spec` twice more keeping the text, for the line two runs that
/// kept only digests differed at (if they differ again).
fn differing_line_kept(
    spec: &SeedSpec,
    run: &mut dyn FnMut(&SeedSpec) -> SeedReport,
) -> Option<DifferingLine> {
    let spec = SeedSpec {
        transcript: TranscriptMode::Text,
        ..spec.clone()
    };
    let first = run(&spec).transcript.into_text().unwrap_or_default();
    let second = run(&spec).transcript.into_text().unwrap_or_default();
    divergence(&first, &second).and_then(|d| d.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_transcripts_do_not_diverge() {
        let text = "# seed: 1\n    1 slot=0    tick => ok\n";
        assert_eq!(divergence(text, text), None);
    }

    #[test]
    fn a_changed_line_is_named() {
        let first = "# seed: 1\n    1 slot=0    tick => ok\n    2 slot=0    tick => ok\n";
        let second = "# seed: 1\n    1 slot=0    tick => ok\n    2 slot=1    tick => ok\n";
        let found = divergence(first, second).expect("they differ");
        let line = found.line.clone().expect("texts name the line");
        assert_eq!(line.number, 3);
        assert_eq!(line.first.as_deref(), Some("    2 slot=0    tick => ok"));
        assert_eq!(line.second.as_deref(), Some("    2 slot=1    tick => ok"));
        assert_eq!(found.first_digest, transcript_digest(first));
        assert_ne!(found.first_digest, found.second_digest);
        assert!(found.to_string().contains("at line 3"), "{found}");
    }

    #[test]
    fn a_shorter_run_diverges_where_it_ends() {
        let line = divergence("a\nb\n", "a\n")
            .and_then(|d| d.line)
            .expect("they differ");
        assert_eq!(
            (line.number, line.first.as_deref(), line.second),
            (2, Some("b"), None)
        );
    }

    #[test]
    fn a_seed_run_twice_is_the_same() {
        for transcript in [TranscriptMode::Digest, TranscriptMode::Text] {
            let (report, diverged) = run_seed_twice(&SeedSpec {
                transcript,
                ..SeedSpec::new(3, 200)
            });
            assert!(report.failure.is_none(), "{:?}", report.failure);
            assert_eq!(report.transcript.mode(), transcript);
            assert_eq!(diverged, None);
        }
    }

    /// `run_seed`, except that the runs numbered in `planted` (from 0)
    /// run the next seed: a nondeterminism that changes the transcript
    /// from its first line on. Counts every run.
    fn planted<'a>(
        planted: &'a [usize],
        runs: &'a mut Vec<TranscriptMode>,
    ) -> impl FnMut(&SeedSpec) -> SeedReport + 'a {
        move |spec| {
            let seed = spec.seed + u64::from(planted.contains(&runs.len()));
            runs.push(spec.transcript);
            run_seed(&SeedSpec {
                seed,
                ..spec.clone()
            })
        }
    }

    /// Two digest runs differ; so do the two runs that keep the text, and
    /// they name the line (the seed's header, here).
    #[test]
    fn digests_that_differ_are_run_again_for_the_line() {
        let spec = SeedSpec::new(3, 100);
        let mut runs = Vec::new();
        let (report, diverged) = run_twice_with(&spec, &mut planted(&[1, 3], &mut runs));
        let diverged = diverged.expect("the second run ran another seed");
        assert_eq!(
            runs,
            [
                TranscriptMode::Digest,
                TranscriptMode::Digest,
                TranscriptMode::Text,
                TranscriptMode::Text
            ]
        );
        assert_eq!(report.seed, 3);
        assert_eq!(Some(diverged.first_digest), report.transcript.digest());
        assert_ne!(diverged.first_digest, diverged.second_digest);
        let line = diverged.line.clone().expect("the text runs differ too");
        assert_eq!(line.number, 1);
        assert_eq!(line.first.as_deref(), Some("# seed: 3"));
        assert_eq!(line.second.as_deref(), Some("# seed: 4"));
        assert!(diverged.to_string().contains("at line 1"), "{diverged}");
    }

    /// A difference the text runs do not meet again is still a failure,
    /// told by its two digests.
    #[test]
    fn digests_that_differ_once_are_still_a_divergence() {
        let spec = SeedSpec::new(3, 100);
        let mut runs = Vec::new();
        let (report, diverged) = run_twice_with(&spec, &mut planted(&[1], &mut runs));
        let diverged = diverged.expect("the second run ran another seed");
        assert_eq!(runs.len(), 4);
        assert_eq!(diverged.line, None);
        assert_eq!(Some(diverged.first_digest), report.transcript.digest());
        let four = run_seed(&SeedSpec::new(4, 100));
        assert_eq!(Some(diverged.second_digest), four.transcript.digest());
        let shown = diverged.to_string();
        assert!(
            shown.contains(&format!("{:016x}", diverged.first_digest))
                && shown.contains(&format!("{:016x}", diverged.second_digest))
                && shown.contains("no line can be named"),
            "{shown}"
        );
    }

    /// Runs that keep the text are compared by it, with no runs again.
    #[test]
    fn text_runs_that_differ_name_the_line_themselves() {
        let spec = SeedSpec {
            transcript: TranscriptMode::Text,
            ..SeedSpec::new(3, 100)
        };
        let mut runs = Vec::new();
        let (_, diverged) = run_twice_with(&spec, &mut planted(&[1], &mut runs));
        assert_eq!(runs.len(), 2);
        let line = diverged.and_then(|d| d.line).expect("named from the texts");
        assert_eq!(line.number, 1);
    }
}
