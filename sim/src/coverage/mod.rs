//! The coverage gate: named "sometimes" probes, each a count of something
//! a sweep should reach at least once (every answer code, crash point,
//! persist failure, recovery mode and fault effect; an indefinite outcome
//! resolved both ways). A sweep lists every probe's count; with the gate
//! on, one left at 0 fails it, so a generator change that stops reaching
//! a path is caught. Probes no workload can reach are listed with the
//! reason ([`NOT_YET`], and the matrix's [`matrix::impossible`]), and are
//! reported, not required. The matrix (`matrix.rs`) adds a probe per
//! engine state and entry point, and per entry point and answer.

use crate::action::{persist_failure_name, ActionKind, PERSIST_FAILURE_KINDS};
use crate::answer::Code;
use crate::boundary_probes::Boundary;
use crate::stats::{io_error_sites, RunStats, DAMAGE_REGIONS};
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::engine::StartMode;

pub mod matrix;

/// Probes no generated workload can reach, and why, besides the
/// matrix's ([`matrix::impossible`]). Each is still counted and printed;
/// the gate does not require it.
pub const NOT_YET: &[(&str, &str)] = &[
    ("code.slot_overflow", matrix::SLOT_OVERFLOW_WHY),
    ("code.lsn_exhausted", matrix::LSN_EXHAUSTED_WHY),
    ("code.command_too_large", matrix::COMMAND_TOO_LARGE_WHY),
    (
        "action.forge_snapshot",
        "a scenario's step (scenarios/semantics/lsn-end.ron): no generated workload forges files",
    ),
    (
        "code.noop",
        "only an expire is a no-op, and a tick commits only the expiries due",
    ),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub name: String,
    pub count: u64,
    /// Why no sweep can reach it (`None`: required).
    pub why_not: Option<&'static str>,
}

impl Probe {
    pub fn required(&self) -> bool {
        self.why_not.is_none()
    }
}

/// Every probe with its count, in a fixed order.
pub fn probes(stats: &RunStats) -> Vec<Probe> {
    let mut probes = Vec::new();
    let impossible = matrix::impossible();
    let mut probe = |name: String, count: u64| {
        let why_not = NOT_YET
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, why)| *why)
            .or_else(|| {
                impossible
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, why)| *why)
            });
        probes.push(Probe {
            name,
            count,
            why_not,
        })
    };
    for kind in ActionKind::ALL {
        probe(
            format!("action.{}", kind.name()),
            stats.actions.get(&kind).copied().unwrap_or(0),
        );
    }
    for code in Code::ALL {
        probe(
            format!("code.{}", code.name()),
            stats.answers.get(&code).copied().unwrap_or(0),
        );
    }
    probe("answer.cached".to_string(), stats.cached_answers);
    for point in CrashPoint::ALL {
        probe(
            format!("crash_point.{}", point.name()),
            stats.crash_points.get(point.name()).copied().unwrap_or(0),
        );
    }
    for failure in PERSIST_FAILURE_KINDS {
        let name = persist_failure_name(failure);
        probe(
            format!("persist_failure.{name}"),
            stats.persist_failures.get(name).copied().unwrap_or(0),
        );
    }
    for (site, op) in io_error_sites() {
        probe(
            format!("io_error.{}.{}", site.name(), op.name()),
            stats.io_errors.get(&(site, op)).copied().unwrap_or(0),
        );
    }
    for mode in [
        StartMode::Fresh,
        StartMode::WalOnly,
        StartMode::SnapshotOnly,
        StartMode::SnapshotAndWal,
    ] {
        probe(
            format!("recovery.{}", mode.name()),
            stats.recoveries.get(mode.name()).copied().unwrap_or(0),
        );
    }
    for (name, count) in [
        ("torn_tail_recovered", stats.torn_tails_recovered),
        ("fail_closed_confirmed", stats.fail_closed_confirmed),
        ("damaged_tail_read_as_torn", stats.damaged_tail_read_as_torn),
        ("read_fault_refused", stats.read_faults_refused),
        ("entries_undone", stats.entries_undone),
        ("file_data_lost", stats.file_data_lost),
        (
            "indefinite_resolved_committed",
            stats.indefinite_resolved_committed,
        ),
        ("indefinite_resolved_fresh", stats.indefinite_resolved_fresh),
    ] {
        probe(format!("fault.{name}"), count);
    }
    for boundary in Boundary::ALL {
        probe(
            format!("edge.{}", boundary.name()),
            stats.boundaries.get(boundary.name()).copied().unwrap_or(0),
        );
    }
    for region in DAMAGE_REGIONS {
        probe(
            format!("damage.{region}"),
            stats.damage.get(region).copied().unwrap_or(0),
        );
    }
    for state in matrix::State::ALL {
        for entry in matrix::Entry::ALL {
            let count = stats.cells.get(&(state, entry)).copied().unwrap_or(0);
            probe(matrix::cell_probe(state, entry), count);
        }
    }
    for entry in matrix::Entry::ALL {
        for &answer in entry.answers() {
            let count = stats
                .entry_answers
                .get(&(entry, answer))
                .copied()
                .unwrap_or(0);
            probe(matrix::answer_probe(entry, answer), count);
        }
    }
    probes
}

/// The required probes a run left at 0, in order.
pub fn unreached(probes: &[Probe]) -> Vec<&Probe> {
    probes
        .iter()
        .filter(|p| p.required() && p.count == 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{run_seed, SeedSpec};
    use crate::workload::mix::FaultSelection;

    fn stats_of(seeds: std::ops::Range<u64>, faults: FaultSelection) -> RunStats {
        let mut stats = RunStats::default();
        for seed in seeds {
            let report = run_seed(&SeedSpec {
                faults: faults.clone(),
                ..SeedSpec::new(seed, 300)
            });
            assert!(
                report.failure.is_none(),
                "seed {seed}: {:?}",
                report.failure
            );
            stats.merge(&report.stats);
        }
        stats
    }

    #[test]
    fn every_not_yet_probe_is_a_probe() {
        let names: Vec<String> = probes(&RunStats::default())
            .into_iter()
            .map(|p| p.name)
            .collect();
        for (name, _) in NOT_YET {
            assert!(names.iter().any(|n| n == name), "{name} is no probe");
        }
    }

    #[test]
    fn nothing_run_reaches_nothing() {
        let all = probes(&RunStats::default());
        let not_required = all.iter().filter(|p| !p.required()).count();
        assert_eq!(not_required, NOT_YET.len() + matrix::impossible().len());
        assert_eq!(unreached(&all).len(), all.len() - not_required);
    }

    /// A workload without faults leaves every fault probe unreached: the
    /// gate sees a generator that stops reaching a path.
    #[test]
    fn a_sweep_without_faults_leaves_the_fault_probes_unreached() {
        let stats = stats_of(0..20, FaultSelection::None);
        let all = probes(&stats);
        let names: Vec<&str> = unreached(&all).iter().map(|p| p.name.as_str()).collect();
        for expected in [
            "action.arm_crash",
            "crash_point.client_after_sync",
            "persist_failure.sync_fails",
            "fault.torn_tail_recovered",
            "fault.indefinite_resolved_committed",
            "code.crashed",
        ] {
            assert!(names.contains(&expected), "{expected} reached: {names:?}");
        }
        // What the traffic alone reaches is reached.
        for reached in ["action.submit", "code.ok", "code.resource_busy"] {
            assert!(!names.contains(&reached), "{reached} unreached");
        }
    }
}
