//! Retirement queues: records in the order they become retirable.
//!
//! A lease retires at `terminal_slot + history_window`, an operation record
//! at `applied_slot + dedupe_window`. Slots never go backwards and each
//! window is fixed, so pushes arrive in non-decreasing `retire_after_slot`
//! order and a FIFO ring is an exact priority queue.

use crate::ids::Slot;

pub struct RetireQueue<K> {
    ring: Box<[(Slot, K)]>,
    head: usize,
    len: usize,
}

impl<K: Copy + Default> RetireQueue<K> {
    pub fn with_capacity(capacity: u32) -> RetireQueue<K> {
        assert!(capacity > 0);
        RetireQueue {
            ring: vec![(Slot(0), K::default()); capacity as usize].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    fn back(&self) -> Option<Slot> {
        (self.len > 0).then(|| self.ring[(self.head + self.len - 1) % self.ring.len()].0)
    }

    /// Capacity equals the bound of the table whose records it queues, so a
    /// full queue means the caller broke that table's bound.
    pub fn push(&mut self, retire_after_slot: Slot, key: K) {
        assert!(self.len < self.ring.len(), "retire queue over its bound");
        assert!(
            self.back().is_none_or(|back| back <= retire_after_slot),
            "retire queue pushes must not go backwards"
        );
        let tail = (self.head + self.len) % self.ring.len();
        self.ring[tail] = (retire_after_slot, key);
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
        self.head = (self.head + 1) % self.ring.len();
        self.len -= 1;
        Some(key)
    }

    /// Entries oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &(Slot, K)> {
        (0..self.len).map(move |i| &self.ring[(self.head + i) % self.ring.len()])
    }
}
