//! Whether a request under a known operation id is the one first sent
//! (a retry) or another (a conflict): compared field by field with the
//! stored request, in the model's own code. The core decides the same
//! question with a hash of the request; a field its hash leaves out, or a
//! collision, is then a disagreement the oracles see.

use allocdb_core::{ClientRequest, Command};

pub fn same_request(stored: &ClientRequest, new: &ClientRequest) -> bool {
    stored.client_id == new.client_id && same_command(&stored.command, &new.command)
}

fn same_command(stored: &Command, new: &Command) -> bool {
    match (stored, new) {
        (
            Command::CreateResource { resource_id: a },
            Command::CreateResource { resource_id: b },
        ) => a == b,
        (
            Command::Reserve {
                resources: a_resources,
                holder_id: a_holder,
                ttl_slots: a_ttl,
            },
            Command::Reserve {
                resources: b_resources,
                holder_id: b_holder,
                ttl_slots: b_ttl,
            },
        ) => {
            // Members in order: a bundle in another order is another request.
            a_resources.as_slice() == b_resources.as_slice()
                && a_holder == b_holder
                && a_ttl == b_ttl
        }
        (
            Command::Activate {
                lease_id: a_lease,
                holder_id: a_holder,
                lease_epoch: a_epoch,
            },
            Command::Activate {
                lease_id: b_lease,
                holder_id: b_holder,
                lease_epoch: b_epoch,
            },
        )
        | (
            Command::Release {
                lease_id: a_lease,
                holder_id: a_holder,
                lease_epoch: a_epoch,
            },
            Command::Release {
                lease_id: b_lease,
                holder_id: b_holder,
                lease_epoch: b_epoch,
            },
        ) => a_lease == b_lease && a_holder == b_holder && a_epoch == b_epoch,
        (Command::Revoke { lease_id: a }, Command::Revoke { lease_id: b })
        | (Command::Reclaim { lease_id: a }, Command::Reclaim { lease_id: b }) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! Every field of every command kind, changed alone, makes another
    //! request; nothing else does. Expected answers are written out, not
    //! computed.
    use super::*;
    use allocdb_core::{Bundle, ClientId, HolderId, LeaseEpoch, LeaseId, OperationId, ResourceId};

    fn request(client: u128, command: Command) -> ClientRequest {
        ClientRequest {
            operation_id: OperationId(1),
            client_id: ClientId(client),
            command,
        }
    }

    fn bundle(ids: &[u128]) -> Bundle {
        let mut bundle = Bundle::EMPTY;
        for &id in ids {
            bundle.push(ResourceId(id)).unwrap();
        }
        bundle
    }

    fn reserve(ids: &[u128], holder: u128, ttl: u64) -> Command {
        Command::Reserve {
            resources: bundle(ids),
            holder_id: HolderId(holder),
            ttl_slots: ttl,
        }
    }

    fn activate(lease: u128, holder: u128, epoch: u64) -> Command {
        Command::Activate {
            lease_id: LeaseId(lease),
            holder_id: HolderId(holder),
            lease_epoch: LeaseEpoch(epoch),
        }
    }

    fn release(lease: u128, holder: u128, epoch: u64) -> Command {
        Command::Release {
            lease_id: LeaseId(lease),
            holder_id: HolderId(holder),
            lease_epoch: LeaseEpoch(epoch),
        }
    }

    #[test]
    fn one_field_apart_is_another_request() {
        let cases = [
            (
                Command::CreateResource {
                    resource_id: ResourceId(7),
                },
                vec![Command::CreateResource {
                    resource_id: ResourceId(8),
                }],
            ),
            (
                reserve(&[1, 2], 3, 4),
                vec![
                    reserve(&[1, 5], 3, 4),
                    reserve(&[2, 1], 3, 4),
                    reserve(&[1], 3, 4),
                    reserve(&[1, 2, 5], 3, 4),
                    reserve(&[1, 2], 9, 4),
                    reserve(&[1, 2], 3, 5),
                ],
            ),
            (
                activate(5, 3, 1),
                vec![activate(6, 3, 1), activate(5, 4, 1), activate(5, 3, 2)],
            ),
            (
                release(5, 3, 1),
                vec![release(6, 3, 1), release(5, 4, 1), release(5, 3, 2)],
            ),
            (
                Command::Revoke {
                    lease_id: LeaseId(5),
                },
                vec![Command::Revoke {
                    lease_id: LeaseId(6),
                }],
            ),
            (
                Command::Reclaim {
                    lease_id: LeaseId(5),
                },
                vec![Command::Reclaim {
                    lease_id: LeaseId(6),
                }],
            ),
        ];
        for (original, near_misses) in cases {
            let stored = request(1, original);
            assert!(same_request(&stored, &request(1, original)), "{original:?}");
            assert!(
                !same_request(&stored, &request(2, original)),
                "client of {original:?}"
            );
            for near in near_misses {
                assert!(
                    !same_request(&stored, &request(1, near)),
                    "{original:?} vs {near:?}"
                );
            }
        }
    }

    #[test]
    fn another_kind_with_the_same_fields_is_another_request() {
        let stored = request(1, activate(5, 3, 1));
        assert!(!same_request(&stored, &request(1, release(5, 3, 1))));
        let revoke = request(
            1,
            Command::Revoke {
                lease_id: LeaseId(5),
            },
        );
        let reclaim = request(
            1,
            Command::Reclaim {
                lease_id: LeaseId(5),
            },
        );
        assert!(!same_request(&revoke, &reclaim));
    }
}
