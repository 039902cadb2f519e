//! The observer of a directory: the reports of every file operation made
//! in it, and the I/O faults armed there. Compiled only with
//! `fault-injection`.

use super::fault::{IoEffect, IoFault, MAX_ARMED_IO_FAULTS};
use super::{FsOpKind, FsReport, Site};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// One observed directory: its reports not yet drained, and the faults
/// armed there.
struct Observed {
    dir: PathBuf,
    reports: Vec<FsReport>,
    armed: Vec<IoFault>,
}

thread_local! {
    static OBSERVED: RefCell<Vec<Observed>> = const { RefCell::new(Vec::new()) };
    /// Faults armed on this thread, over every directory: while there are
    /// none, an operation checks nothing else.
    static ARMED: Cell<usize> = const { Cell::new(0) };
}

/// Records every file operation made in `dir` on this thread until the
/// returned observation is dropped. A directory has one observer at a
/// time; several directories may be observed at once.
pub fn observe(dir: &Path) -> Observation {
    OBSERVED.with(|observed| {
        let mut observed = observed.borrow_mut();
        assert!(
            observed.iter().all(|o| o.dir != dir),
            "a directory has one observer at a time"
        );
        observed.push(Observed {
            dir: dir.to_path_buf(),
            reports: Vec::new(),
            armed: Vec::new(),
        });
    });
    Observation {
        dir: dir.to_path_buf(),
        _one_thread: PhantomData,
    }
}

/// Reports are kept per thread, so an observation stays on the thread
/// that made it (it is not `Send`).
pub struct Observation {
    dir: PathBuf,
    _one_thread: PhantomData<*const ()>,
}

impl Observation {
    /// Every operation since the last drain, in the order made.
    pub fn drain(&self) -> Vec<FsReport> {
        let mut reports = Vec::new();
        self.drain_into(&mut reports);
        reports
    }

    /// [`Observation::drain`] onto the end of `into`. Both buffers keep
    /// their capacity, so a caller that drains at every step allocates
    /// nothing once they have grown.
    pub fn drain_into(&self, into: &mut Vec<FsReport>) {
        self.with_entry(|entry| into.append(&mut entry.reports));
    }

    /// Arms `fault` in this directory: the operation it names fails once
    /// its passes are spent. A fault the engine can never meet is refused.
    pub fn arm_io_fault(&self, fault: IoFault) -> Result<(), &'static str> {
        if let Some(why) = fault.impossible() {
            return Err(why);
        }
        self.with_entry(|entry| {
            if entry.armed.len() == MAX_ARMED_IO_FAULTS {
                return Err("too many faults armed in one directory");
            }
            entry.armed.push(fault);
            ARMED.set(ARMED.get() + 1);
            Ok(())
        })
    }

    /// The faults armed and not yet fired, in the order armed, each with
    /// the passes it has left.
    pub fn armed_io_faults(&self) -> Vec<IoFault> {
        self.with_entry(|entry| entry.armed.clone())
    }

    /// Disarms every fault; returns those that never fired.
    pub fn disarm_io_faults(&self) -> Vec<IoFault> {
        self.with_entry(|entry| {
            ARMED.set(ARMED.get() - entry.armed.len());
            std::mem::take(&mut entry.armed)
        })
    }

    fn with_entry<T>(&self, f: impl FnOnce(&mut Observed) -> T) -> T {
        OBSERVED.with(|observed| {
            let mut observed = observed.borrow_mut();
            let entry = observed
                .iter_mut()
                .find(|o| o.dir == self.dir)
                .expect("observed until dropped");
            f(entry)
        })
    }
}

impl Drop for Observation {
    fn drop(&mut self) {
        self.disarm_io_faults();
        OBSERVED.with(|observed| observed.borrow_mut().retain(|o| o.dir != self.dir));
    }
}

pub(super) fn report(dir: &Path, report: FsReport) {
    OBSERVED.with(|observed| {
        let mut observed = observed.borrow_mut();
        if let Some(entry) = observed.iter_mut().find(|o| o.dir == dir) {
            entry.reports.push(report);
        }
    });
}

/// The effect of the fault armed for this operation, if one fires here: a
/// fault for `op` at `site` with no passes left is taken; one with passes
/// left spends one.
pub(super) fn fires(dir: &Path, site: Site, op: FsOpKind) -> Option<IoEffect> {
    if ARMED.get() == 0 {
        return None;
    }
    OBSERVED.with(|observed| {
        let mut observed = observed.borrow_mut();
        let entry = observed.iter_mut().find(|o| o.dir == dir)?;
        let at = entry
            .armed
            .iter()
            .position(|f| f.site == site && f.op == op)?;
        let fault = &mut entry.armed[at];
        if fault.passes > 0 {
            fault.passes -= 1;
            return None;
        }
        let effect = fault.effect;
        entry.armed.remove(at);
        ARMED.set(ARMED.get() - 1);
        Some(effect)
    })
}
