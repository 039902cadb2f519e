//! The process's heap policy: memory a sweep frees stays in the process.
//!
//! Every restart drops an engine, and its recovery allocates the next
//! engine's tables, wheel and rings anew: blocks of tens to hundreds of
//! KiB. Under glibc's defaults a sweep's worker thread hands such blocks
//! back to the kernel when they are freed (its arena trims its top, and a
//! block past the mmap threshold is unmapped), then faults them in again a
//! page at a time at the next restart. In a 300-seed sweep that was about
//! 70,000 page faults and a tenth of its CPU time (`docs/performance.md`).
//! A fixed trim threshold past any heap a sweep reaches, and the largest
//! mmap threshold glibc takes, keep the pages: a sweep's heap stays at its
//! high-water mark, which the engine configs bound.
//!
//! Other C libraries get no policy; the sweep is only slower there.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::ffi::c_int;

    /// glibc caps the mmap threshold at half its largest arena heap
    /// (`HEAP_MAX_SIZE / 2`, 32 MiB on 64-bit) and refuses more.
    const MMAP_THRESHOLD: c_int = 32 << 20;
    /// Trim only past a heap no sweep comes near.
    const TRIM_THRESHOLD: c_int = c_int::MAX;

    pub fn keep_freed_memory() {
        for (param, value, name) in [
            (libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD, "M_MMAP_THRESHOLD"),
            (libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD, "M_TRIM_THRESHOLD"),
        ] {
            // SAFETY: `mallopt` only sets a parameter of the allocator,
            // under the allocator's own lock; it touches no memory of ours
            // and is sound with other threads allocating.
            let accepted = unsafe { libc::mallopt(param, value) };
            // Constant values glibc documents as valid: a refusal is a
            // changed glibc, and the sweep would run slower without saying.
            assert_eq!(accepted, 1, "glibc refused mallopt({name}, {value})");
        }
    }
}

/// Keeps freed heap memory in the process (see the module's text). Call it
/// once, before the first sweep thread starts.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::keep_freed_memory();
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::keep_freed_memory;
    use std::hint::black_box;

    /// Minor page faults of the calling thread so far (field 10 of
    /// `/proc/thread-self/stat`, counted after the command's closing paren).
    fn thread_minor_faults() -> u64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("thread stat");
        let after_command = &stat[stat.rfind(')').expect("command field") + 2..];
        after_command
            .split(' ')
            .nth(7)
            .and_then(|field| field.parse().ok())
            .expect("minflt field")
    }

    /// What a restart does to the heap: free a large block, then allocate
    /// and fill one as large again. Returns the faults of the second fill.
    fn faults_of_a_refill(len: usize) -> u64 {
        drop(black_box(vec![1u8; len]));
        let before = thread_minor_faults();
        let again = black_box(vec![1u8; len]);
        let faults = thread_minor_faults() - before;
        drop(again);
        faults
    }

    #[test]
    fn a_block_freed_and_allocated_again_is_not_faulted_in_again() {
        const LEN: usize = 8 << 20;
        const PAGES: u64 = (LEN / 4096) as u64;
        keep_freed_memory();
        // A new thread has an arena of its own, as a sweep's worker has.
        let faults = std::thread::spawn(|| faults_of_a_refill(LEN))
            .join()
            .expect("worker");
        assert!(
            faults < PAGES / 8,
            "{faults} faults refilling {PAGES} pages: the freed block went back to the kernel"
        );
    }
}
