//! How a read names its fence: an LSN, or the LSN applied when the read
//! runs plus a few. A fence at the applied LSN (or one past it) is an edge
//! whatever came before, so the relative form lets a shrinker delete
//! every earlier commit and keep the read on its edge; an absolute LSN
//! would keep them all.
//!
//! In a file the LSN is a plain integer (`required_lsn: 4`, as it always
//! was) and the other form is `required_lsn: Applied(plus: 1)`.

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStructVariant;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fence {
    /// Answer once this LSN is applied.
    Lsn(u64),
    /// Answer once `plus` more commands than the applied LSN when the step
    /// runs (0 before the first) are applied.
    Applied { plus: u64 },
}

impl Fence {
    /// The LSN, when the fence is literal.
    pub fn lsn(self) -> Option<u64> {
        match self {
            Fence::Lsn(lsn) => Some(lsn),
            Fence::Applied { .. } => None,
        }
    }

    /// The literal fence, given the LSN applied now.
    pub fn resolve(self, applied: u64) -> Fence {
        match self {
            Fence::Lsn(_) => self,
            Fence::Applied { plus } => Fence::Lsn(applied.saturating_add(plus)),
        }
    }
}

impl fmt::Display for Fence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fence::Lsn(lsn) => write!(f, "{lsn}"),
            Fence::Applied { plus } => write!(f, "Applied(plus: {plus})"),
        }
    }
}

impl Serialize for Fence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Fence::Lsn(lsn) => serializer.serialize_u64(lsn),
            Fence::Applied { plus } => {
                let mut variant = serializer.serialize_struct_variant("Fence", 1, "Applied", 1)?;
                variant.serialize_field(PLUS_FIELD, &plus)?;
                variant.end()
            }
        }
    }
}

/// The field of the `Applied` form, the only struct form there is. (RON
/// hands a visitor the fields of `Name(field: ..)` without the name.)
const PLUS_FIELD: &str = "plus";

impl<'de> Deserialize<'de> for Fence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Fence, D::Error> {
        deserializer.deserialize_any(FenceVisitor)
    }
}

struct FenceVisitor;

impl<'de> Visitor<'de> for FenceVisitor {
    type Value = Fence;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an LSN (an unsigned integer) or `Applied(plus: N)`")
    }

    fn visit_u64<E: de::Error>(self, lsn: u64) -> Result<Fence, E> {
        Ok(Fence::Lsn(lsn))
    }

    fn visit_i64<E: de::Error>(self, lsn: i64) -> Result<Fence, E> {
        u64::try_from(lsn)
            .map(Fence::Lsn)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(lsn), &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fence, A::Error> {
        let mut plus = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != PLUS_FIELD {
                return Err(de::Error::unknown_field(&key, &[PLUS_FIELD]));
            }
            if plus.is_some() {
                return Err(de::Error::duplicate_field(PLUS_FIELD));
            }
            plus = Some(map.next_value::<u64>()?);
        }
        let plus = plus.ok_or_else(|| de::Error::missing_field(PLUS_FIELD))?;
        Ok(Fence::Applied { plus })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Read {
        required_lsn: Fence,
    }

    fn parse(text: &str) -> Result<Fence, String> {
        ron::from_str::<Read>(text)
            .map(|r| r.required_lsn)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn both_forms_round_trip() {
        for fence in [Fence::Lsn(4), Fence::Applied { plus: 1 }] {
            let text = ron::to_string(&Read {
                required_lsn: fence,
            })
            .unwrap();
            assert_eq!(parse(&text), Ok(fence), "{text}");
        }
        assert_eq!(parse("(required_lsn: 7)"), Ok(Fence::Lsn(7)));
        assert_eq!(
            parse("(required_lsn: Applied(plus: 0))"),
            Ok(Fence::Applied { plus: 0 })
        );
    }

    #[test]
    fn malformed_fences_say_what_was_expected() {
        let negative = parse("(required_lsn: -1)").unwrap_err();
        assert!(negative.contains("Applied(plus: N)"), "{negative}");
        let field = parse("(required_lsn: Applied(minus: 1))").unwrap_err();
        assert!(field.contains("minus"), "{field}");
        let missing = parse("(required_lsn: Applied())").unwrap_err();
        assert!(missing.contains("plus"), "{missing}");
    }

    #[test]
    fn the_relative_form_resolves_against_the_applied_lsn() {
        assert_eq!(Fence::Applied { plus: 1 }.resolve(97), Fence::Lsn(98));
        assert_eq!(Fence::Applied { plus: 0 }.resolve(0), Fence::Lsn(0));
        assert_eq!(Fence::Lsn(5).resolve(97), Fence::Lsn(5));
        assert_eq!(
            Fence::Applied { plus: 2 }.resolve(u64::MAX),
            Fence::Lsn(u64::MAX)
        );
    }
}
