//! The state digest is kept running (a change notes its record; the digest
//! rehashes what was noted) and must always equal the digest recomputed
//! from every record: read after every command, after long stretches that
//! overflow the change log, and after a restore.

#[path = "support/workload.rs"]
mod workload;

use allocdb_core::machine::CHANGE_LOG_CAPACITY;
use allocdb_core::{
    ClientId, ClientRequest, Command, Config, LogCommand, Lsn, OperationId, ResourceId, Slot,
    StateMachine,
};
use workload::Workload;

fn config() -> Config {
    Config {
        shard_id: 3,
        max_resources: 256,
        max_leases: 256,
        max_bundle_size: 8,
        max_lease_members: 1024,
        max_operations: 2048,
        max_ttl_slots: 32,
        max_client_retry_window_slots: 16,
        history_window_slots: 8,
        max_expiration_bucket_len: 64,
        max_expirations_per_tick: 16,
    }
}

fn machine(seed: u64) -> (StateMachine, Workload) {
    let config = config();
    let mut sm = StateMachine::new(config).unwrap();
    let mut workload = Workload::new(seed, &config);
    workload.setup(&mut sm);
    (sm, workload)
}

#[test]
fn read_after_every_command_it_equals_the_recomputed_digest() {
    let (mut sm, mut workload) = machine(11);
    for step in 0..20_000 {
        workload.step(&mut sm);
        assert_eq!(sm.digest(), sm.digest_recomputed(), "after step {step}");
    }
    // The workload retired records and reused their slots many times over.
    assert!(workload.stats().kind_summary().contains("expire"));
}

#[test]
fn read_at_any_spacing_it_equals_the_recomputed_digest() {
    let (mut sm, mut workload) = machine(12);
    // Gaps below, at and far past the change log's capacity: the long ones
    // overflow it and rebuild from every record.
    let gaps = [
        1,
        7,
        CHANGE_LOG_CAPACITY / 4,
        CHANGE_LOG_CAPACITY,
        3 * CHANGE_LOG_CAPACITY,
        2,
        50,
    ];
    for round in 0..40 {
        let gap = gaps[round % gaps.len()];
        for _ in 0..gap {
            workload.step(&mut sm);
        }
        assert_eq!(
            sm.digest(),
            sm.digest_recomputed(),
            "round {round}, gap {gap}"
        );
        assert_eq!(sm.check_invariants(), Ok(()), "round {round}");
    }
}

#[test]
fn a_restored_machine_keeps_the_digest_running_from_its_image() {
    let (mut sm, mut workload) = machine(13);
    workload.warm_up(&mut sm, 3_000);
    let before = sm.digest();
    let image = sm.export();
    let mut restored = StateMachine::restore(config(), &image).unwrap();
    assert_eq!(restored.digest(), before);
    for step in 0..2_000 {
        workload.step(&mut restored);
        assert_eq!(
            restored.digest(),
            restored.digest_recomputed(),
            "after step {step}"
        );
    }
}

#[test]
fn an_operation_id_retired_and_reused_between_two_reads_keeps_the_digest_exact() {
    // The operation table full on both sides of the gap, and one id of the
    // old records back among the new: the rebuild must take out what
    // retired before it takes the returning id back in.
    let config = Config {
        max_operations: 4,
        ..self::config()
    };
    let mut sm = StateMachine::new(config).unwrap();
    let mut lsn = 0;
    let mut create = |sm: &mut StateMachine, slot: u64, operation: u128, resource: u128| {
        lsn += 1;
        let request = ClientRequest {
            operation_id: OperationId(operation),
            client_id: ClientId(1),
            command: Command::CreateResource {
                resource_id: ResourceId(resource),
            },
        };
        sm.apply(Lsn(lsn), Slot(slot), &LogCommand::Client(request))
            .unwrap();
    };
    // Operation n applies at slot n, so they retire one slot apart.
    for operation in 1..=4 {
        create(&mut sm, operation as u64, operation, operation);
    }
    assert_eq!(sm.digest(), sm.digest_recomputed());
    let window = config.dedupe_window_slots();
    // Operation 1 retires and 5 takes its place; then 2 retires and 1 is
    // back. Taken in the order noted, 1 would stay and 5 come in while 2
    // is still held: five hashes for a table of four.
    create(&mut sm, 1 + window, 5, 5);
    create(&mut sm, 2 + window, 1, 6);
    assert!(sm.get_operation(OperationId(1)).is_some());
    assert_eq!(sm.digest(), sm.digest_recomputed());
    assert_eq!(sm.check_invariants(), Ok(()));
}
