//! How a transcript line names an action, a command, a committed result
//! and a crash point. Each is a `Display` value written straight into the
//! line being formatted: naming a step allocates nothing.

use crate::action::persist_failure_name;
use crate::action::{Action, Entries, FlipTarget, ReadTarget, SimCommand, Unsynced};
use crate::action::{IoKind, PersistFailure, ReadFaultKind};
use crate::driver::IoFailure;
use crate::fence::Fence;
use crate::lease_ref::LeaseRef;
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::fs::fault::IoEffect;
use allocdb_core::{Applied, Outcome};
use std::fmt::{self, Display, Formatter};

/// A crash point as transcripts and reports name it, with its frame
/// number when it has one.
pub fn point_label(point: CrashPoint) -> impl Display {
    PointLabel(point)
}

pub fn describe_command(command: &SimCommand) -> impl Display + '_ {
    CommandText(command)
}

pub fn describe_action(action: &Action) -> impl Display + '_ {
    ActionText(action)
}

/// A committed result, compactly: lease ids print as their LSN part.
pub fn describe_applied(applied: &Applied) -> impl Display + '_ {
    AppliedText(applied)
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

/// `eio`, `enospc`, `short(40)`.
pub fn io_effect_name(effect: IoEffect) -> String {
    match effect {
        IoEffect::Fail(kind) => kind.name().to_string(),
        IoEffect::Short { bytes } => format!("short({bytes})"),
    }
}

/// An I/O error that fired: a persist failure by its name
/// (`append_fails`), any other as `enospc at snapshot_temp sync`.
pub fn describe_io_failure(failure: IoFailure) -> String {
    match PersistFailure::of(failure.site, failure.effect) {
        Some(persist) if persist.fault().effect == failure.effect => {
            persist_failure_name(persist).to_string()
        }
        _ => format!(
            "{} at {} {}",
            io_effect_name(failure.effect),
            failure.site.name(),
            failure.op.name()
        ),
    }
}

struct PointLabel(CrashPoint);

impl Display for PointLabel {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            CrashPoint::RecoveryAfterReplayedFrame(k) => write!(f, "{}({k})", self.0.name()),
            other => f.write_str(other.name()),
        }
    }
}

/// `l18`; a reference the run did not resolve shows what it names.
struct LeaseLabel(LeaseRef);

impl Display for LeaseLabel {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            LeaseRef::Id(id) => write!(f, "l{id}"),
            LeaseRef::Of { op } => write!(f, "l(of op{op})"),
        }
    }
}

struct CommandText<'a>(&'a SimCommand);

impl Display for CommandText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            SimCommand::CreateResource { resource } => write!(f, "create r{resource}"),
            SimCommand::Reserve {
                resources,
                holder,
                ttl,
            } => {
                f.write_str("reserve [")?;
                for (index, resource) in resources.iter().enumerate() {
                    let separator = if index == 0 { "" } else { "," };
                    write!(f, "{separator}r{resource}")?;
                }
                write!(f, "] h{holder} ttl={ttl}")
            }
            SimCommand::Activate {
                lease,
                holder,
                epoch,
            } => write!(f, "activate {} h{holder} e{epoch}", LeaseLabel(*lease)),
            SimCommand::Release {
                lease,
                holder,
                epoch,
            } => write!(f, "release {} h{holder} e{epoch}", LeaseLabel(*lease)),
            SimCommand::Revoke { lease } => write!(f, "revoke {}", LeaseLabel(*lease)),
            SimCommand::Reclaim { lease } => write!(f, "reclaim {}", LeaseLabel(*lease)),
        }
    }
}

struct ActionText<'a>(&'a Action);

impl Display for ActionText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Action::Submit {
                client,
                operation,
                command,
                behind: 0,
            } => write!(f, "submit c{client} op{operation} {}", CommandText(command)),
            Action::Submit {
                client,
                operation,
                command,
                behind,
            } => write!(
                f,
                "submit c{client} op{operation} {} stamped {behind} behind",
                CommandText(command)
            ),
            Action::Retry { operation } => write!(f, "retry op{operation}"),
            Action::Burst(requests) => {
                f.write_str("burst [")?;
                for (index, request) in requests.iter().enumerate() {
                    let separator = if index == 0 { "" } else { " | " };
                    write!(f, "{separator}{}", ActionText(request))?;
                }
                f.write_str("]")
            }
            Action::AdvanceSlot { by } => write!(f, "advance +{by}"),
            Action::AdvanceTo { slot } => write!(f, "advance to {slot}"),
            Action::Tick => f.write_str("tick"),
            Action::Checkpoint => f.write_str("checkpoint"),
            Action::ReadResource {
                resource,
                required_lsn,
            } => {
                write!(f, "read r{resource}")?;
                fence(f, *required_lsn)
            }
            Action::ReadLease {
                lease,
                required_lsn,
            } => {
                write!(f, "read {}", LeaseLabel(*lease))?;
                fence(f, *required_lsn)
            }
            Action::ArmCrash(point) => write!(f, "arm_crash {}", PointLabel(*point)),
            Action::ArmCrashAfter { point, passes } => {
                write!(f, "arm_crash {} after {passes} passes", PointLabel(*point))
            }
            Action::ArmPersistFailure(PersistFailure::PartialAppend { bytes }) => {
                write!(f, "arm_persist_failure partial_append({bytes})")
            }
            Action::ArmReadFault { file, kind } => write!(
                f,
                "arm_read_fault {} {}",
                read_target_name(*file),
                read_fault_name(*kind)
            ),
            Action::ArmPersistFailure(failure) => {
                write!(f, "arm_persist_failure {}", persist_failure_name(*failure))
            }
            Action::ArmIoError {
                site,
                op,
                kind,
                passes,
            } => {
                write!(
                    f,
                    "arm_io_error {} {} {}",
                    site.name(),
                    op.name(),
                    io_effect_name(IoKind::effect(*kind))
                )?;
                if *passes > 0 {
                    write!(f, " after {passes} passes")?;
                }
                Ok(())
            }
            Action::Crash {
                unsynced,
                entries,
                other_files,
            } => {
                match unsynced {
                    Unsynced::Keep => f.write_str("crash keep_unsynced")?,
                    Unsynced::Lose => f.write_str("crash lose_unsynced")?,
                    Unsynced::KeepPrefix(n) => write!(f, "crash keep_unsynced_prefix={n}")?,
                }
                if let Entries::First(n) = entries {
                    write!(f, " entries_kept={n}")?;
                }
                match other_files {
                    Unsynced::Keep => Ok(()),
                    Unsynced::Lose => f.write_str(" other_files=lose"),
                    Unsynced::KeepPrefix(n) => write!(f, " other_files=keep_prefix={n}"),
                }
            }
            Action::TearLastFrame { keep } => write!(f, "tear_last_frame keep={keep}"),
            Action::FlipBit { target, bit } => match target {
                FlipTarget::WalFrame { frame, byte } => {
                    write!(f, "flip wal frame={frame} byte={byte} bit={bit}")
                }
                FlipTarget::WalFrameFromEnd { back, byte } => {
                    write!(f, "flip wal frame=last-{back} byte={byte} bit={bit}")
                }
                FlipTarget::WalFrameTail { back, from_end } => {
                    write!(
                        f,
                        "flip wal frame=last-{back} byte=last-{from_end} bit={bit}"
                    )
                }
                FlipTarget::Snapshot { byte } => write!(f, "flip snapshot byte={byte} bit={bit}"),
                FlipTarget::SnapshotFromEnd { back } => {
                    write!(f, "flip snapshot byte=last-{back} bit={bit}")
                }
            },
            Action::Restart => f.write_str("restart"),
            Action::ForgeSnapshot { lsn } => write!(f, "forge snapshot at lsn {lsn}"),
        }
    }
}

/// A read's ` fence=N`, when it has one.
fn fence(f: &mut Formatter<'_>, required_lsn: Option<Fence>) -> fmt::Result {
    match required_lsn {
        Some(lsn) => write!(f, " fence={lsn}"),
        None => Ok(()),
    }
}

struct AppliedText<'a>(&'a Applied);

impl Display for AppliedText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0.outcome {
            Outcome::ResourceCreated => f.write_str("created")?,
            Outcome::Reserved {
                lease_id,
                lease_epoch,
                deadline_slot,
            } => write!(
                f,
                "reserved l{} e{} deadline={}",
                lease_id.0, lease_epoch.0, deadline_slot.0
            )?,
            Outcome::Activated {
                lease_id,
                lease_epoch,
            } => write!(f, "activated l{} e{}", lease_id.0, lease_epoch.0)?,
            Outcome::Released {
                lease_id,
                lease_epoch,
            } => write!(f, "released l{} e{}", lease_id.0, lease_epoch.0)?,
            Outcome::Revoked {
                lease_id,
                lease_epoch,
            } => write!(f, "revoked l{} e{}", lease_id.0, lease_epoch.0)?,
            Outcome::Reclaimed { lease_id } => write!(f, "reclaimed l{}", lease_id.0)?,
            Outcome::Expired {
                lease_id,
                lease_epoch,
            } => write!(f, "expired l{} e{}", lease_id.0, lease_epoch.0)?,
            Outcome::Rejected(code) => f.write_str(code.name())?,
        }
        if self.0.from_retry_cache {
            f.write_str(" (cached)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use allocdb_core::{LeaseEpoch, LeaseId, Lsn, ResultCode, Slot};

    fn named(action: Action) -> String {
        describe_action(&action).to_string()
    }

    /// The forms the replays of seeds 0-60 do not all reach (a crash
    /// armed after passes, a lease named by its reserve, a reserve of no
    /// resources), pinned as the transcript has always written them.
    #[test]
    fn every_action_form_reads_as_it_always_has() {
        let reserve = |resources: Vec<u128>| SimCommand::Reserve {
            resources,
            holder: 5,
            ttl: 6,
        };
        let cases = [
            (
                Action::Submit {
                    client: 2,
                    operation: 7,
                    command: reserve(vec![3, 4]),
                    behind: 0,
                },
                "submit c2 op7 reserve [r3,r4] h5 ttl=6",
            ),
            (
                Action::Submit {
                    client: 2,
                    operation: 7,
                    command: reserve(vec![]),
                    behind: 0,
                },
                "submit c2 op7 reserve [] h5 ttl=6",
            ),
            (
                Action::Burst(vec![
                    Action::Submit {
                        client: 1,
                        operation: 2,
                        command: SimCommand::Activate {
                            lease: LeaseRef::Of { op: 9 },
                            holder: 4,
                            epoch: 1,
                        },
                        behind: 0,
                    },
                    Action::Retry { operation: 3 },
                    Action::Submit {
                        client: 0,
                        operation: 4,
                        command: SimCommand::Reclaim {
                            lease: LeaseRef::Id(18),
                        },
                        behind: 0,
                    },
                ]),
                "burst [submit c1 op2 activate l(of op9) h4 e1 | retry op3 | submit c0 op4 reclaim l18]",
            ),
            (
                Action::ReadLease {
                    lease: LeaseRef::Id(18),
                    required_lsn: Some(Fence::Applied { plus: 1 }),
                },
                "read l18 fence=Applied(plus: 1)",
            ),
            (
                Action::ReadResource {
                    resource: 5,
                    required_lsn: None,
                },
                "read r5",
            ),
            (
                Action::ArmCrash(CrashPoint::RecoveryAfterReplayedFrame(2)),
                "arm_crash recovery_after_replayed_frame(2)",
            ),
            (
                Action::ArmCrashAfter {
                    point: CrashPoint::ClientAfterSync,
                    passes: 3,
                },
                "arm_crash client_after_sync after 3 passes",
            ),
            (
                Action::ArmPersistFailure(PersistFailure::PartialAppend { bytes: 3 }),
                "arm_persist_failure partial_append(3)",
            ),
            (
                Action::ArmPersistFailure(PersistFailure::SyncFails),
                "arm_persist_failure sync_fails",
            ),
            (
                Action::Crash {
                    unsynced: Unsynced::KeepPrefix(5),
                    entries: Entries::First(2),
                    other_files: Unsynced::KeepPrefix(7),
                },
                "crash keep_unsynced_prefix=5 entries_kept=2 other_files=keep_prefix=7",
            ),
            (
                Action::Crash {
                    unsynced: Unsynced::Lose,
                    entries: Entries::All,
                    other_files: Unsynced::Lose,
                },
                "crash lose_unsynced other_files=lose",
            ),
            (
                Action::FlipBit {
                    target: FlipTarget::WalFrameFromEnd { back: 1, byte: 2 },
                    bit: 3,
                },
                "flip wal frame=last-1 byte=2 bit=3",
            ),
            (
                Action::FlipBit {
                    target: FlipTarget::SnapshotFromEnd { back: 4 },
                    bit: 0,
                },
                "flip snapshot byte=last-4 bit=0",
            ),
            (Action::AdvanceTo { slot: 9 }, "advance to 9"),
        ];
        for (action, expected) in cases {
            assert_eq!(named(action), expected);
        }
    }

    #[test]
    fn a_result_served_from_the_cache_says_so() {
        let applied = |outcome, from_retry_cache| Applied {
            lsn: Lsn(14),
            outcome,
            from_retry_cache,
        };
        let reserved = Outcome::Reserved {
            lease_id: LeaseId(14),
            lease_epoch: LeaseEpoch(1),
            deadline_slot: Slot(112),
        };
        assert_eq!(
            describe_applied(&applied(reserved, true)).to_string(),
            "reserved l14 e1 deadline=112 (cached)"
        );
        assert_eq!(
            describe_applied(&applied(Outcome::Rejected(ResultCode::LeaseRetired), false))
                .to_string(),
            "lease_retired"
        );
    }
}
