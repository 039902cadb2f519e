//! A seed's engine calls made again on an engine of its own, in a run
//! directory of its own: what the seed costs the engine and the kernel
//! alone, with no model, oracle, book, file-system model or transcript
//! around them. This is the floor of a step (`cargo bench -p allocdb-sim
//! --bench floor`). Only a fault-free seed replays faithfully: its files
//! are the engine's own doing, so each call meets what it met in the run.

use crate::driver::EngineCall;
use crate::run_dir::RunDir;
use allocdb_core::engine::{Engine, EngineConfig, OpenError};
use std::hint::black_box;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum EngineAloneError {
    #[error("making a run directory: {0}")]
    RunDir(#[from] io::Error),
    #[error("call {index} (an open) failed: {source}")]
    Open { index: usize, source: OpenError },
    #[error("call {index} was made of an engine that is not open")]
    NotOpen { index: usize },
}

/// Makes `calls` of an engine with `config` in a fresh directory, in
/// order, and says the state digest (`StateMachine::digest`) the last
/// engine ended with. A call's
/// answer (a refusal included) is the engine's to give: only an open that
/// fails, or a call with no engine open, stops the replay.
pub fn replay(config: EngineConfig, calls: &[EngineCall]) -> Result<u64, EngineAloneError> {
    let dir = RunDir::new()?;
    let mut engine: Option<Engine> = None;
    for (index, &call) in calls.iter().enumerate() {
        if call == EngineCall::Open {
            // The process that was up dies before the next one opens.
            drop(engine.take());
            let (opened, report) = Engine::open(dir.path(), config)
                .map_err(|source| EngineAloneError::Open { index, source })?;
            black_box(report);
            engine = Some(opened);
            continue;
        }
        let Some(engine) = engine.as_mut() else {
            return Err(EngineAloneError::NotOpen { index });
        };
        match call {
            EngineCall::Open => unreachable!("handled above"),
            EngineCall::Submit { request, slot } => {
                black_box(engine.submit(request, slot).is_ok());
            }
            EngineCall::Enqueue { request, slot } => {
                black_box(engine.enqueue(request, slot).is_ok());
            }
            EngineCall::ProcessNext => {
                black_box(engine.process_next().is_some());
            }
            EngineCall::Tick { slot } => {
                black_box(engine.tick_expirations(slot).is_ok());
            }
            EngineCall::Checkpoint => {
                black_box(engine.checkpoint().is_ok());
            }
            EngineCall::GetResource { resource, required } => {
                black_box(engine.get_resource(resource, required).is_ok());
            }
            EngineCall::GetLease { lease, required } => {
                black_box(engine.get_lease(lease, required).is_ok());
            }
        }
    }
    let engine = engine.ok_or(EngineAloneError::NotOpen { index: calls.len() })?;
    Ok(engine.state_machine().digest())
}
