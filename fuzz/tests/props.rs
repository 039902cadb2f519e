//! Each target under proptest: arbitrary byte vectors, and valid seed
//! inputs put through the mutation engine. A finding fails the case (and
//! proptest shrinks it); a known, unfixed bug (`KNOWN_BUGS`) is accepted so
//! it cannot hide new ones. A few hundred cases per test, a few seconds in
//! all.

use std::sync::OnceLock;

use allocdb_fuzz::mutate::fixup;
use allocdb_fuzz::{check_allowing_known, record_panic_locations, seeds, Mutator, Target};
use proptest::prelude::*;

const CASES: u32 = 300;

fn mutator(target: Target) -> &'static Mutator {
    static MUTATORS: OnceLock<Vec<Mutator>> = OnceLock::new();
    let all = MUTATORS.get_or_init(|| {
        Target::ALL
            .iter()
            .map(|&t| {
                let inputs = seeds::seeds(t, &seeds::workspace_root()).expect("seed inputs");
                Mutator::new(t, inputs)
            })
            .collect()
    });
    let index = Target::ALL
        .iter()
        .position(|&t| t == target)
        .expect("a target");
    &all[index]
}

/// Runs one input; known bugs pass (they have their own ignored tests).
fn run(target: Target, input: &[u8]) {
    record_panic_locations();
    let _ = check_allowing_known(target, input);
}

/// Arbitrary bytes, with the target's checksums repaired half the time
/// (random bytes never carry a valid CRC32C otherwise).
fn arbitrary(target: Target, mut bytes: Vec<u8>, repair: bool) {
    if repair {
        fixup(target, &mut bytes);
    }
    run(target, &bytes);
}

/// Input `iteration` of seed `seed`, past the unmutated seed inputs.
fn mutated(target: Target, seed: u64, iteration: u64) {
    let mutator = mutator(target);
    let iteration = mutator.seeds().len() as u64 + iteration;
    run(target, &mutator.input(seed, iteration));
}

/// Arbitrary bytes shaped like the target's input: a frame header's worth
/// of magic and version at the front, so some cases get past the first
/// checks.
fn shaped(target: Target, mut bytes: Vec<u8>) -> Vec<u8> {
    let prefix: &[u8] = match target {
        Target::WalFrame | Target::WalScan => b"ADBW\x01\x00",
        Target::Snapshot => b"ADBS\x01\x00\x00\x00",
        Target::Payload | Target::Scenario => b"",
    };
    if !bytes.is_empty() && bytes.len() % 2 == 0 {
        let n = prefix.len().min(bytes.len());
        bytes[..n].copy_from_slice(&prefix[..n]);
    }
    bytes
}

macro_rules! target_props {
    ($module:ident, $target:expr) => {
        mod $module {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]

                #[test]
                fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1200), repair in any::<bool>()) {
                    arbitrary($target, shaped($target, bytes), repair);
                }

                #[test]
                fn mutated_seed_inputs(seed in any::<u64>(), iteration in 0u64..1_000_000) {
                    mutated($target, seed, iteration);
                }
            }
        }
    };
}

target_props!(wal_frame, Target::WalFrame);
target_props!(wal_scan, Target::WalScan);
target_props!(payload, Target::Payload);
target_props!(snapshot, Target::Snapshot);
target_props!(scenario, Target::Scenario);

#[test]
fn arbitrary_text_scenarios() {
    // Text-shaped inputs for the RON parser: arbitrary strings over the
    // characters RON is made of.
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(CASES));
    runner
        .run(&"[A-Za-z0-9_(){}\\[\\]:,\" \n#!/*-]{0,300}", |text| {
            run(Target::Scenario, text.as_bytes());
            Ok(())
        })
        .expect("no finding");
}
