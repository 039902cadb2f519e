//! Argument types shared by the simulator commands, each with a parser
//! whose error says what was expected (clap shows it and exits with 2).

use allocdb_sim::driver::{AuditCadence, SelfTest};
use allocdb_sim::fs_model::SyncSite;
use allocdb_sim::run::SeedSpec;
use allocdb_sim::workload::config::ConfigChoice;
use allocdb_sim::workload::mix::FaultSelection;
use clap::{ArgGroup, Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `--seeds`: `START..END` (END excluded), `START..` (no end: only with
/// `--for`), or `random` (a base seed drawn once from the OS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedsArg {
    Range { start: u64, end: Option<u64> },
    Random,
}

impl SeedsArg {
    pub fn parse(text: &str) -> Result<SeedsArg, String> {
        let expected =
            "expected START..END (END excluded, e.g. 0..10000), START.. (with --for) or `random`";
        if text.trim() == "random" {
            return Ok(SeedsArg::Random);
        }
        let (start, end) = text
            .split_once("..")
            .ok_or_else(|| format!("`{text}`: {expected}"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{part}` is not a seed (0 to 2^64-1): {expected}"))
        };
        let start = number(start)?;
        if end.trim().is_empty() {
            return Ok(SeedsArg::Range { start, end: None });
        }
        let end = number(end)?;
        if start >= end {
            return Err(format!(
                "`{text}` is empty: START must be below END ({expected})"
            ));
        }
        Ok(SeedsArg::Range {
            start,
            end: Some(end),
        })
    }
}

/// `--for`: a wall-clock budget such as `90s`, `30m` or `2h`.
pub fn duration(text: &str) -> Result<Duration, String> {
    let expected = "expected a whole number with a unit, e.g. 90s, 30m or 2h";
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit: {expected}"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: {expected}"))?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        _ => return Err(format!("`{text}`: unknown unit `{unit}`: {expected}")),
    }
    .ok_or_else(|| format!("`{text}` is too long"))?;
    if seconds == 0 {
        return Err(format!("`{text}` is no time at all: {expected}"));
    }
    Ok(Duration::from_secs(seconds))
}

/// `--seed-timeout SECS`: at least one second.
pub fn seed_timeout(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
        _ => Err(format!(
            "`{text}`: expected a number of seconds, at least 1"
        )),
    }
}

/// `--audit-every N`: the full audit every Nth step (besides restarts,
/// checkpoints, fault actions and a seed's last step), N at least 1.
pub fn audit_every(text: &str) -> Result<AuditCadence, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .and_then(AuditCadence::every)
        .ok_or_else(|| format!("`{text}`: expected a number of steps, at least 1"))
}

/// `I/N`: the I-th of N disjoint shares of a seed range (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard, String> {
        let expected = "expected I/N with 1 <= I <= N, e.g. 2/4";
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}`: {expected}"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("`{part}` is not a number: {expected}"))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("`{text}` is not a shard: {expected}"));
        }
        Ok(Shard { index, count })
    }

    /// Seed `seed` of a range starting at `start` belongs to this shard:
    /// seeds are dealt out in turn, so every shard gets an even share
    /// (`SeedPlan::nth` deals them so; the tests hold it to this).
    #[cfg(test)]
    pub fn holds(&self, start: u64, seed: u64) -> bool {
        (seed - start) % self.count == self.index - 1
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SelfTestArg {
    /// The reference model predicts a deadline one slot late for every
    /// successful reserve: every oracle path fires on a sound engine.
    WrongModel,
    /// The model predicts an epoch one too high for every successful
    /// activate.
    WrongActivate,
    /// The simulator expects a flipped bit to change nothing.
    CallDamageLegal,
    /// The model's digest is one off.
    SkewDigest,
    /// The record comparison reads every resource's version one higher.
    SkewRecord,
    /// The early-expiry check takes every deadline one slot late.
    LateDeadline,
    /// The books expect a flip's corruption one frame late.
    MisplaceDamage,
    /// The books count every appended frame one byte long.
    MiscountFrame,
    /// The simulator panics after every checkpoint that succeeds.
    SimulatorPanic,
    /// Every restart trips one of the core's own assertions (a second
    /// observer of the engine's directory, which its fault seam forbids).
    EngineAssertion,
    /// The simulator never returns from a checkpoint that succeeds: only
    /// the watchdog (`--seed-timeout`) ends the run.
    Hang,
    /// The file-system model ignores every sync at the `wal_open` site.
    #[value(name = "ignore-sync=wal_open")]
    IgnoreSyncWalOpen,
    /// The file-system model ignores every sync at the `wal_sync` site.
    #[value(name = "ignore-sync=wal_sync")]
    IgnoreSyncWalSync,
    /// The file-system model ignores every sync at the `wal_truncate` site.
    #[value(name = "ignore-sync=wal_truncate")]
    IgnoreSyncWalTruncate,
    /// The file-system model ignores every sync at the `wal_rewrite_temp` site.
    #[value(name = "ignore-sync=wal_rewrite_temp")]
    IgnoreSyncWalRewriteTemp,
    /// The file-system model ignores every sync at the `wal_directory` site.
    #[value(name = "ignore-sync=wal_directory")]
    IgnoreSyncWalDirectory,
    /// The file-system model ignores every sync at the `snapshot_temp` site.
    #[value(name = "ignore-sync=snapshot_temp")]
    IgnoreSyncSnapshotTemp,
    /// The file-system model ignores every sync at the `snapshot_directory` site.
    #[value(name = "ignore-sync=snapshot_directory")]
    IgnoreSyncSnapshotDirectory,
}

impl SelfTestArg {
    pub fn selftest(self) -> SelfTest {
        match self {
            SelfTestArg::WrongModel => SelfTest::WrongModel,
            SelfTestArg::WrongActivate => SelfTest::WrongActivate,
            SelfTestArg::CallDamageLegal => SelfTest::CallDamageLegal,
            SelfTestArg::SkewDigest => SelfTest::SkewDigest,
            SelfTestArg::SkewRecord => SelfTest::SkewRecord,
            SelfTestArg::LateDeadline => SelfTest::LateDeadline,
            SelfTestArg::MisplaceDamage => SelfTest::MisplaceDamage,
            SelfTestArg::MiscountFrame => SelfTest::MiscountFrame,
            SelfTestArg::SimulatorPanic => SelfTest::SimulatorPanic,
            SelfTestArg::EngineAssertion => SelfTest::EngineAssertion,
            SelfTestArg::Hang => SelfTest::Hang,
            SelfTestArg::IgnoreSyncWalOpen => SelfTest::IgnoreSync(SyncSite::WalOpen),
            SelfTestArg::IgnoreSyncWalSync => SelfTest::IgnoreSync(SyncSite::WalSync),
            SelfTestArg::IgnoreSyncWalTruncate => SelfTest::IgnoreSync(SyncSite::WalTruncate),
            SelfTestArg::IgnoreSyncWalRewriteTemp => SelfTest::IgnoreSync(SyncSite::WalRewriteTemp),
            SelfTestArg::IgnoreSyncWalDirectory => SelfTest::IgnoreSync(SyncSite::WalDirectory),
            SelfTestArg::IgnoreSyncSnapshotTemp => SelfTest::IgnoreSync(SyncSite::SnapshotTemp),
            SelfTestArg::IgnoreSyncSnapshotDirectory => {
                SelfTest::IgnoreSync(SyncSite::SnapshotDirectory)
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SelfTestArg::WrongModel => "wrong-model",
            SelfTestArg::WrongActivate => "wrong-activate",
            SelfTestArg::CallDamageLegal => "call-damage-legal",
            SelfTestArg::SkewDigest => "skew-digest",
            SelfTestArg::SkewRecord => "skew-record",
            SelfTestArg::LateDeadline => "late-deadline",
            SelfTestArg::MisplaceDamage => "misplace-damage",
            SelfTestArg::MiscountFrame => "miscount-frame",
            SelfTestArg::SimulatorPanic => "simulator-panic",
            SelfTestArg::EngineAssertion => "engine-assertion",
            SelfTestArg::Hang => "hang",
            SelfTestArg::IgnoreSyncWalOpen => "ignore-sync=wal_open",
            SelfTestArg::IgnoreSyncWalSync => "ignore-sync=wal_sync",
            SelfTestArg::IgnoreSyncWalTruncate => "ignore-sync=wal_truncate",
            SelfTestArg::IgnoreSyncWalRewriteTemp => "ignore-sync=wal_rewrite_temp",
            SelfTestArg::IgnoreSyncWalDirectory => "ignore-sync=wal_directory",
            SelfTestArg::IgnoreSyncSnapshotTemp => "ignore-sync=snapshot_temp",
            SelfTestArg::IgnoreSyncSnapshotDirectory => "ignore-sync=snapshot_directory",
        }
    }
}

/// How one seed is run: what `sweep`, `replay --seed` and `shrink --seed`
/// share, so that a replay command reproduces a sweep's seed exactly.
#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// Generated steps per seed (the closing crash and restart come on top).
    #[arg(long, default_value_t = 1000)]
    pub steps: u64,
    /// Fault kinds a seed may draw: `all`, `none`, or a comma-separated list.
    #[arg(long, default_value = "all", value_parser = FaultSelection::parse)]
    pub faults: FaultSelection,
    /// A self-test switch of the simulator (never of the core).
    #[arg(long, value_enum)]
    pub selftest: Option<SelfTestArg>,
    /// `swarm`: each seed draws its engine config; `fixed`: the small
    /// config every seed ran before, for comparisons.
    #[arg(long, value_enum, default_value_t = ConfigArg::Swarm)]
    pub config: ConfigArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ConfigArg {
    Swarm,
    Fixed,
}

impl RunArgs {
    pub fn spec(&self, seed: u64) -> SeedSpec {
        SeedSpec {
            faults: self.faults.clone(),
            selftest: self.selftest.map(SelfTestArg::selftest),
            config: match self.config {
                ConfigArg::Swarm => ConfigChoice::Swarm,
                ConfigArg::Fixed => ConfigChoice::Fixed,
            },
            ..SeedSpec::new(seed, self.steps)
        }
    }

    /// The flags after `--seed N` that reproduce this run; defaults left out.
    pub fn flags(&self) -> String {
        let mut flags = format!("--steps {}", self.steps);
        if self.faults != FaultSelection::All {
            flags.push_str(&format!(" --faults {}", self.faults));
        }
        if let Some(selftest) = self.selftest {
            flags.push_str(&format!(" --selftest {}", selftest.name()));
        }
        if self.config == ConfigArg::Fixed {
            flags.push_str(" --config fixed");
        }
        flags
    }
}

/// `--seed-timeout SECS`: the watchdog's budget for one seed (or one run
/// of a scenario) before it counts as hung.
#[derive(Args, Clone, Copy, Debug)]
pub struct WatchdogArgs {
    /// A run that takes longer than this has hung: its seed and the step
    /// that did not return are reported and the process ends (exit 1).
    /// Default: 5 s per 1,000 steps, at least 5 s (shrink: 1 s per 1,000
    /// steps, at least 1 s, for each candidate).
    #[arg(long, value_name = "SECS", value_parser = seed_timeout)]
    pub seed_timeout: Option<Duration>,
}

impl WatchdogArgs {
    /// The budget for a run of `steps` steps.
    pub fn seed_timeout(&self, steps: u64) -> Duration {
        self.seed_timeout
            .unwrap_or_else(|| crate::watchdog::default_seed_timeout(steps))
    }
}

/// What `replay` and `shrink` work on: a scenario file, or a seed run
/// exactly as the sweep runs it.
#[derive(Args, Clone, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["file", "seed"])))]
pub struct SourceArgs {
    /// A scenario or repro file.
    #[arg(value_parser = existing_file)]
    pub file: Option<PathBuf>,
    /// A seed, run as the sweep runs it (with the same --steps, --faults
    /// and --selftest).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub run: RunArgs,
}

pub enum Source<'a> {
    File(&'a Path),
    Seed(u64),
}

impl SourceArgs {
    pub fn source(&self) -> Source<'_> {
        match (&self.file, self.seed) {
            (Some(path), _) => Source::File(path),
            (None, Some(seed)) => Source::Seed(seed),
            (None, None) => unreachable!("clap requires a file or a seed"),
        }
    }
}

/// A scenario file that exists (checked while parsing arguments, so a
/// missing file is a usage error).
pub fn existing_file(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if path.is_file() {
        Ok(path)
    } else if path.exists() {
        Err(format!("`{text}` is not a file"))
    } else {
        Err(format!("`{text}` does not exist"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_parse_and_refuse_what_is_not_one() {
        assert_eq!(
            SeedsArg::parse("0..10000"),
            Ok(SeedsArg::Range {
                start: 0,
                end: Some(10000)
            })
        );
        assert_eq!(
            SeedsArg::parse("7.."),
            Ok(SeedsArg::Range {
                start: 7,
                end: None
            })
        );
        assert_eq!(SeedsArg::parse("random"), Ok(SeedsArg::Random));
        assert!(SeedsArg::parse("5..2").unwrap_err().contains("is empty"));
        assert!(SeedsArg::parse("5..5").is_err());
        assert!(SeedsArg::parse("5").unwrap_err().contains("START..END"));
        assert!(SeedsArg::parse("a..3").unwrap_err().contains("not a seed"));
        assert!(SeedsArg::parse("randomly").is_err());
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(duration("90").unwrap_err().contains("no unit"));
        assert!(duration("3d").unwrap_err().contains("unknown unit `d`"));
        assert!(duration("0s").unwrap_err().contains("no time at all"));
        assert!(duration("m").is_err());
        assert!(seed_timeout("0").is_err());
        assert_eq!(seed_timeout("12"), Ok(Duration::from_secs(12)));
    }

    #[test]
    fn shards_partition_a_range() {
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("1/0").is_err());
        let shards: Vec<Shard> = (1..=3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for seed in 10..110 {
            assert_eq!(shards.iter().filter(|s| s.holds(10, seed)).count(), 1);
        }
    }
}
