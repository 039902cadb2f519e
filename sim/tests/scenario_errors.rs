//! Bad scenario files get `file:line:col: what was expected` (syntax and
//! types) or `file: step N (Entry): what is wrong` (meaning), never a panic
//! and never silent acceptance.

use allocdb_sim::scenario::{parse, LoadError};
use proptest::prelude::*;

fn error(text: &str) -> String {
    match parse(text, "bad.ron") {
        Ok(scenario) => panic!("accepted {text:?} as {scenario:?}"),
        Err(error) => error.to_string(),
    }
}

/// The line and column of a syntax error.
fn position(text: &str) -> (usize, usize) {
    match parse(text, "bad.ron") {
        Err(LoadError::Syntax { line, column, .. }) => (line, column),
        other => panic!("{text:?} gave {other:?}, not a syntax error"),
    }
}

#[test]
fn truncated_file_says_where_it_ended() {
    let text = "Scenario(\n    steps: [\n        Tick,\n";
    assert_eq!(error(text), "bad.ron:3:14: Unexpected end of RON");
    assert_eq!(
        error(""),
        "bad.ron:1:1: Expected opening `(` for struct `Scenario`"
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    assert_eq!(
        error("Scenario(seed: \"seven\", steps: [])"),
        "bad.ron:1:16: Expected integer"
    );
    assert_eq!(
        error("Scenario(steps: [AdvanceSlot(by: -1)])"),
        "bad.ron:1:35: Integer is out of bounds"
    );
    assert_eq!(
        error("Scenario(steps: Tick)"),
        "bad.ron:1:17: Expected opening `[`"
    );
}

#[test]
fn unknown_fields_are_errors_not_ignored() {
    let message = error("Scenario(steps: [], seeds: 3)");
    assert!(
        message.starts_with(
            "bad.ron:1:21: Unexpected field named `seeds` in `Scenario`, expected one of `seed`"
        ),
        "{message}"
    );
    let message = error(
        "Scenario(steps: [Submit(client: 1, operation: 1, command: CreateResource(resource: 1, colour: 2))])",
    );
    assert!(
        message.starts_with("bad.ron:1:")
            && message.contains("Unexpected field named `colour` in `CreateResource`"),
        "{message}"
    );
    let message = error("Scenario(config: (max_resourcez: 2), steps: [])");
    assert!(
        message.contains("Unexpected field named `max_resourcez` in `Config`"),
        "{message}"
    );
}

#[test]
fn unknown_crash_point_lists_the_real_ones() {
    let text = "Scenario(steps: [\n    ArmCrash(ClientAfterLunch),\n])";
    let message = error(text);
    assert!(
        message.starts_with(
            "bad.ron:2:14: Unexpected variant named `ClientAfterLunch` in enum `CrashPoint`, expected one of `ClientBeforeAppend`"
        ),
        "{message}"
    );
    assert_eq!(position(text), (2, 14));
}

#[test]
fn unknown_step_lists_actions_and_expectations() {
    let message = error("Scenario(steps: [Tock])");
    assert!(
        message
            .starts_with("bad.ron:1:18: unknown step `Tock`: expected an action (Submit, Retry,")
            && message.contains("or an expectation (ExpectResult,"),
        "{message}"
    );
}

#[test]
fn bad_nesting_is_an_error() {
    assert_eq!(
        error("Scenario(steps: [Burst([Burst([Tick])])])"),
        "bad.ron: step 1 (Burst): a burst holds Submit and Retry only, not Burst"
    );
    assert_eq!(
        error("Scenario(steps: [Burst([Tick)])"),
        "bad.ron:1:29: Expected comma"
    );
    let deep = format!(
        "Scenario(steps: [{}Tick{}])",
        "Burst([".repeat(10_000),
        "])".repeat(10_000)
    );
    assert!(
        error(&deep).ends_with("nesting deeper than 64 levels"),
        "{}",
        error(&deep)
    );
}

#[test]
fn semantic_errors_name_the_step() {
    assert_eq!(
        error("Scenario(steps: [Tick, Retry(operation: 4)])"),
        "bad.ron: step 2 (Retry): retry of operation 4, which no earlier step submitted"
    );
    assert_eq!(
        error("Scenario(steps: [AdvanceSlot(by: 5), AdvanceTo(slot: 2)])"),
        "bad.ron: step 2 (AdvanceTo): the slot goes backwards: from 5 to 2"
    );
    assert_eq!(
        error("Scenario(steps: [ArmCrash(CheckpointAfterSnapshot), Tick])"),
        "bad.ron: step 1 (ArmCrash): crash point checkpoint_after_snapshot cannot be reached: no later step runs Checkpoint"
    );
    assert_eq!(
        error("Scenario(steps: [ArmPersistFailure(SyncFails), Checkpoint])"),
        "bad.ron: step 1 (ArmPersistFailure): the persist failure cannot fire: no later step writes the WAL (Submit, Retry, Burst or Tick)"
    );
    assert_eq!(
        error("Scenario(steps: [Tick, ExpectResult(Ok)])"),
        "bad.ron: step 1 (ExpectResult): must follow a Submit or Retry step, not Tick"
    );
    assert_eq!(
        error("Scenario(steps: [Tick, ExpectOracleFailure(StateDigest), Tick])"),
        "bad.ron: step 1 (ExpectOracleFailure): an oracle failure ends the run: it must be the last entry"
    );
    assert_eq!(
        error("Scenario(steps: [AdvanceSlot(by: 2), Submit(client: 1, operation: 1, command: CreateResource(resource: 7), behind: 3)])"),
        "bad.ron: step 2 (Submit): stamped 3 slots behind slot 2: before slot 0"
    );
    assert_eq!(
        error("Scenario(steps: [AdvanceSlot(by: 2), Burst([Submit(client: 1, operation: 1, command: CreateResource(resource: 7), behind: 1)])])"),
        "bad.ron: step 2 (Burst): a burst's requests arrive at its slot: a submit in it cannot be stamped behind"
    );
    assert_eq!(
        error("Scenario(steps: [Tick, ExpectOracleFailure(Hang)])"),
        "bad.ron: step 1 (ExpectOracleFailure): a hang is a watchdog's verdict from outside the run (a stuck step cannot judge itself): no run can expect it"
    );
    assert_eq!(
        error(
            "Scenario(steps: [Crash(unsynced: Keep), FlipBit(target: Snapshot(byte: 0), bit: 8)])"
        ),
        "bad.ron: step 2 (FlipBit): bit 8 is not in 0..=7"
    );
    assert_eq!(
        error("Scenario(steps: [ArmCrash(RecoveryAfterReplayedFrame(0)), Restart])"),
        "bad.ron: step 1 (ArmCrash): frames count from 1: RecoveryAfterReplayedFrame(0) names no frame"
    );
    assert_eq!(
        error("Scenario(steps: [ExpectLease(lease: 3, state: Retired, epoch: 1)])"),
        "bad.ron: step 0 (ExpectLease): a lease that is Retired has no epoch to read: drop `epoch`"
    );
    assert_eq!(
        error("Scenario(steps: [ExpectResource(resource: 3, state: Available, lease: 2)])"),
        "bad.ron: step 0 (ExpectResource): a resource Available has no lease: drop `lease` or expect a held state"
    );
    assert_eq!(
        error("Scenario(config: (history_window_slots: 0), steps: [])"),
        "bad.ron: config: invalid config: `history_window_slots` must be at least 1"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Whatever the bytes, loading returns (never panics).
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text, "fuzz.ron");
    }

    /// Mangled versions of a valid file: cut anywhere, or one byte changed.
    #[test]
    fn mangled_scenarios_never_panic(cut in 0usize..400, at in 0usize..400, byte in any::<u8>()) {
        let valid = "Scenario(seed: 3, config: (max_resources: 4), steps: [Submit(client: 1, operation: 1, command: Reserve(resources: [1, 2], holder: 3, ttl: 4)), ExpectResult(ResourceNotFound), Burst([Retry(operation: 1)]), ArmCrash(RecoveryAfterReplayedFrame(1)), Crash(unsynced: KeepPrefix(3)), Restart, ExpectRecovery(mode: WalOnly, replayed: 1)])";
        let cut = cut.min(valid.len());
        let _ = parse(&valid[..cut], "fuzz.ron");
        let mut bytes = valid.as_bytes().to_vec();
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = parse(&String::from_utf8_lossy(&bytes), "fuzz.ron");
    }
}

#[test]
fn an_unknown_read_fault_kind_lists_the_real_ones() {
    assert_eq!(
        error("Scenario(steps: [ArmReadFault(file: Wal, kind: Sideways)])"),
        "bad.ron:1:48: Unexpected variant named `Sideways` in enum `ReadFaultKind`, \
         expected either `Error` or `Short` instead"
    );
    assert_eq!(
        error("Scenario(steps: [ArmReadFault(file: Journal, kind: Error)])"),
        "bad.ron:1:37: Unexpected variant named `Journal` in enum `ReadTarget`, \
         expected either `Wal` or `Snapshot` instead"
    );
}

/// The error a strict scenario that parses fails with.
fn run_error(text: &str) -> String {
    let scenario = parse(text, "run.ron").unwrap();
    match allocdb_sim::scenario::run_scenario(&scenario).result {
        Ok(()) => panic!("{text} passed"),
        Err(failure) => failure.to_string(),
    }
}

/// A strict scenario's read fault must meet a restart that reads its file,
/// as any I/O error must fire.
#[test]
fn a_read_fault_that_reads_nothing_or_meets_no_restart_is_an_error() {
    let run = run_error;
    let no_snapshot = "Scenario(steps: [Submit(client: 1, operation: 1, command: \
        CreateResource(resource: 7)), Crash(unsynced: Keep), \
        ArmReadFault(file: Snapshot, kind: Error), Restart])";
    let error = run(no_snapshot);
    assert!(
        error.contains("step 3 (ArmReadFault)")
            && error.contains("the I/O error eio at snapshot_read read never fired"),
        "{error}"
    );
    let no_restart = "Scenario(steps: [Submit(client: 1, operation: 1, command: \
        CreateResource(resource: 7)), ArmReadFault(file: Wal, kind: Short)])";
    let error = run(no_restart);
    assert!(
        error.contains("step 2 (ArmReadFault)")
            && error.contains("the I/O error short(0) at wal_scan read never fired"),
        "{error}"
    );
    let died = "Scenario(steps: [ArmIoError(site: WalSync, op: Sync, kind: Eio), \
        Crash(unsynced: Keep), Restart])";
    let error = run(died);
    assert!(
        error.contains("step 2 (Crash)")
            && error.contains("eio at wal_sync sync armed at step 1 died unfired"),
        "{error}"
    );
    let impossible =
        self::error("Scenario(steps: [ArmIoError(site: WalSync, op: Rename, kind: Eio)])");
    assert!(
        impossible.contains("step 1 (ArmIoError): rename at wal_sync: the engine makes no such operation at that site (the engine makes sync there)"),
        "{impossible}"
    );
}

/// A strict scenario's crash that undoes entry operations must have some
/// pending.
#[test]
fn undoing_entries_with_none_pending_is_an_error() {
    let run = run_error;
    let nothing_pending = "Scenario(steps: [Submit(client: 1, operation: 1, command: \
        CreateResource(resource: 7)), Crash(unsynced: Keep, entries: First(0))])";
    let error = run(nothing_pending);
    assert!(
        error.contains("step 2 (Crash)")
            && error.contains("First(0) keeps every one of the 0 pending entry operations"),
        "{error}"
    );
}
