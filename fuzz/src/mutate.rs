//! The seeded mutation engine.
//!
//! Every input is a pure function of `(seed, iteration)`: iteration `i`
//! draws from ChaCha8 seeded with `seed` on stream `i`, so any finding can
//! be regenerated from the two numbers alone ([`Mutator::input`]), without
//! replaying the iterations before it. There is no feedback and no clock:
//! the pool is the target's valid seed inputs, fixed for the run.
//!
//! The first `seeds.len()` iterations are the seed inputs themselves. After
//! that, an iteration picks a seed input (or, rarely, random bytes) and
//! stacks one to three mutations on it (one time in four up to eight): bit
//! flips; byte swaps; bytes and little-endian
//! words set to interesting values (0, 0xFF, limits, and the formats' own
//! bounds such as 512, 513 and 16, 17); length fields set huge (at the
//! offsets each format keeps them, and anywhere); small arithmetic;
//! truncation; insertion of random, repeated or dictionary bytes; deletion;
//! duplication of a range; splicing with another seed input. For the
//! checksummed formats the result then usually gets its checksums repaired
//! ([`fixup`]), so mutations reach the checks behind the checksum instead
//! of all dying at it.

use allocdb_core::wal::{FRAME_HEADER_LEN, MAX_PAYLOAD_LEN};
use allocdb_sim::scenario::parse::{ACTION_NAMES, EXPECT_NAMES};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::targets::Target;

/// Inputs never grow past this; large enough for every seed input several
/// times over.
pub const MAX_INPUT_LEN: usize = 64 * 1024;

/// The only randomness of the fuzzer.
pub struct FuzzRng(ChaCha8Rng);

impl FuzzRng {
    /// The generator of iteration `iteration` of the run seeded `seed`.
    pub fn for_iteration(seed: u64, iteration: u64) -> FuzzRng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(iteration);
        FuzzRng(rng)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n`; `0` when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A position in `0..=len`.
    fn position(&mut self, len: usize) -> usize {
        self.below(len + 1)
    }

    fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

const INTERESTING_U8: &[u8] = &[
    0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 0x7F, 0x80, 0xFE, 0xFF,
];

const INTERESTING_U16: &[u16] = &[
    0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF,
];

const INTERESTING_U32: &[u32] = &[
    0,
    1,
    16,
    17,
    32,
    64,
    65,
    255,
    256,
    257,
    MAX_PAYLOAD_LEN as u32 - 1,
    MAX_PAYLOAD_LEN as u32,
    MAX_PAYLOAD_LEN as u32 + 1,
    0x7FFF,
    0xFFFF,
    0x0001_0000,
    0x0100_0000,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
];

const INTERESTING_U64: &[u64] = &[
    0,
    1,
    2,
    0xFFFF_FFFF,
    0x1_0000_0000,
    1 << 40,
    i64::MAX as u64,
    1 << 63,
    u64::MAX - 1,
    u64::MAX,
];

/// Values a length or count field can be set to: the huge ones.
const HUGE_LENGTHS: &[u32] = &[
    MAX_PAYLOAD_LEN as u32 + 1,
    0x0001_0000,
    0x0100_0000,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
];

/// Tokens for insertion into scenario text besides the step names (which
/// come from the parser's own lists): the structure, and numbers at the
/// limits of the types the fields use.
const SCENARIO_SYNTAX: &[&str] = &[
    "Scenario(",
    "steps: [",
    "config: Config(",
    "seed: ",
    "strict: false,",
    "selftest: WrongModel,",
    "Of(op: ",
    "WalFrameFromEnd(back: ",
    "SnapshotFromEnd(back: ",
    "#![enable(implicit_some)]\n",
    "#![enable(unwrap_newtypes)]\n",
    "Some(",
    "None",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "'",
    "r#",
    "// ",
    "/*",
    "*/",
    "\n",
    "0",
    "-1",
    "255",
    "256",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211455",
    "340282366920938463463374607431768211456",
    "0x",
    "0b",
    "1e9",
    "1.5",
    "_",
    "true",
    "max_resources: ",
    "max_ttl_slots: ",
    "max_submission_queue: ",
    "RecoveryAfterReplayedFrame(",
    "PartialAppend(bytes: ",
    "KeepPrefix(",
    "WalFrame(frame: ",
    "Snapshot(byte: ",
];

const BINARY_TOKENS: &[&[u8]] = &[b"ADBW", b"ADBS", &[1, 0], &[0; 8], &[0xFF; 8], &[0; 32]];

/// Builds inputs for one target from its seed inputs.
pub struct Mutator {
    target: Target,
    seeds: Vec<Vec<u8>>,
}

impl Mutator {
    pub fn new(target: Target, seeds: Vec<Vec<u8>>) -> Mutator {
        Mutator { target, seeds }
    }

    pub fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    /// The input of `iteration` in the run seeded `seed`.
    pub fn input(&self, seed: u64, iteration: u64) -> Vec<u8> {
        if let Some(input) = usize::try_from(iteration)
            .ok()
            .and_then(|i| self.seeds.get(i))
        {
            return input.clone();
        }
        let mut rng = FuzzRng::for_iteration(seed, iteration);
        let mut data = if self.seeds.is_empty() || rng.one_in(32) {
            let len = rng.below(1024);
            (0..len).map(|_| rng.byte()).collect()
        } else {
            rng.pick(&self.seeds).clone()
        };
        self.mutate(&mut rng, &mut data);
        data
    }

    /// Stacks one to three (one time in four, up to eight) mutations on
    /// `data`, then (usually, for checksummed formats) repairs the checksums.
    pub fn mutate(&self, rng: &mut FuzzRng, data: &mut Vec<u8>) {
        // Mostly a few, sometimes many: one mutation keeps an input close
        // to valid, a stack of them reaches farther.
        let most = if rng.one_in(4) { 8 } else { 3 };
        let count = 1 + rng.below(most);
        for _ in 0..count {
            self.mutate_once(rng, data);
        }
        data.truncate(MAX_INPUT_LEN);
        if self.has_checksums() && !rng.one_in(4) {
            fixup(self.target, data);
        }
    }

    fn has_checksums(&self) -> bool {
        matches!(
            self.target,
            Target::WalFrame | Target::WalScan | Target::Snapshot
        )
    }

    fn mutate_once(&self, rng: &mut FuzzRng, data: &mut Vec<u8>) {
        let len = data.len();
        match rng.below(15) {
            // Flip one bit.
            0 | 1 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            // A byte set to an interesting value.
            2 if len > 0 => {
                let at = rng.below(len);
                data[at] = *rng.pick(INTERESTING_U8);
            }
            // A little-endian word set to an interesting value.
            3 => {
                let word: Vec<u8> = match rng.below(3) {
                    0 => rng.pick(INTERESTING_U16).to_le_bytes().to_vec(),
                    1 => rng.pick(INTERESTING_U32).to_le_bytes().to_vec(),
                    _ => rng.pick(INTERESTING_U64).to_le_bytes().to_vec(),
                };
                overwrite(rng, data, &word);
            }
            // A length or count field set huge.
            4 => self.huge_length(rng, data),
            // Swap two bytes.
            5 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                data.swap(a, b);
            }
            // Small arithmetic on a byte.
            6 if len > 0 => {
                let at = rng.below(len);
                let delta = 1 + rng.below(16) as u8;
                data[at] = if rng.one_in(2) {
                    data[at].wrapping_add(delta)
                } else {
                    data[at].wrapping_sub(delta)
                };
            }
            // Truncate.
            7 => data.truncate(rng.position(len)),
            // Insert random bytes or a run of one byte.
            8 => {
                let at = rng.position(len);
                let n = 1 + rng.below(32);
                let bytes: Vec<u8> = if rng.one_in(2) {
                    vec![*rng.pick(INTERESTING_U8); n]
                } else {
                    (0..n).map(|_| rng.byte()).collect()
                };
                data.splice(at..at, bytes);
            }
            // Delete a range.
            9 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                data.drain(at..at + n);
            }
            // Duplicate a range somewhere else.
            10 if len > 0 => {
                let from = rng.below(len);
                let n = 1 + rng.below((len - from).min(128));
                let chunk = data[from..from + n].to_vec();
                let at = rng.position(len);
                data.splice(at..at, chunk);
            }
            // Splice: this input's head, another seed's tail; or a chunk of
            // another seed inserted.
            11 | 12 if !self.seeds.is_empty() => {
                let other = rng.pick(&self.seeds);
                if rng.one_in(2) {
                    let keep = rng.position(len);
                    let from = rng.position(other.len());
                    data.truncate(keep);
                    data.extend_from_slice(&other[from..]);
                } else {
                    let from = rng.position(other.len());
                    let n = rng.below(other.len() - from + 1).min(256);
                    let at = rng.position(len);
                    data.splice(at..at, other[from..from + n].iter().copied());
                }
            }
            // A dictionary token, inserted or written over.
            13 | 14 => {
                let token: &[u8] = if self.target == Target::Scenario {
                    let mut tokens = ACTION_NAMES
                        .iter()
                        .chain(EXPECT_NAMES)
                        .chain(SCENARIO_SYNTAX);
                    let count = ACTION_NAMES.len() + EXPECT_NAMES.len() + SCENARIO_SYNTAX.len();
                    tokens
                        .nth(rng.below(count))
                        .expect("below count")
                        .as_bytes()
                } else {
                    rng.pick::<&[u8]>(BINARY_TOKENS)
                };
                if rng.one_in(2) {
                    let at = rng.position(len);
                    data.splice(at..at, token.iter().copied());
                } else {
                    overwrite(rng, data, token);
                }
            }
            // A guarded arm whose guard failed: flip a bit if possible.
            _ if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            _ => data.push(rng.byte()),
        }
    }

    /// Writes a huge value into a field the format reads as a length or
    /// count, or, for text, a huge number into the text.
    fn huge_length(&self, rng: &mut FuzzRng, data: &mut Vec<u8>) {
        let huge = *rng.pick(HUGE_LENGTHS);
        match self.target {
            Target::WalFrame | Target::WalScan => {
                let starts = frame_starts(data);
                let start = if starts.is_empty() {
                    0
                } else {
                    *rng.pick(&starts)
                };
                write_at(data, start + 24, &huge.to_le_bytes());
            }
            Target::Snapshot => {
                // resource_count, lease_count, operation_count.
                let at = *rng.pick(&[40usize, 44, 48]);
                write_at(data, at, &huge.to_le_bytes());
            }
            Target::Payload => {
                // A reserve's count byte.
                write_at(data, 57, &[*rng.pick(&[17u8, 0x80, 0xFF])]);
            }
            Target::Scenario => {
                let number = rng.pick(&[
                    "4294967296",
                    "18446744073709551616",
                    "340282366920938463463374607431768211456",
                    "99999999999999999999999999999999999999999999999999",
                ]);
                let at = digit_position(rng, data);
                data.splice(at..at, number.bytes());
            }
        }
    }
}

/// Writes `bytes` at a random position, growing `data` if it runs past
/// the end.
fn overwrite(rng: &mut FuzzRng, data: &mut Vec<u8>, bytes: &[u8]) {
    let at = rng.position(data.len());
    write_at(data, at, bytes);
}

fn write_at(data: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    let end = at + bytes.len();
    if data.len() < end {
        data.resize(end, 0);
    }
    data[at..end].copy_from_slice(bytes);
}

/// A position just before a digit, or anywhere when there is none.
fn digit_position(rng: &mut FuzzRng, data: &[u8]) -> usize {
    let digits: Vec<usize> = (0..data.len())
        .filter(|&i| data[i].is_ascii_digit())
        .collect();
    if digits.is_empty() {
        rng.position(data.len())
    } else {
        *rng.pick(&digits)
    }
}

/// Offsets where a frame header plausibly starts: walking from 0 by the
/// `payload_len` each header claims, while it stays within the bound and
/// the input.
fn frame_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    while at + FRAME_HEADER_LEN <= data.len() {
        starts.push(at);
        let len = u32::from_le_bytes([data[at + 24], data[at + 25], data[at + 26], data[at + 27]])
            as usize;
        if len > MAX_PAYLOAD_LEN || at + FRAME_HEADER_LEN + len > data.len() {
            break;
        }
        at += FRAME_HEADER_LEN + len;
    }
    starts
}

/// Repairs the checksums of a mutated input so it gets past them: every
/// frame `frame_starts` finds (WAL targets), or the snapshot's trailer.
/// Other targets have none.
pub fn fixup(target: Target, data: &mut [u8]) {
    match target {
        Target::WalFrame | Target::WalScan => {
            for start in frame_starts(data) {
                let len = u32::from_le_bytes([
                    data[start + 24],
                    data[start + 25],
                    data[start + 26],
                    data[start + 27],
                ]) as usize;
                let end = start + FRAME_HEADER_LEN + len;
                if len > MAX_PAYLOAD_LEN || end > data.len() {
                    continue;
                }
                let crc = crc32c::crc32c_append(
                    crc32c::crc32c(&data[start..start + 28]),
                    &data[start + FRAME_HEADER_LEN..end],
                );
                data[start + 28..start + 32].copy_from_slice(&crc.to_le_bytes());
                if target == Target::WalFrame {
                    break;
                }
            }
        }
        Target::Snapshot => {
            if data.len() >= 4 {
                let body = data.len() - 4;
                let crc = crc32c::crc32c(&data[..body]);
                data[body..].copy_from_slice(&crc.to_le_bytes());
            }
        }
        Target::Payload | Target::Scenario => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_iteration_give_the_same_input() {
        let mutator = Mutator::new(Target::WalFrame, vec![vec![1, 2, 3, 4], vec![9; 40]]);
        for iteration in 0..200 {
            assert_eq!(
                mutator.input(7, iteration),
                mutator.input(7, iteration),
                "iteration {iteration}"
            );
        }
        let differ = (2..200)
            .filter(|&i| mutator.input(7, i) != mutator.input(8, i))
            .count();
        assert!(differ > 150, "{differ}");
    }

    #[test]
    fn the_first_iterations_are_the_seeds() {
        let seeds = vec![vec![1, 2, 3], vec![4, 5]];
        let mutator = Mutator::new(Target::Payload, seeds.clone());
        assert_eq!(mutator.input(0, 0), seeds[0]);
        assert_eq!(mutator.input(99, 1), seeds[1]);
    }

    #[test]
    fn inputs_stay_under_the_cap() {
        let mutator = Mutator::new(Target::Scenario, vec![vec![b'a'; MAX_INPUT_LEN]]);
        for iteration in 1..300 {
            assert!(mutator.input(3, iteration).len() <= MAX_INPUT_LEN);
        }
    }

    #[test]
    fn fixup_repairs_a_snapshot_trailer() {
        let mut data = vec![5u8; 20];
        fixup(Target::Snapshot, &mut data);
        let crc = crc32c::crc32c(&data[..16]);
        assert_eq!(&data[16..], &crc.to_le_bytes());
    }
}
