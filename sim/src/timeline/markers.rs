//! The faults, damage and restarts of a step, as markers on the timeline:
//! what the step's action did (armed, crashed, tore, flipped, restarted)
//! and what the step's event says came of it (fired, died unfired,
//! recovered, refused).

use crate::action::Action;
use crate::event::{DamageVerdict, StepEvent};
use crate::transcript::{describe_action, describe_io_failure, point_label};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// A crash point armed.
    CrashArmed,
    /// An armed crash point fired: the process died there.
    CrashFired,
    /// An I/O error armed (a persist failure and a read fault are ones).
    IoArmed,
    /// An armed I/O error fired.
    IoFired,
    /// An armed I/O error died with its process, unfired.
    IoDied,
    /// The process killed, with what the crash kept of unsynced bytes and
    /// pending directory entries.
    Crash,
    /// The WAL's last frame torn.
    Tear,
    /// A bit flipped in a file.
    Flip,
    /// A snapshot forged (the end of the LSN space).
    Forge,
    /// A restart: the process started again.
    Restart,
    /// What recovery reported.
    Recovered,
    /// How recovery treated the damage: refused the files, or cut a torn
    /// tail.
    Damage,
    /// A recovery crash point armed for a restart that never reached it.
    Unreached,
}

/// The row of the report and the track of the trace a marker goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// Armed faults and what became of them.
    Faults,
    /// What happened to the files.
    Storage,
    /// The process: restarts and what recovery reported.
    Engine,
}

impl MarkerKind {
    pub fn track(self) -> Track {
        match self {
            MarkerKind::CrashArmed
            | MarkerKind::CrashFired
            | MarkerKind::IoArmed
            | MarkerKind::IoFired
            | MarkerKind::IoDied
            | MarkerKind::Unreached => Track::Faults,
            MarkerKind::Crash
            | MarkerKind::Tear
            | MarkerKind::Flip
            | MarkerKind::Forge
            | MarkerKind::Damage => Track::Storage,
            MarkerKind::Restart | MarkerKind::Recovered => Track::Engine,
        }
    }
}

/// A marker carries its track, so the page draws it where the trace puts
/// it without a table of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Marker {
    pub kind: MarkerKind,
    pub track: Track,
    pub label: String,
}

impl Marker {
    fn new(kind: MarkerKind, label: impl ToString) -> Marker {
        Marker {
            kind,
            track: kind.track(),
            label: label.to_string(),
        }
    }
}

/// The marker of what `action` itself does, if it is a fault, damage or a
/// restart; its label is the transcript's own text of the action.
pub(super) fn action_marker(action: &Action) -> Option<Marker> {
    let kind = match action {
        Action::ArmCrash(_) | Action::ArmCrashAfter { .. } => MarkerKind::CrashArmed,
        Action::ArmPersistFailure(_) | Action::ArmReadFault { .. } | Action::ArmIoError { .. } => {
            MarkerKind::IoArmed
        }
        Action::Crash { .. } => MarkerKind::Crash,
        Action::TearLastFrame { .. } => MarkerKind::Tear,
        Action::FlipBit { .. } => MarkerKind::Flip,
        Action::ForgeSnapshot { .. } => MarkerKind::Forge,
        Action::Restart => MarkerKind::Restart,
        Action::Submit { .. }
        | Action::Retry { .. }
        | Action::Burst(_)
        | Action::AdvanceSlot { .. }
        | Action::AdvanceTo { .. }
        | Action::Tick
        | Action::Checkpoint
        | Action::ReadResource { .. }
        | Action::ReadLease { .. } => return None,
    };
    Some(Marker::new(kind, describe_action(action)))
}

/// The markers of what came of a step, from its event.
pub(super) fn event_markers(event: &StepEvent) -> Vec<Marker> {
    let mut markers = Vec::new();
    if let Some(point) = event.crashed_at {
        markers.push(Marker::new(
            MarkerKind::CrashFired,
            format_args!("crash point fired: {}", point_label(point)),
        ));
    }
    if let Some(failure) = event.io_failed {
        markers.push(Marker::new(
            MarkerKind::IoFired,
            format_args!("I/O error fired: {}", describe_io_failure(failure)),
        ));
    }
    for died in &event.io_died {
        markers.push(Marker::new(
            MarkerKind::IoDied,
            format_args!(
                "I/O error armed at step {} died unfired: {:?}",
                died.armed_at, died.fault
            ),
        ));
    }
    if let Some(report) = event.recovery {
        let snapshot = match report.snapshot_lsn {
            Some(lsn) => format!("snapshot lsn {}", lsn.0),
            None => "no snapshot".to_string(),
        };
        markers.push(Marker::new(
            MarkerKind::Recovered,
            format_args!(
                "recovered ({}): {snapshot}, {} frames replayed, {} torn bytes cut",
                report.mode.name(),
                report.frames_replayed,
                report.torn_bytes
            ),
        ));
    }
    if let Some(damage) = event.damage {
        let label = match damage {
            DamageVerdict::FailedClosed(file) => format!("recovery failed closed on the {file:?}"),
            DamageVerdict::ReadAsTorn => "the damaged last frame read as a torn tail".to_string(),
        };
        markers.push(Marker::new(MarkerKind::Damage, label));
    }
    if let Some(point) = event.recovery_point_unreached {
        markers.push(Marker::new(
            MarkerKind::Unreached,
            format_args!("recovery crash point not reached: {}", point_label(point)),
        ));
    }
    markers
}
