//! [`FixedTable`]: records dense in an array, in no particular order, any
//! of them removable.
//!
//! Removal empties the record's slot and moves the last record into its
//! position, so the array stays dense and its length is the record count.

use super::index::{tag_of, Index, MIN_INDEX_SLOTS};
use super::{InsertError, TableFault, TableKey};

pub struct FixedTable<K, V> {
    index: Index,
    /// Dense: exactly the live records, in no particular order.
    records: Vec<(K, V)>,
    len: u32,
    capacity: u32,
}

impl<K: TableKey, V> FixedTable<K, V> {
    /// Reserves every slot and record now. `capacity` is the record bound.
    pub fn with_capacity(capacity: u32) -> Self {
        FixedTable::with_index_from(capacity, MIN_INDEX_SLOTS)
    }

    /// As `with_capacity`, with an index that starts at `first_slots` (a
    /// power of two) instead of [`MIN_INDEX_SLOTS`]; tests start it tiny
    /// so that it grows often.
    fn with_index_from(capacity: u32, first_slots: usize) -> Self {
        FixedTable {
            index: Index::new(capacity, first_slots),
            records: Vec::with_capacity(capacity as usize),
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

    pub fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    /// Slots the index uses now: a power of two, at least twice the record
    /// count.
    pub fn slot_count(&self) -> usize {
        self.index.slot_count()
    }

    /// Slots reserved for the index: a power of two, at least twice the
    /// record bound. The index never grows past it.
    pub fn reserved_slot_count(&self) -> usize {
        self.index.reserved_slot_count()
    }

    /// `Ok(slot)` holding `key`, or `Err(slot)`: the empty slot that ends
    /// its probe, where it would go.
    fn probe(&self, key: &K, tag: u32) -> Result<usize, usize> {
        self.index
            .probe(tag, |record| self.records[record].0 == *key)
    }

    /// The slot holding `key`, if present.
    fn find(&self, key: &K) -> Option<usize> {
        self.probe(key, tag_of(key)).ok()
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key)
            .map(|slot| &self.records[self.index.record(slot)].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key)
            .map(|slot| &mut self.records[self.index.record(slot)].1)
    }

    /// Loads `key`'s home slot so that a lookup soon after finds it in cache.
    /// A hint for callers that know their next keys: it changes nothing.
    pub fn prefetch(&self, key: &K) {
        self.index.prefetch(tag_of(key));
    }

    pub fn contains(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    pub fn insert(&mut self, key: K, value: V) -> Result<(), InsertError> {
        let tag = tag_of(&key);
        let slot = Index::vacancy(
            self.probe(&key, tag),
            self.len as usize,
            self.capacity as usize,
        )?;
        let record = self.records.len();
        assert!(
            record < self.records.capacity(),
            "the record array was reserved for the bound"
        );
        self.records.push((key, value));
        self.len += 1;
        if let Some(slot_count) = self.index.place_new(slot, tag, record, self.len as usize) {
            // Placing every record again places the new one too.
            self.rebuild_index(slot_count);
        }
        Ok(())
    }

    /// Grows the index now to hold `records` records (at most the bound),
    /// for a caller about to insert that many: a restore grows it once
    /// instead of doubling it step by step.
    pub fn reserve_index(&mut self, records: usize) {
        if let Some(slot_count) = self.index.growth_for(records.min(self.capacity as usize)) {
            self.rebuild_index(slot_count);
        }
    }

    /// Makes the index `slot_count` slots and places every record in it
    /// again. The records stay where they are; only their slots move.
    fn rebuild_index(&mut self, slot_count: usize) {
        assert!(slot_count > self.slot_count(), "the index only grows");
        let records = self
            .records
            .iter()
            .enumerate()
            .map(|(record, (key, _))| (tag_of(key), record));
        self.index.rebuild(slot_count, records);
    }

    /// Removes `key`'s record; false when there is none. The record is not
    /// returned: reading it would wait on the cache lines past its key,
    /// which a caller that only retires it never needs.
    pub fn remove(&mut self, key: &K) -> bool
    where
        V: Copy,
    {
        let Some(hole) = self.find(key) else {
            return false;
        };
        let record = self.index.record(hole);
        self.index.remove(hole);
        self.len -= 1;
        // Keep the records dense: the last one moves into the freed position
        // and its slot is pointed there.
        let last = self.records.len() - 1;
        if record != last {
            let moved_tag = tag_of(&self.records[last].0);
            let moved_slot = self.index.slot_of_record(moved_tag, last);
            self.index.repoint(moved_slot, moved_tag, record);
            self.records[record] = self.records[last];
        }
        self.records.truncate(last);
        true
    }

    /// Records in storage order: deterministic for a given history of
    /// inserts and removes, but not canonical; sort by key where order is
    /// observable.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.records.iter().map(|(key, value)| (key, value))
    }

    /// Breaks the stored length, for tests of the audits that must notice.
    #[cfg(test)]
    pub(crate) fn corrupt_len(&mut self) {
        self.len += 1;
    }

    /// Checks the structure: the index against the records (see
    /// `Index::audit`), and the record array holds exactly the stored
    /// length.
    pub fn audit(&self) -> Result<(), TableFault> {
        self.index.audit(self.len, self.capacity, |record| {
            self.records.get(record).map(|(key, _)| *key)
        })?;
        if self.records.len() != self.len as usize {
            return Err(TableFault::RecordCountMismatch {
                records: self.records.len() as u32,
                stored: self.len,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::Colliding;
    use super::*;
    use crate::ids::ResourceId;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The index's own faults are tested with the index; here, that the
    /// table runs its audit and adds the record count.
    #[test]
    fn audit_checks_the_index_and_the_record_count() {
        let mut table = FixedTable::with_capacity(4);
        table.insert(ResourceId(1), 10).unwrap();
        table.audit().unwrap();
        table.records.push((ResourceId(2), 20));
        assert_eq!(
            table.audit(),
            Err(TableFault::RecordCountMismatch {
                records: 2,
                stored: 1
            })
        );
        table.records.pop();
        table.corrupt_len();
        assert_eq!(
            table.audit(),
            Err(TableFault::LengthMismatch {
                counted: 1,
                stored: 2
            })
        );
        table.len = 1;
        table.records[0].0 = ResourceId(3);
        assert!(
            matches!(table.audit(), Err(TableFault::TagMismatch { .. })),
            "the index is checked against the records"
        );
    }

    #[test]
    fn the_index_starts_small_and_doubles_when_an_insert_would_pass_half() {
        let mut table: FixedTable<ResourceId, u32> = FixedTable::with_capacity(10_000);
        assert_eq!(table.reserved_slot_count(), 32_768);
        assert_eq!(table.slot_count(), MIN_INDEX_SLOTS);
        let mut grew_at = Vec::new();
        for id in 0..10_000u32 {
            let before = table.slot_count();
            let order: Vec<ResourceId> = table.iter().map(|(k, _)| *k).collect();
            table.insert(ResourceId(u128::from(id)), id).unwrap();
            if table.slot_count() != before {
                assert_eq!(table.slot_count(), 2 * before, "doubles");
                grew_at.push(id);
                table.audit().unwrap();
                // Growth moves slots, never records.
                let after: Vec<ResourceId> = table.iter().map(|(k, _)| *k).collect();
                assert_eq!(after[..order.len()], order[..]);
            }
        }
        // Inserting record n + 1 into n * 2 slots passes load 1/2.
        assert_eq!(grew_at, vec![2048, 4096, 8192]);
        assert_eq!(table.slot_count(), 32_768);
        table.audit().unwrap();
        for id in 0..10_000u32 {
            assert_eq!(table.get(&ResourceId(u128::from(id))), Some(&id));
        }
        assert_eq!(table.insert(ResourceId(0), 0), Err(InsertError::Exists));
        // Removing never shrinks the index.
        for id in 0..10_000u32 {
            assert!(table.remove(&ResourceId(u128::from(id))));
        }
        assert_eq!(table.slot_count(), 32_768);
        table.audit().unwrap();
    }

    #[test]
    fn reserving_the_index_grows_it_once_to_fit() {
        let mut table: FixedTable<ResourceId, u32> = FixedTable::with_capacity(100_000);
        table.insert(ResourceId(7), 7).unwrap();
        table.reserve_index(0);
        table.reserve_index(2048);
        assert_eq!(table.slot_count(), MIN_INDEX_SLOTS, "already fits");
        table.reserve_index(2049);
        assert_eq!(table.slot_count(), 8192);
        table.reserve_index(50_000);
        assert_eq!(table.slot_count(), 131_072);
        assert_eq!(
            table.get(&ResourceId(7)),
            Some(&7),
            "records are placed again"
        );
        table.audit().unwrap();
        for id in 0..50_000u32 {
            let _ = table.insert(ResourceId(u128::from(id)), id);
        }
        assert_eq!(table.slot_count(), 131_072, "no growth while inserting");
        // Never past the reservation, whatever is asked.
        table.reserve_index(usize::MAX / 4);
        assert_eq!(table.slot_count(), table.reserved_slot_count());
        table.audit().unwrap();
    }

    #[test]
    fn a_table_within_the_first_index_never_grows() {
        let mut table: FixedTable<ResourceId, u32> = FixedTable::with_capacity(2048);
        assert_eq!(table.slot_count(), 4096);
        assert_eq!(table.reserved_slot_count(), 4096);
        for id in 0..2048u32 {
            table.insert(ResourceId(u128::from(id)), id).unwrap();
        }
        assert!(table.is_full());
        assert_eq!(table.slot_count(), 4096);
        assert_eq!(
            table.insert(ResourceId(5000), 0),
            Err(InsertError::Full),
            "full, not grown past the reservation"
        );
        table.audit().unwrap();
    }

    /// Removing a record that is not the last moves the last one into its
    /// position; the moved record must stay reachable with its value.
    #[test]
    fn remove_keeps_records_dense_and_reachable() {
        let mut table = FixedTable::with_capacity(8);
        for id in 0..8u128 {
            table.insert(ResourceId(id), id * 10).unwrap();
        }
        assert_eq!(table.records.len(), 8);
        assert_eq!(table.records[0].0, ResourceId(0));
        assert_eq!(table.get(&ResourceId(0)), Some(&0));
        assert!(table.remove(&ResourceId(0)));
        assert_eq!(table.records.len(), 7);
        assert_eq!(table.records[0], (ResourceId(7), 70));
        table.audit().unwrap();
        for id in 1..8u128 {
            assert_eq!(table.get(&ResourceId(id)), Some(&(id * 10)));
        }
        assert_eq!(table.get(&ResourceId(7)), Some(&70));
        assert!(table.remove(&ResourceId(7)));
        assert_eq!(table.get(&ResourceId(6)), Some(&60));
        assert!(table.remove(&ResourceId(6)));
        table.audit().unwrap();
        assert_eq!(table.records.len(), 5);
        *table.get_mut(&ResourceId(1)).unwrap() = 11;
        assert_eq!(table.get(&ResourceId(1)), Some(&11));
    }

    /// A tag match with a different key is not a hit: keys colliding in all
    /// 32 tag bits are still told apart by the record itself.
    #[test]
    fn equal_tags_are_told_apart_by_the_key() {
        let mut table: FixedTable<Colliding, u32> = FixedTable::with_capacity(8);
        table.insert(Colliding(0), 1).unwrap();
        table.insert(Colliding(3), 2).unwrap();
        assert_eq!(tag_of(&Colliding(0)), tag_of(&Colliding(3)));
        assert_eq!(table.get(&Colliding(0)), Some(&1));
        assert_eq!(table.get(&Colliding(3)), Some(&2));
        assert_eq!(table.get(&Colliding(6)), None);
        assert_eq!(table.insert(Colliding(6), 3), Ok(()));
        assert_eq!(table.insert(Colliding(3), 4), Err(InsertError::Exists));
        table.audit().unwrap();
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
        assert_eq!(table.get(&ResourceId(1)), Some(&1));
        assert!(table.remove(&ResourceId(1)));
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
                        prop_assert_eq!(table.get(&Colliding(k)), model.get(&k));
                        prop_assert_eq!(table.remove(&Colliding(k)), model.remove(&k).is_some());
                    }
                }
                prop_assert!(table.audit().is_ok());
                prop_assert_eq!(table.len() as usize, model.len());
                for k in 0..12u8 {
                    prop_assert_eq!(table.get(&Colliding(k)), model.get(&k));
                }
            }
        }

        /// An index that starts at 2 slots and grows through every size up
        /// to its reservation agrees with a BTreeMap after every operation,
        /// colliding keys included.
        #[test]
        fn a_growing_index_matches_btreemap(
            ops in proptest::collection::vec((any::<bool>(), 0u16..400), 0..600),
        ) {
            const CAPACITY: u32 = 300;
            let mut table: FixedTable<ResourceId, u32> =
                FixedTable::with_index_from(CAPACITY, 2);
            let mut colliding: FixedTable<Colliding, u32> =
                FixedTable::with_index_from(CAPACITY, 2);
            let mut model: BTreeMap<u16, u32> = BTreeMap::new();
            let mut colliding_model: BTreeMap<u8, u32> = BTreeMap::new();
            for (step, (insert, k)) in ops.into_iter().enumerate() {
                let small = (k % 256) as u8;
                if insert {
                    let expected = if model.contains_key(&k) {
                        Err(InsertError::Exists)
                    } else if model.len() == CAPACITY as usize {
                        Err(InsertError::Full)
                    } else {
                        model.insert(k, step as u32);
                        Ok(())
                    };
                    prop_assert_eq!(table.insert(ResourceId(u128::from(k)), step as u32), expected);
                    let expected = match colliding_model.entry(small) {
                        std::collections::btree_map::Entry::Occupied(_) => Err(InsertError::Exists),
                        std::collections::btree_map::Entry::Vacant(entry) => {
                            entry.insert(step as u32);
                            Ok(())
                        }
                    };
                    prop_assert_eq!(colliding.insert(Colliding(small), step as u32), expected);
                } else {
                    prop_assert_eq!(table.get(&ResourceId(u128::from(k))), model.get(&k));
                    prop_assert_eq!(table.remove(&ResourceId(u128::from(k))), model.remove(&k).is_some());
                    prop_assert_eq!(colliding.get(&Colliding(small)), colliding_model.get(&small));
                    prop_assert_eq!(colliding.remove(&Colliding(small)), colliding_model.remove(&small).is_some());
                }
                prop_assert_eq!(table.audit(), Ok(()));
                prop_assert_eq!(colliding.audit(), Ok(()));
                prop_assert_eq!(table.len() as usize, model.len());
                prop_assert_eq!(colliding.len() as usize, colliding_model.len());
            }
            for k in 0..400u16 {
                prop_assert_eq!(table.get(&ResourceId(u128::from(k))), model.get(&k));
            }
            for k in 0..=255u8 {
                prop_assert_eq!(colliding.get(&Colliding(k)), colliding_model.get(&k));
            }
        }
    }
}
