//! Each client operation as a bar: from the step that first sent it to
//! the step that gave it a definite answer, with every attempt (a retry
//! joins its operation's bar) and what each was told. An operation no
//! definite answer reached stays open to the run's end.

use crate::action::Action;
use crate::answer::Answer;
use serde::Serialize;
use std::collections::BTreeMap;

/// One answer an operation got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub step: u64,
    pub code: &'static str,
    /// Answered from the retry cache.
    pub cached: bool,
    /// The client knows what became of the request.
    pub definite: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OperationBar {
    /// `op12`.
    pub operation: String,
    pub client: u32,
    /// The row within its client's lane: bars of one client that overlap
    /// in steps get different rows.
    pub row: u32,
    /// The step that first sent it.
    pub start: u64,
    /// The step of its definite answer; `None` while none came.
    pub end: Option<u64>,
    /// Every send: the first submit, then each retry.
    pub sends: Vec<u64>,
    pub answers: Vec<Attempt>,
    /// The definite answer's code, if one came.
    pub outcome: Option<&'static str>,
}

impl OperationBar {
    /// The last step the bar covers: its definite answer, or `last` (the
    /// run's last step) while it has none.
    pub fn last_step(&self, last: u64) -> u64 {
        self.end.unwrap_or(last).max(self.start)
    }
}

/// Builds the bars step by step.
#[derive(Default)]
pub(super) struct Operations {
    bars: Vec<OperationBar>,
    /// Each operation id's latest bar.
    latest: BTreeMap<u128, usize>,
}

impl Operations {
    /// Takes in what step `step` sent (its action) and what it answered.
    pub fn step(&mut self, step: u64, action: Option<&Action>, answers: &[(u128, Answer)]) {
        if let Some(action) = action {
            self.sent(step, action);
        }
        for &(operation, answer) in answers {
            let index = self.open(operation, step, None);
            let bar = &mut self.bars[index];
            let definite = answer.code.is_definite();
            bar.answers.push(Attempt {
                step,
                code: answer.code.name(),
                cached: answer.cached,
                definite,
            });
            if definite {
                bar.end = Some(step);
                bar.outcome = Some(answer.code.name());
            }
        }
    }

    fn sent(&mut self, step: u64, action: &Action) {
        match action {
            Action::Submit {
                client, operation, ..
            } => {
                let index = self.open(*operation, step, Some(*client));
                self.bars[index].sends.push(step);
            }
            Action::Retry { operation } => {
                let index = self.open(*operation, step, None);
                self.bars[index].sends.push(step);
            }
            Action::Burst(actions) => {
                for action in actions {
                    self.sent(step, action);
                }
            }
            _ => {}
        }
    }

    /// The bar a send or an answer of `operation` at `step` belongs to:
    /// its latest while that has no definite answer, else a new one (an
    /// id used again, as a malformed id 0 is).
    fn open(&mut self, operation: u128, step: u64, client: Option<u32>) -> usize {
        if let Some(&index) = self.latest.get(&operation) {
            if self.bars[index].end.is_none() {
                return index;
            }
        }
        let client = client
            .or_else(|| {
                let index = *self.latest.get(&operation)?;
                Some(self.bars[index].client)
            })
            .unwrap_or(0);
        self.bars.push(OperationBar {
            operation: format!("op{operation}"),
            client,
            row: 0,
            start: step,
            end: None,
            sends: Vec::new(),
            answers: Vec::new(),
            outcome: None,
        });
        let index = self.bars.len() - 1;
        self.latest.insert(operation, index);
        index
    }

    /// The bars, each given the first row of its client's lane that is
    /// free at its start (`last`: the run's last step, where open bars end).
    pub fn finish(mut self, last: u64) -> Vec<OperationBar> {
        // Per client, the last step each row is taken up to.
        let mut rows: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for bar in &mut self.bars {
            let taken = rows.entry(bar.client).or_default();
            let row = match taken.iter().position(|&until| until < bar.start) {
                Some(row) => row,
                None => {
                    taken.push(0);
                    taken.len() - 1
                }
            };
            taken[row] = bar.last_step(last);
            bar.row = row as u32;
        }
        self.bars
    }
}
