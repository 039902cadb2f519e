//! How a step names a lease: by its id, or by the operation whose reserve
//! made it. A lease id is the LSN of that reserve, so deleting any earlier
//! committed step renames every later lease; `Of(op: N)` keeps naming the
//! same lease, which is what lets a shrinker delete unrelated steps.
//!
//! In a file the id is a plain integer (`lease: 18`, as it always was) and
//! the other form is `lease: Of(op: 175)`.

use allocdb_core::{LeaseId, Lsn, OperationId};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStructVariant;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LeaseRef {
    /// The lease with this id.
    Id(u128),
    /// The lease the reserve of operation `op` made, as the state stands
    /// when the step runs.
    Of { op: u128 },
}

impl LeaseRef {
    /// The id, when the reference is one.
    pub fn id(self) -> Option<u128> {
        match self {
            LeaseRef::Id(id) => Some(id),
            LeaseRef::Of { .. } => None,
        }
    }
}

impl From<u128> for LeaseRef {
    fn from(id: u128) -> LeaseRef {
        LeaseRef::Id(id)
    }
}

impl fmt::Display for LeaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseRef::Id(id) => write!(f, "{id}"),
            LeaseRef::Of { op } => write!(f, "Of(op: {op})"),
        }
    }
}

impl Serialize for LeaseRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            LeaseRef::Id(id) => serializer.serialize_u128(id),
            LeaseRef::Of { op } => {
                let mut variant = serializer.serialize_struct_variant("LeaseRef", 1, "Of", 1)?;
                variant.serialize_field("op", &op)?;
                variant.end()
            }
        }
    }
}

/// The field name of the `Of` form; the only struct form there is, so a
/// struct with exactly this field is it. (RON hands a visitor the fields
/// of `Name(field: ..)` without the name.)
const OF_FIELD: &str = "op";

impl<'de> Deserialize<'de> for LeaseRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LeaseRef, D::Error> {
        deserializer.deserialize_any(LeaseRefVisitor)
    }
}

struct LeaseRefVisitor;

impl<'de> Visitor<'de> for LeaseRefVisitor {
    type Value = LeaseRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a lease id (an unsigned integer) or `Of(op: N)`")
    }

    fn visit_u64<E: de::Error>(self, id: u64) -> Result<LeaseRef, E> {
        Ok(LeaseRef::Id(u128::from(id)))
    }

    fn visit_u128<E: de::Error>(self, id: u128) -> Result<LeaseRef, E> {
        Ok(LeaseRef::Id(id))
    }

    fn visit_i64<E: de::Error>(self, id: i64) -> Result<LeaseRef, E> {
        self.visit_i128(i128::from(id))
    }

    fn visit_i128<E: de::Error>(self, id: i128) -> Result<LeaseRef, E> {
        u128::try_from(id)
            .map(LeaseRef::Id)
            .map_err(|_| E::invalid_value(de::Unexpected::Other("a negative integer"), &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LeaseRef, A::Error> {
        let mut op = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != OF_FIELD {
                return Err(de::Error::unknown_field(&key, &[OF_FIELD]));
            }
            if op.is_some() {
                return Err(de::Error::duplicate_field(OF_FIELD));
            }
            op = Some(map.next_value::<u128>()?);
        }
        let op = op.ok_or_else(|| de::Error::missing_field(OF_FIELD))?;
        Ok(LeaseRef::Of { op })
    }
}

/// What a reference that names no lease is sent as when a run is not
/// strict (a shrinker deleted the reserve): an LSN no engine reaches, so
/// the command meets `lease_not_found` as any unknown id would.
pub fn no_such_lease(shard_id: u64) -> LeaseId {
    LeaseId::new(shard_id, Lsn(u64::MAX))
}

/// Which operation's reserve made which lease, for every reserve the
/// state ever applied (never pruned: an `Of(op: N)` step may come long
/// after the operation record retired). Kept with the reference model,
/// so that a crash that loses a reserve loses its name with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseNames {
    by_operation: BTreeMap<OperationId, LeaseId>,
    by_lease: BTreeMap<LeaseId, OperationId>,
}

impl LeaseNames {
    /// The reserve of `operation` made `lease`. A later reserve under the
    /// same id (after its record retired) names a new lease.
    pub fn reserved(&mut self, operation: OperationId, lease: LeaseId) {
        self.by_operation.insert(operation, lease);
        self.by_lease.insert(lease, operation);
    }

    /// The lease the latest reserve of `operation` made.
    pub fn lease_of(&self, operation: OperationId) -> Option<LeaseId> {
        self.by_operation.get(&operation).copied()
    }

    /// The operation whose reserve made `lease`.
    pub fn reserver_of(&self, lease: LeaseId) -> Option<OperationId> {
        self.by_lease.get(&lease).copied()
    }

    /// The id `lease` names as the state stands: its own, or that of the
    /// lease the latest reserve of its operation made (`None`: none).
    pub fn id_of(&self, lease: LeaseRef) -> Option<u128> {
        match lease {
            LeaseRef::Id(id) => Some(id),
            LeaseRef::Of { op } => self.lease_of(OperationId(op)).map(|id| id.0),
        }
    }

    /// How a generated step names `lease`: by its reserve when it is known
    /// and still names this lease, else by id.
    pub fn reference(&self, lease: LeaseId) -> LeaseRef {
        match self.reserver_of(lease) {
            Some(operation) if self.lease_of(operation) == Some(lease) => {
                LeaseRef::Of { op: operation.0 }
            }
            _ => LeaseRef::Id(lease.0),
        }
    }
}
