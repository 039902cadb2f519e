//! One target per decoder: `fn(&[u8]) -> Outcome`.
//!
//! A target never panics by design: bad input is an [`Outcome::Rejected`]
//! with a label naming the error. Every property a target checks is an
//! assertion, so a panic is a finding: either the decoder panicked (a), or
//! an accepted input did not round-trip (c), or a consistency check between
//! two views of the same decoder failed. Allocation (b) is checked outside
//! the target by [`crate::harness`], against [`Target::alloc_bound`].

use std::sync::OnceLock;

use allocdb_core::{Config, StateMachine};

use crate::alloc::measure;

pub mod payload;
pub mod scenario;
pub mod snapshot;
pub mod wal_frame;
pub mod wal_scan;

/// The configuration every core target decodes and restores against: the
/// simulator's small one (shard 0), which the seed inputs are built with.
pub const FUZZ_CONFIG: Config = Config::small();

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// One WAL frame: `wal::decode_frame`, then its payload.
    WalFrame,
    /// A whole WAL image: `wal::scan` and `wal::frames`, then the replay
    /// recovery does with the valid prefix (payload decode, LSN gap check,
    /// `StateMachine::apply`).
    WalScan,
    /// One frame payload: `wal::decode_record` under every record type.
    Payload,
    /// A snapshot file: `snapshot::format::decode`, then
    /// `StateMachine::restore`, then a few commands on the restored machine.
    Snapshot,
    /// A RON scenario: `allocdb_sim::scenario::parse` on the bytes as lossy
    /// UTF-8, then `to_ron` and `parse` again.
    Scenario,
}

impl Target {
    pub const ALL: [Target; 5] = [
        Target::WalFrame,
        Target::WalScan,
        Target::Payload,
        Target::Snapshot,
        Target::Scenario,
    ];

    /// The name on the command line and in `fuzz/findings/` and
    /// `fuzz/regressions/`.
    pub const fn name(self) -> &'static str {
        match self {
            Target::WalFrame => "wal_frame",
            Target::WalScan => "wal_scan",
            Target::Payload => "payload",
            Target::Snapshot => "snapshot",
            Target::Scenario => "scenario",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Runs the target on one input.
    pub fn run(self, input: &[u8]) -> Outcome {
        match self {
            Target::WalFrame => wal_frame::run(input),
            Target::WalScan => wal_scan::run(input),
            Target::Payload => payload::run(input),
            Target::Snapshot => snapshot::run(input),
            Target::Scenario => scenario::run(input),
        }
    }

    /// The most heap the target may hold at once for an input of `len`
    /// bytes; more is a finding. See [`AllocBound`] for each target's.
    pub fn alloc_bound(self) -> AllocBound {
        match self {
            // The frame and payload codecs are documented allocation-free,
            // and the checks here use stack buffers: no heap at all.
            Target::WalFrame | Target::Payload => AllocBound {
                per_input_byte: 0,
                fixed: 0,
            },
            // The scan is allocation-free; the replay allocates one state
            // machine for FUZZ_CONFIG in `new` and nothing in `apply`; the
            // audit's first digest builds the running digest's books.
            Target::WalScan => AllocBound {
                per_input_byte: 0,
                fixed: machine_bytes(),
            },
            // decode: the image's three vectors, preallocated from counts
            // that were checked against FUZZ_CONFIG first, so at most the
            // config's record bounds. Then the re-encoding (exactly the
            // input's length), the restored machine (fixed by the config),
            // restore's two sort buffers and export's image (record bounds
            // again). One input-length term; everything else is the config.
            Target::Snapshot => AllocBound {
                per_input_byte: 2,
                fixed: 3 * image_bytes(&FUZZ_CONFIG) + 2 * machine_bytes() + 64 * 1024,
            },
            // Text to a tree of `Vec`s and `String`s, twice (parse, then
            // parse of the re-written text) plus the re-written text. The
            // densest text is a list of tiny steps (`Tick,` is 5 bytes for
            // an `Entry` of `size_of::<Entry>()` bytes, in a `Vec` that may
            // be half empty and is briefly held twice while it grows), so the
            // factor is that ratio times two trees times three, plus the
            // parser's fixed buffers and error texts.
            Target::Scenario => AllocBound {
                per_input_byte: scenario::bytes_per_input_byte(),
                fixed: 256 * 1024,
            },
        }
    }
}

/// `per_input_byte * input.len() + fixed` bytes of heap held at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocBound {
    pub per_input_byte: u64,
    pub fixed: u64,
}

impl AllocBound {
    pub fn for_len(&self, len: usize) -> u64 {
        self.per_input_byte
            .saturating_mul(len as u64)
            .saturating_add(self.fixed)
    }
}

/// What a target made of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Decoded (and, where the target goes further, restored or replayed);
    /// every property held.
    Accepted,
    /// Refused with a typed error, named by the label.
    Rejected(&'static str),
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected(label) => label,
        }
    }
}

/// Heap a fresh `StateMachine` for [`FUZZ_CONFIG`] holds: every table,
/// bucket and ring, allocated once in `new`. Measured once (it depends only
/// on the config), with a quarter of slack for allocator rounding.
fn machine_bytes() -> u64 {
    static BYTES: OnceLock<u64> = OnceLock::new();
    *BYTES.get_or_init(|| {
        // With the running digest's books, which the audit's first digest
        // builds (sized by the config, like the tables).
        let (machine, stats) = measure(|| {
            let machine = StateMachine::new(FUZZ_CONFIG);
            if let Ok(machine) = &machine {
                machine.digest();
            }
            machine
        });
        drop(machine);
        stats.peak_bytes + stats.peak_bytes / 4
    })
}

/// Bytes of an `Image` holding every record the config allows.
fn image_bytes(config: &Config) -> u64 {
    use allocdb_core::{Lease, Operation, Resource};
    let records = [
        (config.max_resources, size_of::<Resource>()),
        (config.max_leases, size_of::<Lease>()),
        (config.max_operations, size_of::<Operation>()),
    ];
    records
        .iter()
        .map(|&(count, size)| u64::from(count) * size as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for target in Target::ALL {
            assert_eq!(Target::from_name(target.name()), Some(target));
        }
        assert_eq!(Target::from_name("nope"), None);
    }

    #[test]
    fn fixed_bounds_are_sane() {
        assert!(machine_bytes() > 0);
        assert!(machine_bytes() < 16 << 20, "{}", machine_bytes());
        assert!(image_bytes(&FUZZ_CONFIG) > 0);
    }
}
