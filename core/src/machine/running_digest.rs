//! The state digest kept running, lazily: a change to a record only notes
//! its key, so apply hashes nothing; [`StateMachine::digest`] rehashes the
//! noted records, taking each one's previous hash out of the sum (every
//! record's hash is kept by key) and putting its new one in.
//!
//! Nothing is noted while a rebuild is pending: a fresh or restored
//! machine, or one that changed more records between two digests than the
//! log holds, is digested from every record once and kept from there.
//! Production never reads the digest, so its log fills once and stays
//! full: apply then pays one predictable branch per change.
//!
//! A missed note would leave the running digest behind the records; the
//! audit compares it with [`StateMachine::digest_recomputed`].

use super::StateMachine;
use crate::digest::{lease_hash, operation_hash, resource_hash, StateDigest};
use crate::ids::{LeaseId, OperationId, ResourceId};
use crate::table::{FixedTable, TableKey};
use std::cell::RefCell;

/// Changed records noted between two digests before the next digest
/// rebuilds from every record instead. A client command changes at most a
/// bundle's resources, one lease and one operation, plus what retires.
pub const CHANGE_LOG_CAPACITY: usize = 256;

/// A record that changed (was inserted, updated or removed) since the last
/// digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Changed {
    Resource(ResourceId),
    Lease(LeaseId),
    Operation(OperationId),
}

pub(super) struct RunningDigest {
    // The digest is read through `&StateMachine`; only the digest's own
    // books change then, never a record.
    books: RefCell<Books>,
}

struct Books {
    /// Reserved at start-up, never grown past its capacity.
    changed: Vec<Changed>,
    rebuild: bool,
    /// Built at the first digest: production never asks for one. Boxed so
    /// that the state machine apply works in stays small.
    kept: Option<Box<Kept>>,
}

/// The sum of every record's hash, and each hash by key.
struct Kept {
    sum: StateDigest,
    resources: FixedTable<ResourceId, u64>,
    leases: FixedTable<LeaseId, u64>,
    operations: FixedTable<OperationId, u64>,
}

impl RunningDigest {
    pub(super) fn new() -> RunningDigest {
        RunningDigest {
            books: RefCell::new(Books {
                changed: Vec::with_capacity(CHANGE_LOG_CAPACITY),
                rebuild: true,
                kept: None,
            }),
        }
    }

    /// Allocates nothing: past the log's capacity a rebuild is due instead.
    #[inline(always)]
    pub(super) fn note(&mut self, changed: Changed) {
        let books = self.books.get_mut();
        if books.rebuild {
            return;
        }
        if books.changed.len() == CHANGE_LOG_CAPACITY {
            books.rebuild = true;
            books.changed.clear();
            return;
        }
        books.changed.push(changed);
    }

    /// Whether the books are kept (a digest was read and no rebuild is
    /// due): only then can the running digest differ from a recomputation.
    pub(super) fn is_kept(&self) -> bool {
        let books = self.books.borrow();
        !books.rebuild && books.kept.is_some()
    }

    /// The records' part of the digest, brought up to date with `machine`.
    pub(super) fn records(&self, machine: &StateMachine) -> StateDigest {
        let mut books = self.books.borrow_mut();
        let books = &mut *books;
        if books.rebuild || books.kept.is_none() {
            books.kept = Some(Box::new(Kept::from_records(machine)));
            books.rebuild = false;
            books.changed.clear();
        }
        let kept = books.kept.as_mut().expect("built above");
        // Records gone first, then the ones there now: an operation id can
        // retire and come back within one log, and taking it back in at its
        // first note could hold more hashes than the table holds records.
        for &changed in &books.changed {
            if !machine.holds(changed) {
                kept.rehash(changed, None);
            }
        }
        for changed in books.changed.drain(..) {
            let now = match changed {
                Changed::Resource(id) => machine.resources.get(&id).map(resource_hash),
                Changed::Lease(id) => machine
                    .leases
                    .get(&id)
                    .map(|lease| lease_hash(&machine.assemble(lease))),
                Changed::Operation(id) => machine.operations.get(&id).map(operation_hash),
            };
            if now.is_some() {
                kept.rehash(changed, now);
            }
        }
        kept.sum
    }
}

impl StateMachine {
    fn holds(&self, changed: Changed) -> bool {
        match changed {
            Changed::Resource(id) => self.resources.contains(&id),
            Changed::Lease(id) => self.leases.contains(&id),
            Changed::Operation(id) => self.operations.get(&id).is_some(),
        }
    }
}

impl Kept {
    fn rehash(&mut self, changed: Changed, now: Option<u64>) {
        match changed {
            Changed::Resource(id) => rehash(&mut self.sum, &mut self.resources, id, now),
            Changed::Lease(id) => rehash(&mut self.sum, &mut self.leases, id, now),
            Changed::Operation(id) => rehash(&mut self.sum, &mut self.operations, id, now),
        }
    }

    fn from_records(machine: &StateMachine) -> Kept {
        let config = machine.config();
        let mut kept = Kept {
            sum: StateDigest::new(),
            resources: FixedTable::with_capacity(config.max_resources),
            leases: FixedTable::with_capacity(config.max_leases),
            operations: FixedTable::with_capacity(config.max_operations),
        };
        for (&id, resource) in machine.resources.iter() {
            kept.rehash(Changed::Resource(id), Some(resource_hash(resource)));
        }
        for (&id, lease) in machine.leases.iter() {
            let hash = lease_hash(&machine.assemble(lease));
            kept.rehash(Changed::Lease(id), Some(hash));
        }
        for (&id, operation) in machine.operations.iter() {
            kept.rehash(Changed::Operation(id), Some(operation_hash(operation)));
        }
        kept
    }
}

/// Swaps the hash kept for `id` (if any) for `now` (`None`: the record is
/// gone) in the sum and the table.
fn rehash<K: TableKey>(
    sum: &mut StateDigest,
    kept: &mut FixedTable<K, u64>,
    id: K,
    now: Option<u64>,
) {
    match (kept.get_mut(&id), now) {
        (Some(hash), Some(now)) => {
            sum.remove_hash(*hash);
            sum.add_hash(now);
            *hash = now;
        }
        (Some(hash), None) => {
            sum.remove_hash(*hash);
            let removed = kept.remove(&id);
            assert!(removed);
        }
        (None, Some(now)) => {
            sum.add_hash(now);
            kept.insert(id, now)
                .expect("a kept hash per record, and the records fit their table");
        }
        (None, None) => {}
    }
}
