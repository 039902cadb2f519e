//! The clients: every request sent under each operation id, which are
//! still waiting for a definite answer, and the seeded order in which
//! requests that arrive at the same slot reach the engine.

use crate::action::SimCommand;
use crate::rng::SimRng;
use crate::view::{InFlight, SentRequests};
use allocdb_core::ClientRequest;
use std::collections::BTreeMap;

/// The ChaCha stream that orders same-slot ingress; the workload uses 0.
const INGRESS_STREAM: u64 = 1;

/// The operation id no correct caller sends (the engine refuses it as
/// malformed): a buggy caller's, which never retries.
pub const BUGGY_OPERATION: u128 = 0;

pub struct Clients {
    /// The latest request sent under each operation id, and its client.
    requests: BTreeMap<u128, (u32, ClientRequest)>,
    /// Every operation id submitted, in order (with repeats).
    submitted: Vec<u128>,
    in_flight: Vec<InFlight>,
    next_operation: u128,
    /// A stream of its own, so that a scenario's bursts depend on nothing
    /// but the seed.
    ingress: SimRng,
}

impl Clients {
    pub fn new(seed: u64) -> Clients {
        Clients {
            requests: BTreeMap::new(),
            submitted: Vec::new(),
            in_flight: Vec::new(),
            next_operation: 1,
            ingress: SimRng::with_stream(seed, INGRESS_STREAM),
        }
    }

    pub fn in_flight(&self) -> &[InFlight] {
        &self.in_flight
    }

    pub fn submitted(&self) -> &[u128] {
        &self.submitted
    }

    pub fn next_operation(&self) -> u128 {
        self.next_operation
    }

    /// Books a new submission; a retry resends the latest request sent
    /// under its id. Operation id 0 is a buggy caller's (the engine
    /// refuses it as malformed): nothing is booked, and it is never
    /// retried or re-used.
    pub fn submit(&mut self, client: u32, request: ClientRequest) {
        let operation = request.operation_id.0;
        if operation == BUGGY_OPERATION {
            return;
        }
        self.requests.insert(operation, (client, request));
        self.submitted.push(operation);
        self.next_operation = self.next_operation.max(operation + 1);
    }

    /// The request a retry of `operation` sends again.
    pub fn resend(&self, operation: u128) -> Option<(u32, ClientRequest)> {
        self.requests.get(&operation).copied()
    }

    /// The request got no definite answer: its client will retry it.
    pub fn keep_in_flight(&mut self, client: u32, operation: u128) {
        if operation == BUGGY_OPERATION {
            return;
        }
        if !self.in_flight.iter().any(|f| f.operation == operation) {
            self.in_flight.push(InFlight { client, operation });
        }
    }

    /// The operation got a definite answer.
    pub fn resolved(&mut self, operation: u128) {
        self.in_flight.retain(|f| f.operation != operation);
    }

    /// The seed's order for requests arriving at the same slot.
    pub fn order_arrivals(&mut self, arrivals: &mut [(u32, ClientRequest)]) {
        self.ingress.shuffle(arrivals);
    }
}

impl SentRequests for Clients {
    fn sent(&self, operation: u128) -> Option<(u32, SimCommand)> {
        self.requests
            .get(&operation)
            .map(|(client, request)| (*client, SimCommand::of(&request.command)))
    }
}
