//! Retirement queues: records in the order they become retirable.
//!
//! A lease retires at `terminal_slot + history_window`, an operation record
//! at `applied_slot + dedupe_window`. Slots never go backwards and each
//! window is fixed, so pushes arrive in non-decreasing `retire_after_slot`
//! order and a FIFO ring is an exact priority queue.

use crate::ids::Slot;

/// Entries a ring wraps at to begin with (or its whole bound if smaller).
pub const MIN_RING_LEN: usize = 4096;

/// The ring is reserved whole at start-up but written in order, and it
/// wraps at `wrap` entries, which starts at [`MIN_RING_LEN`] and doubles
/// (up to the bound) only when the ring is full. So the memory a queue
/// touches follows the entries it has held at once, not its bound: a queue
/// that cycles 64k entries through a bound of 2M stays within 64k-odd
/// entries of cache instead of walking all 2M.
pub struct RetireQueue<K> {
    ring: Vec<(Slot, K)>,
    capacity: usize,
    /// Ring length: positions are taken modulo this.
    wrap: usize,
    head: usize,
    len: usize,
}

impl<K: Copy> RetireQueue<K> {
    pub fn with_capacity(capacity: u32) -> RetireQueue<K> {
        RetireQueue::with_ring_from(capacity, MIN_RING_LEN)
    }

    /// As `with_capacity`, wrapping at `first_wrap` entries at first; tests
    /// start it tiny so that it grows often.
    fn with_ring_from(capacity: u32, first_wrap: usize) -> RetireQueue<K> {
        assert!(capacity > 0);
        assert!(first_wrap > 0);
        RetireQueue {
            ring: Vec::with_capacity(capacity as usize),
            capacity: capacity as usize,
            wrap: first_wrap.min(capacity as usize),
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Ring index of the entry `ahead` places behind the head.
    fn position(&self, ahead: usize) -> usize {
        (self.head + ahead) % self.wrap
    }

    fn back(&self) -> Option<Slot> {
        (self.len > 0).then(|| self.ring[self.position(self.len - 1)].0)
    }

    /// Capacity equals the bound of the table whose records it queues, so a
    /// full queue means the caller broke that table's bound.
    pub fn push(&mut self, retire_after_slot: Slot, key: K) {
        assert!(self.len < self.capacity, "retire queue over its bound");
        assert!(
            self.back().is_none_or(|back| back <= retire_after_slot),
            "retire queue pushes must not go backwards"
        );
        if self.len == self.wrap {
            self.grow();
        }
        let tail = self.position(self.len);
        self.write(tail, (retire_after_slot, key));
        self.len += 1;
    }

    /// Writes ring position `at`, extending the written part by one when
    /// `at` is just past it.
    fn write(&mut self, at: usize, entry: (Slot, K)) {
        if at == self.ring.len() {
            // Only while the ring has not yet been filled to `wrap` once.
            assert!(
                self.ring.len() < self.ring.capacity(),
                "ring reserved at start-up"
            );
            self.ring.push(entry);
        } else {
            self.ring[at] = entry;
        }
    }

    /// Doubles `wrap` (up to the bound) under a full ring. The entries run
    /// from the head to the old end, then on from position 0: those at the
    /// front move to just past the old end, as many as fit, and the rest
    /// move down to position 0, so that the order from the head holds.
    fn grow(&mut self) {
        let old = self.wrap;
        assert!(self.len == old, "the ring grows only when full");
        assert!(old < self.capacity, "the ring grows only within its bound");
        assert!(
            self.ring.len() == old,
            "a full ring has written every position"
        );
        let wrap = (2 * old).min(self.capacity);
        let moved = self.head.min(wrap - old);
        for at in 0..moved {
            let entry = self.ring[at];
            self.write(old + at, entry);
        }
        self.ring.copy_within(moved..self.head, 0);
        self.wrap = wrap;
    }

    /// Pops the oldest entry if it retires at or before `now`.
    pub fn pop_due(&mut self, now: Slot) -> Option<K> {
        if self.len == 0 {
            return None;
        }
        let (slot, key) = self.ring[self.head];
        if slot > now {
            return None;
        }
        self.head = self.position(1);
        self.len -= 1;
        Some(key)
    }

    /// The key `ahead` entries behind the head, if queued.
    pub fn peek(&self, ahead: usize) -> Option<K> {
        (ahead < self.len).then(|| self.ring[self.position(ahead)].1)
    }

    /// Entries oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &(Slot, K)> {
        (0..self.len).map(move |i| &self.ring[self.position(i)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(queue: &mut RetireQueue<u32>, now: u64) -> Vec<u32> {
        std::iter::from_fn(|| queue.pop_due(Slot(now))).collect()
    }

    #[test]
    fn pops_in_push_order_only_once_due_across_the_ring_end() {
        let mut queue = RetireQueue::with_capacity(3);
        queue.push(Slot(1), 10);
        queue.push(Slot(2), 20);
        assert_eq!(drain(&mut queue, 1), [10]);
        // The ring wraps: slots 1 and 2 of the ring, then slot 0.
        queue.push(Slot(2), 21);
        queue.push(Slot(4), 40);
        assert_eq!(queue.len(), 3);
        let queued: Vec<_> = queue.iter().copied().collect();
        assert_eq!(queued, [(Slot(2), 20), (Slot(2), 21), (Slot(4), 40)]);
        assert_eq!(drain(&mut queue, 3), [20, 21]);
        assert_eq!(queue.len(), 1);
        assert_eq!(drain(&mut queue, 3), []);
        assert_eq!(drain(&mut queue, 4), [40]);
        assert_eq!(queue.iter().count(), 0);
    }

    #[test]
    fn peek_looks_behind_the_head_across_the_ring_end() {
        let mut queue = RetireQueue::with_capacity(3);
        assert_eq!(queue.peek(0), None);
        queue.push(Slot(1), 10);
        queue.push(Slot(1), 11);
        queue.push(Slot(2), 20);
        assert_eq!(drain(&mut queue, 1), [10, 11]);
        queue.push(Slot(3), 30);
        queue.push(Slot(3), 31);
        // Ring order is now 30, 31, 20 with the head on 20.
        assert_eq!(queue.peek(0), Some(20));
        assert_eq!(queue.peek(1), Some(30));
        assert_eq!(queue.peek(2), Some(31));
        assert_eq!(queue.peek(3), None);
    }

    #[test]
    #[should_panic(expected = "retire queue pushes must not go backwards")]
    fn a_push_before_the_newest_entry_is_refused() {
        let mut queue = RetireQueue::with_capacity(4);
        queue.push(Slot(1), 1);
        queue.push(Slot(5), 2);
        queue.push(Slot(3), 3);
    }

    #[test]
    #[should_panic(expected = "retire queue pushes must not go backwards")]
    fn the_order_check_sees_the_newest_entry_after_the_ring_wraps() {
        let mut queue = RetireQueue::with_capacity(3);
        queue.push(Slot(1), 1);
        queue.push(Slot(2), 2);
        queue.push(Slot(6), 3);
        assert_eq!(drain(&mut queue, 2), [1, 2]);
        queue.push(Slot(7), 4);
        // The newest entry (7) now sits at ring index 0, below the head.
        queue.push(Slot(6), 5);
    }

    /// The ring grows while wrapped around its end, with the head at every
    /// position, and still pops and peeks in push order.
    #[test]
    fn a_full_ring_grows_keeping_the_order_from_any_head() {
        for first_wrap in 1..=6 {
            for popped in 0..first_wrap {
                // Bound 9: growth from 4 or 5 is capped short of doubling.
                let mut queue = RetireQueue::with_ring_from(9, first_wrap);
                for key in 0..first_wrap as u32 {
                    queue.push(Slot(u64::from(key)), key);
                }
                let front: Vec<u32> = (0..popped)
                    .map(|_| queue.pop_due(Slot(100)).unwrap())
                    .collect();
                assert_eq!(front, (0..popped as u32).collect::<Vec<_>>());
                let mut expected: Vec<u32> = (popped as u32..first_wrap as u32).collect();
                for key in 100..(100 + 9 - expected.len() as u32) {
                    queue.push(Slot(u64::from(key)), key);
                    expected.push(key);
                }
                assert_eq!(queue.len(), 9);
                assert_eq!(queue.wrap, 9, "grown to the bound");
                for (ahead, key) in expected.iter().enumerate() {
                    assert_eq!(queue.peek(ahead), Some(*key));
                }
                let keys: Vec<u32> = queue.iter().map(|(_, key)| *key).collect();
                assert_eq!(keys, expected);
                assert_eq!(drain(&mut queue, 1_000), expected);
            }
        }
    }

    #[test]
    fn the_wrap_doubles_only_when_full_and_stops_at_the_bound() {
        let mut queue = RetireQueue::with_ring_from(100, 4);
        let mut wraps = Vec::new();
        for key in 0..100u32 {
            queue.push(Slot(0), key);
            wraps.push(queue.wrap);
        }
        let grew_at: Vec<(usize, usize)> = wraps
            .windows(2)
            .enumerate()
            .filter(|(_, pair)| pair[0] != pair[1])
            .map(|(at, pair)| (at + 1, pair[1]))
            .collect();
        // The push of entry n + 1 into a full ring of n doubles it.
        assert_eq!(grew_at, [(4, 8), (8, 16), (16, 32), (32, 64), (64, 100)]);
        assert_eq!(wraps[0], 4);
    }

    proptest::proptest! {
        /// Against a VecDeque: pushes, pops and peeks through every growth
        /// from a ring of 1 up to a bound of 40.
        #[test]
        fn matches_a_deque_while_growing(
            ops in proptest::collection::vec((0u8..3, 0u64..4), 0..300),
            first_wrap in 1usize..8,
        ) {
            const BOUND: usize = 40;
            let mut queue = RetireQueue::with_ring_from(BOUND as u32, first_wrap);
            let mut model: std::collections::VecDeque<(Slot, u32)> = Default::default();
            let mut newest = 0u64;
            for (step, (op, arg)) in ops.into_iter().enumerate() {
                match op {
                    0 if model.len() < BOUND => {
                        newest += arg;
                        queue.push(Slot(newest), step as u32);
                        model.push_back((Slot(newest), step as u32));
                    }
                    1 => {
                        let now = Slot(newest.saturating_sub(arg));
                        let expected = match model.front() {
                            Some(&(slot, key)) if slot <= now => {
                                model.pop_front();
                                Some(key)
                            }
                            _ => None,
                        };
                        proptest::prop_assert_eq!(queue.pop_due(now), expected);
                    }
                    _ => {
                        let ahead = arg as usize * 3;
                        proptest::prop_assert_eq!(
                            queue.peek(ahead),
                            model.get(ahead).map(|&(_, key)| key)
                        );
                    }
                }
                proptest::prop_assert_eq!(queue.len(), model.len());
                proptest::prop_assert!(queue.wrap >= queue.len() && queue.wrap <= BOUND);
                let queued: Vec<(Slot, u32)> = queue.iter().copied().collect();
                let modelled: Vec<(Slot, u32)> = model.iter().copied().collect();
                proptest::prop_assert_eq!(queued, modelled);
            }
        }
    }

    #[test]
    #[should_panic(expected = "retire queue over its bound")]
    fn a_push_past_the_bound_is_refused() {
        let mut queue = RetireQueue::with_capacity(2);
        for slot in 0..3 {
            queue.push(Slot(slot), 0);
        }
    }
}
