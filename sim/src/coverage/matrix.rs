//! Every entry point in every engine state: the matrix the workload must
//! drive and the coverage gate checks. Rows are the states the engine can
//! be in, columns the public entry points a caller can use; each cell
//! reached is a probe, and so is each answer an entry point gave, by name.
//! Cells and answers that cannot happen are listed with why, so the gate
//! requires exactly the rest.

/// The state an entry point met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Running,
    /// Halted by the storage failure that fired.
    HaltedAppendFails,
    HaltedPartialAppend,
    HaltedSyncFails,
    /// Halted by a checkpoint that failed (an I/O error in any of its file
    /// operations).
    HaltedCheckpoint,
    /// The process is gone: nobody answers.
    Down,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Running,
        State::HaltedAppendFails,
        State::HaltedPartialAppend,
        State::HaltedSyncFails,
        State::HaltedCheckpoint,
        State::Down,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::HaltedAppendFails => "halted_append_fails",
            State::HaltedPartialAppend => "halted_partial_append",
            State::HaltedSyncFails => "halted_sync_fails",
            State::HaltedCheckpoint => "halted_checkpoint",
            State::Down => "down",
        }
    }
}

/// A public entry point of the engine, as a caller uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entry {
    /// `Engine::submit` of a new request.
    Submit,
    /// `Engine::submit` of a request sent before (same operation id).
    Retry,
    /// `Engine::enqueue`: a burst's request offered to the queue.
    Enqueue,
    /// `Engine::process_next`: a queued request's turn.
    ProcessQueue,
    ReadResource,
    ReadResourceFenced,
    ReadLease,
    ReadLeaseFenced,
    /// `Engine::tick_expirations`.
    Tick,
    /// `Engine::checkpoint`.
    Checkpoint,
}

impl Entry {
    pub const ALL: [Entry; 10] = [
        Entry::Submit,
        Entry::Retry,
        Entry::Enqueue,
        Entry::ProcessQueue,
        Entry::ReadResource,
        Entry::ReadResourceFenced,
        Entry::ReadLease,
        Entry::ReadLeaseFenced,
        Entry::Tick,
        Entry::Checkpoint,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Entry::Submit => "submit",
            Entry::Retry => "retry",
            Entry::Enqueue => "enqueue",
            Entry::ProcessQueue => "process_queue",
            Entry::ReadResource => "read_resource",
            Entry::ReadResourceFenced => "read_resource_fenced",
            Entry::ReadLease => "read_lease",
            Entry::ReadLeaseFenced => "read_lease_fenced",
            Entry::Tick => "tick",
            Entry::Checkpoint => "checkpoint",
        }
    }

    /// Every answer the spec allows this entry point to give, by name (a
    /// client write's are [`crate::answer::Code`] names).
    pub fn answers(self) -> &'static [&'static str] {
        match self {
            Entry::Submit | Entry::Retry | Entry::ProcessQueue => WRITE_ANSWERS,
            Entry::Enqueue => &["queued", "overloaded", "engine_halted", "undelivered"],
            Entry::ReadResource => &["found", "not_found", "engine_halted", "undelivered"],
            Entry::ReadResourceFenced => &[
                "found",
                "not_found",
                "fence_not_applied",
                "engine_halted",
                "undelivered",
            ],
            Entry::ReadLease => &[
                "found",
                "lease_not_found",
                "lease_retired",
                "engine_halted",
                "undelivered",
            ],
            Entry::ReadLeaseFenced => &[
                "found",
                "lease_not_found",
                "lease_retired",
                "fence_not_applied",
                "engine_halted",
                "undelivered",
            ],
            Entry::Tick => &[
                "expired",
                "noop",
                "nothing_due",
                "request_slot_too_large",
                "lsn_exhausted",
                "storage_failure",
                "engine_halted",
                "crashed",
                "undelivered",
            ],
            Entry::Checkpoint => &[
                "ok",
                "lsn_exhausted",
                "storage_failure",
                "engine_halted",
                "crashed",
                "undelivered",
            ],
        }
    }
}

/// What a client write may be answered: every committed result of a
/// client command, every refusal, the indefinite answers, and nobody home.
const WRITE_ANSWERS: &[&str] = &[
    "ok",
    "already_exists",
    "resource_table_full",
    "bundle_too_large",
    "resource_not_found",
    "resource_busy",
    "ttl_out_of_range",
    "lease_table_full",
    "lease_member_table_full",
    "expiration_index_full",
    "slot_overflow",
    "invalid_request",
    "lease_not_found",
    "lease_retired",
    "invalid_state",
    "holder_mismatch",
    "stale_epoch",
    "operation_conflict",
    "operation_table_full",
    "malformed",
    "command_too_large",
    "request_slot_too_large",
    "slot_rewound",
    "overloaded",
    "lsn_exhausted",
    "storage_failure",
    "engine_halted",
    "crashed",
    "undelivered",
];

/// Why a cell cannot happen, if it cannot.
pub fn impossible_cell(state: State, entry: Entry) -> Option<&'static str> {
    match (state, entry) {
        (State::HaltedCheckpoint, Entry::ProcessQueue) => Some(
            "a queued request's turn comes only within its burst's step, and only a write of \
             that burst can halt the engine between two turns: a checkpoint is no burst's",
        ),
        (State::Down, Entry::ProcessQueue) => {
            Some("the queue lives in the engine's memory: it dies with the process")
        }
        _ => None,
    }
}

/// Why an answer of an entry point cannot happen, if it cannot.
pub fn impossible_answer(entry: Entry, answer: &str) -> Option<&'static str> {
    let write = matches!(entry, Entry::Submit | Entry::Retry | Entry::ProcessQueue);
    match answer {
        "slot_overflow" if write => Some(SLOT_OVERFLOW_WHY),
        "command_too_large" if write => Some(COMMAND_TOO_LARGE_WHY),
        "overloaded" if entry != Entry::Enqueue => Some(
            "a submit is refused as overloaded only while requests are queued, and a burst's \
             queue is drained within its own step; a queued request is past the queue's door",
        ),
        "undelivered" if entry == Entry::ProcessQueue => {
            Some("the queue dies with the process: a request in it is lost (`crashed`)")
        }
        "slot_rewound" if entry == Entry::ProcessQueue => Some(
            "a burst's requests are stamped with its slot, and a tick cannot run between \
             their enqueue and their turn: none is behind the engine's last request slot",
        ),
        "slot_rewound" | "malformed" if entry == Entry::Retry => Some(
            "a retry re-sends a request in flight at the clock's slot, and a request refused \
             as malformed or rewound is not in flight: its client was told definitely",
        ),
        "lsn_exhausted" => Some(LSN_EXHAUSTED_WHY),
        "noop" if entry == Entry::Tick => Some(
            "a tick commits only the expiries the wheel holds as due, each of a reserved lease: \
             only a log from elsewhere holds an expire that changes nothing",
        ),
        _ => None,
    }
}

/// Why no write is committed as `slot_overflow`.
pub const SLOT_OVERFLOW_WHY: &str = "the engine refuses a request slot past the last one before \
     apply (request_slot_too_large), so only a log from elsewhere commits it";

/// Why no caller is refused as `command_too_large`.
pub const COMMAND_TOO_LARGE_WHY: &str = "the API cannot build one: a bundle holds at most \
     BUNDLE_SIZE_LIMIT members, so the longest command (a full reserve, 314 bytes) fits a \
     frame's 512, which the core asserts at compile time (MAX_ENCODED_COMMAND_LEN <= MAX_PAYLOAD_LEN)";

/// Why a sweep never meets the end of the LSN space.
pub const LSN_EXHAUSTED_WHY: &str = "a sweep cannot spend 2^64 LSNs: the scenario tests reach it \
     over a log forged at the end of the LSN space (scenarios/semantics/lsn-end.ron) and require it";

/// Every probe name the matrix adds: `cell.STATE.ENTRY` and
/// `entry.ENTRY.ANSWER`, in a fixed order.
pub fn probe_names() -> Vec<String> {
    let mut names = Vec::new();
    for state in State::ALL {
        for entry in Entry::ALL {
            names.push(cell_probe(state, entry));
        }
    }
    for entry in Entry::ALL {
        for answer in entry.answers() {
            names.push(answer_probe(entry, answer));
        }
    }
    names
}

pub fn cell_probe(state: State, entry: Entry) -> String {
    format!("cell.{}.{}", state.name(), entry.name())
}

pub fn answer_probe(entry: Entry, answer: &str) -> String {
    format!("entry.{}.{answer}", entry.name())
}

/// The probes that cannot be reached, each with why.
pub fn impossible() -> Vec<(String, &'static str)> {
    let mut list = Vec::new();
    for state in State::ALL {
        for entry in Entry::ALL {
            if let Some(why) = impossible_cell(state, entry) {
                list.push((cell_probe(state, entry), why));
            }
        }
    }
    for entry in Entry::ALL {
        for answer in entry.answers() {
            if let Some(why) = impossible_answer(entry, answer) {
                list.push((answer_probe(entry, answer), why));
            }
        }
    }
    list
}
