//! Where a lease's members live: the first in the lease record, the others
//! in the member table under `(lease_id, ordinal)`. Every other part of the
//! machine reaches members through these calls only.

use super::{Changed, StateMachine};
use crate::ids::{LeaseId, ResourceId};
use crate::record::{LeaseRecord, Resource};
use crate::table::{InsertError, MemberKey};

impl StateMachine {
    /// Member `ordinal` of `lease`; `None` when `ordinal` is outside
    /// `member_count` or the member table lacks it (only the audit can see
    /// that).
    pub(super) fn member(&self, lease: &LeaseRecord, ordinal: u8) -> Option<ResourceId> {
        if ordinal >= lease.member_count {
            return None;
        }
        if ordinal == 0 {
            return Some(lease.first_member);
        }
        let key = MemberKey {
            lease_id: lease.lease_id,
            ordinal,
        };
        self.members.get(&key).copied()
    }

    /// Stores `lease` with its members `ids`, which must be what its
    /// `member_count` and `first_member` say, and fit the member bound.
    /// Fails, storing nothing, only as the lease table's insert does: the
    /// member keys of a new lease are new too.
    pub(super) fn insert_lease(
        &mut self,
        lease: LeaseRecord,
        ids: &[ResourceId],
    ) -> Result<(), InsertError> {
        assert_eq!(usize::from(lease.member_count), ids.len());
        assert_eq!(Some(&lease.first_member), ids.first());
        assert!(
            self.lease_members as usize + ids.len() <= self.config.max_lease_members as usize,
            "the caller checked the member bound"
        );
        let lease_id = lease.lease_id;
        self.leases.insert(lease_id, lease)?;
        for (ordinal, resource_id) in ids.iter().enumerate().skip(1) {
            let key = MemberKey {
                lease_id,
                ordinal: ordinal as u8,
            };
            self.members
                .insert(key, *resource_id)
                .expect("a new lease's member keys are new, and within the bound");
        }
        self.lease_members += u32::from(lease.member_count);
        self.running_digest.note(Changed::Lease(lease_id));
        Ok(())
    }

    /// Removes a stored lease and its members; returns the lease.
    pub(super) fn remove_lease(&mut self, lease_id: LeaseId) -> LeaseRecord {
        let lease = *self
            .leases
            .get(&lease_id)
            .expect("the lease to remove is in the lease table");
        self.leases.remove(&lease_id);
        for ordinal in 1..lease.member_count {
            let removed = self.members.remove(&MemberKey { lease_id, ordinal });
            assert!(removed, "a lease's members are in the member table");
        }
        self.lease_members -= u32::from(lease.member_count);
        self.running_digest.note(Changed::Lease(lease_id));
        lease
    }

    /// `lease_id`'s record, to change in place (its members stay).
    pub(super) fn lease_mut(&mut self, lease_id: LeaseId) -> Option<&mut LeaseRecord> {
        self.running_digest.note(Changed::Lease(lease_id));
        self.leases.get_mut(&lease_id)
    }

    /// `resource_id`'s record, to change in place.
    pub(super) fn resource_mut(&mut self, resource_id: ResourceId) -> Option<&mut Resource> {
        self.running_digest.note(Changed::Resource(resource_id));
        self.resources.get_mut(&resource_id)
    }

    /// Starts loading the slots a lease with `member_count` members is
    /// found in; see [`StateMachine::prefetch`].
    pub(super) fn prefetch_lease(&self, lease_id: LeaseId, member_count: usize) {
        self.leases.prefetch(&lease_id);
        for ordinal in 1..member_count {
            self.members.prefetch(&MemberKey {
                lease_id,
                ordinal: ordinal as u8,
            });
        }
    }
}
