//! The determinism check: a seed run twice must write the same transcript,
//! byte for byte. Transcripts are compared by a digest of their own (not
//! the core's hash), and a difference names the first line that differs.

use crate::run::{run_seed, SeedReport, SeedSpec};
use crate::transcript::transcript_digest;
use std::fmt;

/// Two runs of one seed that wrote different transcripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub first_digest: u64,
    pub second_digest: u64,
    /// 1-based; the line of the shorter transcript past its end when one
    /// is a prefix of the other.
    pub line: usize,
    pub first: Option<String>,
    pub second: Option<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |line: &Option<String>| line.clone().unwrap_or_else(|| "(none)".to_string());
        write!(
            f,
            "not deterministic: the second run's transcript (digest {:016x}) differs from the first's ({:016x}) at line {}: first `{}`, second `{}`",
            self.second_digest,
            self.first_digest,
            self.line,
            shown(&self.first),
            shown(&self.second)
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
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            // Equal lines throughout: they differ in line endings only.
            (None, None) => {
                return Some(Divergence {
                    first_digest,
                    second_digest,
                    line,
                    first: None,
                    second: None,
                })
            }
            (x, y) => {
                return Some(Divergence {
                    first_digest,
                    second_digest,
                    line,
                    first: x.map(str::to_string),
                    second: y.map(str::to_string),
                })
            }
        }
    }
}

/// Runs `spec` twice (keeping files of the first run only, as asked):
/// the first report, and how the second run's transcript differs.
pub fn run_seed_twice(spec: &SeedSpec) -> (SeedReport, Option<Divergence>) {
    let first = run_seed(spec);
    let second = run_seed(&SeedSpec {
        keep_files: false,
        ..spec.clone()
    });
    let diverged = divergence(&first.transcript, &second.transcript);
    (first, diverged)
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
        assert_eq!(found.line, 3);
        assert_eq!(found.first.as_deref(), Some("    2 slot=0    tick => ok"));
        assert_eq!(found.second.as_deref(), Some("    2 slot=1    tick => ok"));
        assert_eq!(found.first_digest, transcript_digest(first));
        assert_ne!(found.first_digest, found.second_digest);
        assert!(found.to_string().contains("at line 3"), "{found}");
    }

    #[test]
    fn a_shorter_run_diverges_where_it_ends() {
        let found = divergence("a\nb\n", "a\n").expect("they differ");
        assert_eq!(
            (found.line, found.first.as_deref(), found.second),
            (2, Some("b"), None)
        );
    }

    #[test]
    fn a_seed_run_twice_is_the_same() {
        let (report, diverged) = run_seed_twice(&SeedSpec::new(3, 200));
        assert!(report.failure.is_none(), "{:?}", report.failure);
        assert_eq!(diverged, None);
    }
}
