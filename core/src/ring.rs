//! A bounded FIFO ring that touches memory in proportion to what it holds.
//!
//! The ring is reserved whole at start-up but written in order, and it
//! wraps at `wrap` entries, which starts small and doubles (up to the bound)
//! only when the ring is full. So the memory a ring touches follows the
//! entries it has held at once, not its bound: a ring that cycles 64k
//! entries through a bound of 2M stays within 64k-odd entries of cache
//! instead of walking all 2M. Growth is deterministic (it depends only on
//! the most entries held at once) and never allocates.

/// Entries a ring wraps at to begin with (or its whole bound if smaller).
pub const MIN_RING_LEN: usize = 4096;

pub struct Ring<T> {
    entries: Vec<T>,
    capacity: usize,
    /// Ring length: positions are taken modulo this.
    wrap: usize,
    head: usize,
    len: usize,
}

/// Where [`Ring::push_back`] put an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pushed {
    pub position: usize,
    /// The ring grew to make room, so entries already held may have moved
    /// to other positions; a caller that keeps positions must look again.
    pub grew: bool,
}

impl<T: Copy> Ring<T> {
    /// Reserves `capacity` entries now; wraps at [`MIN_RING_LEN`] at first.
    pub fn with_capacity(capacity: u32) -> Ring<T> {
        Ring::with_wrap_from(capacity, MIN_RING_LEN)
    }

    /// As `with_capacity`, wrapping at `first_wrap` entries at first; tests
    /// start it tiny so that it grows often.
    pub(crate) fn with_wrap_from(capacity: u32, first_wrap: usize) -> Ring<T> {
        assert!(capacity > 0, "a ring needs a bound of at least 1");
        assert!(first_wrap > 0, "a ring wraps at one entry or more");
        Ring {
            entries: Vec::with_capacity(capacity as usize),
            capacity: capacity as usize,
            wrap: first_wrap.min(capacity as usize),
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Positions in use are below this.
    #[cfg(test)]
    pub(crate) fn wrap(&self) -> usize {
        self.wrap
    }

    /// Ring position of the entry `ahead` places behind the head.
    pub fn position(&self, ahead: usize) -> usize {
        (self.head + ahead) % self.wrap
    }

    /// Position of the oldest entry (meaningless while empty).
    pub fn head(&self) -> usize {
        self.head
    }

    /// How far behind the head the entry at `position` is, if one is held
    /// there.
    pub fn ahead_of(&self, position: usize) -> Option<usize> {
        if position >= self.wrap {
            return None;
        }
        let ahead = (position + self.wrap - self.head) % self.wrap;
        (ahead < self.len).then_some(ahead)
    }

    /// The entry at ring `position`, which must be held.
    pub fn at(&self, position: usize) -> &T {
        debug_assert!(
            self.ahead_of(position).is_some(),
            "position {position} is held"
        );
        &self.entries[position]
    }

    /// The entry at ring `position`, to change in place, if one is held
    /// there: for tests that corrupt what a ring holds.
    #[cfg(test)]
    pub(crate) fn at_mut(&mut self, position: usize) -> Option<&mut T> {
        self.ahead_of(position)?;
        Some(&mut self.entries[position])
    }

    /// The entry `ahead` places behind the head, if held.
    pub fn get(&self, ahead: usize) -> Option<&T> {
        (ahead < self.len).then(|| &self.entries[self.position(ahead)])
    }

    pub fn front(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn back(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|last| self.get(last))
    }

    /// Appends `entry`, growing the wrap first if the ring is full. The
    /// caller keeps within the bound.
    pub fn push_back(&mut self, entry: T) -> Pushed {
        assert!(self.len < self.capacity, "ring over its bound");
        let grew = self.len == self.wrap;
        if grew {
            self.grow();
        }
        let position = self.position(self.len);
        self.write(position, entry);
        self.len += 1;
        Pushed { position, grew }
    }

    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let entry = self.entries[self.head];
        self.head = self.position(1);
        self.len -= 1;
        Some(entry)
    }

    /// Entries oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        (0..self.len).map(move |ahead| &self.entries[self.position(ahead)])
    }

    /// Entries oldest first, each with its ring position.
    pub fn iter_positions(&self) -> impl Iterator<Item = (usize, &T)> {
        (0..self.len).map(move |ahead| {
            let position = self.position(ahead);
            (position, &self.entries[position])
        })
    }

    /// Writes ring position `at`, extending the written part by one when
    /// `at` is just past it.
    fn write(&mut self, at: usize, entry: T) {
        if at == self.entries.len() {
            // Only while the ring has not yet been filled to `wrap` once.
            assert!(
                self.entries.len() < self.entries.capacity(),
                "ring reserved at start-up"
            );
            self.entries.push(entry);
        } else {
            self.entries[at] = entry;
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
            self.entries.len() == old,
            "a full ring has written every position"
        );
        let wrap = (2 * old).min(self.capacity);
        let moved = self.head.min(wrap - old);
        for at in 0..moved {
            let entry = self.entries[at];
            self.write(old + at, entry);
        }
        self.entries.copy_within(moved..self.head, 0);
        self.wrap = wrap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(ring: &Ring<u32>) -> Vec<u32> {
        ring.iter().copied().collect()
    }

    #[test]
    fn pops_in_push_order_across_the_ring_end() {
        let mut ring = Ring::with_capacity(3);
        assert!(ring.is_empty());
        assert_eq!(ring.push_back(10).position, 0);
        assert!(!ring.is_empty());
        ring.push_back(20);
        assert_eq!(ring.pop_front(), Some(10));
        // The ring wraps: positions 1 and 2, then 0.
        ring.push_back(21);
        assert_eq!(
            ring.push_back(40),
            Pushed {
                position: 0,
                grew: false
            }
        );
        assert_eq!(held(&ring), [20, 21, 40]);
        assert_eq!((ring.front(), ring.back()), (Some(&20), Some(&40)));
        assert_eq!(ring.head(), 1);
        let positions: Vec<usize> = ring.iter_positions().map(|(at, _)| at).collect();
        assert_eq!(positions, [1, 2, 0]);
        assert_eq!(ring.pop_front(), Some(20));
        assert_eq!(ring.pop_front(), Some(21));
        assert_eq!(ring.pop_front(), Some(40));
        assert_eq!(ring.pop_front(), None);
        assert!(ring.is_empty());
        assert_eq!((ring.front(), ring.back()), (None, None));
    }

    #[test]
    fn get_looks_behind_the_head_across_the_ring_end() {
        let mut ring = Ring::with_capacity(3);
        assert_eq!(ring.get(0), None);
        for entry in [10, 11, 20] {
            ring.push_back(entry);
        }
        ring.pop_front();
        ring.pop_front();
        ring.push_back(30);
        ring.push_back(31);
        // Ring order is now 30, 31, 20 with the head on 20.
        assert_eq!(ring.get(0), Some(&20));
        assert_eq!(ring.get(1), Some(&30));
        assert_eq!(ring.get(2), Some(&31));
        assert_eq!(ring.get(3), None);
        assert_eq!(*ring.at(0), 30);
    }

    #[test]
    fn ahead_of_names_held_positions_only() {
        let mut ring = Ring::with_wrap_from(8, 4);
        for entry in 0..4 {
            ring.push_back(entry);
        }
        ring.pop_front();
        ring.pop_front();
        ring.push_back(4);
        // Held: positions 2, 3, 0 (entries 2, 3, 4); position 1 is free.
        assert_eq!(ring.ahead_of(2), Some(0));
        assert_eq!(ring.ahead_of(3), Some(1));
        assert_eq!(ring.ahead_of(0), Some(2));
        assert_eq!(ring.ahead_of(1), None);
        assert_eq!(ring.ahead_of(4), None, "past the wrap");
    }

    /// The ring grows while wrapped around its end, with the head at every
    /// position, and still pops and looks ahead in push order.
    #[test]
    fn a_full_ring_grows_keeping_the_order_from_any_head() {
        for first_wrap in 1..=6 {
            for popped in 0..first_wrap {
                // Bound 9: growth from 4 or 5 is capped short of doubling.
                let mut ring = Ring::with_wrap_from(9, first_wrap);
                for entry in 0..first_wrap as u32 {
                    ring.push_back(entry);
                }
                let front: Vec<u32> = (0..popped).map(|_| ring.pop_front().unwrap()).collect();
                assert_eq!(front, (0..popped as u32).collect::<Vec<_>>());
                let mut expected: Vec<u32> = (popped as u32..first_wrap as u32).collect();
                for entry in 100..(100 + 9 - expected.len() as u32) {
                    ring.push_back(entry);
                    expected.push(entry);
                }
                assert_eq!(ring.len(), 9);
                assert_eq!(ring.wrap(), 9, "grown to the bound");
                for (ahead, entry) in expected.iter().enumerate() {
                    assert_eq!(ring.get(ahead), Some(entry));
                    let position = ring.position(ahead);
                    assert_eq!(ring.ahead_of(position), Some(ahead));
                    assert_eq!(ring.at(position), entry);
                }
                assert_eq!(held(&ring), expected);
                let drained: Vec<u32> = std::iter::from_fn(|| ring.pop_front()).collect();
                assert_eq!(drained, expected);
            }
        }
    }

    #[test]
    fn the_wrap_doubles_only_when_full_and_stops_at_the_bound() {
        let mut ring = Ring::with_wrap_from(100, 4);
        let mut grew_at = Vec::new();
        for entry in 0..100u32 {
            if ring.push_back(entry).grew {
                grew_at.push((entry, ring.wrap()));
            }
        }
        // The push of entry n + 1 into a full ring of n doubles it.
        assert_eq!(grew_at, [(4, 8), (8, 16), (16, 32), (32, 64), (64, 100)]);
    }

    proptest::proptest! {
        /// Against a VecDeque: pushes, pops and look-aheads through every
        /// growth from a ring of 1 up to a bound of 40.
        #[test]
        fn matches_a_deque_while_growing(
            ops in proptest::collection::vec((0u8..3, 0usize..4), 0..300),
            first_wrap in 1usize..8,
        ) {
            const BOUND: usize = 40;
            let mut ring = Ring::with_wrap_from(BOUND as u32, first_wrap);
            let mut model: std::collections::VecDeque<u32> = Default::default();
            for (step, (op, arg)) in ops.into_iter().enumerate() {
                match op {
                    0 if model.len() < BOUND => {
                        let wrap = ring.wrap();
                        let pushed = ring.push_back(step as u32);
                        model.push_back(step as u32);
                        proptest::prop_assert_eq!(pushed.grew, ring.wrap() != wrap);
                        proptest::prop_assert_eq!(*ring.at(pushed.position), step as u32);
                    }
                    1 => proptest::prop_assert_eq!(ring.pop_front(), model.pop_front()),
                    _ => {
                        let ahead = arg * 3;
                        proptest::prop_assert_eq!(ring.get(ahead), model.get(ahead));
                    }
                }
                proptest::prop_assert_eq!(ring.len(), model.len());
                proptest::prop_assert!(ring.wrap() >= ring.len() && ring.wrap() <= BOUND);
                proptest::prop_assert_eq!(held(&ring), model.iter().copied().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    #[should_panic(expected = "ring over its bound")]
    fn a_push_past_the_bound_is_refused() {
        let mut ring = Ring::with_capacity(2);
        for entry in 0..3 {
            ring.push_back(entry);
        }
    }
}
