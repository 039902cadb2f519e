//! Retirement queues: records in the order they become retirable.
//!
//! A lease retires at `terminal_slot + history_window`, an operation record
//! at `applied_slot + dedupe_window`. Slots never go backwards and each
//! window is fixed, so pushes arrive in non-decreasing `retire_after_slot`
//! order and a FIFO ring is an exact priority queue.

use crate::ids::Slot;

/// The ring is reserved whole at start-up but written in order, so a large
/// bound costs only the pages its entries ever used.
pub struct RetireQueue<K> {
    ring: Vec<(Slot, K)>,
    capacity: usize,
    head: usize,
    len: usize,
}

impl<K: Copy> RetireQueue<K> {
    pub fn with_capacity(capacity: u32) -> RetireQueue<K> {
        assert!(capacity > 0);
        RetireQueue {
            ring: Vec::with_capacity(capacity as usize),
            capacity: capacity as usize,
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Ring index of the entry `ahead` places behind the head.
    fn position(&self, ahead: usize) -> usize {
        (self.head + ahead) % self.capacity
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
        let tail = self.position(self.len);
        if tail == self.ring.len() {
            // Only while the ring has not yet been filled once.
            assert!(
                self.ring.len() < self.ring.capacity(),
                "ring reserved at start-up"
            );
            self.ring.push((retire_after_slot, key));
        } else {
            self.ring[tail] = (retire_after_slot, key);
        }
        self.len += 1;
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

    #[test]
    #[should_panic(expected = "retire queue over its bound")]
    fn a_push_past_the_bound_is_refused() {
        let mut queue = RetireQueue::with_capacity(2);
        for slot in 0..3 {
            queue.push(Slot(slot), 0);
        }
    }
}
