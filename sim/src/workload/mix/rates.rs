//! The workload's fixed rates: the same for every seed (not drawn), each
//! named by the file of `workload/` that rolls it.

/// The workload's rates that no seed draws, per mille, grouped by the
/// `workload` file that rolls them. "Of the X: Y" means the rate is rolled
/// for each X, and Y is what it picks (the rest get the alternative named).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedRates {
    // traffic.rs and mod.rs: who sends what.
    /// While the operation table is full: advance the slot by 1 or 2, so
    /// that records retire and a slow seed is not stuck there.
    pub operations_full_advance_per_mille: u32,
    /// Of a burst's requests: retry a request in flight (while one is left
    /// that the burst does not carry yet).
    pub burst_in_flight_per_mille: u32,
    /// Of a burst's requests: re-send an old operation id (as the mix's
    /// retry rates allow).
    pub burst_old_per_mille: u32,
    /// Of a burst's requests: a second copy of a request sent earlier in the
    /// same burst (a duplicate delivery).
    pub burst_echo_per_mille: u32,
    /// Of the re-used operation ids: one of the latest submissions (still
    /// inside the dedupe window) rather than any.
    pub recent_operation_per_mille: u32,
    /// Of the slot advances that do not jump the windows: by 1 or 2 slots
    /// rather than 3 up to `max_ttl_slots`.
    pub short_advance_per_mille: u32,
    /// Of the reads: of a resource rather than of a lease.
    pub read_resource_per_mille: u32,
    /// Of the lease reads, when there are leases: of one in the table
    /// rather than a dead lease id.
    pub read_live_lease_per_mille: u32,
    /// Of reads, out of ten: unfenced, then fenced at the applied LSN; the
    /// rest are fenced past it (`fence_not_applied`).
    pub read_unfenced_per_ten: u64,
    pub read_fenced_at_applied_per_ten: u64,
    /// Of resource reads, out of ten: a hot resource, then any known one;
    /// the rest name a resource never created.
    pub read_hot_resource_per_ten: u64,
    pub read_known_resource_per_ten: u64,
    /// Of read faults: an I/O error rather than a short read.
    pub read_fault_error_per_mille: u32,

    // commands.rs: building each command.
    /// Of the commands while a hot resource is missing: a create instead of
    /// the weighted pick.
    pub create_first_per_mille: u32,
    /// Of the creates while a hot resource is missing: of a missing one.
    pub create_missing_hot_per_mille: u32,
    /// Of the other creates: of a hot id (mostly `resource_already_exists`)
    /// rather than a cold one.
    pub create_hot_per_mille: u32,
    /// Of the ttls not fixed: 1 to 3 slots rather than 1 to `max_ttl_slots`.
    pub short_ttl_per_mille: u32,
    /// Of the valid reserves: members only from the available resources of
    /// the pool (progress) rather than from all of it (contention).
    pub reserve_free_per_mille: u32,
    /// Of the reserves neither large nor single: 1 to 4 members rather than
    /// 1 to `max_bundle_size`.
    pub small_bundle_per_mille: u32,
    /// Of the reserves naming a resource never created: with a hot one in
    /// front (when a bundle holds two).
    pub unknown_after_known_per_mille: u32,
    /// Of the reserves with a ttl out of range: 0 rather than
    /// `max_ttl_slots + 1`.
    pub ttl_zero_per_mille: u32,
    /// Of the reserves with a duplicate member: another member between the
    /// two copies (when a bundle holds three).
    pub duplicate_apart_per_mille: u32,
    /// Of the stale-epoch activates and releases: of a revoking lease (when
    /// there is one) rather than the one picked.
    pub stale_revoking_per_mille: u32,
    /// Of the misdirected revokes and reclaims, when there are leases: of a
    /// lease in the table (in any state) rather than a dead lease id.
    pub misdirected_live_lease_per_mille: u32,

    // faults.rs: fault scheduling.
    /// While an expire or checkpoint crash point is armed: the action that
    /// reaches it (a tick, a slot advance to a deadline, a checkpoint).
    pub steer_to_armed_per_mille: u32,
    /// While halted, with crashes on: kill the process rather than restart.
    pub halted_crash_per_mille: u32,
    /// While down with unsynced bytes, with crashes on: a crash that
    /// settles what became of them.
    pub down_crash_per_mille: u32,
    /// Of the WAL bit flips: in the last frame rather than any.
    pub flip_last_frame_per_mille: u32,
    /// While down, with any fault on: a slot advance before the restart.
    pub down_advance_per_mille: u32,
    /// While down, with any fault on: a client that cannot know it sends a
    /// request (a retry of one in flight, or a fresh one), which goes
    /// unanswered.
    pub down_request_per_mille: u32,
    /// Of the crashes with nothing unsynced: keep the (empty) tail rather
    /// than lose it.
    pub empty_tail_keep_per_mille: u32,
}

impl FixedRates {
    /// The rates every seed uses.
    pub const DEFAULT: FixedRates = FixedRates {
        operations_full_advance_per_mille: 250,
        burst_in_flight_per_mille: 300,
        burst_old_per_mille: 80,
        burst_echo_per_mille: 30,
        recent_operation_per_mille: 750,
        short_advance_per_mille: 800,
        read_resource_per_mille: 500,
        read_live_lease_per_mille: 800,
        read_unfenced_per_ten: 7,
        read_fenced_at_applied_per_ten: 2,
        read_hot_resource_per_ten: 6,
        read_known_resource_per_ten: 3,
        read_fault_error_per_mille: 500,
        create_first_per_mille: 300,
        create_missing_hot_per_mille: 700,
        create_hot_per_mille: 300,
        short_ttl_per_mille: 500,
        reserve_free_per_mille: 500,
        small_bundle_per_mille: 750,
        unknown_after_known_per_mille: 500,
        ttl_zero_per_mille: 500,
        duplicate_apart_per_mille: 500,
        stale_revoking_per_mille: 500,
        misdirected_live_lease_per_mille: 600,
        steer_to_armed_per_mille: 250,
        halted_crash_per_mille: 500,
        down_crash_per_mille: 300,
        flip_last_frame_per_mille: 500,
        down_advance_per_mille: 100,
        down_request_per_mille: 100,
        empty_tail_keep_per_mille: 500,
    };
}

impl Default for FixedRates {
    fn default() -> FixedRates {
        FixedRates::DEFAULT
    }
}
