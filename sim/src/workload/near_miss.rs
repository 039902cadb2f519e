//! Conflicting retries that differ from the original request in exactly
//! one field: the client, or one field of the command (a bundle one
//! member apart, in another order, one member more or fewer). A defect in
//! how any single field is compared shows only this way; a whole new
//! command differs everywhere at once. Whether each is a conflict (the
//! original's record is retained) or a new request (it retired) is the
//! model's to say.

use super::Workload;
use crate::action::{Action, SimCommand};
use crate::lease_ref::LeaseRef;
use crate::rng::SimRng;
use crate::view::SimView;
use allocdb_core::{LeaseId, BUNDLE_SIZE_LIMIT};

impl Workload {
    /// A request under `operation` one field away from the one sent.
    pub(super) fn near_miss(
        &self,
        rng: &mut SimRng,
        view: &SimView,
        operation: u128,
    ) -> Option<Action> {
        let (client, command) = view.sent.sent(operation)?;
        let command = named_by_reserve(view, command);
        let fields = field_count(&command);
        let field = rng.below(fields + 1);
        if field == fields {
            return Some(Action::Submit {
                client: self.other_client(rng, client),
                operation,
                command,
                behind: 0,
            });
        }
        Some(Action::Submit {
            client,
            operation,
            command: self.one_field_changed(rng, &command, field),
            behind: 0,
        })
    }

    fn other_client(&self, rng: &mut SimRng, client: u32) -> u32 {
        let other = rng.below(u64::from(self.clients.max(1))) as u32;
        if other == client {
            client.wrapping_add(1)
        } else {
            other
        }
    }

    /// `command` with field number `field` (of [`field_count`]) changed.
    fn one_field_changed(&self, rng: &mut SimRng, command: &SimCommand, field: u64) -> SimCommand {
        let mut changed = command.clone();
        match &mut changed {
            SimCommand::CreateResource { resource } => *resource = resource.wrapping_add(1),
            SimCommand::Reserve {
                resources,
                holder,
                ttl,
            } => match field {
                0 => change_member(rng, resources),
                1 => *holder = self.other_holder(rng, *holder),
                _ => *ttl = other_value(rng, *ttl),
            },
            SimCommand::Activate {
                lease,
                holder,
                epoch,
            }
            | SimCommand::Release {
                lease,
                holder,
                epoch,
            } => match field {
                0 => *lease = other_lease(*lease),
                1 => *holder = self.other_holder(rng, *holder),
                _ => *epoch = other_value(rng, *epoch),
            },
            SimCommand::Revoke { lease } | SimCommand::Reclaim { lease } => {
                *lease = other_lease(*lease);
            }
        }
        changed
    }
}

/// `command` (as it was sent: a lease by its id) with its lease named by
/// the reserve that made it, as every generated step names one: a shrinker
/// then keeps that reserve, whatever earlier steps it deletes.
fn named_by_reserve(view: &SimView, mut command: SimCommand) -> SimCommand {
    if let SimCommand::Activate { lease, .. }
    | SimCommand::Release { lease, .. }
    | SimCommand::Revoke { lease }
    | SimCommand::Reclaim { lease } = &mut command
    {
        if let LeaseRef::Id(id) = *lease {
            *lease = view.model.lease_names().reference(LeaseId(id));
        }
    }
    command
}

/// The fields of `command` a near miss may change (the client besides).
fn field_count(command: &SimCommand) -> u64 {
    match command {
        SimCommand::CreateResource { .. }
        | SimCommand::Revoke { .. }
        | SimCommand::Reclaim { .. } => 1,
        SimCommand::Reserve { .. } | SimCommand::Activate { .. } | SimCommand::Release { .. } => 3,
    }
}

/// One member replaced, two swapped, one dropped or one added.
fn change_member(rng: &mut SimRng, members: &mut Vec<u128>) {
    let unused = |members: &[u128]| {
        (1..)
            .map(|k| members.iter().max().copied().unwrap_or(0).wrapping_add(k))
            .find(|id| !members.contains(id))
            .expect("some id is unused")
    };
    match rng.below(4) {
        1 if members.len() >= 2 => {
            let last = members.len() - 1;
            members.swap(0, last);
        }
        2 if members.len() >= 2 => {
            members.remove(rng.below(members.len() as u64) as usize);
        }
        3 if members.len() < BUNDLE_SIZE_LIMIT => {
            let id = unused(members);
            members.push(id);
        }
        _ if members.is_empty() => members.push(1),
        _ => {
            let index = rng.below(members.len() as u64) as usize;
            members[index] = unused(members);
        }
    }
}

/// One more or one less.
fn other_value(rng: &mut SimRng, value: u64) -> u64 {
    if value > 0 && rng.chance(500) {
        value - 1
    } else {
        value.wrapping_add(1)
    }
}

fn other_lease(lease: LeaseRef) -> LeaseRef {
    match lease {
        LeaseRef::Id(id) => LeaseRef::Id(id.wrapping_add(1)),
        LeaseRef::Of { op } => LeaseRef::Of {
            op: op.wrapping_add(1),
        },
    }
}
