//! One-field near misses through the real engine: for each field of each
//! command kind (and the client), a request under a used operation id
//! that differs in that field alone is `operation_conflict` while the
//! original's record is retained, a byte-for-byte retry is the cached
//! answer, and after the dedupe window the near miss runs as a new
//! request. Every answer also passes the oracles, so the engine agreed
//! with the model's own field-by-field decision at each.

use allocdb_core::engine::EngineConfig;
use allocdb_sim::action::{Action, SimCommand};
use allocdb_sim::answer::{Answer, Code};
use allocdb_sim::driver::{SimConfig, Simulator};
use allocdb_sim::lease_ref::LeaseRef;

/// Config::small's dedupe window (max_ttl 32 + retry window 16), written
/// out rather than computed by the function under test.
const DEDUPE_WINDOW: u64 = 48;

fn submit(client: u32, operation: u128, command: SimCommand) -> Action {
    Action::Submit {
        client,
        operation,
        command,
        behind: 0,
    }
}

/// Creates 1 and 2 (ops 1, 2), reserves [1] for holder 5 (op 3, lease 3),
/// reserves [2] for holder 5 and activates it (ops 4, 5, lease 4).
fn setup() -> Vec<Action> {
    vec![
        submit(1, 1, SimCommand::CreateResource { resource: 1 }),
        submit(1, 2, SimCommand::CreateResource { resource: 2 }),
        submit(
            1,
            3,
            SimCommand::Reserve {
                resources: vec![1],
                holder: 5,
                ttl: 30,
            },
        ),
        submit(
            1,
            4,
            SimCommand::Reserve {
                resources: vec![2],
                holder: 5,
                ttl: 30,
            },
        ),
        submit(
            1,
            5,
            SimCommand::Activate {
                lease: LeaseRef::Id(4),
                holder: 5,
                epoch: 1,
            },
        ),
    ]
}

/// Runs `actions`, every one passing the oracles; the answer of the last.
fn last_answer(sim: &mut Simulator, actions: &[Action]) -> Answer {
    for action in actions {
        sim.step(action).unwrap_or_else(|e| {
            panic!(
                "{action:?}: {e}\n{}",
                sim.transcript().text().unwrap_or_default()
            )
        });
    }
    let answers = &sim.event().answers;
    assert_eq!(answers.len(), 1, "{answers:?}");
    answers[0].1
}

fn simulator() -> Simulator {
    Simulator::new(1, SimConfig::new(EngineConfig::small()), &[]).unwrap()
}

/// (original under op 100, near misses of it, one field each).
fn cases() -> Vec<(SimCommand, Vec<SimCommand>)> {
    let reserve = |resources: Vec<u128>, holder, ttl| SimCommand::Reserve {
        resources,
        holder,
        ttl,
    };
    let activate = |lease, holder, epoch| SimCommand::Activate {
        lease: LeaseRef::Id(lease),
        holder,
        epoch,
    };
    let release = |lease, holder, epoch| SimCommand::Release {
        lease: LeaseRef::Id(lease),
        holder,
        epoch,
    };
    vec![
        (
            SimCommand::CreateResource { resource: 9 },
            vec![SimCommand::CreateResource { resource: 10 }],
        ),
        (
            reserve(vec![1, 2], 6, 4),
            vec![
                reserve(vec![1, 9], 6, 4),
                reserve(vec![2, 1], 6, 4),
                reserve(vec![1], 6, 4),
                reserve(vec![1, 2, 9], 6, 4),
                reserve(vec![1, 2], 7, 4),
                reserve(vec![1, 2], 6, 5),
            ],
        ),
        (
            activate(3, 5, 1),
            vec![activate(4, 5, 1), activate(3, 6, 1), activate(3, 5, 2)],
        ),
        (
            release(4, 5, 1),
            vec![release(3, 5, 1), release(4, 6, 1), release(4, 5, 2)],
        ),
        (
            SimCommand::Revoke {
                lease: LeaseRef::Id(4),
            },
            vec![SimCommand::Revoke {
                lease: LeaseRef::Id(3),
            }],
        ),
        (
            SimCommand::Reclaim {
                lease: LeaseRef::Id(4),
            },
            vec![SimCommand::Reclaim {
                lease: LeaseRef::Id(3),
            }],
        ),
    ]
}

#[test]
fn a_one_field_near_miss_is_a_conflict_and_the_same_request_is_cached() {
    for (original, near_misses) in cases() {
        // The client, then each field of the command.
        let mut misses: Vec<(u32, SimCommand)> = vec![(2, original.clone())];
        misses.extend(near_misses.into_iter().map(|c| (1, c)));
        for (client, near) in misses {
            let mut sim = simulator();
            let mut actions = setup();
            actions.push(submit(1, 100, original.clone()));
            let first = last_answer(&mut sim, &actions);
            let near_miss = submit(client, 100, near.clone());
            assert_eq!(
                last_answer(&mut sim, std::slice::from_ref(&near_miss)),
                Answer::uncached(Code::OperationConflict),
                "{original:?} then client {client} {near:?}"
            );
            let retry = last_answer(&mut sim, &[Action::Retry { operation: 100 }]);
            assert_eq!(
                retry.code,
                Code::OperationConflict,
                "the retry resends the near miss"
            );
            let same = last_answer(&mut sim, &[submit(1, 100, original.clone())]);
            assert_eq!(
                same,
                Answer {
                    code: first.code,
                    cached: true
                },
                "{original:?}"
            );
        }
    }
}

#[test]
fn after_the_dedupe_window_a_near_miss_is_a_new_request() {
    let mut sim = simulator();
    let mut actions = setup();
    actions.push(submit(1, 100, SimCommand::CreateResource { resource: 9 }));
    assert_eq!(last_answer(&mut sim, &actions).code, Code::Ok);
    // One slot short of the window: the record is still there.
    let near = submit(1, 100, SimCommand::CreateResource { resource: 10 });
    sim.step(&Action::AdvanceSlot {
        by: DEDUPE_WINDOW - 1,
    })
    .unwrap();
    assert_eq!(
        last_answer(&mut sim, std::slice::from_ref(&near)).code,
        Code::OperationConflict
    );
    // At the window's end it retired: the near miss creates resource 10.
    sim.step(&Action::AdvanceSlot { by: 1 }).unwrap();
    assert_eq!(
        last_answer(&mut sim, std::slice::from_ref(&near)),
        Answer::uncached(Code::Ok)
    );
}
