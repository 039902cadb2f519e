//! [`FifoTable`]: records in a ring in insertion order; only the oldest
//! can be removed.
//!
//! For records that leave in the order they came (operation records retire
//! a fixed window after they were applied), this beats a dense array:
//! removal reads the oldest record, which is next to the one removed before
//! it, and moves no other record, so no other slot needs pointing again.
//! The ring ([`Ring`]) touches memory in proportion to the records held at
//! once, like the index. Growing the ring moves records, so the index is
//! placed again then (as rarely as the index itself grows).

use super::index::{tag_of, Index, MIN_INDEX_SLOTS};
use super::{InsertError, TableFault, TableKey};
use crate::ring::{Ring, MIN_RING_LEN};

pub struct FifoTable<K, V> {
    index: Index,
    /// Oldest first; the index holds ring positions.
    ring: Ring<(K, V)>,
}

impl<K: TableKey, V: Copy> FifoTable<K, V> {
    /// Reserves every slot and record now. `capacity` is the record bound.
    pub fn with_capacity(capacity: u32) -> Self {
        FifoTable::with_sizes_from(capacity, MIN_INDEX_SLOTS, MIN_RING_LEN)
    }

    /// As `with_capacity`, with an index of `first_slots` slots and a ring
    /// wrapping at `first_wrap` at first; tests start both tiny so that
    /// they grow often.
    fn with_sizes_from(capacity: u32, first_slots: usize, first_wrap: usize) -> Self {
        FifoTable {
            index: Index::new(capacity, first_slots),
            ring: Ring::with_wrap_from(capacity, first_wrap),
        }
    }

    pub fn len(&self) -> u32 {
        self.ring.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    pub fn capacity(&self) -> u32 {
        self.ring.capacity() as u32
    }

    pub fn is_full(&self) -> bool {
        self.ring.len() == self.ring.capacity()
    }

    /// Slots the index uses now: a power of two, at least twice the record
    /// count.
    pub fn slot_count(&self) -> usize {
        self.index.slot_count()
    }

    fn probe(&self, key: &K, tag: u32) -> Result<usize, usize> {
        self.index
            .probe(tag, |position| self.ring.at(position).0 == *key)
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        let slot = self.probe(key, tag_of(key)).ok()?;
        Some(&self.ring.at(self.index.record(slot)).1)
    }

    /// Loads `key`'s home slot so that a lookup soon after finds it in cache.
    /// A hint for callers that know their next keys: it changes nothing.
    pub fn prefetch(&self, key: &K) {
        self.index.prefetch(tag_of(key));
    }

    /// Adds the newest record.
    pub fn insert(&mut self, key: K, value: V) -> Result<(), InsertError> {
        let tag = tag_of(&key);
        let slot = Index::vacancy(self.probe(&key, tag), self.ring.len(), self.ring.capacity())?;
        let pushed = self.ring.push_back((key, value));
        let grown = self
            .index
            .place_new(slot, tag, pushed.position, self.ring.len());
        // Growing the ring moved records: every slot is pointed again.
        if let Some(slot_count) = grown.or(pushed.grew.then(|| self.slot_count())) {
            self.rebuild_index(slot_count);
        }
        Ok(())
    }

    /// Grows the index now to hold `records` records (at most the bound),
    /// for a caller about to insert that many: a restore grows it once
    /// instead of doubling it step by step.
    pub fn reserve_index(&mut self, records: usize) {
        if let Some(slot_count) = self.index.growth_for(records.min(self.ring.capacity())) {
            self.rebuild_index(slot_count);
        }
    }

    /// Makes the index `slot_count` slots (no fewer than now) and places
    /// every record in it again, oldest first.
    fn rebuild_index(&mut self, slot_count: usize) {
        let ring = &self.ring;
        let records = ring
            .iter_positions()
            .map(|(position, (key, _))| (tag_of(key), position));
        self.index.rebuild(slot_count, records);
    }

    /// The oldest record.
    pub fn oldest(&self) -> Option<(&K, &V)> {
        self.ring.front().map(|(key, value)| (key, value))
    }

    /// Prefetches, for a caller about to remove many records, the index
    /// slot of the record `ahead` places behind the oldest, and the record
    /// `2 * ahead` behind it. Finding a slot reads the record's key, so the
    /// record goes first: by the time its slot is wanted, it is in cache.
    /// A hint: it changes nothing.
    pub fn prefetch_oldest(&self, ahead: usize) {
        if let Some((key, _)) = self.ring.get(ahead) {
            self.index.prefetch(tag_of(key));
        }
        if let Some(record) = self.ring.get(2 * ahead) {
            crate::prefetch::prefetch_read(record);
        }
    }

    /// Removes the oldest record and returns it; `None` when empty.
    pub fn remove_oldest(&mut self) -> Option<(K, V)> {
        let (key, _) = self.ring.front()?;
        let tag = tag_of(key);
        let slot = self.index.slot_of_record(tag, self.ring.head());
        self.index.remove(slot);
        self.ring.pop_front()
    }

    /// Records oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.ring.iter().map(|(key, value)| (key, value))
    }

    /// `key`'s record, to change in place: for tests of the audits that
    /// must notice records out of order.
    #[cfg(test)]
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let slot = self.probe(key, tag_of(key)).ok()?;
        let position = self.index.record(slot);
        self.ring.at_mut(position).map(|(_, value)| value)
    }

    /// Drops the oldest record's slot but keeps the record, so the stored
    /// length disagrees with the index: for tests of the audits that must
    /// notice.
    #[cfg(test)]
    pub(crate) fn corrupt_len(&mut self) {
        let (key, _) = self.ring.front().expect("a record to corrupt");
        let slot = self.index.slot_of_record(tag_of(key), self.ring.head());
        self.index.remove(slot);
    }

    /// Checks the index against the records the ring holds (see
    /// `Index::audit`); a slot naming a ring position that holds no
    /// record is dangling.
    pub fn audit(&self) -> Result<(), TableFault> {
        let key_at = |position: usize| {
            self.ring
                .ahead_of(position)
                .map(|_| self.ring.at(position).0)
        };
        self.index.audit(self.len(), self.capacity(), key_at)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::Colliding;
    use super::*;
    use crate::ids::ResourceId;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn keys<K: TableKey, V: Copy>(table: &FifoTable<K, V>) -> Vec<K> {
        table.iter().map(|(key, _)| *key).collect()
    }

    #[test]
    fn records_leave_oldest_first_and_the_rest_stay_found() {
        let mut table = FifoTable::with_capacity(8);
        assert!(table.is_empty());
        for id in 0..8u128 {
            table.insert(ResourceId(id), id * 10).unwrap();
        }
        assert!(!table.is_empty());
        assert_eq!(table.oldest(), Some((&ResourceId(0), &0)));
        assert_eq!(table.remove_oldest(), Some((ResourceId(0), 0)));
        assert_eq!(table.remove_oldest(), Some((ResourceId(1), 10)));
        assert_eq!(table.get(&ResourceId(0)), None);
        assert_eq!(table.get(&ResourceId(1)), None);
        for id in 2..8u128 {
            assert_eq!(table.get(&ResourceId(id)), Some(&(id * 10)));
        }
        // The freed positions take the next records, behind the newest.
        table.insert(ResourceId(8), 80).unwrap();
        table.insert(ResourceId(1), 11).unwrap();
        let expected: Vec<ResourceId> = [2, 3, 4, 5, 6, 7, 8, 1].map(ResourceId).to_vec();
        assert_eq!(keys(&table), expected);
        assert_eq!(table.get(&ResourceId(1)), Some(&11));
        table.audit().unwrap();
        while table.remove_oldest().is_some() {
            table.audit().unwrap();
        }
        assert!(table.is_empty());
        assert_eq!(table.oldest(), None);
    }

    #[test]
    fn bound_exists_and_equal_tags() {
        let mut table: FifoTable<Colliding, u32> = FifoTable::with_capacity(3);
        table.insert(Colliding(0), 1).unwrap();
        table.insert(Colliding(3), 2).unwrap();
        assert_eq!(tag_of(&Colliding(0)), tag_of(&Colliding(3)));
        assert_eq!(table.get(&Colliding(3)), Some(&2));
        assert_eq!(table.get(&Colliding(6)), None);
        assert_eq!(table.insert(Colliding(3), 4), Err(InsertError::Exists));
        table.insert(Colliding(6), 3).unwrap();
        assert!(table.is_full());
        assert_eq!(table.insert(Colliding(9), 9), Err(InsertError::Full));
        assert_eq!(table.insert(Colliding(0), 9), Err(InsertError::Exists));
        assert_eq!(table.capacity(), 3);
        table.audit().unwrap();
    }

    /// The index grows with the records held, as in the dense table, and
    /// every record stays found across each growth of index and ring.
    #[test]
    fn index_and_ring_grow_with_the_records_held() {
        let mut table: FifoTable<ResourceId, u32> = FifoTable::with_capacity(10_000);
        assert_eq!(table.slot_count(), MIN_INDEX_SLOTS);
        let mut grew_at = Vec::new();
        for id in 0..10_000u32 {
            let before = table.slot_count();
            table.insert(ResourceId(u128::from(id)), id).unwrap();
            if table.slot_count() != before {
                grew_at.push(id);
            }
        }
        assert_eq!(grew_at, vec![2048, 4096, 8192]);
        table.audit().unwrap();
        for id in 0..10_000u32 {
            assert_eq!(table.get(&ResourceId(u128::from(id))), Some(&id));
        }
        table.reserve_index(usize::MAX / 4);
        assert_eq!(table.slot_count(), 32_768, "at most the reservation");
    }

    /// A table cycling a few records through a large bound keeps a small
    /// index: memory follows what it holds.
    #[test]
    fn cycling_records_through_a_large_bound_keeps_the_index_small() {
        let mut table: FifoTable<ResourceId, u32> = FifoTable::with_capacity(1 << 20);
        for id in 0..100_000u32 {
            table.insert(ResourceId(u128::from(id)), id).unwrap();
            if table.len() > 1_000 {
                table.remove_oldest();
            }
        }
        assert_eq!(table.slot_count(), MIN_INDEX_SLOTS);
        assert_eq!(table.ring.wrap(), MIN_RING_LEN, "the ring never grew");
        table.audit().unwrap();
    }

    /// Reserving places every held record again from the ring, including
    /// records past the ring's end that wrapped to its start.
    #[test]
    fn reserving_the_index_places_wrapped_records_again() {
        let mut table: FifoTable<ResourceId, u32> = FifoTable::with_capacity(100_000);
        for id in 0..4_000u32 {
            table.insert(ResourceId(u128::from(id)), id).unwrap();
        }
        for _ in 0..1_000 {
            table.remove_oldest();
        }
        for id in 4_000..5_000u32 {
            table.insert(ResourceId(u128::from(id)), id).unwrap();
        }
        assert_eq!(table.ring.wrap(), MIN_RING_LEN, "wrapped, not grown");
        table.reserve_index(50_000);
        assert_eq!(table.slot_count(), 131_072);
        table.audit().unwrap();
        for id in 1_000..5_000u32 {
            assert_eq!(table.get(&ResourceId(u128::from(id))), Some(&id));
        }
    }

    /// A position the ring freed holds no record, whatever bytes are still
    /// in it: a slot naming it is dangling.
    #[test]
    fn audit_calls_a_freed_position_dangling() {
        let mut table = FifoTable::with_capacity(4);
        table.insert(ResourceId(1), 1).unwrap();
        table.insert(ResourceId(2), 2).unwrap();
        table.remove_oldest();
        let tag = tag_of(&ResourceId(1));
        let slot = table.index.probe(tag, |_| false).unwrap_err();
        table.index.place(slot, tag, 0);
        assert_eq!(table.audit(), Err(TableFault::DanglingRecord { slot }));
    }

    #[test]
    fn prefetching_changes_nothing() {
        let mut table = FifoTable::with_capacity(4);
        table.prefetch_oldest(0);
        table.insert(ResourceId(1), 1).unwrap();
        table.prefetch(&ResourceId(1));
        table.prefetch(&ResourceId(2));
        table.prefetch_oldest(0);
        table.prefetch_oldest(3);
        assert_eq!(keys(&table), [ResourceId(1)]);
        table.audit().unwrap();
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16),
        RemoveOldest,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u16..400).prop_map(Op::Insert),
            2 => Just(Op::RemoveOldest),
        ]
    }

    /// Runs `ops` on a table of `K` (keys made by `key`) and on a deque,
    /// checking after every operation that they agree and the table audits.
    fn against_a_deque<K: TableKey>(
        ops: &[Op],
        key: impl Fn(u16) -> K,
        bound: u32,
        first_slots: usize,
        first_wrap: usize,
    ) -> Result<(), TestCaseError> {
        let mut table: FifoTable<K, u32> =
            FifoTable::with_sizes_from(bound, first_slots, first_wrap);
        let mut model: VecDeque<(K, u32)> = VecDeque::new();
        for (step, op) in ops.iter().enumerate() {
            match *op {
                Op::Insert(k) => {
                    let key = key(k);
                    let expected = if model.iter().any(|(held, _)| *held == key) {
                        Err(InsertError::Exists)
                    } else if model.len() == bound as usize {
                        Err(InsertError::Full)
                    } else {
                        model.push_back((key, step as u32));
                        Ok(())
                    };
                    prop_assert_eq!(table.insert(key, step as u32), expected);
                }
                Op::RemoveOldest => {
                    prop_assert_eq!(table.remove_oldest(), model.pop_front());
                }
            }
            prop_assert_eq!(table.audit(), Ok(()));
            prop_assert_eq!(table.len() as usize, model.len());
            let held: Vec<(K, u32)> = table.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(held, model.iter().copied().collect::<Vec<_>>());
            for (held, value) in &model {
                prop_assert_eq!(table.get(held), Some(value));
            }
        }
        Ok(())
    }

    proptest! {
        /// Colliding keys, wrap-around clusters, back-shift deletion and a
        /// ring that grows from one entry agree with a deque.
        #[test]
        fn matches_a_deque_under_collisions(
            ops in proptest::collection::vec(op(), 0..200),
            first_wrap in 1usize..6,
        ) {
            against_a_deque(&ops, |k| Colliding((k % 12) as u8), 8, MIN_INDEX_SLOTS, first_wrap)?;
        }

        /// An index from 2 slots and a ring from 1 entry, growing through
        /// every size up to the bound, agree with a deque.
        #[test]
        fn a_growing_table_matches_a_deque(
            ops in proptest::collection::vec(op(), 0..600),
            first_wrap in 1usize..6,
        ) {
            against_a_deque(&ops, |k| ResourceId(u128::from(k)), 300, 2, first_wrap)?;
        }
    }
}
