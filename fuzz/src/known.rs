//! Bugs the fuzzer found in the code under test and that are not fixed
//! yet. Each has a minimised input in `fuzz/regressions/TARGET/` that the
//! regression tests run as an ignored test naming the bug; the glob test
//! skips it, and the property tests accept its signature, so a known bug
//! does not hide new ones behind a red test. `cargo xtask fuzz` still
//! counts them as findings and says which known bug each one is.
//!
//! When a bug is fixed: delete its entry here, and its regression file
//! then runs (and must pass) with the others.

use crate::harness::Finding;
use crate::targets::Target;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownBug {
    pub target: Target,
    /// The file name in `fuzz/regressions/TARGET/`.
    pub file: &'static str,
    /// The finding signature it produces (where it panics).
    pub signature: &'static str,
    pub summary: &'static str,
}

pub const KNOWN_BUGS: &[KnownBug] = &[];

/// The known bug a finding is, if any.
pub fn known_bug(finding: &Finding) -> Option<&'static KnownBug> {
    KNOWN_BUGS
        .iter()
        .find(|bug| bug.target == finding.target && finding.signature == bug.signature)
}
