//! What a run (or a sweep) exercised: counts of every action kind, crash
//! point, I/O error, persist failure and recovery outcome. Ordered maps only, so that
//! reports print the same way every time.

use crate::action::{persist_failure_name, ActionKind, PersistFailure, PERSIST_FAILURE_KINDS};
use crate::answer::{Answer, Code};
use crate::boundary_probes::Boundary;
use crate::coverage::matrix::{Entry, State};
use crate::driver::IoFailure;
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::engine::StartMode;
use allocdb_core::fs::{FsOpKind, Site};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub actions: BTreeMap<ActionKind, u64>,
    pub crash_points: BTreeMap<&'static str, u64>,
    pub persist_failures: BTreeMap<&'static str, u64>,
    /// I/O errors that fired, by the operation they failed.
    pub io_errors: BTreeMap<(Site, FsOpKind), u64>,
    pub recoveries: BTreeMap<&'static str, u64>,
    pub torn_tails_recovered: u64,
    pub fail_closed_confirmed: u64,
    pub damaged_tail_read_as_torn: u64,
    pub read_faults_refused: u64,
    /// Crashes that undid pending directory entry operations.
    pub entries_undone: u64,
    /// Crashes that cut unsynced bytes of a file other than the WAL.
    pub file_data_lost: u64,
    /// Every answer a request got, by code.
    pub answers: BTreeMap<Code, u64>,
    /// Answers from the retry cache.
    pub cached_answers: u64,
    /// Operations left indefinite (a crash, a failed write, a down engine)
    /// whose retry got a definite answer: the cached one of a commit made
    /// before (`committed`), or a first commit.
    pub indefinite_resolved_committed: u64,
    pub indefinite_resolved_fresh: u64,
    /// Steps that met a bound exactly, by [`crate::boundary_probes::Boundary`] name.
    pub boundaries: BTreeMap<&'static str, u64>,
    /// Entry points called, by the engine state they met.
    pub cells: BTreeMap<(State, Entry), u64>,
    /// Answers each entry point gave, by name.
    pub entry_answers: BTreeMap<(Entry, &'static str), u64>,
    /// Damage by where it landed (`DAMAGE_REGIONS`).
    pub damage: BTreeMap<&'static str, u64>,
}

/// Where damage can land, each a coverage probe (`damage.NAME`): a WAL
/// flip in each header field, the payload and its last byte; a snapshot
/// flip in its header, records and trailer; a tear and a partial append
/// cutting the header or the payload.
pub const DAMAGE_REGIONS: [&str; 16] = [
    "wal_flip.magic",
    "wal_flip.version",
    "wal_flip.record_type",
    "wal_flip.lsn",
    "wal_flip.request_slot",
    "wal_flip.payload_len",
    "wal_flip.crc",
    "wal_flip.payload",
    "wal_flip.payload_last_byte",
    "snapshot_flip.header",
    "snapshot_flip.records",
    "snapshot_flip.trailer",
    "tear.header",
    "tear.payload",
    "partial_append.header",
    "partial_append.payload",
];

/// Every operation the engine makes, by site: each can be failed.
pub fn io_error_sites() -> impl Iterator<Item = (Site, FsOpKind)> {
    Site::ALL
        .into_iter()
        .flat_map(|site| site.ops().iter().map(move |&op| (site, op)))
}

impl RunStats {
    pub fn action(&mut self, kind: ActionKind) {
        *self.actions.entry(kind).or_default() += 1;
    }

    pub fn crash_point(&mut self, point: CrashPoint) {
        *self.crash_points.entry(point.name()).or_default() += 1;
    }

    /// An I/O error fired; a persist failure is counted as one too.
    pub fn io_failure(&mut self, failure: IoFailure) {
        *self
            .io_errors
            .entry((failure.site, failure.op))
            .or_default() += 1;
        if let Some(persist) = PersistFailure::of(failure.site, failure.effect) {
            *self
                .persist_failures
                .entry(persist_failure_name(persist))
                .or_default() += 1;
        }
    }

    pub fn recovery(&mut self, mode: StartMode, torn: bool) {
        *self.recoveries.entry(mode.name()).or_default() += 1;
        self.torn_tails_recovered += u64::from(torn);
    }

    pub fn fail_closed_or_torn(&mut self, failed_closed: bool) {
        if failed_closed {
            self.fail_closed_confirmed += 1;
        } else {
            self.damaged_tail_read_as_torn += 1;
        }
    }

    /// A crash undid entry operations (`entries`) and cut other files'
    /// unsynced bytes (`file_data`).
    pub fn crash_fates(&mut self, entries: bool, file_data: bool) {
        self.entries_undone += u64::from(entries);
        self.file_data_lost += u64::from(file_data);
    }

    pub fn read_fault_refused(&mut self) {
        self.read_faults_refused += 1;
    }

    pub fn answer(&mut self, answer: Answer) {
        *self.answers.entry(answer.code).or_default() += 1;
        self.cached_answers += u64::from(answer.cached);
    }

    /// An operation in flight got a definite answer; `cached`: from an
    /// earlier commit.
    pub fn indefinite_resolved(&mut self, cached: bool) {
        if cached {
            self.indefinite_resolved_committed += 1;
        } else {
            self.indefinite_resolved_fresh += 1;
        }
    }

    /// `entry` met the engine in `state` and answered `answer`.
    pub fn entry(&mut self, state: State, entry: Entry, answer: &'static str) {
        *self.cells.entry((state, entry)).or_default() += 1;
        *self.entry_answers.entry((entry, answer)).or_default() += 1;
    }

    /// Damage landed in `region` (one of [`DAMAGE_REGIONS`]).
    pub fn damage(&mut self, region: &'static str) {
        debug_assert!(DAMAGE_REGIONS.contains(&region), "{region}");
        *self.damage.entry(region).or_default() += 1;
    }

    pub fn boundary(&mut self, name: &'static str) {
        *self.boundaries.entry(name).or_default() += 1;
    }

    pub fn merge(&mut self, other: &RunStats) {
        for (k, v) in &other.actions {
            *self.actions.entry(*k).or_default() += v;
        }
        for (k, v) in &other.answers {
            *self.answers.entry(*k).or_default() += v;
        }
        self.cached_answers += other.cached_answers;
        self.indefinite_resolved_committed += other.indefinite_resolved_committed;
        self.indefinite_resolved_fresh += other.indefinite_resolved_fresh;
        for (into, from) in [
            (&mut self.crash_points, &other.crash_points),
            (&mut self.persist_failures, &other.persist_failures),
            (&mut self.recoveries, &other.recoveries),
            (&mut self.boundaries, &other.boundaries),
            (&mut self.damage, &other.damage),
        ] {
            for (k, v) in from {
                *into.entry(k).or_default() += v;
            }
        }
        for (k, v) in &other.io_errors {
            *self.io_errors.entry(*k).or_default() += v;
        }
        for (k, v) in &other.cells {
            *self.cells.entry(*k).or_default() += v;
        }
        for (k, v) in &other.entry_answers {
            *self.entry_answers.entry(*k).or_default() += v;
        }
        self.torn_tails_recovered += other.torn_tails_recovered;
        self.fail_closed_confirmed += other.fail_closed_confirmed;
        self.damaged_tail_read_as_torn += other.damaged_tail_read_as_torn;
        self.read_faults_refused += other.read_faults_refused;
        self.entries_undone += other.entries_undone;
        self.file_data_lost += other.file_data_lost;
    }

    /// Lines of `name count`, every known kind listed (zeros included), so a
    /// reader sees what was never exercised.
    pub fn report(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for kind in ActionKind::ALL {
            lines.push(format!(
                "action {} {}",
                kind.name(),
                self.actions.get(&kind).copied().unwrap_or(0)
            ));
        }
        for point in CrashPoint::ALL {
            lines.push(format!(
                "crash_point {} {}",
                point.name(),
                self.crash_points.get(point.name()).copied().unwrap_or(0)
            ));
        }
        for failure in PERSIST_FAILURE_KINDS {
            let name = persist_failure_name(failure);
            lines.push(format!(
                "persist_failure {name} {}",
                self.persist_failures.get(name).copied().unwrap_or(0)
            ));
        }
        for (site, op) in io_error_sites() {
            lines.push(format!(
                "io_error {} {} {}",
                site.name(),
                op.name(),
                self.io_errors.get(&(site, op)).copied().unwrap_or(0)
            ));
        }
        for (mode, count) in &self.recoveries {
            lines.push(format!("recovery {mode} {count}"));
        }
        lines.push(format!(
            "torn_tails_recovered {}",
            self.torn_tails_recovered
        ));
        lines.push(format!(
            "fail_closed_confirmed {}",
            self.fail_closed_confirmed
        ));
        lines.push(format!(
            "damaged_tail_read_as_torn {}",
            self.damaged_tail_read_as_torn
        ));
        lines.push(format!("read_faults_refused {}", self.read_faults_refused));
        lines.push(format!("entries_undone {}", self.entries_undone));
        lines.push(format!("file_data_lost {}", self.file_data_lost));
        for boundary in Boundary::ALL {
            lines.push(format!(
                "boundary {} {}",
                boundary.name(),
                self.boundaries.get(boundary.name()).copied().unwrap_or(0)
            ));
        }
        for region in DAMAGE_REGIONS {
            lines.push(format!(
                "damage {region} {}",
                self.damage.get(region).copied().unwrap_or(0)
            ));
        }
        lines
    }
}
