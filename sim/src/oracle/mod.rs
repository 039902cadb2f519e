//! The oracles that judge every step, and the reference model they use.

pub mod checks;
pub mod failure;
pub mod model;
pub mod panic;
pub mod records;
pub mod refusal;
pub mod wal_flip;

pub use failure::{FailureSignature, Oracle, OracleFailure, Violation};
pub use panic::{isolate, PanicOrigin, Panicked};
