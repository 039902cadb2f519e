//! The I/O errors a simulator can inject into the engine's file
//! operations: which operation, at which site, after how many of its kind
//! pass, and what the failure does. Compiled only with `fault-injection`.

use super::{FsOpKind, Site};
use std::io;

/// Most faults armed in one directory at once.
pub const MAX_ARMED_IO_FAULTS: usize = 8;

/// The error a failed operation returns, as the kernel gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IoErrorKind {
    /// `EIO`: the device failed the request.
    Eio,
    /// `ENOSPC`: no space left on the device.
    Enospc,
}

impl IoErrorKind {
    pub const fn name(self) -> &'static str {
        match self {
            IoErrorKind::Eio => "eio",
            IoErrorKind::Enospc => "enospc",
        }
    }

    /// The error a failed operation returns: of the kind the standard
    /// library gives this errno where it has one (`StorageFull` for
    /// `ENOSPC`, `Other` for `EIO`), carrying the errno's name. The text
    /// is the simulator's own, never the C library's (`strerror` differs
    /// between systems, and transcripts may not).
    pub fn error(self) -> io::Error {
        let kind = match self {
            IoErrorKind::Eio => io::ErrorKind::Other,
            IoErrorKind::Enospc => io::ErrorKind::StorageFull,
        };
        io::Error::new(kind, Injected(self))
    }

    /// The kind of an injected error, if `error` is one.
    pub fn of(error: &io::Error) -> Option<IoErrorKind> {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<Injected>())
            .map(|injected| injected.0)
    }
}

/// An injected error: what [`IoErrorKind::error`] carries.
#[derive(Debug)]
struct Injected(IoErrorKind);

impl std::fmt::Display for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.0 {
            IoErrorKind::Eio => "EIO",
            IoErrorKind::Enospc => "ENOSPC",
        };
        write!(f, "{name} (injected)")
    }
}

impl std::error::Error for Injected {}

/// What an armed fault does to the operation it fires at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IoEffect {
    /// The operation does nothing and returns the error.
    Fail(IoErrorKind),
    /// A write: its first `bytes` bytes reach the file (all but the last
    /// at most), then it fails with `ENOSPC`, as a disk that filled up
    /// part way. A read: the pass delivers at most `bytes` more bytes,
    /// then reads as if the file ended there.
    Short { bytes: u32 },
}

/// A fault armed in a directory: the operation `op` at `site` fails as
/// `effect` after `passes` such operations succeed (reads: no passes, the
/// pass of reads at a site is one operation). It fires once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IoFault {
    pub site: Site,
    pub op: FsOpKind,
    pub passes: u32,
    pub effect: IoEffect,
}

impl IoFault {
    /// Why the engine can never meet this fault, if it cannot: the site
    /// makes no such operation, or the effect does not apply to it.
    pub fn impossible(&self) -> Option<&'static str> {
        if !self.site.makes(self.op) {
            return Some("the engine makes no such operation at that site");
        }
        match (self.op, self.effect) {
            (FsOpKind::Write | FsOpKind::Read, _) | (_, IoEffect::Fail(_)) => {}
            (_, IoEffect::Short { .. }) => {
                return Some("only a write or a read can be short");
            }
        }
        if self.op == FsOpKind::Read && self.passes > 0 {
            return Some("a site reads its file in one pass: a read fault takes no passes");
        }
        None
    }
}
