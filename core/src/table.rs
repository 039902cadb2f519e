//! A fixed-capacity, open-addressed hash table with a fixed hash.
//!
//! - Linear probing over a power-of-two slot array at least twice the record
//!   bound, so the load factor never passes 1/2 and a probe always meets an
//!   empty slot within `slots.len()` steps (the explicit probe bound).
//! - Deletion shifts the following cluster back instead of leaving
//!   tombstones, so lookups stay correct and probe lengths do not decay.
//! - All memory is allocated in `with_capacity`; insert and remove never
//!   allocate. Placement depends only on keys and operation order, never on
//!   a random seed.

use crate::hash::{hash_u128, mix};
use crate::ids::{LeaseId, OperationId, ResourceId};

/// A key with a fixed placement hash.
pub trait TableKey: Copy + Eq + core::fmt::Debug {
    fn table_hash(&self) -> u64;
}

impl TableKey for ResourceId {
    fn table_hash(&self) -> u64 {
        hash_u128(self.0)
    }
}

impl TableKey for LeaseId {
    fn table_hash(&self) -> u64 {
        hash_u128(self.0)
    }
}

impl TableKey for OperationId {
    fn table_hash(&self) -> u64 {
        hash_u128(self.0)
    }
}

/// One member of a lease: its `ordinal` is the position in the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberKey {
    pub lease_id: LeaseId,
    pub ordinal: u8,
}

impl TableKey for MemberKey {
    fn table_hash(&self) -> u64 {
        hash_u128(self.lease_id.0) ^ mix(u64::from(self.ordinal) + 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    #[error("table is at its record bound")]
    Full,
    #[error("key is already present")]
    Exists,
}

/// What `audit` found wrong with a table's internal structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TableFault {
    #[error("occupancy count {counted} differs from stored length {stored}")]
    LengthMismatch { counted: u32, stored: u32 },
    #[error("length {len} exceeds the record bound {capacity}")]
    OverCapacity { len: u32, capacity: u32 },
    #[error("the record in slot {slot} is not reachable from its home slot")]
    Unreachable { slot: usize },
    #[error("the record in slot {slot} appears twice")]
    Duplicate { slot: usize },
}

pub struct FixedTable<K, V> {
    slots: Box<[Option<(K, V)>]>,
    mask: usize,
    len: u32,
    capacity: u32,
}

impl<K: TableKey, V> FixedTable<K, V> {
    /// Allocates every slot now. `capacity` is the record bound.
    pub fn with_capacity(capacity: u32) -> Self {
        assert!(capacity > 0, "a table needs a record bound of at least 1");
        let slot_count = (capacity as usize * 2).next_power_of_two();
        let slots = (0..slot_count).map(|_| None).collect::<Vec<_>>();
        FixedTable {
            slots: slots.into_boxed_slice(),
            mask: slot_count - 1,
            len: 0,
            capacity,
        }
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Free records left before the bound.
    pub fn remaining(&self) -> u32 {
        self.capacity - self.len
    }

    pub fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    /// Slots allocated: a power of two, at least twice the record bound.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    fn home(&self, key: &K) -> usize {
        key.table_hash() as usize & self.mask
    }

    /// The slot holding `key`, if present.
    fn find(&self, key: &K) -> Option<usize> {
        let mut index = self.home(key);
        for _ in 0..self.slots.len() {
            match &self.slots[index] {
                None => return None,
                Some((k, _)) if k == key => return Some(index),
                Some(_) => index = (index + 1) & self.mask,
            }
        }
        unreachable!("probe bound exceeded: load factor is capped at 1/2, an empty slot must exist")
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key)
            .and_then(|i| self.slots[i].as_ref())
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key)
            .and_then(|i| self.slots[i].as_mut())
            .map(|(_, v)| v)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    pub fn insert(&mut self, key: K, value: V) -> Result<(), InsertError> {
        let mut index = self.home(&key);
        for _ in 0..self.slots.len() {
            match &self.slots[index] {
                None => {
                    if self.is_full() {
                        return Err(InsertError::Full);
                    }
                    self.slots[index] = Some((key, value));
                    self.len += 1;
                    return Ok(());
                }
                Some((k, _)) if *k == key => return Err(InsertError::Exists),
                Some(_) => index = (index + 1) & self.mask,
            }
        }
        unreachable!("probe bound exceeded: load factor is capped at 1/2, an empty slot must exist")
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let mut hole = self.find(key)?;
        let (_, removed) = self.slots[hole]
            .take()
            .expect("find returned an occupied slot");
        self.len -= 1;
        // Shift back every record of the cluster that may move into the hole
        // without passing its home slot.
        let mut next = (hole + 1) & self.mask;
        for _ in 0..self.slots.len() {
            let Some((k, _)) = &self.slots[next] else {
                return Some(removed);
            };
            let home = self.home(k);
            let hole_is_between_home_and_next = if hole <= next {
                home <= hole || home > next
            } else {
                home <= hole && home > next
            };
            if hole_is_between_home_and_next {
                self.slots[hole] = self.slots[next].take();
                hole = next;
            }
            next = (next + 1) & self.mask;
        }
        unreachable!("probe bound exceeded: load factor is capped at 1/2, an empty slot must exist")
    }

    /// Records in slot order: deterministic for a given history of inserts
    /// and removes, but not canonical; sort by key where order is observable.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots.iter().flatten().map(|(k, v)| (k, v))
    }

    /// Breaks the stored length, for tests of the audits that must notice.
    #[cfg(test)]
    pub(crate) fn corrupt_len(&mut self) {
        self.len += 1;
    }

    /// Checks the structure: the stored length, the bound, and that every
    /// record is found by a lookup from its home slot (exactly once).
    pub fn audit(&self) -> Result<(), TableFault> {
        let mut counted = 0u32;
        for (slot, entry) in self.slots.iter().enumerate() {
            if let Some((key, _)) = entry {
                counted += 1;
                match self.find(key) {
                    Some(found) if found == slot => {}
                    Some(_) => return Err(TableFault::Duplicate { slot }),
                    None => return Err(TableFault::Unreachable { slot }),
                }
            }
        }
        if counted != self.len {
            return Err(TableFault::LengthMismatch {
                counted,
                stored: self.len,
            });
        }
        if self.len > self.capacity {
            return Err(TableFault::OverCapacity {
                len: self.len,
                capacity: self.capacity,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// A key whose hash sends everything to a few homes, to force long
    /// clusters and wrap-around at the end of the slot array.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Colliding(u8);

    impl TableKey for Colliding {
        fn table_hash(&self) -> u64 {
            // Homes near the end of a 16-slot array, so clusters wrap.
            13 + u64::from(self.0 % 3)
        }
    }

    #[test]
    fn slots_are_a_power_of_two_at_least_twice_the_bound() {
        for capacity in 1..=300u32 {
            let table: FixedTable<ResourceId, ()> = FixedTable::with_capacity(capacity);
            let slots = table.slot_count();
            assert!(slots.is_power_of_two(), "{capacity}: {slots}");
            assert!(slots >= 2 * capacity as usize, "{capacity}: {slots}");
            assert!(slots < 4 * capacity as usize, "{capacity}: {slots}");
        }
    }

    /// Distinct home slots of `keys` in a table of 1,024 slots.
    fn homes<K: TableKey>(keys: impl Iterator<Item = K>) -> usize {
        let table: FixedTable<K, ()> = FixedTable::with_capacity(512);
        assert_eq!(table.slot_count(), 1024);
        let homes: std::collections::BTreeSet<usize> = keys.map(|k| table.home(&k)).collect();
        homes.len()
    }

    /// Ids are handed out sequentially, and a member key differs from its
    /// lease's other members only in the ordinal: the placement hash must
    /// still spread them like random keys, or probes grow with the table.
    /// 512 random keys in 1,024 slots take about 403 distinct homes.
    #[test]
    fn placement_spreads_sequential_keys_like_random_ones() {
        const SPREAD: usize = 370;
        let ids = || 1..=512u64;
        let resources = homes(ids().map(|n| ResourceId(u128::from(n))));
        let operations = homes(ids().map(|n| OperationId(u128::from(n))));
        let leases = homes(ids().map(|n| LeaseId::new(3, crate::ids::Lsn(n))));
        let members = homes((1..=128u64).flat_map(|lsn| {
            (0..4u8).map(move |ordinal| MemberKey {
                lease_id: LeaseId::new(0, crate::ids::Lsn(lsn)),
                ordinal,
            })
        }));
        for (table, spread) in [
            ("resource", resources),
            ("operation", operations),
            ("lease", leases),
            ("member", members),
        ] {
            assert!(spread >= SPREAD, "{table} keys take only {spread} homes");
        }
    }

    /// A table of 8 slots holding resource 1, and the slot it sits in.
    fn one_record() -> (FixedTable<ResourceId, u32>, usize) {
        let mut table = FixedTable::with_capacity(4);
        table.insert(ResourceId(1), 10).unwrap();
        let slot = table.find(&ResourceId(1)).unwrap();
        table.audit().unwrap();
        (table, slot)
    }

    #[test]
    fn audit_names_each_structural_fault() {
        let (mut table, slot) = one_record();
        let moved = (slot + 2) & table.mask;
        table.slots[moved] = table.slots[slot].take();
        assert_eq!(table.audit(), Err(TableFault::Unreachable { slot: moved }));

        let (mut table, slot) = one_record();
        let copy = (slot + 1) & table.mask;
        table.slots[copy] = table.slots[slot];
        table.len += 1;
        assert_eq!(table.audit(), Err(TableFault::Duplicate { slot: copy }));

        let (mut table, _) = one_record();
        table.len = 2;
        assert_eq!(
            table.audit(),
            Err(TableFault::LengthMismatch {
                counted: 1,
                stored: 2
            })
        );

        let (mut table, _) = one_record();
        table.capacity = 0;
        assert_eq!(
            table.audit(),
            Err(TableFault::OverCapacity {
                len: 1,
                capacity: 0
            })
        );
    }

    #[test]
    fn bound_is_records_not_slots() {
        let mut table = FixedTable::with_capacity(3);
        assert!(table.is_empty());
        for id in 0..3u128 {
            table.insert(ResourceId(id), id).unwrap();
        }
        assert_eq!(table.insert(ResourceId(9), 9), Err(InsertError::Full));
        assert_eq!(table.insert(ResourceId(1), 1), Err(InsertError::Exists));
        assert_eq!(table.remove(&ResourceId(1)), Some(1));
        table.insert(ResourceId(9), 9).unwrap();
        assert_eq!(table.len(), 3);
        assert!(!table.is_empty());
        table.audit().unwrap();
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..12).prop_map(Op::Insert),
            (0u8..12).prop_map(Op::Remove)
        ]
    }

    proptest! {
        /// Colliding keys, wrap-around clusters and back-shift deletion agree
        /// with a BTreeMap after every operation.
        #[test]
        fn matches_btreemap_under_collisions(ops in proptest::collection::vec(op(), 0..200)) {
            let mut table: FixedTable<Colliding, u32> = FixedTable::with_capacity(8);
            let mut model: BTreeMap<u8, u32> = BTreeMap::new();
            for (step, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert(k) => {
                        let expected = if model.contains_key(&k) {
                            Err(InsertError::Exists)
                        } else if model.len() == 8 {
                            Err(InsertError::Full)
                        } else {
                            model.insert(k, step as u32);
                            Ok(())
                        };
                        prop_assert_eq!(table.insert(Colliding(k), step as u32), expected);
                    }
                    Op::Remove(k) => {
                        prop_assert_eq!(table.remove(&Colliding(k)), model.remove(&k));
                    }
                }
                prop_assert!(table.audit().is_ok());
                prop_assert_eq!(table.len() as usize, model.len());
                for k in 0..12u8 {
                    prop_assert_eq!(table.get(&Colliding(k)), model.get(&k));
                }
            }
        }
    }
}
