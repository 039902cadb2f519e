//! The steps a failing step needs by name, tried before delta debugging:
//! the submits of the operations it names (a lease by its reserve, a
//! retry) and the creates of the resources those reserve, followed back
//! transitively. A failure that needs only those (an activate of a lease
//! reserved hundreds of steps after its resources were created, with a
//! table that holds one lease in between) shrinks in one run instead of
//! thousands of delta-debugging ones.

use crate::action::{Action, SimCommand};
use crate::lease_ref::LeaseRef;
use std::collections::BTreeSet;

/// What a step needs and what it provides, by name.
#[derive(Default)]
struct Names {
    operations: BTreeSet<u128>,
    resources: BTreeSet<u128>,
}

impl Names {
    /// Notes what `action` needs.
    fn need(&mut self, action: &Action) {
        match action {
            Action::Submit { command, .. } => self.need_command(command),
            Action::Retry { operation } => {
                self.operations.insert(*operation);
            }
            Action::Burst(requests) => requests.iter().for_each(|r| self.need(r)),
            Action::ReadLease { lease, .. } => self.need_lease(*lease),
            Action::ReadResource { resource, .. } => {
                self.resources.insert(*resource);
            }
            _ => {}
        }
    }

    fn need_command(&mut self, command: &SimCommand) {
        match command {
            SimCommand::Reserve { resources, .. } => self.resources.extend(resources),
            SimCommand::CreateResource { .. } => {}
            other => {
                if let Some(lease) = other.lease() {
                    self.need_lease(lease);
                }
            }
        }
    }

    fn need_lease(&mut self, lease: LeaseRef) {
        if let LeaseRef::Of { op } = lease {
            self.operations.insert(op);
        }
    }

    /// Whether `action` provides something needed: it submits a needed
    /// operation or creates a needed resource.
    fn provided_by(&self, action: &Action) -> bool {
        match action {
            Action::Submit {
                operation, command, ..
            } => {
                self.operations.contains(operation)
                    || matches!(command, SimCommand::CreateResource { resource }
                        if self.resources.contains(resource))
            }
            Action::Burst(requests) => requests.iter().any(|r| self.provided_by(r)),
            _ => false,
        }
    }
}

/// The last step and what it needs by name, in order; with `keep_time`
/// every clock advance and tick too (a failure may need time to pass).
/// `None` when that is every step already.
pub(super) fn slice(actions: &[Action], keep_time: bool) -> Option<Vec<Action>> {
    let (last, earlier) = actions.split_last()?;
    let mut names = Names::default();
    names.need(last);
    let mut keep = vec![false; earlier.len()];
    for (index, action) in earlier.iter().enumerate().rev() {
        let time = matches!(
            action,
            Action::AdvanceSlot { .. } | Action::AdvanceTo { .. } | Action::Tick
        );
        if names.provided_by(action) || (keep_time && time) {
            keep[index] = true;
            names.need(action);
        }
    }
    let mut sliced: Vec<Action> = earlier
        .iter()
        .zip(&keep)
        .filter(|(_, kept)| **kept)
        .map(|(action, _)| action.clone())
        .collect();
    sliced.push(last.clone());
    (sliced.len() < actions.len()).then_some(sliced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(operation: u128, command: SimCommand) -> Action {
        Action::Submit {
            client: 0,
            operation,
            command,
            behind: 0,
        }
    }

    fn create(operation: u128, resource: u128) -> Action {
        submit(operation, SimCommand::CreateResource { resource })
    }

    #[test]
    fn an_activate_keeps_its_reserve_and_the_creates_it_needs() {
        let reserve = submit(
            3,
            SimCommand::Reserve {
                resources: vec![2],
                holder: 7,
                ttl: 5,
            },
        );
        let activate = submit(
            9,
            SimCommand::Activate {
                lease: LeaseRef::Of { op: 3 },
                holder: 7,
                epoch: 1,
            },
        );
        let actions = vec![
            create(1, 1),
            create(2, 2),
            Action::AdvanceSlot { by: 4 },
            reserve.clone(),
            create(4, 5),
            Action::Tick,
            activate.clone(),
        ];
        assert_eq!(
            slice(&actions, false),
            Some(vec![create(2, 2), reserve.clone(), activate.clone()])
        );
        assert_eq!(
            slice(&actions, true),
            Some(vec![
                create(2, 2),
                Action::AdvanceSlot { by: 4 },
                reserve,
                Action::Tick,
                activate
            ])
        );
    }

    #[test]
    fn a_retry_keeps_its_submit_and_nothing_is_no_slice() {
        let actions = vec![create(1, 1), create(2, 2), Action::Retry { operation: 2 }];
        assert_eq!(
            slice(&actions, false),
            Some(vec![create(2, 2), Action::Retry { operation: 2 }])
        );
        assert_eq!(slice(&[create(1, 1)], false), None);
        assert_eq!(slice(&[], false), None);
    }
}
