//! A fixed-capacity, open-addressed hash table with a fixed hash.
//!
//! - The index is an array of 64-bit words, one per slot: `0` is empty,
//!   otherwise the low 32 bits of the key's hash (the tag) and the position
//!   of the record in a dense record array. Probing compares tags and reads
//!   a record only on a tag match; back-shift recomputes homes from tags, so
//!   a probe or a deletion never rehashes a key.
//! - Linear probing over a power-of-two number of slots at least twice the
//!   record count, so the load factor never passes 1/2 and a probe always
//!   meets an empty slot within `slot_count()` steps (the explicit probe
//!   bound).
//! - The index is reserved for the bound (twice it, rounded up to a power of
//!   two) but uses only a prefix: [`MIN_INDEX_SLOTS`] at first, doubled
//!   whenever an insert would pass load 1/2, by placing every record again.
//!   The index a table works in follows the records it holds, not its
//!   bound, so a generously sized table neither touches nor caches memory
//!   it does not need. Growth is deterministic (it depends only on the
//!   most records the table has held at once), never allocates, and costs
//!   O(records) a handful of times in a table's life: its index never
//!   shrinks.
//! - Deletion shifts the following cluster back instead of leaving
//!   tombstones, and moves the last record into the freed position, so the
//!   record array stays dense and `records.len()` is the record count.
//! - All memory is reserved in `with_capacity`; insert and remove never
//!   allocate. The index is zeroed memory and the records are written in
//!   order, so a large table costs only the pages its records ever used.
//!   Placement depends only on keys and operation order, never on a seed.

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
    #[error("{records} records are stored for a length of {stored}")]
    RecordCountMismatch { records: u32, stored: u32 },
    #[error("length {len} exceeds the record bound {capacity}")]
    OverCapacity { len: u32, capacity: u32 },
    #[error("{len} records fill more than half of an index of {slots} slots")]
    OverHalfFull { len: u32, slots: usize },
    #[error("slot {slot} points past the stored records")]
    DanglingRecord { slot: usize },
    #[error("the tag in slot {slot} is not its record's hash")]
    TagMismatch { slot: usize },
    #[error("the record in slot {slot} is not reachable from its home slot")]
    Unreachable { slot: usize },
    #[error("the record in slot {slot} appears twice")]
    Duplicate { slot: usize },
}

/// An index word: `0` is an empty slot.
const EMPTY: u64 = 0;

/// Slots a table's index starts with (32 KiB), or all of its reservation if
/// that is smaller: tables sized for a few thousand records never grow.
pub const MIN_INDEX_SLOTS: usize = 4096;

/// The part of a key's hash an index word keeps. Slot counts stay at or
/// below 2^31, so the home slot is always `tag & mask`.
fn tag_of<K: TableKey>(key: &K) -> u32 {
    key.table_hash() as u32
}

fn slot_word(tag: u32, record: usize) -> u64 {
    (u64::from(tag) << 32) | (record as u64 + 1)
}

fn word_tag(word: u64) -> u32 {
    (word >> 32) as u32
}

fn word_record(word: u64) -> usize {
    debug_assert_ne!(word, EMPTY);
    (word as u32 - 1) as usize
}

pub struct FixedTable<K, V> {
    /// Reserved for the bound; the index is `slots[..=mask]`, and the rest
    /// is untouched until the index grows into it.
    slots: Box<[u64]>,
    /// Dense: exactly the live records, in no particular order.
    records: Vec<(K, V)>,
    /// The index's slot count minus one.
    mask: usize,
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
        assert!(capacity > 0, "a table needs a record bound of at least 1");
        assert!(
            capacity <= crate::config::TABLE_CAPACITY_LIMIT,
            "record positions and homes must fit an index word"
        );
        assert!(
            first_slots.is_power_of_two(),
            "index sizes are powers of two"
        );
        let reserved = (capacity as usize * 2).next_power_of_two();
        FixedTable {
            slots: vec![EMPTY; reserved].into_boxed_slice(),
            records: Vec::with_capacity(capacity as usize),
            mask: first_slots.min(reserved) - 1,
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
        self.mask + 1
    }

    /// Slots reserved for the index: a power of two, at least twice the
    /// record bound. The index never grows past it.
    pub fn reserved_slot_count(&self) -> usize {
        self.slots.len()
    }

    fn home(&self, key: &K) -> usize {
        self.home_of_tag(tag_of(key))
    }

    fn home_of_tag(&self, tag: u32) -> usize {
        tag as usize & self.mask
    }

    /// The slot holding `key`, if present.
    fn find(&self, key: &K) -> Option<usize> {
        self.find_tagged(key, tag_of(key))
    }

    /// `find` for a caller that already holds `tag_of(key)`.
    fn find_tagged(&self, key: &K, tag: u32) -> Option<usize> {
        self.probe(key, tag).ok()
    }

    /// `Ok(slot)` holding `key`, or `Err(slot)`: the empty slot that ends
    /// its probe, where it would go.
    fn probe(&self, key: &K, tag: u32) -> Result<usize, usize> {
        let mut index = self.home_of_tag(tag);
        for _ in 0..self.slot_count() {
            let word = self.slots[index];
            if word == EMPTY {
                return Err(index);
            }
            if word_tag(word) == tag && self.records[word_record(word)].0 == *key {
                return Ok(index);
            }
            index = (index + 1) & self.mask;
        }
        unreachable!("probe bound exceeded: load factor is capped at 1/2, an empty slot must exist")
    }

    /// The first empty slot from `tag`'s home: where a key known to be
    /// absent goes.
    fn first_empty(&self, tag: u32) -> usize {
        let mut index = self.home_of_tag(tag);
        for _ in 0..self.slot_count() {
            if self.slots[index] == EMPTY {
                return index;
            }
            index = (index + 1) & self.mask;
        }
        unreachable!("probe bound exceeded: load factor is capped at 1/2, an empty slot must exist")
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key)
            .map(|slot| &self.records[word_record(self.slots[slot])].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key)
            .map(|slot| &mut self.records[word_record(self.slots[slot])].1)
    }

    /// Loads `key`'s home slot so that a lookup soon after finds it in cache.
    /// A hint for callers that know their next keys: it changes nothing.
    pub fn prefetch(&self, key: &K) {
        crate::prefetch::prefetch_read(&self.slots[self.home(key)]);
    }

    pub fn contains(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    pub fn insert(&mut self, key: K, value: V) -> Result<(), InsertError> {
        let tag = tag_of(&key);
        let Err(mut slot) = self.probe(&key, tag) else {
            return Err(InsertError::Exists);
        };
        if self.is_full() {
            return Err(InsertError::Full);
        }
        if 2 * (self.len as usize + 1) > self.slot_count() {
            self.resize_index(2 * self.slot_count());
            slot = self.first_empty(tag);
        }
        let record = self.records.len();
        assert!(
            record < self.records.capacity(),
            "the record array was reserved for the bound"
        );
        self.records.push((key, value));
        self.slots[slot] = slot_word(tag, record);
        self.len += 1;
        assert!(
            2 * self.len as usize <= self.slot_count(),
            "the index keeps load at most 1/2"
        );
        Ok(())
    }

    /// Grows the index now to hold `records` records (at most the bound),
    /// for a caller about to insert that many: a restore grows it once
    /// instead of doubling it step by step.
    pub fn reserve_index(&mut self, records: usize) {
        let records = records.min(self.capacity as usize);
        let slot_count = (2 * records).next_power_of_two();
        if slot_count > self.slot_count() {
            self.resize_index(slot_count);
        }
    }

    /// Makes the index `slot_count` slots and places every record in it
    /// again. The records stay where they are; only their slots move.
    fn resize_index(&mut self, slot_count: usize) {
        assert!(
            slot_count.is_power_of_two(),
            "index sizes are powers of two"
        );
        assert!(slot_count > self.slot_count(), "the index only grows");
        assert!(
            slot_count <= self.slots.len(),
            "the index grows only within its reservation (twice the bound)"
        );
        self.slots[..slot_count].fill(EMPTY);
        self.mask = slot_count - 1;
        for record in 0..self.records.len() {
            let tag = tag_of(&self.records[record].0);
            let slot = self.first_empty(tag);
            self.slots[slot] = slot_word(tag, record);
        }
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
        let record = word_record(self.slots[hole]);
        self.slots[hole] = EMPTY;
        self.len -= 1;
        self.shift_back(hole);
        // Keep the records dense: the last one moves into the freed position
        // and its slot is pointed there.
        let last = self.records.len() - 1;
        if record != last {
            let moved_key = self.records[last].0;
            let moved_slot = self
                .find(&moved_key)
                .expect("every stored record has a slot");
            self.slots[moved_slot] = slot_word(tag_of(&moved_key), record);
            self.records[record] = self.records[last];
        }
        self.records.truncate(last);
        true
    }

    /// Shifts back every slot of the cluster after `hole` that may move into
    /// it without passing its home slot.
    fn shift_back(&mut self, mut hole: usize) {
        let mut next = (hole + 1) & self.mask;
        for _ in 0..self.slot_count() {
            let word = self.slots[next];
            if word == EMPTY {
                return;
            }
            let home = self.home_of_tag(word_tag(word));
            let hole_is_between_home_and_next = if hole <= next {
                home <= hole || home > next
            } else {
                home <= hole && home > next
            };
            if hole_is_between_home_and_next {
                self.slots[hole] = word;
                self.slots[next] = EMPTY;
                hole = next;
            }
            next = (next + 1) & self.mask;
        }
        unreachable!("probe bound exceeded: load factor is capped at 1/2, an empty slot must exist")
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

    /// Checks the structure: every slot of the index points at a stored
    /// record under that record's tag, every record is found by a lookup
    /// from its home slot (exactly once), the slot count, the record count,
    /// the stored length and the bound agree, and the index is at most half
    /// full. Together these make slots and records a one-to-one map.
    pub fn audit(&self) -> Result<(), TableFault> {
        let mut counted = 0u32;
        for (slot, &word) in self.slots[..self.slot_count()].iter().enumerate() {
            if word == EMPTY {
                continue;
            }
            counted += 1;
            let Some((key, _)) = self.records.get(word_record(word)) else {
                return Err(TableFault::DanglingRecord { slot });
            };
            let tag = tag_of(key);
            if word_tag(word) != tag {
                return Err(TableFault::TagMismatch { slot });
            }
            match self.find_tagged(key, tag) {
                Some(found) if found == slot => {}
                Some(_) => return Err(TableFault::Duplicate { slot }),
                None => return Err(TableFault::Unreachable { slot }),
            }
        }
        if counted != self.len {
            return Err(TableFault::LengthMismatch {
                counted,
                stored: self.len,
            });
        }
        if self.records.len() != self.len as usize {
            return Err(TableFault::RecordCountMismatch {
                records: self.records.len() as u32,
                stored: self.len,
            });
        }
        if self.len > self.capacity {
            return Err(TableFault::OverCapacity {
                len: self.len,
                capacity: self.capacity,
            });
        }
        if 2 * self.len as usize > self.slot_count() {
            return Err(TableFault::OverHalfFull {
                len: self.len,
                slots: self.slot_count(),
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
            let slots = table.reserved_slot_count();
            assert_eq!(table.slot_count(), slots, "small tables start whole");
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
        table.slots[moved] = std::mem::take(&mut table.slots[slot]);
        assert_eq!(table.audit(), Err(TableFault::Unreachable { slot: moved }));

        let (mut table, slot) = one_record();
        let copy = (slot + 1) & table.mask;
        table.slots[copy] = table.slots[slot];
        table.len += 1;
        assert_eq!(table.audit(), Err(TableFault::Duplicate { slot: copy }));

        let (mut table, slot) = one_record();
        table.slots[slot] = slot_word(word_tag(table.slots[slot]), 1);
        assert_eq!(table.audit(), Err(TableFault::DanglingRecord { slot }));

        let (mut table, slot) = one_record();
        table.slots[slot] ^= 1 << 63;
        assert_eq!(table.audit(), Err(TableFault::TagMismatch { slot }));

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
        table.records.push((ResourceId(2), 20));
        assert_eq!(
            table.audit(),
            Err(TableFault::RecordCountMismatch {
                records: 2,
                stored: 1
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

        // Its only record alone in an index of one slot: reachable, but the
        // probe bound needs an empty slot.
        let (mut table, slot) = one_record();
        table.slots[0] = std::mem::take(&mut table.slots[slot]);
        table.mask = 0;
        assert_eq!(
            table.audit(),
            Err(TableFault::OverHalfFull { len: 1, slots: 1 })
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
        assert_eq!(word_tag(table.slots[13]), word_tag(table.slots[14]));
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
