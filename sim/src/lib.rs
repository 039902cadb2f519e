//! The simulation testbed: drives the real AllocDB engine on real files with
//! seeded workloads and explicit faults, and judges every step with oracles.

pub mod action;
pub mod answer;
pub mod boundary_probes;
pub mod coverage;
pub mod determinism;
pub mod driver;
pub mod event;
pub mod explore;
pub mod fence;
pub mod format_fixture;
pub mod fs_model;
pub mod lease_ref;
pub mod oracle;
pub mod phase_clock;
pub mod repro;
pub mod rng;
pub mod run;
pub mod run_dir;
pub mod scenario;
pub mod shrink;
pub mod stats;
pub mod timeline;
pub mod transcript;
pub mod view;
pub mod workload;
