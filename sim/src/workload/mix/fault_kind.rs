//! The fault kinds the simulator injects, and which of them a sweep may
//! use (`--faults`): parsed from the command line, with a warning for a
//! kind its selection leaves idle.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::action::ActionKind;

/// A kind of fault the simulator can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// Arm a core crash point: the engine dies when it next reaches it.
    ArmCrash,
    /// Arm a persist failure: the next WAL append or sync fails.
    PersistFailure,
    /// Arm an I/O error in any file operation the engine makes: while up
    /// in its writes' and checkpoints', while down in the next recovery's.
    IoError,
    /// The process dies now; unsynced WAL bytes are kept, lost or torn.
    Crash,
    /// While down: cut the last WAL frame short.
    TearLastFrame,
    /// While down: flip one bit of a WAL frame.
    FlipWalBit,
    /// While down: flip one bit of the snapshot file.
    FlipSnapshotBit,
    /// While down: the next restart's first read of the WAL or the
    /// snapshot fails or comes up short.
    ReadFault,
    /// Of the crashes with directory entry operations pending (a create or
    /// rename no directory sync covers yet), those that keep only some.
    LoseEntries,
    /// Of the crashes with unsynced bytes in files other than the WAL
    /// (a snapshot or a rewritten log not yet synced), those that cut them.
    LoseFileData,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::ArmCrash,
        FaultKind::PersistFailure,
        FaultKind::Crash,
        FaultKind::TearLastFrame,
        FaultKind::FlipWalBit,
        FaultKind::FlipSnapshotBit,
        FaultKind::ReadFault,
        FaultKind::LoseEntries,
        FaultKind::LoseFileData,
        FaultKind::IoError,
    ];

    /// The snake_case name used on the command line and in transcripts.
    pub const fn name(self) -> &'static str {
        match self {
            FaultKind::ArmCrash => "arm_crash",
            FaultKind::PersistFailure => "persist_failure",
            FaultKind::IoError => "io_error",
            FaultKind::Crash => "crash",
            FaultKind::TearLastFrame => "tear_last_frame",
            FaultKind::FlipWalBit => "flip_wal_bit",
            FaultKind::FlipSnapshotBit => "flip_snapshot_bit",
            FaultKind::ReadFault => "read_fault",
            FaultKind::LoseEntries => "lose_entries",
            FaultKind::LoseFileData => "lose_file_data",
        }
    }

    pub fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The action this fault kind shows up as.
    pub const fn action_kind(self) -> ActionKind {
        match self {
            FaultKind::ArmCrash => ActionKind::ArmCrash,
            FaultKind::PersistFailure => ActionKind::ArmPersistFailure,
            FaultKind::IoError => ActionKind::ArmIoError,
            FaultKind::Crash => ActionKind::Crash,
            FaultKind::TearLastFrame => ActionKind::TearLastFrame,
            FaultKind::FlipWalBit => ActionKind::FlipWalBit,
            FaultKind::FlipSnapshotBit => ActionKind::FlipSnapshotBit,
            FaultKind::ReadFault => ActionKind::ArmReadFault,
            FaultKind::LoseEntries | FaultKind::LoseFileData => ActionKind::Crash,
        }
    }

    /// True for the kinds injected while the engine is up (or halted);
    /// false for those that damage files while it is down.
    pub const fn while_up(self) -> bool {
        matches!(
            self,
            FaultKind::ArmCrash
                | FaultKind::PersistFailure
                | FaultKind::IoError
                | FaultKind::Crash
                | FaultKind::LoseEntries
                | FaultKind::LoseFileData
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `arm_crash, persist_failure, ...`: the names a selection may list.
pub fn fault_kind_names() -> String {
    FaultKind::ALL
        .iter()
        .map(|kind| kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which fault kinds a sweep may inject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultSelection {
    All,
    None,
    Only(BTreeSet<FaultKind>),
}

/// A fault selection on the command line did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FaultSelectionError {
    #[error(
        "unknown fault kind `{name}`: expected `all`, `none`, or a comma-separated list of: {}",
        fault_kind_names()
    )]
    UnknownKind { name: String },
    #[error(
        "empty fault kind in `{text}`: expected `all`, `none`, or a comma-separated list of: {}",
        fault_kind_names()
    )]
    Empty { text: String },
}

impl FaultSelection {
    /// `all`, `none`, or a comma-separated list of [`FaultKind`] names
    /// (spaces around names are ignored).
    pub fn parse(text: &str) -> Result<FaultSelection, FaultSelectionError> {
        match text.trim() {
            "all" => return Ok(FaultSelection::All),
            "none" => return Ok(FaultSelection::None),
            _ => {}
        }
        let mut kinds = BTreeSet::new();
        for name in text.split(',').map(str::trim) {
            if name.is_empty() {
                return Err(FaultSelectionError::Empty {
                    text: text.to_owned(),
                });
            }
            let kind =
                FaultKind::from_name(name).ok_or_else(|| FaultSelectionError::UnknownKind {
                    name: name.to_owned(),
                })?;
            kinds.insert(kind);
        }
        Ok(FaultSelection::Only(kinds))
    }

    /// The selected kinds that can never fire in a correct engine's run
    /// without another kind the selection lacks, each with what it needs:
    /// a sweep says so rather than run them silently idle. (A self-test
    /// that ignores a directory sync leaves entries pending without any
    /// crash point, so these are warnings, not errors.)
    pub fn idle_kinds(&self) -> Vec<String> {
        let on = |kind| self.includes(kind);
        let arm = on(FaultKind::ArmCrash);
        let down = arm || on(FaultKind::Crash);
        FaultKind::ALL
            .into_iter()
            .filter(|&kind| on(kind))
            .filter_map(|kind| {
                let needs = match kind {
                    FaultKind::ArmCrash
                    | FaultKind::PersistFailure
                    | FaultKind::IoError
                    | FaultKind::Crash => None,
                    FaultKind::TearLastFrame => (!arm).then_some(
                        "arm_crash: only a process killed after an append leaves a tail to tear",
                    ),
                    FaultKind::FlipWalBit | FaultKind::FlipSnapshotBit | FaultKind::ReadFault => {
                        (!down).then_some("arm_crash or crash: it acts while the engine is down")
                    }
                    FaultKind::LoseEntries | FaultKind::LoseFileData => {
                        (!(arm && on(FaultKind::Crash))).then_some(
                            "arm_crash and crash: only a crash after a checkpoint crash point finds entries pending or a file unsynced",
                        )
                    }
                };
                needs.map(|needs| format!("{kind} never fires without {needs}"))
            })
            .collect()
    }

    pub fn includes(&self, kind: FaultKind) -> bool {
        match self {
            FaultSelection::All => true,
            FaultSelection::None => false,
            FaultSelection::Only(kinds) => kinds.contains(&kind),
        }
    }

    /// The selected kinds, in [`FaultKind::ALL`] order.
    pub fn kinds(&self) -> Vec<FaultKind> {
        FaultKind::ALL
            .into_iter()
            .filter(|&kind| self.includes(kind))
            .collect()
    }
}

impl FromStr for FaultSelection {
    type Err = FaultSelectionError;

    fn from_str(text: &str) -> Result<FaultSelection, FaultSelectionError> {
        FaultSelection::parse(text)
    }
}

impl fmt::Display for FaultSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultSelection::All => f.write_str("all"),
            FaultSelection::None => f.write_str("none"),
            FaultSelection::Only(kinds) => {
                let names: Vec<&str> = kinds.iter().map(|kind| kind.name()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}
