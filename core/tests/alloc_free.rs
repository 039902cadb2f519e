// Implementing `GlobalAlloc` requires `unsafe impl` and `unsafe fn`; this is
// the only unsafe code in the crate's targets, and it only forwards to
// `System` after bumping a thread-local counter.
#![allow(unsafe_code)]

//! After start-up, applying a command allocates nothing on the heap
//! (`shared/spec/semantics.md`). A counting global allocator checks it over a
//! steady-state mix of every command kind, maintenance ticks included.

#[path = "support/workload.rs"]
mod workload;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use allocdb_core::machine::Image;
use allocdb_core::snapshot::format::{decode, encode};
use allocdb_core::table::FixedTable;
use allocdb_core::{
    CommandKind, Config, Lsn, Resource, ResourceId, ResourceState, ResultCode, Slot, StateMachine,
};
use workload::Workload;

/// Counts allocations and deallocations of the current thread while armed.
/// Other threads (the test harness, other tests) are never counted.
struct CountingAllocator;

thread_local! {
    // `const` initialisers of `Cell`s: no lazy init and no destructor, so
    // touching them from inside the allocator never allocates.
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static DEALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

/// Remembers the largest single allocation while armed.
fn note_size(bytes: usize) {
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = LARGEST.try_with(|c| c.set(c.get().max(bytes)));
    }
}

fn note(counter: &'static std::thread::LocalKey<Cell<u64>>) {
    // `try_with`: never panic inside the allocator, even during thread exit.
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = counter.try_with(|c| c.set(c.get() + 1));
    }
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(&ALLOCATIONS);
        note_size(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(&ALLOCATIONS);
        note_size(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(&DEALLOCATIONS);
        // SAFETY: as above; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation is a new allocation and the end of the old one.
        note(&ALLOCATIONS);
        note_size(new_size);
        note(&DEALLOCATIONS);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` with counting armed on this thread; returns (allocations,
/// deallocations) made by it.
fn counted<R>(f: impl FnOnce() -> R) -> (R, u64, u64) {
    ALLOCATIONS.with(|c| c.set(0));
    DEALLOCATIONS.with(|c| c.set(0));
    LARGEST.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    let result = f();
    ARMED.with(|a| a.set(false));
    (
        result,
        ALLOCATIONS.with(Cell::get),
        DEALLOCATIONS.with(Cell::get),
    )
}

const STEPS: u64 = 10_000;

/// Small windows so that, within 10,000 commands, leases and operation
/// records retire and table slots are reused.
fn config() -> Config {
    Config {
        shard_id: 7,
        max_resources: 1024,
        max_leases: 1024,
        max_bundle_size: 8,
        max_lease_members: 4096,
        max_operations: 8192,
        max_ttl_slots: 32,
        max_client_retry_window_slots: 16,
        history_window_slots: 8,
        max_expiration_bucket_len: 64,
        max_expirations_per_tick: 16,
    }
}

#[test]
fn the_counter_counts() {
    let ((), allocations, deallocations) = counted(|| {
        let v: Vec<u64> = Vec::with_capacity(1);
        drop(black_box(v));
    });
    assert_eq!((allocations, deallocations), (1, 1));
    // Disarmed: not counted.
    let v: Vec<u64> = Vec::with_capacity(1);
    drop(black_box(v));
    assert_eq!(ALLOCATIONS.with(Cell::get), 1);
}

#[test]
fn mixed_workload_applies_without_allocating() {
    let config = config();
    let mut sm = StateMachine::new(config).expect("valid config");
    let mut workload = Workload::new(0xA110_CDB0, &config);
    workload.setup(&mut sm);

    let (last_lsn, allocations, deallocations) = counted(|| {
        let mut last = None;
        for _ in 0..STEPS {
            last = Some(black_box(workload.step(&mut sm)).lsn);
        }
        last
    });

    let stats = *workload.stats();
    println!(
        "{STEPS} commands over {} slots ({} per slot): rejection ratio {:.3} ({}); retry-cache hits {}",
        stats.slots,
        workload.commands_per_slot(),
        stats.rejection_ratio(),
        stats.rejection_summary(),
        stats.retry_hits,
    );
    assert_eq!(
        (allocations, deallocations),
        (0, 0),
        "apply (or the workload generator) touched the heap"
    );

    // Not vacuous: every kind ran, some commands were rejected, records
    // retired, and the workload's model of every lease held.
    assert_eq!(stats.commands, STEPS);
    assert_eq!(last_lsn, sm.last_applied_lsn());
    for kind in CommandKind::ALL {
        assert!(stats.kind(kind) > 0, "no {} command ran", kind.name());
    }
    assert!(stats.code(ResultCode::ResourceBusy) > 0, "no contention");
    let ratio = stats.rejection_ratio();
    assert!((0.10..=0.35).contains(&ratio), "rejection ratio {ratio:.3}");
    assert!(stats.retry_hits > 0, "no retry-cache hit");
    assert!(
        stats.slots > 2 * config.dedupe_window_slots(),
        "too few slots to retire records"
    );
    assert!(sm.retired_watermark().0 > 0, "no lease retired");
    assert_eq!(
        stats.surprises, 0,
        "an outcome differed from the workload's tracking"
    );
}

/// A table's index grows within the slots reserved for its bound: the
/// inserts that double it allocate nothing either.
#[test]
fn a_growing_table_index_allocates_nothing() {
    const RECORDS: u32 = 20_000;
    let mut table: FixedTable<ResourceId, u32> = FixedTable::with_capacity(100_000);
    let first = table.slot_count();
    let ((), allocations, deallocations) = counted(|| {
        for id in 0..RECORDS {
            table
                .insert(ResourceId(u128::from(id)), id)
                .expect("below the bound");
        }
    });
    assert_eq!((allocations, deallocations), (0, 0));
    assert!(
        table.slot_count() >= 8 * first,
        "the index grew at least three times ({first} -> {})",
        table.slot_count()
    );
    table.audit().expect("a sound table");
}

/// Snapshot decode sizes each record vector by the bytes present over the
/// smallest record's length: a valid file of the smallest records fills
/// its vector without growing it.
#[test]
fn snapshot_decode_sizes_its_vectors_once() {
    let image = resources_only(64);
    let bytes = encode(config().shard_id, &image);
    let (decoded, allocations, _) = counted(|| decode(&config(), &bytes));
    assert_eq!(decoded.expect("a valid snapshot"), image);
    assert_eq!(allocations, 1, "one vector, allocated once");
}

/// An image of `count` available resources and nothing else.
fn resources_only(count: u128) -> Image {
    let available = |id| Resource {
        resource_id: ResourceId(id),
        state: ResourceState::Available,
        current_lease_id: None,
        version: 0,
    };
    Image {
        last_applied_lsn: Lsn(count as u64),
        last_request_slot: Slot(0),
        retired_watermark: Lsn(0),
        resources: (1..=count).map(available).collect(),
        leases: Vec::new(),
        operations: Vec::new(),
    }
}

/// A short file with a valid checksum that claims a million resources
/// (within a config that allows them) fails as truncated, having allocated
/// for the records its bytes could hold, not for the claim.
#[test]
fn a_short_snapshot_claiming_many_records_allocates_by_its_bytes() {
    use allocdb_core::snapshot::format::{SnapshotError, HEADER_LEN};
    let config = Config {
        max_resources: 1_000_000,
        ..config()
    };
    let mut bytes = encode(config.shard_id, &resources_only(2));
    // The resource count is the first of the three counts closing the header.
    let count_at = HEADER_LEN - 12;
    bytes[count_at..count_at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
    let body = bytes.len() - 4;
    let crc = crc32c::crc32c(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());

    let (result, _, _) = counted(|| decode(&config, &bytes));
    assert!(
        matches!(result, Err(SnapshotError::Truncated(_))),
        "{result:?}"
    );
    let largest = LARGEST.with(Cell::get);
    assert!(
        largest < 4096,
        "allocated {largest} bytes for a {}-byte file",
        bytes.len()
    );
}
