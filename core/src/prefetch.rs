//! A cache prefetch hint: start loading the line holding a value without
//! waiting for it.
//!
//! Recovery knows the keys of the frames it is about to apply. Loading their
//! table slots early overlaps those cache misses with the work on earlier
//! frames instead of paying them one after another. An ordinary load cannot
//! do this: the core waits for a missed load before it retires any later
//! instruction, so a "touch" stalls as long as the lookup it replaces.

/// Hints that `value` will be read soon. It changes no state and may do
/// nothing (it does nothing on targets without a prefetch instruction).
#[inline(always)]
#[allow(
    unsafe_code,
    reason = "the one unsafe call in the core: a prefetch instruction"
)]
pub(crate) fn prefetch_read<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is only a hint. It never faults, reads nothing
    // into a register and writes no memory, whatever the address; here the
    // address comes from a live reference anyway. SSE, which the intrinsic
    // requires, is part of the x86_64 baseline.
    unsafe {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
