//! The recorder: watches a run step by step (the same watch `replay`
//! prints the transcript from) and keeps what the timeline needs of each
//! step. It reads the simulator's own books and the transcript, never the
//! engine's word, except for the verbose detail `replay --verbose` prints.

use super::markers::{action_marker, event_markers, Marker};
use super::operations::Operations;
use super::{EngineState, FailureMark, LsnMarks, StepEntry, Timeline};
use crate::action::Action;
use crate::answer::Answer;
use crate::driver::Simulator;
use crate::oracle::Oracle;
use crate::run::{run_seed_watched, SeedReport, SeedSpec};
use crate::transcript::describe_io_failure;
use crate::transcript::TranscriptMode;
use crate::view::EngineStatus;

/// The lines `replay --verbose` prints under a step: what was answered,
/// what fired, what recovery reported, what is armed, and the live
/// engine's WAL and applied LSN.
pub fn step_detail(sim: &Simulator) -> Vec<String> {
    let mut lines = Vec::new();
    let event = sim.event();
    for (operation, answer) in &event.answers {
        lines.push(format!("op{operation} answered {answer:?}"));
    }
    if let Some(point) = event.crashed_at {
        lines.push(format!("crash point fired: {}", point.name()));
    }
    if let Some(failure) = event.io_failed {
        lines.push(format!("I/O error fired: {}", describe_io_failure(failure)));
    }
    if let Some(report) = event.recovery {
        lines.push(format!("recovery: {report:?}"));
    }
    if let Some(damage) = event.damage {
        lines.push(format!("damage: {damage:?}"));
    }
    let armed = sim.armed();
    if armed.crash.is_some() || !armed.io.is_empty() || armed.recovery.is_some() {
        let io: Vec<_> = armed.io.iter().map(|a| a.fault).collect();
        lines.push(format!(
            "armed: crash {:?}, I/O errors {io:?}, recovery {:?}",
            armed.crash, armed.recovery
        ));
    }
    if let Some(engine) = sim.live_engine() {
        lines.push(format!(
            "engine: wal {} bytes ({} synced), last applied {:?}",
            engine.wal_len(),
            engine.durable_wal_len(),
            engine.state_machine().last_applied_lsn()
        ));
    }
    lines
}

/// What a step left, taken right after it.
struct Captured {
    slot: u64,
    status: EngineStatus,
    /// A crash point fired in the step.
    crashed: bool,
    lsns: LsnMarks,
    markers: Vec<Marker>,
    answers: Vec<(u128, Answer)>,
    text: String,
    detail: Vec<String>,
}

/// Call [`Recorder::watch`] from a run's watch (at its start and after
/// every step that passed), then [`Recorder::finish`] with the run's
/// actions, its whole transcript and its failure.
#[derive(Default)]
pub struct Recorder {
    steps: Vec<Captured>,
    /// Bytes of the transcript taken so far.
    taken: usize,
    header: Vec<String>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    pub fn watch(&mut self, sim: &Simulator) {
        let text = sim.transcript().text().unwrap_or_default();
        let new = self.take(text);
        if sim.steps() == 0 {
            self.header = new
                .lines()
                .filter_map(|line| line.strip_prefix("# "))
                .map(str::to_string)
                .collect();
            return;
        }
        let view = sim.view();
        let event = sim.event();
        self.steps.push(Captured {
            slot: sim.slot().0,
            status: view.status,
            crashed: event.crashed_at.is_some(),
            lsns: LsnMarks {
                applied: view.model.last_applied_lsn().map(|lsn| lsn.0),
                acknowledged: sim.acknowledged_lsn().map(|lsn| lsn.0),
                durable: durable_lsn(&view),
                snapshot: sim.snapshot_lsn().map(|lsn| lsn.0),
            },
            markers: event_markers(event),
            answers: event.answers.clone(),
            text: new,
            detail: step_detail(sim),
        });
    }

    /// The transcript written since the last call, without its last
    /// newline.
    fn take(&mut self, text: &str) -> String {
        let new = text.get(self.taken..).unwrap_or_default();
        self.taken = text.len();
        new.trim_end_matches('\n').to_string()
    }

    /// The timeline of the run titled `title` that ran `actions` (step N
    /// ran `actions[N - 1]`), wrote `transcript` and ended in `failure`.
    /// A failing step gets an entry of its own: the state it found, the
    /// markers of its action, its transcript line and the failure.
    pub fn finish(
        mut self,
        title: &str,
        actions: &[Action],
        transcript: &str,
        failure: Option<FailureMark>,
    ) -> Timeline {
        let rest = self.take(transcript);
        let failing_step = failure.as_ref().and_then(|f| f.step);
        if failing_step == Some(self.steps.len() as u64 + 1) {
            let before = self.steps.last();
            let failed = Captured {
                slot: before.map_or(0, |c| c.slot),
                status: before.map_or(EngineStatus::Up, |c| c.status),
                crashed: false,
                lsns: before.map_or_else(LsnMarks::default, |c| c.lsns),
                markers: Vec::new(),
                answers: Vec::new(),
                text: rest,
                detail: Vec::new(),
            };
            self.steps.push(failed);
        } else if let (false, Some(last)) = (rest.is_empty(), self.steps.last_mut()) {
            // Notes written after the last step (a scenario's verdict)
            // belong to it.
            last.text.push('\n');
            last.text.push_str(&rest);
        }
        let mut operations = Operations::default();
        let mut entries = Vec::with_capacity(self.steps.len());
        for (index, captured) in self.steps.into_iter().enumerate() {
            let step = index as u64 + 1;
            let action = actions.get(index);
            operations.step(step, action, &captured.answers);
            let killed = captured.crashed || matches!(action, Some(Action::Crash { .. }));
            let state = match captured.status {
                EngineStatus::Up => EngineState::Running,
                EngineStatus::Halted => EngineState::Halted,
                EngineStatus::Down if killed => EngineState::Crashed,
                EngineStatus::Down => EngineState::Down,
            };
            // An action's marker says what the transcript says of it: the
            // action and what came of it (a crash's bytes kept, a tear's
            // cut, a flip's byte).
            let mut markers: Vec<Marker> = action
                .and_then(action_marker)
                .map(|mut marker| {
                    if let Some(said) = action_and_outcome(&captured.text) {
                        marker.label = said.to_string();
                    }
                    marker
                })
                .into_iter()
                .collect();
            markers.extend(captured.markers);
            entries.push(StepEntry {
                step,
                slot: captured.slot,
                state,
                lsns: captured.lsns,
                markers,
                text: captured.text,
                detail: captured.detail,
            });
        }
        let last = entries.len() as u64;
        let operations = operations.finish(last);
        let clients = operations
            .iter()
            .map(|bar| bar.client + 1)
            .max()
            .unwrap_or(0);
        Timeline {
            title: title.to_string(),
            header: self.header,
            steps: entries,
            operations,
            clients,
            failure,
        }
    }
}

/// The last LSN whose whole frame the file-system model holds durable.
fn durable_lsn(view: &crate::view::SimView) -> Option<u64> {
    let durable = view.wal.durable_len();
    view.wal
        .frames()
        .iter()
        .rev()
        .find(|frame| frame.is_complete() && frame.end() <= durable)
        .map(|frame| frame.lsn.0)
}

/// Runs `spec` keeping its transcript's text, as `replay --seed` does, and
/// returns its timeline beside its report (a sweep's report of a failed
/// seed: the run is the sweep's own, run again).
pub fn record_seed(spec: &SeedSpec) -> (Timeline, SeedReport) {
    record(spec, None)
}

/// The timeline of a seed whose step `step` never returned: the steps
/// before it, and that one marked as the failure (oracle `hang`,
/// `message` saying what it was doing).
pub fn record_hung_seed(spec: &SeedSpec, step: u64, message: String) -> Timeline {
    let spec = SeedSpec {
        stop_before: Some(step),
        ..spec.clone()
    };
    let hang = FailureMark {
        step: Some(step),
        oracle: Oracle::Hang.name().to_string(),
        message,
    };
    record(&spec, Some(hang)).0
}

fn record(spec: &SeedSpec, hang: Option<FailureMark>) -> (Timeline, SeedReport) {
    let spec = SeedSpec {
        transcript: TranscriptMode::Text,
        keep_files: false,
        ..spec.clone()
    };
    let mut recorder = Recorder::new();
    let report = run_seed_watched(&spec, &mut |sim| {
        recorder.watch(sim);
        true
    });
    let failure = hang.or_else(|| report.failure.as_ref().map(FailureMark::of_run));
    let timeline = recorder.finish(
        &format!("seed {}", spec.seed),
        &report.actions,
        report.transcript.text().unwrap_or_default(),
        failure,
    );
    (timeline, report)
}

/// `action => outcome` of a step's transcript line (`   71 slot=38   crash
/// keep_unsynced => down, 0 of 0 unsynced bytes kept | lsn=- ...`).
fn action_and_outcome(text: &str) -> Option<&str> {
    let line = text.lines().next()?;
    let after_slot = line.split_once(" slot=")?.1.trim_start();
    let said = after_slot.split_once(' ')?.1.trim_start();
    Some(said.rsplit_once(" | lsn=")?.0)
}
