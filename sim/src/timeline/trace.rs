//! The timeline in the Chrome trace event format, which Perfetto and
//! `chrome://tracing` open as they are: one process, a track per kind
//! (engine, faults, storage, and a track per row of each client's lane),
//! the step as the timestamp unit (one step = 1 us on their rulers).
//! The engine's states are spans, the LSNs counters, faults and damage
//! instants, each operation a span from its first send to its definite
//! answer.

use super::{Timeline, Track};
use serde_json::{json, Value};

const PID: u32 = 1;
const ENGINE_TID: u32 = 1;
const FAULTS_TID: u32 = 2;
const STORAGE_TID: u32 = 3;
/// Client lanes' tracks: `CLIENT_TID_BASE + client * ROWS_PER_CLIENT + row`.
const CLIENT_TID_BASE: u32 = 100;
const ROWS_PER_CLIENT: u32 = 1_000;

fn track_tid(track: Track) -> u32 {
    match track {
        Track::Engine => ENGINE_TID,
        Track::Faults => FAULTS_TID,
        Track::Storage => STORAGE_TID,
    }
}

fn thread_name(tid: u32, name: &str) -> Value {
    json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": tid, "ts": 0,
           "args": {"name": name}})
}

/// The trace file's text.
pub fn render_trace(timeline: &Timeline) -> String {
    let mut events = vec![
        json!({"name": "process_name", "ph": "M", "pid": PID, "tid": 0, "ts": 0,
               "args": {"name": timeline.title}}),
        thread_name(ENGINE_TID, "engine"),
        thread_name(FAULTS_TID, "faults"),
        thread_name(STORAGE_TID, "storage"),
    ];
    // The engine's state, one span per run of steps in the same state.
    let mut start = 0;
    for (index, entry) in timeline.steps.iter().enumerate() {
        let next = timeline.steps.get(index + 1);
        if next.is_some_and(|next| next.state == entry.state) {
            continue;
        }
        let first = &timeline.steps[start];
        events.push(
            json!({"name": entry.state.name(), "cat": "engine", "ph": "X",
            "pid": PID, "tid": ENGINE_TID, "ts": first.step,
            "dur": entry.step - first.step + 1}),
        );
        start = index + 1;
    }
    for entry in &timeline.steps {
        let lsns = entry.lsns;
        events.push(
            json!({"name": "lsn", "ph": "C", "pid": PID, "tid": ENGINE_TID,
            "ts": entry.step, "args": {
                "applied": lsns.applied.unwrap_or(0),
                "acknowledged": lsns.acknowledged.unwrap_or(0),
                "durable": lsns.durable.unwrap_or(0),
                "snapshot": lsns.snapshot.unwrap_or(0)}}),
        );
        events.push(
            json!({"name": "slot", "ph": "C", "pid": PID, "tid": ENGINE_TID,
            "ts": entry.step, "args": {"slot": entry.slot}}),
        );
        for marker in &entry.markers {
            events.push(json!({"name": marker.label, "cat": marker.track, "ph": "i",
                "s": "t", "pid": PID, "tid": track_tid(marker.track), "ts": entry.step,
                "args": {"kind": marker.kind, "step": entry.step}}));
        }
    }
    let last = timeline.steps.len() as u64;
    let mut named = std::collections::BTreeSet::new();
    for bar in &timeline.operations {
        let tid = CLIENT_TID_BASE + bar.client * ROWS_PER_CLIENT + bar.row;
        if named.insert(tid) {
            events.push(thread_name(
                tid,
                &format!("client {} row {}", bar.client, bar.row),
            ));
        }
        let name = match bar.outcome {
            Some(outcome) => format!("{} {outcome}", bar.operation),
            None => format!("{} (no definite answer)", bar.operation),
        };
        events.push(json!({"name": name, "cat": "client", "ph": "X", "pid": PID,
            "tid": tid, "ts": bar.start, "dur": bar.last_step(last) - bar.start + 1,
            "args": {"operation": bar.operation, "client": bar.client,
                     "outcome": bar.outcome, "sends": bar.sends, "answers": bar.answers}}));
    }
    if let Some(failure) = &timeline.failure {
        events.push(
            json!({"name": format!("FAILED: {}", failure.oracle), "cat": "failure",
            "ph": "i", "s": "g", "pid": PID, "tid": ENGINE_TID,
            "ts": failure.step.unwrap_or(last),
            "args": {"oracle": failure.oracle, "message": failure.message}}),
        );
    }
    let trace = json!({"traceEvents": events, "displayTimeUnit": "ms",
        "otherData": {"title": timeline.title, "timestamp_unit": "one step"}});
    serde_json::to_string(&trace).expect("a trace is plain data")
}
