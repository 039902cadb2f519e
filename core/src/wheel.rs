//! The expiry index: a preallocated timing wheel keyed by deadline slot.
//!
//! `max_ttl_slots + 1` buckets of `max_expiration_bucket_len` entries each,
//! allocated once. Deadline `d` lives in bucket `d % buckets`; a bucket is
//! kept sorted by `(deadline_slot, lease_id)`, which is the order the tick
//! commits expirations in.
//!
//! While expiry keeps up, every live deadline lies in `(now, now + max_ttl]`
//! and has a bucket to itself. An overdue backlog older than a full turn
//! shares its bucket with a newer deadline; the bucket bound still holds and
//! the due query still yields earliest deadline first.

use crate::ids::{LeaseId, Slot};

/// One entry of the expiry index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueExpiry {
    pub deadline_slot: Slot,
    pub lease_id: LeaseId,
}

/// An entry as stored: `[deadline, lease id high, lease id low]`. Arrays
/// compare element by element, so packed entries sort exactly as
/// `DueExpiry` does; and an array of integers is an element `vec!` can
/// allocate as zeroed memory, so the wheel's pages are touched only as
/// buckets fill, not all at start-up.
type Packed = [u64; 3];

fn pack(entry: DueExpiry) -> Packed {
    let id = entry.lease_id.0;
    [entry.deadline_slot.0, (id >> 64) as u64, id as u64]
}

fn unpack(packed: &Packed) -> DueExpiry {
    DueExpiry {
        deadline_slot: Slot(packed[0]),
        lease_id: LeaseId((u128::from(packed[1]) << 64) | u128::from(packed[2])),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expiry bucket for deadline {deadline_slot:?} is full")]
pub struct BucketFull {
    pub deadline_slot: Slot,
}

pub struct ExpiryWheel {
    bucket_count: u64,
    bucket_len: usize,
    /// `bucket_count * bucket_len` entries; bucket `b` owns
    /// `entries[b * bucket_len ..][.. lens[b]]`.
    entries: Box<[Packed]>,
    lens: Box<[u32]>,
    len: u64,
    /// No entry has a deadline below this. Derived and only a search hint:
    /// raised by the due query over empty slots, lowered by insert.
    cursor: Slot,
}

impl ExpiryWheel {
    pub fn new(bucket_count: u64, bucket_len: u32) -> ExpiryWheel {
        assert!(bucket_count > 0 && bucket_len > 0);
        let total = usize::try_from(bucket_count * u64::from(bucket_len))
            .expect("wheel size is bounded by WHEEL_ENTRIES_LIMIT");
        ExpiryWheel {
            bucket_count,
            bucket_len: bucket_len as usize,
            entries: vec![[0; 3]; total].into_boxed_slice(),
            lens: vec![0; bucket_count as usize].into_boxed_slice(),
            len: 0,
            cursor: Slot(0),
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total preallocated entries.
    pub fn capacity(&self) -> u64 {
        self.entries.len() as u64
    }

    fn bucket_index(&self, deadline: Slot) -> usize {
        (deadline.0 % self.bucket_count) as usize
    }

    fn bucket(&self, index: usize) -> &[Packed] {
        let start = index * self.bucket_len;
        &self.entries[start..start + self.lens[index] as usize]
    }

    pub fn bucket_is_full(&self, deadline: Slot) -> bool {
        self.lens[self.bucket_index(deadline)] as usize == self.bucket_len
    }

    pub fn insert(&mut self, deadline_slot: Slot, lease_id: LeaseId) -> Result<(), BucketFull> {
        let entry = pack(DueExpiry {
            deadline_slot,
            lease_id,
        });
        let index = self.bucket_index(deadline_slot);
        let len = self.lens[index] as usize;
        if len == self.bucket_len {
            return Err(BucketFull { deadline_slot });
        }
        let start = index * self.bucket_len;
        let bucket = &mut self.entries[start..start + len + 1];
        let position = bucket[..len].partition_point(|e| *e < entry);
        assert!(
            position == len || bucket[position] != entry,
            "lease {lease_id:?} is already in the expiry index"
        );
        bucket.copy_within(position..len, position + 1);
        bucket[position] = entry;
        self.lens[index] += 1;
        self.len += 1;
        if deadline_slot < self.cursor {
            self.cursor = deadline_slot;
        }
        Ok(())
    }

    /// Removes the entry; false when it was not there.
    pub fn remove(&mut self, deadline_slot: Slot, lease_id: LeaseId) -> bool {
        let entry = pack(DueExpiry {
            deadline_slot,
            lease_id,
        });
        let index = self.bucket_index(deadline_slot);
        let len = self.lens[index] as usize;
        let start = index * self.bucket_len;
        let bucket = &mut self.entries[start..start + len];
        let Ok(position) = bucket.binary_search(&entry) else {
            return false;
        };
        bucket.copy_within(position + 1..len, position);
        self.lens[index] -= 1;
        self.len -= 1;
        true
    }

    pub fn contains(&self, deadline_slot: Slot, lease_id: LeaseId) -> bool {
        let entry = pack(DueExpiry {
            deadline_slot,
            lease_id,
        });
        self.bucket(self.bucket_index(deadline_slot))
            .binary_search(&entry)
            .is_ok()
    }

    /// Writes up to `out.len()` entries with `deadline_slot <= now` into
    /// `out`, ordered by `(deadline_slot, lease_id)`, and returns the count.
    /// Pure with respect to the index contents; only the search hint moves.
    ///
    /// Cost: one bucket visit per slot from the cursor, plus at most one full
    /// pass over the buckets per returned entry when it skips a gap longer
    /// than a turn of the wheel.
    pub fn due(&mut self, now: Slot, out: &mut [DueExpiry]) -> usize {
        let mut written = 0;
        if self.len == 0 {
            // Every future deadline is above `now`, but a later insert lowers
            // the cursor again if needed.
            self.cursor = self.cursor.max(now);
            return 0;
        }
        let mut slot = self.cursor;
        // The cursor may only pass slots proven empty, not slots whose
        // entries were returned but are not yet removed.
        let mut cursor_may_advance = true;
        let mut empty_run = 0u64;
        // Before each slot that returns entries the walk visits at most one
        // turn of empty slots (the last of them jumps), and it stops at the
        // slot that fills `out` or after one more turn: so at most
        // `out.len()` times a turn plus the slot that returns.
        let visit_bound = out.len() as u64 * (self.bucket_count + 1);
        let mut visits = 0u64;
        while slot <= now && written < out.len() {
            visits += 1;
            assert!(visits <= visit_bound, "the due query walked past its bound");
            let mut found = false;
            for entry in self.bucket(self.bucket_index(slot)) {
                if entry[0] == slot.0 {
                    found = true;
                    if written == out.len() {
                        break;
                    }
                    out[written] = unpack(entry);
                    written += 1;
                }
            }
            if found {
                cursor_may_advance = false;
                empty_run = 0;
            } else {
                empty_run += 1;
            }
            let next = if empty_run >= self.bucket_count {
                // A whole turn without a match: jump to the next deadline.
                empty_run = 0;
                match self.next_deadline_after(slot) {
                    Some(next) => next,
                    None => break,
                }
            } else {
                match slot.checked_add(1) {
                    Some(next) => next,
                    None => break,
                }
            };
            assert!(next > slot, "the due query only moves forward");
            if cursor_may_advance {
                self.cursor = next;
            }
            slot = next;
        }
        written
    }

    fn next_deadline_after(&self, slot: Slot) -> Option<Slot> {
        (0..self.bucket_count as usize)
            .filter_map(|b| self.bucket(b).iter().find(|e| e[0] > slot.0))
            .map(|e| Slot(e[0]))
            .min()
    }

    /// Number of entries with `deadline_slot <= now`.
    pub fn backlog(&self, now: Slot) -> u64 {
        self.iter().filter(|e| e.deadline_slot <= now).count() as u64
    }

    /// Every entry, bucket by bucket.
    pub fn iter(&self) -> impl Iterator<Item = DueExpiry> + '_ {
        (0..self.bucket_count as usize).flat_map(move |b| self.bucket(b).iter().map(unpack))
    }

    /// Breaks the stored length, for tests of the audits that must notice.
    #[cfg(test)]
    pub(crate) fn corrupt_len(&mut self) {
        self.len += 1;
    }

    /// Structural check: each bucket sorted, entries in their own bucket, no
    /// entry below the cursor, lengths add up.
    pub fn audit(&self) -> Result<(), &'static str> {
        let mut total = 0u64;
        for b in 0..self.bucket_count as usize {
            let bucket = self.bucket(b);
            if bucket.len() > self.bucket_len {
                return Err("bucket over its bound");
            }
            if bucket.windows(2).any(|w| w[0] >= w[1]) {
                return Err("bucket not strictly sorted");
            }
            if bucket.iter().any(|e| self.bucket_index(Slot(e[0])) != b) {
                return Err("entry in the wrong bucket");
            }
            if bucket.iter().any(|e| e[0] < self.cursor.0) {
                return Err("entry below the search cursor");
            }
            total += bucket.len() as u64;
        }
        if total != self.len {
            return Err("entry count differs from stored length");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(n: u128) -> LeaseId {
        LeaseId(n)
    }

    fn due_all(wheel: &mut ExpiryWheel, now: u64, limit: usize) -> Vec<(u64, u128)> {
        let mut out = vec![
            DueExpiry {
                deadline_slot: Slot(0),
                lease_id: LeaseId(0)
            };
            limit
        ];
        let n = wheel.due(Slot(now), &mut out);
        out[..n]
            .iter()
            .map(|e| (e.deadline_slot.0, e.lease_id.0))
            .collect()
    }

    #[test]
    fn length_and_capacity() {
        let mut wheel = ExpiryWheel::new(5, 4);
        assert_eq!(wheel.capacity(), 20);
        assert!(wheel.is_empty());
        wheel.insert(Slot(3), lease(9)).unwrap();
        assert!(!wheel.is_empty());
        assert_eq!(wheel.len(), 1);
        assert!(wheel.remove(Slot(3), lease(9)));
        assert!(wheel.is_empty());
    }

    #[test]
    fn contains_and_backlog_see_exactly_the_entries() {
        let mut wheel = ExpiryWheel::new(5, 4);
        wheel.insert(Slot(3), lease(1)).unwrap();
        wheel.insert(Slot(4), lease(2)).unwrap();
        wheel.insert(Slot(9), lease(3)).unwrap();
        assert!(wheel.contains(Slot(3), lease(1)));
        assert!(wheel.contains(Slot(9), lease(3)));
        assert!(!wheel.contains(Slot(3), lease(2)), "wrong deadline");
        assert!(
            !wheel.contains(Slot(8), lease(1)),
            "same bucket, other slot"
        );
        assert_eq!(
            [2, 3, 4, 8, 9].map(|now| wheel.backlog(Slot(now))),
            [0, 1, 2, 2, 3]
        );
    }

    /// The longest walk: each returned slot behind a gap of more than a
    /// turn. Four buckets, three entries: three times four empty slots and
    /// the slot that returns, exactly the walk's bound.
    #[test]
    fn the_walk_bound_is_reached_exactly_by_gaps_before_every_entry() {
        let mut wheel = ExpiryWheel::new(4, 4);
        for (n, deadline) in [10, 20, 30].into_iter().enumerate() {
            wheel.insert(Slot(deadline), lease(n as u128)).unwrap();
        }
        assert_eq!(due_all(&mut wheel, 30, 3), vec![(10, 0), (20, 1), (30, 2)]);
        // One entry asked for: one turn, then the slot that returns it.
        let mut wheel = ExpiryWheel::new(4, 4);
        wheel.insert(Slot(10), lease(0)).unwrap();
        assert_eq!(due_all(&mut wheel, 12, 1), vec![(10, 0)]);
    }

    /// The due query jumps a gap of more than one turn in one step: a walk
    /// slot by slot over 2^50 empty slots would never finish.
    #[test]
    fn a_gap_of_many_turns_is_jumped() {
        let far = 1u64 << 50;
        let mut wheel = ExpiryWheel::new(4, 4);
        wheel.insert(Slot(1), lease(1)).unwrap();
        wheel.insert(Slot(far), lease(2)).unwrap();
        assert_eq!(due_all(&mut wheel, far + 3, 4), vec![(1, 1), (far, 2)]);
        assert!(wheel.remove(Slot(1), lease(1)));
        assert_eq!(due_all(&mut wheel, far, 4), vec![(far, 2)]);
        wheel.audit().unwrap();
    }

    #[test]
    #[should_panic(expected = "is already in the expiry index")]
    fn a_lease_inserted_twice_is_refused() {
        let mut wheel = ExpiryWheel::new(5, 4);
        wheel.insert(Slot(3), lease(1)).unwrap();
        wheel.insert(Slot(3), lease(9)).unwrap();
        wheel.insert(Slot(3), lease(1)).unwrap();
    }

    /// A wheel of 5 buckets holding leases 1 and 2 at deadline 3.
    fn two_entries() -> ExpiryWheel {
        let mut wheel = ExpiryWheel::new(5, 4);
        wheel.insert(Slot(3), lease(1)).unwrap();
        wheel.insert(Slot(3), lease(2)).unwrap();
        wheel.audit().unwrap();
        wheel
    }

    proptest::proptest! {
        /// Packing is lossless and keeps the order the buckets are sorted in.
        #[test]
        fn packed_entries_round_trip_and_sort_as_entries(
            a in (proptest::prelude::any::<u64>(), proptest::prelude::any::<u128>()),
            b in (proptest::prelude::any::<u64>(), proptest::prelude::any::<u128>()),
        ) {
            let entry = |(deadline, id): (u64, u128)| DueExpiry {
                deadline_slot: Slot(deadline),
                lease_id: LeaseId(id),
            };
            let (a, b) = (entry(a), entry(b));
            proptest::prop_assert_eq!(unpack(&pack(a)), a);
            proptest::prop_assert_eq!(pack(a).cmp(&pack(b)), a.cmp(&b));
            // The same deadline: the lease id alone decides.
            let c = DueExpiry { deadline_slot: a.deadline_slot, ..b };
            proptest::prop_assert_eq!(pack(a).cmp(&pack(c)), a.cmp(&c));
        }
    }

    #[test]
    fn audit_names_each_structural_fault() {
        let bucket = 3 * 4;
        let mut wheel = two_entries();
        wheel.entries.swap(bucket, bucket + 1);
        assert_eq!(wheel.audit(), Err("bucket not strictly sorted"));

        let mut wheel = two_entries();
        wheel.entries[bucket + 1] = wheel.entries[bucket];
        assert_eq!(wheel.audit(), Err("bucket not strictly sorted"));

        let mut wheel = two_entries();
        wheel.entries[bucket + 1][0] = 4;
        assert_eq!(wheel.audit(), Err("entry in the wrong bucket"));

        let mut wheel = two_entries();
        wheel.cursor = Slot(4);
        assert_eq!(wheel.audit(), Err("entry below the search cursor"));

        let mut wheel = two_entries();
        wheel.len = 3;
        assert_eq!(wheel.audit(), Err("entry count differs from stored length"));

        let mut wheel = two_entries();
        wheel.bucket_len = 1;
        wheel.lens[3] = 2;
        assert_eq!(wheel.audit(), Err("bucket over its bound"));
    }

    #[test]
    fn due_is_earliest_deadline_first_then_lease_id() {
        let mut wheel = ExpiryWheel::new(5, 4);
        wheel.insert(Slot(3), lease(9)).unwrap();
        wheel.insert(Slot(2), lease(7)).unwrap();
        wheel.insert(Slot(3), lease(1)).unwrap();
        wheel.insert(Slot(4), lease(2)).unwrap();
        assert_eq!(due_all(&mut wheel, 3, 10), vec![(2, 7), (3, 1), (3, 9)]);
        assert_eq!(due_all(&mut wheel, 3, 2), vec![(2, 7), (3, 1)]);
        assert_eq!(due_all(&mut wheel, 1, 10), vec![]);
        wheel.audit().unwrap();
    }

    #[test]
    fn bucket_bound_and_removal() {
        let mut wheel = ExpiryWheel::new(5, 2);
        wheel.insert(Slot(3), lease(1)).unwrap();
        wheel.insert(Slot(3), lease(2)).unwrap();
        assert!(wheel.bucket_is_full(Slot(3)));
        assert_eq!(
            wheel.insert(Slot(8), lease(3)),
            Err(BucketFull {
                deadline_slot: Slot(8)
            })
        );
        assert!(wheel.remove(Slot(3), lease(1)));
        assert!(!wheel.remove(Slot(3), lease(1)));
        wheel.insert(Slot(8), lease(3)).unwrap();
        assert_eq!(due_all(&mut wheel, 8, 10), vec![(3, 2), (8, 3)]);
        wheel.audit().unwrap();
    }

    #[test]
    fn overdue_backlog_across_turns_stays_ordered() {
        let mut wheel = ExpiryWheel::new(4, 4);
        wheel.insert(Slot(1), lease(1)).unwrap();
        wheel.insert(Slot(5), lease(2)).unwrap(); // same bucket as 1
        wheel.insert(Slot(1000), lease(3)).unwrap(); // far gap
        assert_eq!(
            due_all(&mut wheel, 2000, 10),
            vec![(1, 1), (5, 2), (1000, 3)]
        );
        // Returned entries are not removed; asking again yields them again.
        assert_eq!(due_all(&mut wheel, 2000, 1), vec![(1, 1)]);
        assert!(wheel.remove(Slot(1), lease(1)));
        assert_eq!(due_all(&mut wheel, 2000, 10), vec![(5, 2), (1000, 3)]);
        wheel.audit().unwrap();
    }

    #[test]
    fn cursor_never_skips_an_entry_inserted_below_it() {
        let mut wheel = ExpiryWheel::new(4, 4);
        assert_eq!(due_all(&mut wheel, 100, 4), vec![]);
        wheel.insert(Slot(50), lease(1)).unwrap();
        assert_eq!(due_all(&mut wheel, 100, 4), vec![(50, 1)]);
        wheel.audit().unwrap();
    }
}
