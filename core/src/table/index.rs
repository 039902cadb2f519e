//! The open-addressed index both record stores share: it maps a key's tag to
//! the position of its record and knows nothing else about the records.
//!
//! - An array of 64-bit words, one per slot: `0` is empty, otherwise the low
//!   32 bits of the key's hash (the tag) and the record's position plus one.
//!   Probing compares tags and asks the caller to compare the key only on a
//!   tag match; back-shift recomputes homes from tags, so a probe or a
//!   deletion never rehashes a key.
//! - Linear probing over a power-of-two number of slots at least twice the
//!   record count, so the load factor never passes 1/2 and a probe always
//!   meets an empty slot within `slot_count()` steps (the explicit probe
//!   bound).
//! - Reserved for the bound (twice it, rounded up to a power of two) but
//!   using only a prefix: [`MIN_INDEX_SLOTS`] at first, doubled by the
//!   store whenever an insert would pass load 1/2, by placing every record
//!   again. The index a table works in follows the records it holds, not
//!   its bound. Growth is deterministic (it depends only on the most records
//!   the table has held at once), never allocates, and never shrinks.
//! - Deletion shifts the following cluster back instead of leaving
//!   tombstones.

use super::{InsertError, TableFault, TableKey};

/// An index word: `0` is an empty slot.
const EMPTY: u64 = 0;

/// Slots a table's index starts with (32 KiB), or all of its reservation if
/// that is smaller: tables sized for a few thousand records never grow.
pub const MIN_INDEX_SLOTS: usize = 4096;

/// The part of a key's hash an index word keeps. Slot counts stay at or
/// below 2^31, so the home slot is always `tag & mask`.
pub(super) fn tag_of<K: TableKey>(key: &K) -> u32 {
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

pub(super) struct Index {
    /// Reserved for the bound; the index is `slots[..=mask]`, and the rest
    /// is untouched until the index grows into it.
    slots: Box<[u64]>,
    /// The index's slot count minus one.
    mask: usize,
}

impl Index {
    /// Reserves the slots for `bound` records; uses `first_slots` (a power
    /// of two) of them, or all if fewer.
    pub(super) fn new(bound: u32, first_slots: usize) -> Index {
        assert!(bound > 0, "a table needs a record bound of at least 1");
        assert!(
            bound <= crate::config::TABLE_CAPACITY_LIMIT,
            "record positions and homes must fit an index word"
        );
        assert!(
            first_slots.is_power_of_two(),
            "index sizes are powers of two"
        );
        let reserved = (bound as usize * 2).next_power_of_two();
        Index {
            slots: vec![EMPTY; reserved].into_boxed_slice(),
            mask: first_slots.min(reserved) - 1,
        }
    }

    /// Slots the index uses now.
    pub(super) fn slot_count(&self) -> usize {
        self.mask + 1
    }

    pub(super) fn reserved_slot_count(&self) -> usize {
        self.slots.len()
    }

    pub(super) fn home(&self, tag: u32) -> usize {
        tag as usize & self.mask
    }

    /// Record position in the occupied `slot`.
    pub(super) fn record(&self, slot: usize) -> usize {
        word_record(self.slots[slot])
    }

    /// `Ok(slot)` whose record `is_key` accepts, or `Err(slot)`: the empty
    /// slot that ends the probe, where the key would go. `is_key` is asked
    /// only about records whose tag matches.
    pub(super) fn probe(&self, tag: u32, is_key: impl Fn(usize) -> bool) -> Result<usize, usize> {
        let mut index = self.home(tag);
        for _ in 0..self.slot_count() {
            let word = self.slots[index];
            if word == EMPTY {
                return Err(index);
            }
            if word_tag(word) == tag && is_key(word_record(word)) {
                return Ok(index);
            }
            index = (index + 1) & self.mask;
        }
        unreachable!("probe bound exceeded: load factor is capped at 1/2, an empty slot must exist")
    }

    /// The slot pointing at `record`, whose key has `tag`. Compares words,
    /// not keys, so it reads no record.
    pub(super) fn slot_of_record(&self, tag: u32, record: usize) -> usize {
        let word = slot_word(tag, record);
        let mut index = self.home(tag);
        for _ in 0..self.slot_count() {
            match self.slots[index] {
                w if w == word => return index,
                EMPTY => break,
                _ => index = (index + 1) & self.mask,
            }
        }
        unreachable!("every stored record has a slot")
    }

    /// The first empty slot from `tag`'s home: where a key known to be
    /// absent goes.
    fn first_empty(&self, tag: u32) -> usize {
        match self.probe(tag, |_| false) {
            Err(slot) => slot,
            Ok(_) => unreachable!("no record is accepted"),
        }
    }

    /// Whether holding `records` records would pass load 1/2.
    pub(super) fn is_too_small_for(&self, records: usize) -> bool {
        2 * records > self.slot_count()
    }

    /// Where a new key goes, given its `probe`, in a table holding `len` of
    /// at most `bound` records: the empty slot that ended the probe.
    /// `Exists` if the probe found the key, else `Full` at the bound.
    pub(super) fn vacancy(
        probed: Result<usize, usize>,
        len: usize,
        bound: usize,
    ) -> Result<usize, InsertError> {
        let Err(slot) = probed else {
            return Err(InsertError::Exists);
        };
        if len >= bound {
            return Err(InsertError::Full);
        }
        Ok(slot)
    }

    /// Points the `vacancy` slot at the new `record`, which makes `len`
    /// records, unless that would pass load 1/2: then nothing is placed,
    /// and the store must place every record again at the slot count
    /// returned.
    pub(super) fn place_new(
        &mut self,
        slot: usize,
        tag: u32,
        record: usize,
        len: usize,
    ) -> Option<usize> {
        if self.is_too_small_for(len) {
            return Some(2 * self.slot_count());
        }
        self.place(slot, tag, record);
        None
    }

    /// The slot count to grow to so that `records` records fit (at most
    /// the reservation), if the index is smaller now.
    pub(super) fn growth_for(&self, records: usize) -> Option<usize> {
        let slot_count = (2 * records)
            .next_power_of_two()
            .min(self.reserved_slot_count());
        (slot_count > self.slot_count()).then_some(slot_count)
    }

    /// Points the empty `slot` at `record`.
    pub(super) fn place(&mut self, slot: usize, tag: u32, record: usize) {
        assert_eq!(self.slots[slot], EMPTY, "placing into an occupied slot");
        self.slots[slot] = slot_word(tag, record);
    }

    /// Points the occupied `slot`, whose key has `tag`, at `record` instead.
    pub(super) fn repoint(&mut self, slot: usize, tag: u32, record: usize) {
        assert_eq!(
            word_tag(self.slots[slot]),
            tag,
            "repointing keeps the slot's key"
        );
        self.slots[slot] = slot_word(tag, record);
    }

    /// Empties `slot` and shifts back every slot of the cluster after it
    /// that may move into the hole without passing its home slot.
    pub(super) fn remove(&mut self, slot: usize) {
        assert_ne!(self.slots[slot], EMPTY, "removing an empty slot");
        self.slots[slot] = EMPTY;
        let mut hole = slot;
        let mut next = (hole + 1) & self.mask;
        for _ in 0..self.slot_count() {
            let word = self.slots[next];
            if word == EMPTY {
                return;
            }
            let home = self.home(word_tag(word));
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

    /// Makes the index `slot_count` slots (no fewer than now) and places
    /// every `(tag, record)` of `records` in it again.
    pub(super) fn rebuild(
        &mut self,
        slot_count: usize,
        records: impl Iterator<Item = (u32, usize)>,
    ) {
        assert!(
            slot_count.is_power_of_two(),
            "index sizes are powers of two"
        );
        assert!(slot_count >= self.slot_count(), "the index never shrinks");
        assert!(
            slot_count <= self.slots.len(),
            "the index grows only within its reservation (twice the bound)"
        );
        self.slots[..slot_count].fill(EMPTY);
        self.mask = slot_count - 1;
        let mut placed = 0;
        for (tag, record) in records {
            let slot = self.first_empty(tag);
            self.slots[slot] = slot_word(tag, record);
            placed += 1;
        }
        assert!(
            !self.is_too_small_for(placed),
            "the index keeps load at most 1/2"
        );
    }

    /// Loads `tag`'s home slot so that a lookup soon after finds it in
    /// cache. A hint: it changes nothing.
    pub(super) fn prefetch(&self, tag: u32) {
        crate::prefetch::prefetch_read(&self.slots[self.home(tag)]);
    }

    /// Checks every occupied slot against the records (`key_at(position)`
    /// is the key stored there, `None` for a position holding no record):
    /// it names a stored record under that record's tag, and a lookup from
    /// the home slot finds it there and nowhere earlier. Then the counts:
    /// `len` records, one slot each, within `bound`, at most half the
    /// slots. Together these make slots and records a one-to-one map.
    pub(super) fn audit<K: TableKey>(
        &self,
        len: u32,
        bound: u32,
        key_at: impl Fn(usize) -> Option<K>,
    ) -> Result<(), TableFault> {
        let mut counted = 0u32;
        for (slot, &word) in self.slots[..self.slot_count()].iter().enumerate() {
            if word == EMPTY {
                continue;
            }
            counted += 1;
            let Some(key) = key_at(word_record(word)) else {
                return Err(TableFault::DanglingRecord { slot });
            };
            let tag = tag_of(&key);
            if word_tag(word) != tag {
                return Err(TableFault::TagMismatch { slot });
            }
            match self.probe(tag, |record| key_at(record) == Some(key)) {
                Ok(found) if found == slot => {}
                Ok(_) => return Err(TableFault::Duplicate { slot }),
                Err(_) => return Err(TableFault::Unreachable { slot }),
            }
        }
        if counted != len {
            return Err(TableFault::LengthMismatch {
                counted,
                stored: len,
            });
        }
        if len > bound {
            return Err(TableFault::OverCapacity {
                len,
                capacity: bound,
            });
        }
        if 2 * len as usize > self.slot_count() {
            return Err(TableFault::OverHalfFull {
                len,
                slots: self.slot_count(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{LeaseId, OperationId, ResourceId};
    use crate::table::MemberKey;

    /// Keys `0..8` stored at positions `0..8`, for audit tests.
    fn stored(position: usize) -> Option<ResourceId> {
        (position < 8).then_some(ResourceId(position as u128))
    }

    /// An index of 16 slots with record 1 placed, and its slot.
    fn one_record() -> (Index, usize) {
        let mut index = Index::new(8, MIN_INDEX_SLOTS);
        let tag = tag_of(&ResourceId(1));
        let slot = index.probe(tag, |_| false).unwrap_err();
        index.place(slot, tag, 1);
        index.audit(1, 8, stored).unwrap();
        (index, slot)
    }

    #[test]
    fn audit_names_each_structural_fault() {
        let (mut index, slot) = one_record();
        let moved = (slot + 2) & index.mask;
        index.slots[moved] = std::mem::take(&mut index.slots[slot]);
        assert_eq!(
            index.audit(1, 8, stored),
            Err(TableFault::Unreachable { slot: moved })
        );

        let (mut index, slot) = one_record();
        let copy = (slot + 1) & index.mask;
        index.slots[copy] = index.slots[slot];
        assert_eq!(
            index.audit(2, 8, stored),
            Err(TableFault::Duplicate { slot: copy })
        );

        let (mut index, slot) = one_record();
        index.slots[slot] = slot_word(word_tag(index.slots[slot]), 9);
        assert_eq!(
            index.audit(1, 8, stored),
            Err(TableFault::DanglingRecord { slot })
        );

        let (mut index, slot) = one_record();
        index.slots[slot] ^= 1 << 63;
        assert_eq!(
            index.audit(1, 8, stored),
            Err(TableFault::TagMismatch { slot })
        );

        let (index, _) = one_record();
        assert_eq!(
            index.audit(2, 8, stored),
            Err(TableFault::LengthMismatch {
                counted: 1,
                stored: 2
            })
        );

        let (index, _) = one_record();
        assert_eq!(
            index.audit(1, 0, stored),
            Err(TableFault::OverCapacity {
                len: 1,
                capacity: 0
            })
        );

        // Its only record alone in an index of one slot: reachable, but the
        // probe bound needs an empty slot.
        let (mut index, slot) = one_record();
        index.slots[0] = std::mem::take(&mut index.slots[slot]);
        index.mask = 0;
        assert_eq!(
            index.audit(1, 8, stored),
            Err(TableFault::OverHalfFull { len: 1, slots: 1 })
        );
    }

    #[test]
    fn slots_are_a_power_of_two_at_least_twice_the_bound() {
        for bound in 1..=300u32 {
            let index = Index::new(bound, MIN_INDEX_SLOTS);
            let slots = index.reserved_slot_count();
            assert_eq!(index.slot_count(), slots, "small tables start whole");
            assert!(slots.is_power_of_two(), "{bound}: {slots}");
            assert!(slots >= 2 * bound as usize, "{bound}: {slots}");
            assert!(slots < 4 * bound as usize, "{bound}: {slots}");
        }
    }

    #[test]
    fn growth_is_to_the_next_power_of_two_within_the_reservation() {
        let index = Index::new(100_000, MIN_INDEX_SLOTS);
        assert_eq!(index.growth_for(0), None);
        assert_eq!(index.growth_for(2048), None, "already fits");
        assert!(!index.is_too_small_for(2048));
        assert!(index.is_too_small_for(2049));
        assert_eq!(index.growth_for(2049), Some(8192));
        assert_eq!(index.growth_for(50_000), Some(131_072));
        assert_eq!(
            index.growth_for(usize::MAX / 4),
            Some(index.reserved_slot_count()),
            "never past the reservation"
        );
    }

    /// Finding a record's slot by its position compares whole words: a
    /// record with an equal tag at another position is passed over.
    #[test]
    fn slot_of_record_passes_over_equal_tags() {
        let mut index = Index::new(8, MIN_INDEX_SLOTS);
        for record in 0..3 {
            let slot = index.probe(7, |_| false).unwrap_err();
            index.place(slot, 7, record);
        }
        assert_eq!(index.slot_of_record(7, 0), 7);
        assert_eq!(index.slot_of_record(7, 2), 9);
        index.remove(7);
        // The cluster shifted back: record 2 now sits one slot earlier.
        assert_eq!(index.slot_of_record(7, 2), 8);
        index.repoint(8, 7, 5);
        assert_eq!(index.record(8), 5);
    }

    /// Distinct home slots of `keys` in an index of 1,024 slots.
    fn homes<K: TableKey>(keys: impl Iterator<Item = K>) -> usize {
        let index = Index::new(512, MIN_INDEX_SLOTS);
        assert_eq!(index.slot_count(), 1024);
        let homes: std::collections::BTreeSet<usize> =
            keys.map(|k| index.home(tag_of(&k))).collect();
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
}
