//! Snapshot encoding: canonical round trip, and every damaged byte rejected.

use allocdb_core::snapshot::format::{decode, encode, SnapshotError, HEADER_LEN, TRAILER_LEN};
use allocdb_core::{
    Bundle, ClientId, ClientRequest, Command, Config, HolderId, LeaseEpoch, LogCommand, Lsn,
    OperationId, Outcome, ResourceId, Slot, StateMachine,
};

fn populated() -> StateMachine {
    let mut sm = StateMachine::new(Config::small()).unwrap();
    let mut lsn = 0;
    let mut apply = |sm: &mut StateMachine, slot, command| {
        lsn += 1;
        let request = ClientRequest {
            operation_id: OperationId(lsn as u128),
            client_id: ClientId(3),
            command,
        };
        sm.apply(Lsn(lsn), Slot(slot), &LogCommand::Client(request))
            .unwrap()
            .outcome
    };
    for id in 1..=3 {
        apply(
            &mut sm,
            0,
            Command::CreateResource {
                resource_id: ResourceId(id),
            },
        );
    }
    let bundle = Bundle::from_slice(&[ResourceId(2), ResourceId(1)]).unwrap();
    let reserve = Command::Reserve {
        resources: bundle,
        holder_id: HolderId(4),
        ttl_slots: 9,
    };
    let Outcome::Reserved { lease_id, .. } = apply(&mut sm, 1, reserve) else {
        panic!()
    };
    apply(
        &mut sm,
        1,
        Command::Activate {
            lease_id,
            holder_id: HolderId(4),
            lease_epoch: LeaseEpoch(1),
        },
    );
    apply(&mut sm, 2, Command::Revoke { lease_id });
    apply(&mut sm, 2, Command::Reclaim { lease_id });
    let single = Bundle::from_slice(&[ResourceId(3)]).unwrap();
    apply(
        &mut sm,
        3,
        Command::Reserve {
            resources: single,
            holder_id: HolderId(5),
            ttl_slots: 4,
        },
    );
    apply(
        &mut sm,
        3,
        Command::CreateResource {
            resource_id: ResourceId(1),
        },
    ); // a stored failure
    sm
}

#[test]
fn round_trip_is_canonical() {
    let sm = populated();
    let image = sm.export();
    let bytes = encode(0, &image);
    let decoded = decode(&Config::small(), &bytes).unwrap();
    assert_eq!(decoded, image);
    assert_eq!(encode(0, &decoded), bytes);
    let restored = StateMachine::restore(Config::small(), &decoded).unwrap();
    assert_eq!(restored.digest(), sm.digest());
}

#[test]
fn every_bit_flip_is_rejected() {
    let bytes = encode(0, &populated().export());
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[byte] ^= 1 << bit;
            let error =
                decode(&Config::small(), &damaged).expect_err("a flipped bit must never decode");
            assert!(
                matches!(error, SnapshotError::Checksum { .. }),
                "byte {byte} bit {bit}: {error}"
            );
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    let bytes = encode(0, &populated().export());
    for len in 0..bytes.len() {
        let result = decode(&Config::small(), &bytes[..len]);
        if len < HEADER_LEN + TRAILER_LEN {
            assert_eq!(result, Err(SnapshotError::TooShort { len }));
        } else {
            // The trailer read is the last 4 bytes kept: never the checksum
            // of what precedes them.
            assert!(
                matches!(result, Err(SnapshotError::Checksum { .. })),
                "length {len}: {result:?}"
            );
        }
    }
}

/// Re-seals a modified body with a valid checksum, to reach the field checks.
fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    let body = bytes.len() - 4;
    let crc = crc32c::crc32c(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn validated_fields_behind_a_good_checksum() {
    let config = Config::small();
    let bytes = encode(0, &populated().export());
    assert!(matches!(
        decode(
            &Config {
                shard_id: 1,
                ..config
            },
            &bytes
        ),
        Err(SnapshotError::Field {
            field: "shard_id",
            ..
        })
    ));
    let mut magic = bytes.clone();
    magic[0] ^= 0xFF;
    assert!(matches!(
        decode(&config, &reseal(magic)),
        Err(SnapshotError::Magic { .. })
    ));
    let mut version = bytes.clone();
    version[4] = 9;
    assert!(matches!(
        decode(&config, &reseal(version)),
        Err(SnapshotError::Version { found: 9 })
    ));
    // A huge count is refused against the bound before any allocation.
    let mut count = bytes.clone();
    count[HEADER_LEN - 12..HEADER_LEN - 8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decode(&config, &reseal(count)),
        Err(SnapshotError::OverBound {
            table: "resource",
            ..
        })
    ));
    // First resource's state byte.
    let mut state = bytes.clone();
    state[HEADER_LEN + 16] = 7;
    assert!(matches!(
        decode(&config, &reseal(state)),
        Err(SnapshotError::Field {
            field: "resource.state",
            ..
        })
    ));
    // Swap the first two resources' ids: order is enforced.
    let mut order = bytes.clone();
    let second = HEADER_LEN + 42;
    let (a, b) = (
        order[HEADER_LEN..HEADER_LEN + 16].to_vec(),
        order[second..second + 16].to_vec(),
    );
    order[HEADER_LEN..HEADER_LEN + 16].copy_from_slice(&b);
    order[second..second + 16].copy_from_slice(&a);
    assert!(matches!(
        decode(&config, &reseal(order)),
        Err(SnapshotError::Order {
            table: "resource",
            ..
        })
    ));
    let mut trailing = bytes.clone();
    trailing.insert(bytes.len() - 4, 0);
    assert!(matches!(
        decode(&config, &reseal(trailing)),
        Err(SnapshotError::TrailingBytes { extra: 1 })
    ));
}

/// A table at exactly its bound decodes; one record more is refused
/// before any record is read.
#[test]
fn record_counts_up_to_the_bound_decode() {
    let config = Config::small();
    let mut image = StateMachine::new(config).unwrap().export();
    let resource = |id| allocdb_core::Resource {
        resource_id: ResourceId(id),
        state: allocdb_core::ResourceState::Available,
        current_lease_id: None,
        version: 0,
    };
    let bound = config.max_resources;
    image.resources = (1..=u128::from(bound)).map(resource).collect();
    let full = encode(config.shard_id, &image);
    assert_eq!(decode(&config, &full), Ok(image.clone()));
    image.resources.push(resource(u128::from(bound) + 1));
    assert_eq!(
        decode(&config, &encode(config.shard_id, &image)),
        Err(SnapshotError::OverBound {
            table: "resource",
            count: bound + 1,
            bound
        })
    );
}

/// A lease of exactly the bundle limit decodes; a member count one past
/// it is refused before any member is read.
#[test]
fn member_counts_up_to_the_bundle_limit_decode() {
    let config = Config::small();
    let mut image = StateMachine::new(config).unwrap().export();
    let limit = allocdb_core::BUNDLE_SIZE_LIMIT;
    let members: Vec<ResourceId> = (1..=limit as u128).map(ResourceId).collect();
    image.last_applied_lsn = Lsn(1);
    image.leases.push(allocdb_core::Lease {
        lease_id: allocdb_core::LeaseId::new(config.shard_id, Lsn(1)),
        holder_id: HolderId(1),
        state: allocdb_core::LeaseState::Reserved,
        lease_epoch: LeaseEpoch(1),
        created_lsn: Lsn(1),
        deadline_slot: Slot(5),
        retire_after_slot: None,
        members: Bundle::from_slice(&members).unwrap(),
    });
    let mut bytes = encode(config.shard_id, &image);
    assert_eq!(decode(&config, &bytes), Ok(image));

    // The count byte follows id, holder, state, epoch, created lsn,
    // deadline, the retire flag and the retire slot.
    let count_at = HEADER_LEN + 16 + 16 + 1 + 8 * 3 + 1 + 8;
    assert_eq!(usize::from(bytes[count_at]), limit);
    bytes[count_at] += 1;
    assert_eq!(
        decode(&config, &reseal(bytes)),
        Err(SnapshotError::Field {
            field: "lease.member_count",
            offset: count_at + 1
        })
    );
}
