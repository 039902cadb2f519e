//! A run as a timeline: one entry per step (the engine's state, the slot,
//! the LSNs, the faults and what recovery said, the step's transcript
//! text), each client operation as a bar from its submit to its definite
//! answer, and the failure marked. It is built from the same run as the
//! transcript (a [`Recorder`] watches the run step by step), and it is a
//! value: the HTML report (`html.rs`) and the Chrome trace (`trace.rs`)
//! only draw it.

mod html;
mod markers;
mod operations;
mod record;
mod summary;
mod trace;

pub use html::render_html;
pub use markers::{Marker, MarkerKind, Track};
pub use operations::{Attempt, OperationBar};
pub use record::{record_hung_seed, record_seed, step_detail, Recorder};
pub use summary::{render_sweep_page, SweepFailure, SweepPage};
pub use trace::render_trace;

use crate::driver::RunError;
use crate::scenario::ScenarioFailure;
use serde::Serialize;

/// The engine process as a step left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineState {
    Running,
    /// Running, but halted by a storage failure: it refuses until restarted.
    Halted,
    /// The process died in this step (a crash, or a crash point fired).
    Crashed,
    /// The process is gone, since an earlier step.
    Down,
}

impl EngineState {
    pub fn name(self) -> &'static str {
        match self {
            EngineState::Running => "running",
            EngineState::Halted => "halted",
            EngineState::Crashed => "crashed",
            EngineState::Down => "down",
        }
    }
}

/// The LSNs a step left, as the simulator's own books say (never the
/// engine's word).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LsnMarks {
    /// The last LSN the live state (the model of it) has applied.
    pub applied: Option<u64>,
    /// The highest LSN acknowledged to a client.
    pub acknowledged: Option<u64>,
    /// The last LSN whose frame the file-system model holds durable.
    pub durable: Option<u64>,
    /// The snapshot's LSN, if there is a snapshot.
    pub snapshot: Option<u64>,
}

/// One step of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepEntry {
    pub step: u64,
    pub slot: u64,
    pub state: EngineState,
    pub lsns: LsnMarks,
    /// Faults, damage and restarts in this step, in the order they came.
    pub markers: Vec<Marker>,
    /// What the transcript says of the step (its line, and any note after
    /// it), without the final newline.
    pub text: String,
    /// The engine-level detail `replay --verbose` prints under the line.
    pub detail: Vec<String>,
}

/// Where and why the run failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureMark {
    /// The failing step, when the failure has one.
    pub step: Option<u64>,
    /// The oracle (or the kind of scenario failure) that failed.
    pub oracle: String,
    /// Its message: for a record or digest mismatch, the first record and
    /// field that differ.
    pub message: String,
}

impl FailureMark {
    pub fn of_run(error: &RunError) -> FailureMark {
        let (step, oracle) = match error {
            RunError::Oracle(failure) => (failure.step, failure.oracle.name()),
            RunError::InvalidAction { step, .. } => (*step, "invalid_action"),
            RunError::Io { step, .. } => (*step, "simulator_io"),
        };
        FailureMark {
            step: Some(step),
            oracle: oracle.to_string(),
            message: error.detail(),
        }
    }

    pub fn of_scenario(failure: &ScenarioFailure) -> FailureMark {
        if let Some(error) = failure.run_error() {
            return FailureMark::of_run(error);
        }
        let (step, oracle) = match failure {
            ScenarioFailure::Config(_) => (None, "config"),
            ScenarioFailure::Run { step, .. } => (Some(*step), "run"),
            ScenarioFailure::Expectation { step, .. } => (Some(*step), "expectation"),
            ScenarioFailure::Unreached { step, .. } => (Some(*step), "unreached"),
        };
        FailureMark {
            step,
            oracle: oracle.to_string(),
            message: failure.to_string(),
        }
    }
}

/// A whole run, ready to draw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// What ran: `seed 7` or a file's name.
    pub title: String,
    /// The transcript's header lines (seed, config, mix), without `# `.
    pub header: Vec<String>,
    pub steps: Vec<StepEntry>,
    pub operations: Vec<OperationBar>,
    /// Clients, for one lane each (the highest client number + 1).
    pub clients: u32,
    pub failure: Option<FailureMark>,
}

impl Timeline {
    /// The entry of step `step`, if the run got there.
    pub fn step(&self, step: u64) -> Option<&StepEntry> {
        let index = usize::try_from(step.checked_sub(1)?).ok()?;
        self.steps.get(index)
    }

    /// The timeline as JSON (the report embeds it; tests read it back).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a timeline is plain data")
    }
}

#[cfg(test)]
mod tests;
