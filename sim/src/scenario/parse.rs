//! Text to [`Scenario`]: RON with `implicit_some` on, every error with the
//! file, line and column, then the semantic checks of [`super::validate`].
//!
//! A step is written as either an action (`Tick`) or an expectation
//! (`ExpectResult(Ok)`) in one list. Serde has no way to say "this enum or
//! that one" with good errors (untagged enums lose the position and the
//! expected names), so [`Entry`] reads the variant name itself and hands
//! the rest to the derived code of the enum that owns the name.

use super::format::{Entry, Expect, Scenario};
use super::validate::{validate, Semantic};
use crate::action::Action;
use ron::extensions::Extensions;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor,
};
use serde::Deserialize;
use std::fmt;
use std::path::Path;

/// Variant names of [`Action`], as written in files.
pub const ACTION_NAMES: &[&str] = &[
    "Submit",
    "Retry",
    "Burst",
    "AdvanceSlot",
    "AdvanceTo",
    "Tick",
    "Checkpoint",
    "ReadResource",
    "ReadLease",
    "ArmCrash",
    "ArmCrashAfter",
    "ArmPersistFailure",
    "ArmReadFault",
    "ArmIoError",
    "Crash",
    "TearLastFrame",
    "FlipBit",
    "Restart",
    "ForgeSnapshot",
];

/// Variant names of [`Expect`], as written in files.
pub const EXPECT_NAMES: &[&str] = &[
    "ExpectResult",
    "ExpectCached",
    "ExpectOperation",
    "ExpectResource",
    "ExpectLease",
    "ExpectRecovery",
    "ExpectFailClosed",
    "ExpectReadAsTorn",
    "ExpectOracleFailure",
];

/// Why a scenario file cannot be used. The display form starts with the
/// file name, as compilers do, so editors can jump to it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The text is not a scenario (syntax, types, unknown names).
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The scenario parses but cannot mean what it says.
    #[error("{path}: {semantic}")]
    Semantic { path: String, semantic: Semantic },
}

/// Reads and checks a scenario file. `path` is shown as given in errors.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: shown.clone(),
        source,
    })?;
    parse(&text, &shown)
}

/// Parses and checks scenario text; `path` names it in errors.
pub fn parse(text: &str, path: &str) -> Result<Scenario, LoadError> {
    let scenario: Scenario = ron_options().from_str(text).map_err(|error| {
        let (line, column) = next_token(text, error.span.start.line, error.span.start.col);
        LoadError::Syntax {
            path: path.to_string(),
            line,
            column,
            message: match error.code {
                ron::Error::ExceededRecursionLimit => {
                    format!("nesting deeper than {NESTING_LIMIT} levels")
                }
                other => other.to_string(),
            },
        }
    })?;
    validate(&scenario).map_err(|semantic| LoadError::Semantic {
        path: path.to_string(),
        semantic,
    })?;
    Ok(scenario)
}

/// The parser reports where it stood, which is often just before blanks;
/// people want the token it could not take: skip blanks (1-based lines and
/// columns in characters, as the parser counts).
fn next_token(text: &str, line: usize, column: usize) -> (usize, usize) {
    for (index, line_text) in text.lines().enumerate().skip(line.saturating_sub(1)) {
        let skip = if index + 1 == line {
            column.saturating_sub(1)
        } else {
            0
        };
        if let Some(offset) = line_text
            .chars()
            .skip(skip)
            .position(|c| !c.is_whitespace())
        {
            return (index + 1, skip + offset + 1);
        }
    }
    (line, column)
}

/// Deepest nesting a file may have; a real scenario needs about six.
const NESTING_LIMIT: usize = 64;

pub(super) fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME)
        .with_recursion_limit(NESTING_LIMIT)
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entry, D::Error> {
        deserializer.deserialize_enum("Step", ACTION_NAMES, EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a step: an action or an expectation")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Entry, A::Error> {
        let (VariantName(name), variant) = data.variant()?;
        let replay = Replay {
            name: name.clone(),
            variant,
        };
        if ACTION_NAMES.contains(&name.as_str()) {
            Action::deserialize(replay).map(Entry::Action)
        } else if EXPECT_NAMES.contains(&name.as_str()) {
            Expect::deserialize(replay).map(Entry::Expect)
        } else {
            Err(de::Error::custom(format_args!(
                "unknown step `{name}`: expected an action ({}) or an expectation ({})",
                ACTION_NAMES.join(", "),
                EXPECT_NAMES.join(", ")
            )))
        }
    }
}

/// A variant name, read as an identifier (as derived enums read theirs).
struct VariantName(String);

impl<'de> Deserialize<'de> for VariantName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<VariantName, D::Error> {
        struct NameVisitor;
        impl Visitor<'_> for NameVisitor {
            type Value = VariantName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the name of a step")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<VariantName, E> {
                Ok(VariantName(name.to_string()))
            }
        }
        deserializer.deserialize_identifier(NameVisitor)
    }
}

/// An enum whose variant name was already read: offers the name again,
/// then the parser's own access to the variant's contents.
struct Replay<V> {
    name: String,
    variant: V,
}

impl<'de, A: VariantAccess<'de>> Deserializer<'de> for Replay<A> {
    type Error = A::Error;

    fn deserialize_any<W: Visitor<'de>>(self, visitor: W) -> Result<W::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, V: VariantAccess<'de>> EnumAccess<'de> for Replay<V> {
    type Error = V::Error;
    type Variant = V;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, V), V::Error> {
        let name = IntoDeserializer::<V::Error>::into_deserializer(self.name);
        Ok((seed.deserialize(name)?, self.variant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fence::Fence;

    /// Every action variant is listed: a missing name would make its steps
    /// unparseable.
    #[test]
    fn every_action_name_is_listed_and_round_trips() {
        use crate::action::PersistFailure;
        use crate::action::{FlipTarget, SimCommand, Unsynced};
        use allocdb_core::engine::fault::CrashPoint;
        let samples = [
            Action::Submit {
                client: 1,
                operation: 2,
                command: SimCommand::CreateResource { resource: 3 },
                behind: 0,
            },
            Action::Retry { operation: 2 },
            Action::Burst(vec![Action::Retry { operation: 2 }]),
            Action::AdvanceSlot { by: 1 },
            Action::AdvanceTo { slot: 4 },
            Action::Tick,
            Action::Checkpoint,
            Action::ReadResource {
                resource: 3,
                required_lsn: None,
            },
            Action::ReadLease {
                lease: crate::lease_ref::LeaseRef::Id(3),
                required_lsn: Some(Fence::Lsn(2)),
            },
            Action::ArmCrash(CrashPoint::ClientAfterSync),
            Action::ArmCrashAfter {
                point: CrashPoint::ExpireAfterAppend,
                passes: 2,
            },
            Action::ArmPersistFailure(PersistFailure::PartialAppend { bytes: 3 }),
            Action::ArmReadFault {
                file: crate::action::ReadTarget::Snapshot,
                kind: crate::action::ReadFaultKind::Short,
            },
            Action::ArmIoError {
                site: allocdb_core::fs::Site::SnapshotTemp,
                op: allocdb_core::fs::FsOpKind::Write,
                kind: crate::action::IoKind::Short(7),
                passes: 1,
            },
            Action::crash(Unsynced::KeepPrefix(5)),
            Action::TearLastFrame { keep: 2 },
            Action::FlipBit {
                target: FlipTarget::WalFrame { frame: 1, byte: 2 },
                bit: 3,
            },
            Action::Restart,
            Action::ForgeSnapshot { lsn: 5 },
        ];
        assert_eq!(samples.len(), ACTION_NAMES.len());
        for (action, name) in samples.iter().zip(ACTION_NAMES) {
            let text = ron::to_string(action).unwrap();
            assert!(text.starts_with(name), "{text} is not named {name}");
            let entry: Entry = ron_options().from_str(&text).unwrap();
            assert_eq!(entry, Entry::Action(action.clone()));
        }
    }
}

#[cfg(test)]
mod reference_tests {
    //! The forms that name a lease by its reserve and a place in a file
    //! from its end: written, parsed, the same steps; the literal forms
    //! keep meaning what they meant; a malformed reference is an error
    //! that says what was expected.
    use super::*;
    use crate::action::{FlipTarget, SimCommand};
    use crate::fence::Fence;
    use crate::lease_ref::LeaseRef;

    fn entry(text: &str) -> Result<Entry, String> {
        ron_options()
            .from_str::<Entry>(text)
            .map_err(|e| e.code.to_string())
    }

    fn submit(command: SimCommand) -> Action {
        Action::Submit {
            client: 1,
            operation: 9,
            command,
            behind: 0,
        }
    }

    #[test]
    fn every_reference_form_round_trips() {
        let of = LeaseRef::Of { op: 175 };
        let samples = [
            submit(SimCommand::Activate {
                lease: of,
                holder: 2,
                epoch: 1,
            }),
            submit(SimCommand::Release {
                lease: of,
                holder: 2,
                epoch: 3,
            }),
            submit(SimCommand::Revoke { lease: of }),
            submit(SimCommand::Reclaim { lease: of }),
            Action::ReadLease {
                lease: of,
                required_lsn: Some(Fence::Lsn(4)),
            },
            Action::ReadLease {
                lease: LeaseRef::Id(u128::MAX),
                required_lsn: None,
            },
            Action::Burst(vec![submit(SimCommand::Revoke { lease: of })]),
            Action::FlipBit {
                target: FlipTarget::WalFrameFromEnd { back: 2, byte: 7 },
                bit: 1,
            },
            Action::FlipBit {
                target: FlipTarget::SnapshotFromEnd { back: 3 },
                bit: 6,
            },
        ];
        for action in samples {
            let text = ron::to_string(&action).unwrap();
            assert_eq!(entry(&text), Ok(Entry::Action(action.clone())), "{text}");
        }
        assert_eq!(
            ron::to_string(&submit(SimCommand::Revoke { lease: of })).unwrap(),
            "Submit(client:1,operation:9,command:Revoke(lease:Of(op:175)))"
        );
    }

    #[test]
    fn literal_forms_keep_their_meaning() {
        assert_eq!(
            entry("ReadLease(lease: 18)"),
            Ok(Entry::Action(Action::ReadLease {
                lease: LeaseRef::Id(18),
                required_lsn: None,
            }))
        );
        assert_eq!(
            entry("ReadLease(lease: 18446744073709551617)"),
            Ok(Entry::Action(Action::ReadLease {
                lease: LeaseRef::Id((1 << 64) + 1),
                required_lsn: None,
            })),
            "a lease of shard 1 is past u64"
        );
        assert_eq!(
            entry("FlipBit(target: WalFrame(frame: 4, byte: 2), bit: 1)"),
            Ok(Entry::Action(Action::FlipBit {
                target: FlipTarget::WalFrame { frame: 4, byte: 2 },
                bit: 1,
            }))
        );
        assert_eq!(
            ron::to_string(&Action::ReadLease {
                lease: LeaseRef::Id(18),
                required_lsn: None,
            })
            .unwrap(),
            "ReadLease(lease:18)"
        );
    }

    #[test]
    fn malformed_references_are_errors_that_say_what_was_expected() {
        let expected = "a lease id (an unsigned integer) or `Of(op: N)`";
        for (text, wanted) in [
            (
                "Submit(client: 1, operation: 2, command: Revoke(lease: -3))",
                expected,
            ),
            (
                "Submit(client: 1, operation: 2, command: Revoke(lease: \"x\"))",
                expected,
            ),
            (
                "Submit(client: 1, operation: 2, command: Revoke(lease: Of()))",
                "op",
            ),
            (
                "Submit(client: 1, operation: 2, command: Revoke(lease: Of(lsn: 3)))",
                "lsn",
            ),
            (
                "Submit(client: 1, operation: 2, command: Revoke(lease: Of(op: 3, op: 4)))",
                "op",
            ),
            (
                "FlipBit(target: WalFrameFromEnd(frame: 1, byte: 0), bit: 0)",
                "frame",
            ),
        ] {
            let error = entry(text).expect_err(text);
            assert!(error.contains(wanted), "{text}: {error}");
        }
    }
}
