use super::*;
use crate::driver::SelfTest;
use crate::run::SeedSpec;

/// The timeline of `spec` and the transcript's text it was built from.
fn record(spec: &SeedSpec) -> (Timeline, String) {
    let (timeline, report) = record_seed(spec);
    let text = report.transcript.text().unwrap_or_default().to_string();
    (timeline, text)
}

#[test]
fn one_entry_per_step_each_with_its_own_transcript_line() {
    let (timeline, text) = record(&SeedSpec::new(3, 300));
    assert!(timeline.failure.is_none());
    assert!(timeline.steps.len() >= 300, "{}", timeline.steps.len());
    for (index, entry) in timeline.steps.iter().enumerate() {
        assert_eq!(entry.step, index as u64 + 1);
        let first = entry.text.lines().next().expect("a line per step");
        assert!(
            first
                .trim_start()
                .starts_with(&format!("{} slot=", entry.step)),
            "step {}: {first}",
            entry.step
        );
    }
    // Every line of the transcript is in exactly one place: the header
    // or a step.
    let header = text.lines().filter(|l| l.starts_with("# ")).count();
    let in_steps: usize = timeline.steps.iter().map(|s| s.text.lines().count()).sum();
    assert_eq!(header + in_steps, text.lines().count());
    assert_eq!(timeline.header.len(), header);
}

#[test]
fn faults_and_answers_are_in_place() {
    let (timeline, _) = record(&SeedSpec::new(4, 1_000));
    let kinds: Vec<MarkerKind> = timeline
        .steps
        .iter()
        .flat_map(|s| s.markers.iter().map(|m| m.kind))
        .collect();
    for kind in [
        MarkerKind::Restart,
        MarkerKind::Recovered,
        MarkerKind::Crash,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} never marked");
    }
    // A restart's step carries the restart and what recovery reported.
    let restart = timeline
        .steps
        .iter()
        .find(|s| s.markers.iter().any(|m| m.kind == MarkerKind::Recovered))
        .expect("a recovery");
    assert!(restart.text.contains("restart"), "{}", restart.text);
    assert_eq!(restart.state, EngineState::Running);
    // Every answer of a bar is at a step whose line names its operation,
    // and a bar ends at its definite answer.
    assert!(!timeline.operations.is_empty());
    for bar in &timeline.operations {
        for answer in &bar.answers {
            let entry = timeline.step(answer.step).expect("a step");
            assert!(
                entry.text.contains(&bar.operation)
                    || entry.detail.iter().any(|d| d.contains(&bar.operation)),
                "{} answered at step {}: {}",
                bar.operation,
                answer.step,
                entry.text
            );
        }
        match bar.end {
            Some(end) => {
                let last = bar.answers.last().expect("an answer ended it");
                assert_eq!((last.step, last.definite), (end, true));
                assert!(bar.answers[..bar.answers.len() - 1]
                    .iter()
                    .all(|a| !a.definite));
            }
            None => assert!(bar.answers.iter().all(|a| !a.definite)),
        }
        assert!(bar.sends.first() == Some(&bar.start) || bar.sends.is_empty());
    }
    // A crash leaves the engine crashed in its step, down after it.
    let crash = timeline
        .steps
        .iter()
        .position(|s| s.markers.iter().any(|m| m.kind == MarkerKind::Crash))
        .expect("a crash");
    assert_eq!(timeline.steps[crash].state, EngineState::Crashed);
}

#[test]
fn the_failing_step_is_marked_with_its_oracle() {
    let spec = SeedSpec {
        selftest: Some(SelfTest::WrongModel),
        ..SeedSpec::new(1, 1_000)
    };
    let (timeline, _) = record(&spec);
    let failure = timeline.failure.clone().expect("the self-test fails");
    assert_eq!(failure.oracle, "model_agreement");
    let step = failure.step.expect("a step");
    assert_eq!(
        timeline.steps.len() as u64,
        step,
        "the failing step is the last"
    );
    let entry = timeline.step(step).expect("its entry");
    assert!(entry.text.contains("FAILED"), "{}", entry.text);
    assert!(entry.text.contains("failed: oracle `model_agreement`"));
    assert!(
        failure.message.contains("deadline_slot"),
        "{}",
        failure.message
    );
}

#[test]
fn same_seed_same_bytes() {
    let spec = SeedSpec::new(9, 400);
    let (a, _) = record(&spec);
    let (b, _) = record(&spec);
    assert_eq!(render_html(&a), render_html(&b));
    assert_eq!(render_trace(&a), render_trace(&b));
    assert_eq!(a, b);
}

#[test]
fn the_trace_has_the_fields_perfetto_needs() {
    let spec = SeedSpec {
        selftest: Some(SelfTest::WrongModel),
        ..SeedSpec::new(1, 1_000)
    };
    let (timeline, _) = record(&spec);
    let trace: serde_json::Value =
        serde_json::from_str(&render_trace(&timeline)).expect("the trace is JSON");
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    assert!(!events.is_empty());
    let mut phases = std::collections::BTreeSet::new();
    for event in events {
        for field in ["name", "ph", "ts", "pid", "tid"] {
            assert!(event.get(field).is_some(), "{field} missing: {event}");
        }
        let ph = event["ph"].as_str().expect("ph is a string");
        phases.insert(ph.to_string());
        if ph == "X" {
            assert!(event["dur"].as_u64().is_some_and(|d| d >= 1), "{event}");
        }
    }
    for ph in ["X", "i", "C", "M"] {
        assert!(phases.contains(ph), "no {ph} event");
    }
    let failed = events
        .iter()
        .find(|e| e["cat"] == "failure")
        .expect("the failure is in the trace");
    assert_eq!(failed["name"], "FAILED: model_agreement");
}

#[test]
fn the_report_embeds_the_data_without_ending_its_script() {
    let (mut timeline, _) = record(&SeedSpec::new(2, 50));
    timeline.steps[0].text = "</script><script>alert(1)</script>".to_string();
    let html = render_html(&timeline);
    assert_eq!(html.matches("</script>").count(), 2, "only the page's own");
    let start = html.find("type=\"application/json\">").expect("data") + 24;
    let end = start + html[start..].find("</script>").expect("its end");
    let back: serde_json::Value = serde_json::from_str(&html[start..end]).expect("JSON");
    assert_eq!(
        back["steps"][0]["text"],
        "</script><script>alert(1)</script>"
    );
}

#[test]
fn a_reused_operation_id_gets_a_bar_per_use() {
    use crate::action::Action;
    use crate::answer::{Answer, Code};
    let submit = |operation| submit(2, operation);
    let mut operations = operations::Operations::default();
    let refused = Answer::uncached(Code::Malformed);
    let lost = Answer::uncached(Code::Crashed);
    let ok = Answer::uncached(Code::Ok);
    operations.step(1, Some(&submit(0)), &[(0, refused)]);
    operations.step(2, Some(&submit(0)), &[(0, refused)]);
    operations.step(3, Some(&submit(7)), &[(7, lost)]);
    operations.step(4, Some(&Action::Retry { operation: 7 }), &[(7, ok)]);
    operations.step(5, Some(&submit(9)), &[]);
    let bars = operations.finish(6);
    let shape: Vec<_> = bars
        .iter()
        .map(|b| (b.operation.as_str(), b.start, b.end, b.row, b.outcome))
        .collect();
    assert_eq!(
        shape,
        [
            ("op0", 1, Some(1), 0, Some("malformed")),
            ("op0", 2, Some(2), 0, Some("malformed")),
            ("op7", 3, Some(4), 0, Some("ok")),
            ("op9", 5, None, 0, None),
        ]
    );
    assert_eq!(bars[2].sends, [3, 4]);
    assert_eq!(bars[2].answers.len(), 2);
}

#[test]
fn overlapping_operations_of_a_client_get_rows_of_their_own() {
    let submit = |operation| submit(0, operation);
    let mut operations = operations::Operations::default();
    operations.step(1, Some(&submit(1)), &[]);
    operations.step(2, Some(&submit(2)), &[]);
    operations.step(
        3,
        None,
        &[(1, crate::answer::Answer::uncached(crate::answer::Code::Ok))],
    );
    operations.step(4, Some(&submit(3)), &[]);
    let rows: Vec<u32> = operations.finish(5).iter().map(|b| b.row).collect();
    assert_eq!(rows, [0, 1, 0]);
}

#[test]
fn a_marker_says_what_the_transcript_says_of_its_action() {
    let (timeline, _) = record(&SeedSpec::new(4, 1_000));
    let crash = timeline
        .steps
        .iter()
        .flat_map(|s| &s.markers)
        .find(|m| m.kind == MarkerKind::Crash)
        .expect("a crash");
    assert!(crash.label.starts_with("crash "), "{}", crash.label);
    assert!(
        crash.label.contains("unsynced bytes kept"),
        "{}",
        crash.label
    );
    assert!(!crash.label.contains("| lsn="), "{}", crash.label);
}

/// A create sent by `client` as `operation`.
fn submit(client: u32, operation: u128) -> crate::action::Action {
    crate::action::Action::Submit {
        client,
        operation,
        command: crate::action::SimCommand::CreateResource { resource: 1 },
        behind: 0,
    }
}
