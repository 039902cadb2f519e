//! Retirement queues: records in the order they become retirable.
//!
//! A lease retires at `terminal_slot + history_window`, an operation record
//! at `applied_slot + dedupe_window`. Slots never go backwards and each
//! window is fixed, so pushes arrive in non-decreasing `retire_after_slot`
//! order and a FIFO ring is an exact priority queue.

use crate::ids::Slot;
use crate::ring::Ring;

pub struct RetireQueue<K> {
    ring: Ring<(Slot, K)>,
}

impl<K: Copy> RetireQueue<K> {
    pub fn with_capacity(capacity: u32) -> RetireQueue<K> {
        RetireQueue {
            ring: Ring::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Capacity equals the bound of the table whose records it queues, so a
    /// full queue means the caller broke that table's bound.
    pub fn push(&mut self, retire_after_slot: Slot, key: K) {
        assert!(
            self.ring.len() < self.ring.capacity(),
            "retire queue over its bound"
        );
        assert!(
            self.ring
                .back()
                .is_none_or(|&(back, _)| back <= retire_after_slot),
            "retire queue pushes must not go backwards"
        );
        self.ring.push_back((retire_after_slot, key));
    }

    /// Pops the oldest entry if it retires at or before `now`.
    pub fn pop_due(&mut self, now: Slot) -> Option<K> {
        let &(slot, _) = self.ring.front()?;
        if slot > now {
            return None;
        }
        self.ring.pop_front().map(|(_, key)| key)
    }

    /// The key `ahead` entries behind the head, if queued.
    pub fn peek(&self, ahead: usize) -> Option<K> {
        self.ring.get(ahead).map(|&(_, key)| key)
    }

    /// Entries oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &(Slot, K)> {
        self.ring.iter()
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
        assert_eq!(drain(&mut queue, 3), Vec::<u32>::new());
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

    #[test]
    #[should_panic(expected = "retire queue over its bound")]
    fn a_push_past_the_bound_is_refused() {
        let mut queue = RetireQueue::with_capacity(2);
        for slot in 0..3 {
            queue.push(Slot(slot), 0);
        }
    }
}
