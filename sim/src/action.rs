//! The simulator's explicit actions. Everything that happens in a run is one
//! of these: nothing advances time, crashes or corrupts on its own. The same
//! type is what RON scenarios are made of.

use crate::fence::Fence;
use crate::lease_ref::LeaseRef;
use allocdb_core::engine::fault::CrashPoint;
use allocdb_core::fs::fault::{IoEffect, IoErrorKind, IoFault};
use allocdb_core::fs::{FileName, FsOpKind, Site};
use allocdb_core::{
    Bundle, BundleOverflow, Command, HolderId, LeaseEpoch, LeaseId, ResourceId, BUNDLE_SIZE_LIMIT,
};
use serde::{Deserialize, Serialize};

/// A client command with plain integer ids, as a scenario author writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SimCommand {
    CreateResource {
        resource: u128,
    },
    Reserve {
        resources: Vec<u128>,
        holder: u128,
        ttl: u64,
    },
    Activate {
        lease: LeaseRef,
        holder: u128,
        epoch: u64,
    },
    Release {
        lease: LeaseRef,
        holder: u128,
        epoch: u64,
    },
    Revoke {
        lease: LeaseRef,
    },
    Reclaim {
        lease: LeaseRef,
    },
}

/// Why a [`SimCommand`] is not a core command.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("{0}; a command carries at most {BUNDLE_SIZE_LIMIT}")]
    BundleOverflow(BundleOverflow),
    /// The simulator resolves references before it builds commands.
    #[error("lease `{0}` is a reference, not an id")]
    UnresolvedLease(LeaseRef),
}

impl SimCommand {
    /// The lease the command names, for the kinds that name one.
    pub fn lease(&self) -> Option<LeaseRef> {
        match self {
            SimCommand::Activate { lease, .. }
            | SimCommand::Release { lease, .. }
            | SimCommand::Revoke { lease }
            | SimCommand::Reclaim { lease } => Some(*lease),
            SimCommand::CreateResource { .. } | SimCommand::Reserve { .. } => None,
        }
    }

    /// [`SimCommand::lease`], to change.
    pub fn lease_mut(&mut self) -> Option<&mut LeaseRef> {
        match self {
            SimCommand::Activate { lease, .. }
            | SimCommand::Release { lease, .. }
            | SimCommand::Revoke { lease }
            | SimCommand::Reclaim { lease } => Some(lease),
            SimCommand::CreateResource { .. } | SimCommand::Reserve { .. } => None,
        }
    }

    /// The command as a scenario writes it, its lease by id.
    pub fn of(command: &Command) -> SimCommand {
        match *command {
            Command::CreateResource { resource_id } => SimCommand::CreateResource {
                resource: resource_id.0,
            },
            Command::Reserve {
                resources,
                holder_id,
                ttl_slots,
            } => SimCommand::Reserve {
                resources: resources.as_slice().iter().map(|id| id.0).collect(),
                holder: holder_id.0,
                ttl: ttl_slots,
            },
            Command::Activate {
                lease_id,
                holder_id,
                lease_epoch,
            } => SimCommand::Activate {
                lease: LeaseRef::Id(lease_id.0),
                holder: holder_id.0,
                epoch: lease_epoch.0,
            },
            Command::Release {
                lease_id,
                holder_id,
                lease_epoch,
            } => SimCommand::Release {
                lease: LeaseRef::Id(lease_id.0),
                holder: holder_id.0,
                epoch: lease_epoch.0,
            },
            Command::Revoke { lease_id } => SimCommand::Revoke {
                lease: LeaseRef::Id(lease_id.0),
            },
            Command::Reclaim { lease_id } => SimCommand::Reclaim {
                lease: LeaseRef::Id(lease_id.0),
            },
        }
    }

    /// The core command: a bundle over the hard limit and a lease named by
    /// reference (not resolved yet) do not convert.
    pub fn to_command(&self) -> Result<Command, CommandError> {
        let lease_id = |lease: &LeaseRef| {
            lease
                .id()
                .map(LeaseId)
                .ok_or(CommandError::UnresolvedLease(*lease))
        };
        Ok(match self {
            SimCommand::CreateResource { resource } => Command::CreateResource {
                resource_id: ResourceId(*resource),
            },
            SimCommand::Reserve {
                resources,
                holder,
                ttl,
            } => {
                let mut bundle = Bundle::EMPTY;
                for id in resources {
                    bundle.push(ResourceId(*id)).map_err(|_| {
                        CommandError::BundleOverflow(BundleOverflow(resources.len()))
                    })?;
                }
                Command::Reserve {
                    resources: bundle,
                    holder_id: HolderId(*holder),
                    ttl_slots: *ttl,
                }
            }
            SimCommand::Activate {
                lease,
                holder,
                epoch,
            } => Command::Activate {
                lease_id: lease_id(lease)?,
                holder_id: HolderId(*holder),
                lease_epoch: LeaseEpoch(*epoch),
            },
            SimCommand::Release {
                lease,
                holder,
                epoch,
            } => Command::Release {
                lease_id: lease_id(lease)?,
                holder_id: HolderId(*holder),
                lease_epoch: LeaseEpoch(*epoch),
            },
            SimCommand::Revoke { lease } => Command::Revoke {
                lease_id: lease_id(lease)?,
            },
            SimCommand::Reclaim { lease } => Command::Reclaim {
                lease_id: lease_id(lease)?,
            },
        })
    }
}

/// What happens to the WAL bytes written after the last successful sync
/// when the process dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Unsynced {
    /// The page cache reached the disk: every byte survives.
    Keep,
    /// Nothing after the last sync survives.
    Lose,
    /// Only the first `bytes` unsynced bytes survive (a torn write when the
    /// cut falls inside a frame).
    KeepPrefix(u64),
}

impl Unsynced {
    pub const fn keep() -> Unsynced {
        Unsynced::Keep
    }

    pub fn is_keep(&self) -> bool {
        *self == Unsynced::Keep
    }
}

/// Which of the directory's pending entry operations (creates and renames
/// no directory sync covers yet) survive a crash: always the oldest ones,
/// since a file system persists them in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Entries {
    /// Every pending operation reached the disk.
    #[default]
    All,
    /// Only the first `n` did (`First(0)`: none); past the count, all.
    First(u32),
}

impl Entries {
    pub fn is_all(&self) -> bool {
        *self == Entries::All
    }

    /// How many of `pending` operations survive.
    pub fn kept(self, pending: usize) -> usize {
        match self {
            Entries::All => pending,
            Entries::First(n) => (n as usize).min(pending),
        }
    }
}

/// Which file a bit flip damages, and where. The forms counted from the
/// end keep naming the same place when earlier steps are deleted (a
/// shrinker's move), which counts from the start do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FlipTarget {
    /// Frame `frame` (0-based, in the current WAL file), byte `byte` within it.
    WalFrame { frame: u32, byte: u32 },
    /// The frame `back` frames before the last (0: the last), byte `byte`
    /// within it.
    WalFrameFromEnd { back: u32, byte: u32 },
    /// The frame `back` frames before the last, the byte `from_end` bytes
    /// before its own last (0: its last byte, whatever its length): a
    /// payload's tail stays its tail when deleted steps change which
    /// command the frame holds.
    WalFrameTail { back: u32, from_end: u32 },
    /// Byte `byte` of the snapshot file.
    Snapshot { byte: u32 },
    /// The byte `back` bytes before the snapshot's last (0: the last).
    SnapshotFromEnd { back: u32 },
}

impl FlipTarget {
    pub fn is_wal(self) -> bool {
        matches!(
            self,
            FlipTarget::WalFrame { .. }
                | FlipTarget::WalFrameFromEnd { .. }
                | FlipTarget::WalFrameTail { .. }
        )
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Action {
    /// Client `client` sends a new request, stamped with the slot
    /// `behind` slots before the clock: a request queued before a tick
    /// that ran first (legal while not before the engine's last request
    /// slot), or a stale caller's (refused as `slot_rewound`).
    Submit {
        client: u32,
        operation: u128,
        command: SimCommand,
        #[serde(default, skip_serializing_if = "is_zero")]
        behind: u64,
    },
    /// The client that sent `operation` sends it again, byte for byte.
    Retry {
        operation: u128,
    },
    /// Requests (submits and retries only) that reach the engine at the
    /// same slot: the seed orders them, the bounded submission queue takes
    /// what fits (`overloaded` for the rest), then the engine commits them
    /// in queue order.
    Burst(Vec<Action>),
    /// The simulated clock moves forward.
    AdvanceSlot {
        by: u64,
    },
    /// The simulated clock moves forward to `slot` (never backwards).
    AdvanceTo {
        slot: u64,
    },
    /// The maintenance tick at the current slot.
    Tick,
    Checkpoint,
    ReadResource {
        resource: u128,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        required_lsn: Option<Fence>,
    },
    ReadLease {
        lease: LeaseRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        required_lsn: Option<Fence>,
    },
    /// The engine dies when it next reaches `point`.
    ArmCrash(#[serde(with = "CrashPointDef")] CrashPoint),
    /// The engine dies at `point` after letting `passes` arrivals through:
    /// the third expire of a tick, the second request of a burst. Not for
    /// recovery points (each recovery reaches them once; frames have k).
    ArmCrashAfter {
        #[serde(with = "CrashPointDef")]
        point: CrashPoint,
        passes: u32,
    },
    /// While the engine is down over files that hold nothing (no command
    /// committed, no snapshot), write a snapshot of the empty state as of
    /// `lsn` with the core's own snapshot writer, as a log kept elsewhere
    /// would leave it: the next recovery starts there, and the next frame
    /// takes `lsn + 1`. How a scenario reaches the end of the LSN space.
    ForgeSnapshot {
        lsn: u64,
    },
    /// The next WAL append (or its sync) fails: the storage spec's
    /// persist failures, each an [`Action::ArmIoError`] at the WAL's append
    /// or sync ([`PersistFailure::fault`]).
    ArmPersistFailure(PersistFailure),
    /// Recovery's first read of `file` fails as `kind` says: the storage
    /// spec's read faults, each an [`Action::ArmIoError`] at recovery's
    /// first read of that file ([`ReadTarget::fault`]). Armed while the
    /// engine is down, it waits for the next restart.
    ArmReadFault {
        file: ReadTarget,
        kind: ReadFaultKind,
    },
    /// The file operation `op` at `site` fails as `kind` says, after
    /// `passes` of them succeed. Armed while the process runs, it belongs
    /// to that process and dies with it; armed while it is down, to the
    /// next one (its recovery first).
    ArmIoError {
        #[serde(with = "SiteDef")]
        site: Site,
        #[serde(with = "FsOpKindDef")]
        op: FsOpKind,
        kind: IoKind,
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        passes: u32,
    },
    /// The machine loses power now (the process dies if it is alive). The
    /// unsynced bytes of the WAL fare as `unsynced` says, those of every
    /// other file as `other_files` says, and of the directory's pending
    /// entry operations (creates and renames no directory sync covers)
    /// `entries` survive.
    Crash {
        unsynced: Unsynced,
        #[serde(default, skip_serializing_if = "Entries::is_all")]
        entries: Entries,
        #[serde(default = "Unsynced::keep", skip_serializing_if = "Unsynced::is_keep")]
        other_files: Unsynced,
    },
    /// While down: cut the last WAL frame to its first `keep` bytes.
    TearLastFrame {
        keep: u32,
    },
    /// While down: flip one bit.
    FlipBit {
        target: FlipTarget,
        bit: u8,
    },
    /// Start the engine through recovery.
    Restart,
}

/// Serde shadow of the core's [`CrashPoint`] (serde checks it matches), so
/// scenarios name the real type without the core depending on serde.
#[derive(Serialize, Deserialize)]
#[serde(remote = "CrashPoint", rename = "CrashPoint", deny_unknown_fields)]
pub enum CrashPointDef {
    ClientBeforeAppend,
    ClientAfterAppend,
    ClientAfterSync,
    ClientAfterApply,
    ExpireBeforeAppend,
    ExpireAfterAppend,
    ExpireAfterSync,
    ExpireAfterApply,
    CheckpointAfterSnapshotTemp,
    CheckpointAfterSnapshotRename,
    CheckpointAfterSnapshot,
    CheckpointAfterWalRename,
    CheckpointAfterWalRewrite,
    RecoveryAfterSnapshotLoad,
    RecoveryAfterTornTailTruncate,
    RecoveryAfterReplayedFrame(u64),
}

/// A file recovery reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadTarget {
    Wal,
    Snapshot,
}

impl ReadTarget {
    pub const ALL: [ReadTarget; 2] = [ReadTarget::Wal, ReadTarget::Snapshot];

    pub const fn file(self) -> FileName {
        match self {
            ReadTarget::Wal => FileName::Wal,
            ReadTarget::Snapshot => FileName::Snapshot,
        }
    }

    /// Recovery's first read of this file: the WAL's scan, or the
    /// snapshot's load.
    pub const fn site(self) -> Site {
        match self {
            ReadTarget::Wal => Site::WalScan,
            ReadTarget::Snapshot => Site::SnapshotRead,
        }
    }

    /// The I/O error a read fault of `kind` on this file is.
    pub const fn fault(self, kind: ReadFaultKind) -> IoFault {
        IoFault {
            site: self.site(),
            op: FsOpKind::Read,
            passes: 0,
            effect: match kind {
                ReadFaultKind::Error => IoEffect::Fail(IoErrorKind::Eio),
                ReadFaultKind::Short => IoEffect::Short { bytes: 0 },
            },
        }
    }
}

/// How a read fault breaks recovery's read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadFaultKind {
    /// The read fails with `EIO`.
    Error,
    /// The file reads as empty: a short read, then the end of the file.
    Short,
}

/// How the next WAL write fails (the storage spec's persist failures).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PersistFailure {
    /// The append writes nothing and fails.
    AppendFails,
    /// The append writes only the first `bytes` bytes of the frame (all
    /// but the last at most), then fails.
    PartialAppend { bytes: u32 },
    /// The append succeeds; the sync after it fails.
    SyncFails,
}

impl PersistFailure {
    /// The I/O error this failure is.
    pub const fn fault(self) -> IoFault {
        let (site, op, effect) = match self {
            PersistFailure::AppendFails => (
                Site::WalAppend,
                FsOpKind::Write,
                IoEffect::Fail(IoErrorKind::Eio),
            ),
            PersistFailure::PartialAppend { bytes } => {
                (Site::WalAppend, FsOpKind::Write, IoEffect::Short { bytes })
            }
            PersistFailure::SyncFails => (
                Site::WalSync,
                FsOpKind::Sync,
                IoEffect::Fail(IoErrorKind::Eio),
            ),
        };
        IoFault {
            site,
            op,
            passes: 0,
            effect,
        }
    }

    /// The persist failure an I/O error of the WAL's write path is, if it
    /// is one (an error of either kind counts).
    pub fn of(site: Site, effect: IoEffect) -> Option<PersistFailure> {
        match (site, effect) {
            (Site::WalAppend, IoEffect::Fail(_)) => Some(PersistFailure::AppendFails),
            (Site::WalAppend, IoEffect::Short { bytes }) => {
                Some(PersistFailure::PartialAppend { bytes })
            }
            (Site::WalSync, _) => Some(PersistFailure::SyncFails),
            _ => None,
        }
    }
}

/// Every persist failure kind (a partial append's size is drawn apart).
pub const PERSIST_FAILURE_KINDS: [PersistFailure; 3] = [
    PersistFailure::AppendFails,
    PersistFailure::PartialAppend { bytes: 0 },
    PersistFailure::SyncFails,
];

/// A stable name for a persist failure kind (its size is not part of it).
pub fn persist_failure_name(failure: PersistFailure) -> &'static str {
    match failure {
        PersistFailure::AppendFails => "append_fails",
        PersistFailure::PartialAppend { .. } => "partial_append",
        PersistFailure::SyncFails => "sync_fails",
    }
}

/// How an armed I/O error fails its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IoKind {
    /// The operation does nothing and fails with `EIO`.
    Eio,
    /// The operation does nothing and fails with `ENOSPC`.
    Enospc,
    /// A write writes its first n bytes (all but the last at most), then
    /// fails with `ENOSPC`; a read delivers n bytes, then the file reads as
    /// ended.
    Short(u32),
}

impl IoKind {
    pub const fn effect(self) -> IoEffect {
        match self {
            IoKind::Eio => IoEffect::Fail(IoErrorKind::Eio),
            IoKind::Enospc => IoEffect::Fail(IoErrorKind::Enospc),
            IoKind::Short(bytes) => IoEffect::Short { bytes },
        }
    }

    pub const fn of(effect: IoEffect) -> IoKind {
        match effect {
            IoEffect::Fail(IoErrorKind::Eio) => IoKind::Eio,
            IoEffect::Fail(IoErrorKind::Enospc) => IoKind::Enospc,
            IoEffect::Short { bytes } => IoKind::Short(bytes),
        }
    }
}

fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

/// Serde shadow of the core's [`Site`].
#[derive(Serialize, Deserialize)]
#[serde(remote = "Site", rename = "Site")]
pub enum SiteDef {
    WalOpen,
    WalAppend,
    WalSync,
    WalTruncate,
    WalRewriteTemp,
    WalRewriteRename,
    WalDirectory,
    WalScan,
    WalReplay,
    WalRewriteRead,
    SnapshotTemp,
    SnapshotRename,
    SnapshotDirectory,
    SnapshotRead,
}

/// Serde shadow of the core's [`FsOpKind`].
#[derive(Serialize, Deserialize)]
#[serde(remote = "FsOpKind", rename = "FsOp")]
pub enum FsOpKindDef {
    Open,
    Create,
    Write,
    SetLen,
    Sync,
    Rename,
    SyncDirectory,
    Read,
}

/// The kind of an action, for counting what a sweep exercised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    Submit,
    Retry,
    Burst,
    AdvanceSlot,
    Tick,
    Checkpoint,
    Read,
    ArmCrash,
    ArmPersistFailure,
    ArmReadFault,
    ArmIoError,
    Crash,
    TearLastFrame,
    FlipWalBit,
    FlipSnapshotBit,
    Restart,
    ForgeSnapshot,
}

impl ActionKind {
    pub const ALL: [ActionKind; 17] = [
        ActionKind::Submit,
        ActionKind::Retry,
        ActionKind::Burst,
        ActionKind::AdvanceSlot,
        ActionKind::Tick,
        ActionKind::Checkpoint,
        ActionKind::Read,
        ActionKind::ArmCrash,
        ActionKind::ArmPersistFailure,
        ActionKind::ArmReadFault,
        ActionKind::ArmIoError,
        ActionKind::Crash,
        ActionKind::TearLastFrame,
        ActionKind::FlipWalBit,
        ActionKind::FlipSnapshotBit,
        ActionKind::Restart,
        ActionKind::ForgeSnapshot,
    ];

    /// The kinds that only faults bring about: the fault actions, and the
    /// restart that follows them. A run without faults has none of these.
    pub const FAULTS: [ActionKind; 9] = [
        ActionKind::ArmCrash,
        ActionKind::ArmPersistFailure,
        ActionKind::ArmReadFault,
        ActionKind::ArmIoError,
        ActionKind::Crash,
        ActionKind::TearLastFrame,
        ActionKind::FlipWalBit,
        ActionKind::FlipSnapshotBit,
        ActionKind::Restart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Submit => "submit",
            ActionKind::Retry => "retry",
            ActionKind::Burst => "burst",
            ActionKind::AdvanceSlot => "advance_slot",
            ActionKind::Tick => "tick",
            ActionKind::Checkpoint => "checkpoint",
            ActionKind::Read => "read",
            ActionKind::ArmCrash => "arm_crash",
            ActionKind::ArmPersistFailure => "arm_persist_failure",
            ActionKind::ArmReadFault => "arm_read_fault",
            ActionKind::ArmIoError => "arm_io_error",
            ActionKind::Crash => "crash",
            ActionKind::TearLastFrame => "tear_last_frame",
            ActionKind::FlipWalBit => "flip_wal_bit",
            ActionKind::FlipSnapshotBit => "flip_snapshot_bit",
            ActionKind::Restart => "restart",
            ActionKind::ForgeSnapshot => "forge_snapshot",
        }
    }
}

impl Action {
    /// The I/O error this action arms, if it arms one.
    pub fn io_fault(&self) -> Option<IoFault> {
        match *self {
            Action::ArmPersistFailure(failure) => Some(failure.fault()),
            Action::ArmReadFault { file, kind } => Some(file.fault(kind)),
            Action::ArmIoError {
                site,
                op,
                kind,
                passes,
            } => Some(IoFault {
                site,
                op,
                passes,
                effect: kind.effect(),
            }),
            _ => None,
        }
    }

    /// The crash points this action's write path passes, in path order. A
    /// restart also passes `RecoveryAfterReplayedFrame(k)` once per frame it
    /// replays; how many depends on the log, so those are not listed.
    pub fn crash_points(&self) -> &'static [CrashPoint] {
        match self {
            Action::Submit { .. } | Action::Retry { .. } | Action::Burst(_) => &[
                CrashPoint::ClientBeforeAppend,
                CrashPoint::ClientAfterAppend,
                CrashPoint::ClientAfterSync,
                CrashPoint::ClientAfterApply,
            ],
            Action::Tick => &[
                CrashPoint::ExpireBeforeAppend,
                CrashPoint::ExpireAfterAppend,
                CrashPoint::ExpireAfterSync,
                CrashPoint::ExpireAfterApply,
            ],
            Action::Checkpoint => &[
                CrashPoint::CheckpointAfterSnapshotTemp,
                CrashPoint::CheckpointAfterSnapshotRename,
                CrashPoint::CheckpointAfterSnapshot,
                CrashPoint::CheckpointAfterWalRename,
                CrashPoint::CheckpointAfterWalRewrite,
            ],
            Action::Restart => &[
                CrashPoint::RecoveryAfterSnapshotLoad,
                CrashPoint::RecoveryAfterTornTailTruncate,
            ],
            _ => &[],
        }
    }

    /// True when this action runs the code path `point` sits on.
    pub fn reaches(&self, point: CrashPoint) -> bool {
        match point {
            CrashPoint::RecoveryAfterReplayedFrame(_) => matches!(self, Action::Restart),
            point => self.crash_points().contains(&point),
        }
    }

    /// A crash whose WAL tail fares as `unsynced`, keeping everything else.
    pub const fn crash(unsynced: Unsynced) -> Action {
        Action::Crash {
            unsynced,
            entries: Entries::All,
            other_files: Unsynced::Keep,
        }
    }

    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Submit { .. } => ActionKind::Submit,
            Action::Retry { .. } => ActionKind::Retry,
            Action::Burst(_) => ActionKind::Burst,
            Action::AdvanceSlot { .. } | Action::AdvanceTo { .. } => ActionKind::AdvanceSlot,
            Action::Tick => ActionKind::Tick,
            Action::Checkpoint => ActionKind::Checkpoint,
            Action::ReadResource { .. } | Action::ReadLease { .. } => ActionKind::Read,
            Action::ArmCrash(_) | Action::ArmCrashAfter { .. } => ActionKind::ArmCrash,
            Action::ArmPersistFailure(_) => ActionKind::ArmPersistFailure,
            Action::ArmReadFault { .. } => ActionKind::ArmReadFault,
            Action::ArmIoError { .. } => ActionKind::ArmIoError,
            Action::Crash { .. } => ActionKind::Crash,
            Action::TearLastFrame { .. } => ActionKind::TearLastFrame,
            Action::FlipBit { target, .. } if target.is_wal() => ActionKind::FlipWalBit,
            Action::FlipBit { .. } => ActionKind::FlipSnapshotBit,
            Action::Restart => ActionKind::Restart,
            Action::ForgeSnapshot { .. } => ActionKind::ForgeSnapshot,
        }
    }
}
