//! The one error type of xtask, and how it is shown: the error, then each
//! cause on its own line.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ci step `{step}` failed")]
    Step {
        step: &'static str,
        #[source]
        source: Box<Error>,
    },
    #[error("could not start `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: io::Error,
    },
    #[error("`{command}` failed ({status})")]
    Status { command: String, status: ExitStatus },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("criterion result {}: {reason}", path.display())]
    Criterion { path: PathBuf, reason: String },
    #[error("sim phases result {}: {reason}", path.display())]
    Phases { path: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    Doc { path: PathBuf, reason: &'static str },
    #[error("cannot explore {file}: {reason}")]
    Explore { file: String, reason: String },
    #[error("writing the format fixtures")]
    Fixture(#[from] allocdb_sim::format_fixture::FixtureError),
    /// A scenario file that cannot be used: bad input, exit code 2.
    #[error(transparent)]
    Scenario(#[from] allocdb_sim::scenario::LoadError),
    /// Arguments that parse but do not go together: exit code 2.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// Bad input (like bad arguments) exits with 2, anything else with 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Scenario(_) | Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// `error: <error>` followed by `  caused by: <source>` for each cause.
pub fn report(error: &dyn std::error::Error) -> String {
    let mut out = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(out, "\n  caused by: {cause}");
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_shows_the_cause_chain() {
        let error = Error::Step {
            step: "clippy",
            source: Box::new(Error::Spawn {
                command: "cargo clippy".into(),
                source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
            }),
        };
        assert_eq!(
            report(&error),
            "error: ci step `clippy` failed\n  caused by: could not start `cargo clippy`\n  caused by: no such file"
        );
    }
}
