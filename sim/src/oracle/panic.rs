//! A panic in a run is a failure like any oracle's (oracle `panic`): the
//! step that panicked is caught, and the panic becomes the run's failure
//! with its message, its source location and where it came from, so a
//! sweep names the seed and step, writes a repro and can shrink it.
//!
//! The process's panic hook is replaced once by one that, on a thread
//! inside [`isolate`], keeps the panic for the failure report instead of
//! printing it (a sweep of thousands of seeds prints each panic once, in
//! its report, not per seed as the default hook would); on every other
//! thread, and outside [`isolate`], it hands the panic to the hook it
//! replaced, so tests and the rest of the process print as before.
//!
//! Where a panic came from is read off its location: a file of the core
//! (`core/`) is the engine's own code (its assertions, or a panic in what
//! it calls); anything else is the simulator's. Locations of the
//! workspace's crates are relative paths; one outside it (the standard
//! library, a dependency) keeps only its last two components, so no
//! absolute path reaches a transcript or a repro.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

/// The core's source tree, relative to the workspace: a panic located in
/// it is the engine's.
const CORE_SOURCE: &str = "core/";

/// Whose code panicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanicOrigin {
    /// The core: the engine, its state machine, WAL, snapshot, recovery.
    Engine,
    /// The simulator (its driver, model, workload), or what it calls.
    Simulator,
}

impl PanicOrigin {
    pub const fn name(self) -> &'static str {
        match self {
            PanicOrigin::Engine => "engine",
            PanicOrigin::Simulator => "simulator",
        }
    }

    fn of(location: &str) -> PanicOrigin {
        if location.starts_with(CORE_SOURCE) {
            PanicOrigin::Engine
        } else {
            PanicOrigin::Simulator
        }
    }
}

/// A caught panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panicked {
    pub origin: PanicOrigin,
    pub message: String,
    /// `file:line:column`, with no absolute path.
    pub location: String,
    /// Captured only when `RUST_BACKTRACE` asks for one; it holds
    /// addresses and absolute paths, so it is shown once in a failure
    /// report and never written into a transcript or a repro.
    pub backtrace: Option<String>,
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} panicked at {}: {}",
            self.origin.name(),
            self.location,
            self.message
        )
    }
}

thread_local! {
    /// How many [`isolate`] calls this thread is inside.
    static ISOLATING: Cell<u32> = const { Cell::new(0) };
    /// The panic the hook kept for the innermost [`isolate`].
    static CAUGHT: RefCell<Option<Panicked>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let isolating = ISOLATING.try_with(Cell::get).unwrap_or(0) > 0;
            if !isolating {
                return previous(info);
            }
            let panicked = describe(info);
            // A panic while the thread's locals are being torn down has
            // nowhere to go but the hook it replaced.
            if CAUGHT
                .try_with(|caught| *caught.borrow_mut() = Some(panicked))
                .is_err()
            {
                previous(info);
            }
        }));
    });
}

fn describe(info: &PanicHookInfo<'_>) -> Panicked {
    let location = info.location().map_or_else(
        || "(unknown location)".to_string(),
        |l| format!("{}:{}:{}", shown_file(l.file()), l.line(), l.column()),
    );
    let backtrace = Backtrace::capture();
    Panicked {
        origin: PanicOrigin::of(&location),
        message: payload_text(info.payload()),
        location,
        backtrace: (backtrace.status() == BacktraceStatus::Captured).then(|| backtrace.to_string()),
    }
}

/// A source file as a failure names it: relative as the compiler was
/// given it for the workspace's crates; else only its last two components.
fn shown_file(file: &str) -> String {
    if !file.starts_with('/') {
        return file.to_string();
    }
    let mut tail: Vec<&str> = file.rsplit('/').take(2).collect();
    tail.reverse();
    format!(".../{}", tail.join("/"))
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic with a payload that is not text)".to_string()
    }
}

/// Runs `f`; a panic inside it is caught and returned as what panicked,
/// and nothing is printed for it.
///
/// The caller must treat whatever `f` was changing as broken once it
/// panicked: a run ends at its first failure, and a panic is one.
pub fn isolate<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    install_hook();
    ISOLATING.with(|depth| depth.set(depth.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    ISOLATING.with(|depth| depth.set(depth.get() - 1));
    result.map_err(|payload| {
        CAUGHT
            .with(|caught| caught.borrow_mut().take())
            .unwrap_or_else(|| Panicked {
                origin: PanicOrigin::Simulator,
                message: payload_text(payload.as_ref()),
                location: "(unknown location)".to_string(),
                backtrace: None,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_with_its_message_and_location() {
        let line = line!() + 1;
        let caught = isolate(|| panic!("lsn {} is not {}", 3, 4)).unwrap_err();
        assert_eq!(caught.message, "lsn 3 is not 4");
        assert_eq!(caught.origin, PanicOrigin::Simulator);
        assert!(
            caught
                .location
                .starts_with(&format!("sim/src/oracle/panic.rs:{line}:")),
            "{}",
            caught.location
        );
        assert_eq!(isolate(|| 7), Ok(7));
    }

    #[test]
    fn an_engine_panic_is_told_from_a_simulator_one() {
        // The core's own assertion: a directory has one observer at a time.
        let dir = tempfile::tempdir().unwrap();
        let _first = allocdb_core::fs::observe(dir.path());
        let Err(caught) = isolate(|| allocdb_core::fs::observe(dir.path())) else {
            panic!("a second observer of one directory must panic");
        };
        assert_eq!(caught.origin, PanicOrigin::Engine);
        assert!(caught.location.starts_with("core/src/fs/observer.rs:"));
        assert_eq!(caught.message, "a directory has one observer at a time");
        assert_eq!(
            caught.to_string(),
            format!(
                "the engine panicked at {}: a directory has one observer at a time",
                caught.location
            )
        );
    }

    #[test]
    fn files_outside_the_workspace_keep_no_absolute_path() {
        assert_eq!(shown_file("core/src/wal/file.rs"), "core/src/wal/file.rs");
        assert_eq!(
            shown_file("/rustc/abc/library/core/src/option.rs"),
            ".../src/option.rs"
        );
    }

    #[test]
    fn a_nested_isolate_keeps_each_panic_to_itself() {
        let outer = isolate(|| {
            let inner = isolate(|| panic!("inner")).unwrap_err();
            assert_eq!(inner.message, "inner");
            panic!("outer")
        })
        .unwrap_err();
        assert_eq!(outer.message, "outer");
    }
}
