//! Scenarios: RON files of explicit steps and expectations, run against
//! the simulator with every oracle on. The reference for authors is
//! `docs/scenario-format.md`.

pub mod format;
pub mod parse;
pub mod runner;
pub mod validate;
pub mod write;

pub use format::{ConfigOverride, Entry, Expect, Scenario};
pub use parse::{load, parse, LoadError};
pub use runner::{run_scenario, run_scenario_watched, ScenarioFailure, ScenarioRun};
pub use validate::Semantic;
pub use write::to_ron;
