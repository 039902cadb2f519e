//! Client writes: a submit, a retry, and a burst of requests that arrive
//! at the same slot and go through the engine's bounded queue.

use super::write_path::Call;
use super::{EngineCall, RunError, Said, Simulator, StepLine, StepResult};
use crate::action::{Action, SimCommand};
use crate::answer::{Answer, Code};
use crate::coverage::matrix::{Entry, State};
use crate::oracle::refusal::{Door, Request};
use crate::phase_clock::{self, Phase};
use crate::transcript::TranscriptMode;
use crate::view::EngineStatus;
use allocdb_core::{ClientId, ClientRequest, OperationId, Slot};

impl Simulator {
    /// Books a new submission and returns the request it becomes.
    fn register(
        &mut self,
        client: u32,
        operation: u128,
        command: &SimCommand,
    ) -> Result<ClientRequest, RunError> {
        let command = command
            .to_command()
            .map_err(|error| self.invalid(error.to_string()))?;
        let request = ClientRequest {
            operation_id: OperationId(operation),
            client_id: ClientId(u128::from(client)),
            command,
        };
        self.clients.submit(client, request);
        Ok(request)
    }

    /// The request a retry of `operation` sends again.
    fn resend(&self, operation: u128) -> Result<(u32, ClientRequest), RunError> {
        self.clients.resend(operation).ok_or_else(|| {
            self.invalid(format!(
                "retry of operation {operation}, which was never submitted"
            ))
        })
    }

    /// A new request, stamped `behind` slots before the clock.
    pub(super) fn submit(
        &mut self,
        client: u32,
        operation: u128,
        command: &SimCommand,
        behind: u64,
    ) -> StepResult {
        let Some(stamp) = self.slot.0.checked_sub(behind) else {
            return Err(self.invalid(format!(
                "stamped {behind} slots behind slot {}: before slot 0",
                self.slot.0
            )));
        };
        let request = self.register(client, operation, command)?;
        self.deliver(Entry::Submit, client, request, Slot(stamp))
    }

    /// A request sent again, at the clock's slot.
    pub(super) fn retry(&mut self, operation: u128) -> StepResult {
        let (client, request) = self.resend(operation)?;
        self.deliver(Entry::Retry, client, request, self.slot)
    }

    /// A request reaches a down engine through `entry`: nobody answers,
    /// the client retries.
    fn undelivered(&mut self, entry: Entry, client: u32, operation: u128) {
        self.clients.keep_in_flight(client, operation);
        self.stats
            .entry(State::Down, entry, Code::Undelivered.name());
        self.event
            .answers
            .push((operation, Answer::uncached(Code::Undelivered)));
    }

    fn deliver(
        &mut self,
        entry: Entry,
        client: u32,
        request: ClientRequest,
        slot: Slot,
    ) -> StepResult {
        let state = self.process.state();
        let Some(engine) = self.process.running_mut() else {
            self.undelivered(entry, client, request.operation_id.0);
            return Ok(StepLine::new("undelivered: engine down"));
        };
        let result = {
            let _engine = phase_clock::enter(Phase::Engine);
            engine.submit(request, slot)
        };
        self.called(EngineCall::Submit { request, slot });
        let call = Call {
            entry,
            state,
            client,
            request,
            slot,
            door: commit_door(&request, slot),
        };
        self.settle(call, result)
    }

    /// Requests arriving at the same slot: the seed orders them, the queue
    /// takes what fits, the engine commits the queue in order.
    pub(super) fn burst(&mut self, requests: &[Action]) -> StepResult {
        let arrivals = self.arrivals(requests)?;
        let mut parts = Parts::new(self.transcript.mode() != TranscriptMode::Off);
        parts.push(|| {
            let order: Vec<String> = arrivals
                .iter()
                .map(|(_, r)| format!("op{}", r.operation_id.0))
                .collect();
            format!("order {}", order.join(","))
        });
        if self.process.status() == EngineStatus::Down {
            for (client, request) in &arrivals {
                self.undelivered(Entry::Enqueue, *client, request.operation_id.0);
            }
            parts.push(|| "undelivered: engine down".to_string());
            return Ok(StepLine::new(parts.said()));
        }
        let queued = self.enqueue_all(arrivals, &mut parts)?;
        let lsn = self.commit_queued(queued, &mut parts)?;
        Ok(StepLine {
            outcome: parts.said(),
            lsn,
        })
    }

    /// A burst's requests in the order the seed lets them arrive.
    fn arrivals(&mut self, requests: &[Action]) -> Result<Vec<(u32, ClientRequest)>, RunError> {
        if requests.is_empty() {
            return Err(self.invalid("a burst needs at least one request"));
        }
        let mut arrivals = Vec::with_capacity(requests.len());
        for action in requests {
            arrivals.push(match action {
                Action::Submit {
                    client,
                    operation,
                    command,
                    behind: 0,
                } => (*client, self.register(*client, *operation, command)?),
                Action::Retry { operation } => self.resend(*operation)?,
                other => {
                    return Err(self.invalid(format!(
                        "a burst holds submits and retries only, not {}",
                        other.kind().name()
                    )))
                }
            });
        }
        self.clients.order_arrivals(&mut arrivals);
        Ok(arrivals)
    }

    /// Offers every arrival to the queue; a refusal is settled at once and
    /// noted in `parts`. Returns what the queue took, in order.
    fn enqueue_all(
        &mut self,
        arrivals: Vec<(u32, ClientRequest)>,
        parts: &mut Parts,
    ) -> Result<Vec<(u32, ClientRequest)>, RunError> {
        let slot = self.slot;
        let bound = self.config.engine.max_submission_queue.max(1) as usize;
        let mut queued = Vec::with_capacity(arrivals.len());
        for (client, request) in arrivals {
            let state = self.process.state();
            let Some(engine) = self.process.running_mut() else {
                return Err(self.engine_behaviour("the process died while a burst was queued"));
            };
            let door = Door::Queue {
                held: queued.len(),
                bound,
            };
            let enqueued = {
                let _engine = phase_clock::enter(Phase::Engine);
                engine.enqueue(request, slot)
            };
            self.called(EngineCall::Enqueue { request, slot });
            match enqueued {
                Ok(()) => {
                    self.check_refusal(door, None)?;
                    self.check_wal_length("a request queued")?;
                    self.stats.entry(state, Entry::Enqueue, "queued");
                    queued.push((client, request));
                }
                Err(error) => {
                    let call = Call {
                        entry: Entry::Enqueue,
                        state,
                        client,
                        request,
                        slot,
                        door,
                    };
                    let line = self.settle(call, Err(error))?;
                    parts.push(|| format!("op{} {}", request.operation_id.0, line.outcome));
                }
            }
        }
        Ok(queued)
    }

    /// Commits the queue in order, checking the engine answers each queued
    /// request in turn; requests still queued when the process dies are
    /// lost with it. Returns the last LSN committed.
    fn commit_queued(
        &mut self,
        queued: Vec<(u32, ClientRequest)>,
        parts: &mut Parts,
    ) -> Result<Option<allocdb_core::Lsn>, RunError> {
        let slot = self.slot;
        let mut lsn = None;
        for (client, request) in queued {
            let operation = request.operation_id.0;
            let state = self.process.state();
            let Some(engine) = self.process.running_mut() else {
                self.clients.keep_in_flight(client, operation);
                self.event
                    .answers
                    .push((operation, Answer::uncached(Code::Crashed)));
                parts.push(|| format!("op{operation} lost with the queue"));
                continue;
            };
            let next = {
                let _engine = phase_clock::enter(Phase::Engine);
                engine.process_next()
            };
            self.called(EngineCall::ProcessNext);
            let Some((processed, result)) = next else {
                return Err(self
                    .engine_behaviour(format!("the queue lost op{operation} without answering")));
            };
            if processed.operation_id != request.operation_id {
                return Err(self.engine_behaviour(format!(
                    "the queue answered op{} before op{operation}",
                    processed.operation_id.0
                )));
            }
            let call = Call {
                entry: Entry::ProcessQueue,
                state,
                client,
                request,
                slot,
                door: commit_door(&request, slot),
            };
            let line = self.settle(call, result)?;
            lsn = line.lsn.or(lsn);
            parts.push(|| format!("op{operation} {}", line.outcome));
        }
        Ok(lsn)
    }
}

/// The door a client write stamped with `slot` meets.
fn commit_door(request: &ClientRequest, slot: Slot) -> Door {
    Door::Commit(Request {
        operation: request.operation_id.0,
        slot,
    })
}

/// A burst's line, part by part, made only when the transcript writes it
/// (as [`Simulator::say`] makes a line).
struct Parts(Option<Vec<String>>);

impl Parts {
    fn new(written: bool) -> Parts {
        Parts(written.then(Vec::new))
    }

    fn push(&mut self, part: impl FnOnce() -> String) {
        if let Some(parts) = &mut self.0 {
            parts.push(part());
        }
    }

    fn said(self) -> Said {
        match self.0 {
            Some(parts) => Said::from(parts.join("; ")),
            None => Said::Unsaid,
        }
    }
}
