//! The counting global allocator behind the "no unbounded allocation"
//! property.
//!
//! Linking this crate installs [`CountingAllocator`] as the process's global
//! allocator (only `xtask` and this crate's own tests link it). It forwards
//! every call to [`System`]; while a thread has counting armed (see
//! [`measure`]) it also tracks that thread's live heap bytes and their peak.
//! Other threads, and the same thread outside [`measure`], are never
//! counted, so parallel tests do not disturb each other.
//!
//! Implementing `GlobalAlloc` needs `unsafe impl` and `unsafe fn`: this
//! module is the crate's only unsafe code (allowed where it is declared),
//! and it only forwards to `System` after touching thread-local counters.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to [`System`]; counts the live bytes of threads that armed it.
pub struct CountingAllocator;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

thread_local! {
    // `const` initialisers of `Cell`s: no lazy init and no destructor, so
    // touching them from inside the allocator never allocates or recurses.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// Bytes allocated minus bytes freed since arming (negative when the
    /// measured code frees memory that existed before).
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
    /// The largest single request seen while armed.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    // `try_with`: never panic inside the allocator, even during thread exit.
    if !ARMED.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let size_i = i64::try_from(size).unwrap_or(i64::MAX);
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(size_i);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
}

fn note_free(size: usize) {
    if !ARMED.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let size_i = i64::try_from(size).unwrap_or(i64::MAX);
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size_i)));
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        // SAFETY: as above; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the new block being allocated before the old one is
        // freed: a moving realloc really holds both for a moment.
        note_alloc(new_size);
        note_free(layout.size());
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What [`measure`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocStats {
    /// Most heap bytes the measured call held at once, beyond what existed
    /// before it started.
    pub peak_bytes: u64,
    /// The largest single allocation request it made.
    pub largest_request: u64,
}

/// Disarms counting when dropped, so a panic unwinding out of the measured
/// call cannot leave the thread armed.
struct Armed;

impl Armed {
    fn arm() -> Armed {
        LIVE.with(|c| c.set(0));
        PEAK.with(|c| c.set(0));
        LARGEST.with(|c| c.set(0));
        ARMED.with(|a| a.set(true));
        Armed
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        ARMED.with(|a| a.set(false));
    }
}

/// Runs `f` with counting armed on this thread and returns its result with
/// the peak of live heap bytes it reached. Not reentrant: a nested call
/// restarts the counts.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, AllocStats) {
    let armed = Armed::arm();
    let result = f();
    drop(armed);
    (result, current_stats())
}

/// The counts of the last (or the current, while unwinding) [`measure`].
pub(crate) fn current_stats() -> AllocStats {
    let peak = PEAK.with(Cell::get).max(0);
    AllocStats {
        peak_bytes: u64::try_from(peak).unwrap_or(0),
        largest_request: LARGEST.with(Cell::get) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[test]
    fn counts_what_the_measured_call_holds_at_once() {
        let ((), stats) = measure(|| {
            let a = black_box(vec![0u8; 1000]);
            let b = black_box(vec![0u8; 500]);
            drop(a);
            drop(b);
            let c = black_box(vec![0u8; 100]);
            drop(c);
        });
        assert_eq!(stats.peak_bytes, 1500);
        assert_eq!(stats.largest_request, 1000);
        let ((), none) = measure(|| {
            black_box(1u64 + 1);
        });
        assert_eq!(none, AllocStats::default());
    }

    #[test]
    fn a_growing_vec_counts_old_and_new_buffer_together() {
        let ((), stats) = measure(|| {
            let mut v: Vec<u8> = Vec::with_capacity(64);
            v.extend_from_slice(&[1; 64]);
            v.push(2);
            black_box(v);
        });
        assert!(stats.peak_bytes >= 64 + 128, "{stats:?}");
    }
}
