//! How a transcript line names an action, a command, a committed result
//! and a crash point.

use crate::action::persist_failure_name;
use crate::action::{Action, Entries, FlipTarget, ReadTarget, SimCommand, Unsynced};
use crate::lease_ref::LeaseRef;
use allocdb_core::engine::fault::{CrashPoint, PersistFailure};
use allocdb_core::fs::ReadFaultKind;
use allocdb_core::{Applied, Outcome};

/// A crash point as transcripts and reports name it, with its frame
/// number when it has one.
pub fn point_label(point: CrashPoint) -> String {
    match point {
        CrashPoint::RecoveryAfterReplayedFrame(k) => format!("{}({k})", point.name()),
        other => other.name().to_string(),
    }
}

pub fn describe_command(command: &SimCommand) -> String {
    match command {
        SimCommand::CreateResource { resource } => format!("create r{resource}"),
        SimCommand::Reserve {
            resources,
            holder,
            ttl,
        } => {
            let ids: Vec<String> = resources.iter().map(|r| format!("r{r}")).collect();
            format!("reserve [{}] h{holder} ttl={ttl}", ids.join(","))
        }
        SimCommand::Activate {
            lease,
            holder,
            epoch,
        } => format!("activate {} h{holder} e{epoch}", lease_label(*lease)),
        SimCommand::Release {
            lease,
            holder,
            epoch,
        } => format!("release {} h{holder} e{epoch}", lease_label(*lease)),
        SimCommand::Revoke { lease } => format!("revoke {}", lease_label(*lease)),
        SimCommand::Reclaim { lease } => format!("reclaim {}", lease_label(*lease)),
    }
}

/// `l18`; a reference the run did not resolve shows what it names.
fn lease_label(lease: LeaseRef) -> String {
    match lease {
        LeaseRef::Id(id) => format!("l{id}"),
        LeaseRef::Of { op } => format!("l(of op{op})"),
    }
}

pub fn describe_action(action: &Action) -> String {
    match action {
        Action::Submit {
            client,
            operation,
            command,
        } => {
            format!(
                "submit c{client} op{operation} {}",
                describe_command(command)
            )
        }
        Action::Retry { operation } => format!("retry op{operation}"),
        Action::Burst(requests) => {
            let parts: Vec<String> = requests.iter().map(describe_action).collect();
            format!("burst [{}]", parts.join(" | "))
        }
        Action::AdvanceSlot { by } => format!("advance +{by}"),
        Action::AdvanceTo { slot } => format!("advance to {slot}"),
        Action::Tick => "tick".to_string(),
        Action::Checkpoint => "checkpoint".to_string(),
        Action::ReadResource {
            resource,
            required_lsn,
        } => match required_lsn {
            Some(lsn) => format!("read r{resource} fence={lsn}"),
            None => format!("read r{resource}"),
        },
        Action::ReadLease {
            lease,
            required_lsn,
        } => match required_lsn {
            Some(lsn) => format!("read {} fence={lsn}", lease_label(*lease)),
            None => format!("read {}", lease_label(*lease)),
        },
        Action::ArmCrash(point) => format!("arm_crash {}", point_label(*point)),
        Action::ArmCrashAfter { point, passes } => {
            format!("arm_crash {} after {passes} passes", point_label(*point))
        }
        Action::ArmPersistFailure(PersistFailure::PartialAppend { bytes }) => {
            format!("arm_persist_failure partial_append({bytes})")
        }
        Action::ArmReadFault { file, kind } => {
            format!(
                "arm_read_fault {} {}",
                read_target_name(*file),
                read_fault_name(*kind)
            )
        }
        Action::ArmPersistFailure(failure) => {
            format!("arm_persist_failure {}", persist_failure_name(*failure))
        }
        Action::Crash {
            unsynced,
            entries,
            other_files,
        } => {
            let mut line = match unsynced {
                Unsynced::Keep => "crash keep_unsynced".to_string(),
                Unsynced::Lose => "crash lose_unsynced".to_string(),
                Unsynced::KeepPrefix(n) => format!("crash keep_unsynced_prefix={n}"),
            };
            if let Entries::First(n) = entries {
                line.push_str(&format!(" entries_kept={n}"));
            }
            match other_files {
                Unsynced::Keep => {}
                Unsynced::Lose => line.push_str(" other_files=lose"),
                Unsynced::KeepPrefix(n) => line.push_str(&format!(" other_files=keep_prefix={n}")),
            }
            line
        }
        Action::TearLastFrame { keep } => format!("tear_last_frame keep={keep}"),
        Action::FlipBit { target, bit } => match target {
            FlipTarget::WalFrame { frame, byte } => {
                format!("flip wal frame={frame} byte={byte} bit={bit}")
            }
            FlipTarget::WalFrameFromEnd { back, byte } => {
                format!("flip wal frame=last-{back} byte={byte} bit={bit}")
            }
            FlipTarget::Snapshot { byte } => format!("flip snapshot byte={byte} bit={bit}"),
            FlipTarget::SnapshotFromEnd { back } => {
                format!("flip snapshot byte=last-{back} bit={bit}")
            }
        },
        Action::Restart => "restart".to_string(),
    }
}

/// A committed result, compactly: lease ids print as their LSN part.
pub fn describe_applied(applied: &Applied) -> String {
    let cached = if applied.from_retry_cache {
        " (cached)"
    } else {
        ""
    };
    let text = match applied.outcome {
        Outcome::ResourceCreated => "created".to_string(),
        Outcome::Reserved {
            lease_id,
            lease_epoch,
            deadline_slot,
        } => {
            format!(
                "reserved l{} e{} deadline={}",
                lease_id.0, lease_epoch.0, deadline_slot.0
            )
        }
        Outcome::Activated {
            lease_id,
            lease_epoch,
        } => format!("activated l{} e{}", lease_id.0, lease_epoch.0),
        Outcome::Released {
            lease_id,
            lease_epoch,
        } => format!("released l{} e{}", lease_id.0, lease_epoch.0),
        Outcome::Revoked {
            lease_id,
            lease_epoch,
        } => format!("revoked l{} e{}", lease_id.0, lease_epoch.0),
        Outcome::Reclaimed { lease_id } => format!("reclaimed l{}", lease_id.0),
        Outcome::Expired {
            lease_id,
            lease_epoch,
        } => format!("expired l{} e{}", lease_id.0, lease_epoch.0),
        Outcome::Rejected(code) => code.name().to_string(),
    };
    format!("{text}{cached}")
}

pub fn read_target_name(file: ReadTarget) -> &'static str {
    match file {
        ReadTarget::Wal => "wal",
        ReadTarget::Snapshot => "snapshot",
    }
}

pub fn read_fault_name(kind: ReadFaultKind) -> &'static str {
    match kind {
        ReadFaultKind::Error => "error",
        ReadFaultKind::Short => "short",
    }
}
