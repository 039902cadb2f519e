//! Which seeds a sweep runs, in the order workers claim them: a range
//! (with or without an end), this shard's share of it, and for
//! `--seeds random` the base seed drawn once from the OS.

use crate::args::{SeedsArg, Shard};
use crate::error::Error;
use std::fmt;
use std::io::Read;

/// Seeds a sweep runs when `--seeds` does not say: `0..DEFAULT_COUNT`,
/// and the same count from a random base.
pub const DEFAULT_COUNT: u64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedPlan {
    pub start: u64,
    /// Excluded; `None`: on until the time budget ends.
    pub end: Option<u64>,
    pub shard: Option<Shard>,
    /// The base seed was drawn from the OS (`--seeds random`).
    pub drawn: bool,
}

impl SeedPlan {
    /// The plan `--seeds`, `--shard` and `--for` (`timed`) ask for.
    pub fn new(
        seeds: Option<SeedsArg>,
        shard: Option<Shard>,
        timed: bool,
    ) -> Result<SeedPlan, Error> {
        let (start, end, drawn) = match seeds {
            None if timed => (0, None, false),
            None => (0, Some(DEFAULT_COUNT), false),
            Some(SeedsArg::Range { start, end: None }) if !timed => {
                return Err(Error::Usage(format!(
                    "--seeds {start}.. has no end: give one, or a time budget with --for"
                )))
            }
            Some(SeedsArg::Range { start, end }) => (start, end, false),
            Some(SeedsArg::Random) => {
                let base = random_base()?;
                let end = (!timed).then(|| base + DEFAULT_COUNT);
                (base, end, true)
            }
        };
        Ok(SeedPlan {
            start,
            end,
            shard,
            drawn,
        })
    }

    /// The `index`-th seed this shard runs, if the range has one.
    pub fn nth(&self, index: u64) -> Option<u64> {
        let (offset, stride) = self.shard.map_or((0, 1), |s| (s.index - 1, s.count));
        let seed = index
            .checked_mul(stride)
            .and_then(|n| n.checked_add(offset))
            .and_then(|n| n.checked_add(self.start))?;
        self.end.is_none_or(|end| seed < end).then_some(seed)
    }

    /// How many seeds this shard runs, when the range has an end.
    pub fn len(&self) -> Option<u64> {
        let end = self.end?;
        let (offset, stride) = self.shard.map_or((0, 1), |s| (s.index - 1, s.count));
        let span = end - self.start;
        Some(span.saturating_sub(offset).div_ceil(stride))
    }

    /// The `--seeds` value that runs this range again.
    pub fn seeds_flag(&self) -> String {
        match self.end {
            Some(end) => format!("{}..{end}", self.start),
            None => format!("{}..", self.start),
        }
    }
}

impl fmt::Display for SeedPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end {
            Some(end) => write!(f, "{}..{end}", self.start)?,
            None => write!(f, "{} on", self.start)?,
        }
        if let Some(shard) = self.shard {
            write!(f, ", shard {}/{}", shard.index, shard.count)?;
        }
        Ok(())
    }
}

/// A base seed from the OS's randomness, below 2^63 so that a range of
/// seeds after it never wraps.
fn random_base() -> Result<u64, Error> {
    let path = std::path::Path::new("/dev/urandom");
    let mut bytes = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut bytes))
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(u64::from_le_bytes(bytes) >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(start: u64, end: Option<u64>, shard: Option<Shard>) -> SeedPlan {
        SeedPlan {
            start,
            end,
            shard,
            drawn: false,
        }
    }

    #[test]
    fn a_range_is_claimed_in_order_and_ends() {
        let range = plan(5, Some(8), None);
        let seeds: Vec<u64> = (0..10).map_while(|i| range.nth(i)).collect();
        assert_eq!(seeds, [5, 6, 7]);
        assert_eq!(range.len(), Some(3));
        assert_eq!(plan(5, None, None).nth(1_000_000), Some(1_000_005));
        assert_eq!(plan(u64::MAX - 1, None, None).nth(5), None);
    }

    #[test]
    fn a_shard_runs_its_share_and_no_other() {
        let shard = Shard::parse("2/3").unwrap();
        let share = plan(10, Some(20), Some(shard));
        let seeds: Vec<u64> = (0..10).map_while(|i| share.nth(i)).collect();
        assert_eq!(seeds, [11, 14, 17]);
        assert_eq!(share.len(), Some(3));
        assert!(seeds.iter().all(|&s| shard.holds(10, s)));
    }

    #[test]
    fn an_open_range_needs_a_time_budget() {
        let open = Some(SeedsArg::Range {
            start: 3,
            end: None,
        });
        assert!(SeedPlan::new(open, None, false).is_err());
        assert_eq!(SeedPlan::new(open, None, true).unwrap().end, None);
        assert_eq!(SeedPlan::new(None, None, true).unwrap().end, None);
        assert_eq!(
            SeedPlan::new(None, None, false).unwrap().end,
            Some(DEFAULT_COUNT)
        );
    }

    #[test]
    fn a_random_base_is_drawn_and_can_be_repeated() {
        let drawn = SeedPlan::new(Some(SeedsArg::Random), None, false).unwrap();
        assert!(drawn.drawn);
        assert_eq!(drawn.end, Some(drawn.start + DEFAULT_COUNT));
        let again = SeedsArg::parse(&drawn.seeds_flag()).unwrap();
        let again = SeedPlan::new(Some(again), None, false).unwrap();
        assert_eq!((again.start, again.end), (drawn.start, drawn.end));
    }
}
