//! Fuzzing AllocDB's decoders on the stable toolchain (no cargo-fuzz, no
//! coverage feedback): seeded mutation of valid inputs, in process.
//!
//! * [`targets`]: one `fn(&[u8]) -> Outcome` per decoder (`wal_frame`,
//!   `wal_scan`, `payload`, `snapshot`, `scenario`), each checking its
//!   properties by assertion: no panic, accepted inputs round-trip.
//! * [`alloc`]: the counting global allocator (installed by linking this
//!   crate) and [`harness`]: one input run with panics caught and its peak
//!   heap checked against the target's bound.
//! * [`mutate`]: the ChaCha8 mutation engine; input `i` of seed `s` is a
//!   pure function of `(s, i)`.
//! * [`seeds`]: valid seed inputs encoded from a real workload, and the
//!   repository's scenario files.
//! * [`known`]: bugs found and not yet fixed, with their regression inputs.
//!
//! `cargo xtask fuzz TARGET --seconds N [--seed S]` drives a [`Campaign`];
//! `fuzz/regressions/TARGET/*.bin` run as tests.

#[allow(unsafe_code)]
pub mod alloc;
pub mod harness;
pub mod known;
pub mod mutate;
pub mod seeds;
pub mod targets;

use std::path::{Path, PathBuf};

pub use harness::{
    check, check_allowing_known, minimise, record_panic_locations, run_one, Finding, FindingKind,
    QuietPanics,
};
pub use known::{known_bug, KnownBug, KNOWN_BUGS};
pub use mutate::Mutator;
pub use seeds::SeedError;
pub use targets::{AllocBound, Outcome, Target};

/// One target's inputs for one seed.
pub struct Campaign {
    pub target: Target,
    pub seed: u64,
    mutator: Mutator,
}

impl Campaign {
    /// Builds the target's seed inputs (scenario files from `root`).
    pub fn new(target: Target, seed: u64, root: &Path) -> Result<Campaign, SeedError> {
        let inputs = seeds::seeds(target, root)?;
        Ok(Campaign {
            target,
            seed,
            mutator: Mutator::new(target, inputs),
        })
    }

    pub fn seed_inputs(&self) -> usize {
        self.mutator.seeds().len()
    }

    /// The input of `iteration`: the same for the same seed, every time.
    pub fn input(&self, iteration: u64) -> Vec<u8> {
        self.mutator.input(self.seed, iteration)
    }

    /// Runs iteration `iteration`; on a finding, also returns its input.
    pub fn run(&self, iteration: u64) -> Result<Outcome, (Finding, Vec<u8>)> {
        let input = self.input(iteration);
        run_one(self.target, &input).map_err(|finding| (finding, input))
    }
}

/// `fuzz/regressions/TARGET/` under the workspace root.
pub fn regressions_dir(root: &Path, target: Target) -> PathBuf {
    root.join("fuzz").join("regressions").join(target.name())
}

/// `fuzz/findings/TARGET/` under the workspace root.
pub fn findings_dir(root: &Path, target: Target) -> PathBuf {
    root.join("fuzz").join("findings").join(target.name())
}

/// The file name of a finding: `<seed>-<iteration>.bin`.
pub fn finding_file_name(seed: u64, iteration: u64) -> String {
    format!("{seed}-{iteration}.bin")
}
