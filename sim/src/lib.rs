//! The simulation testbed. Its oracles judge the real engine.

pub mod oracle;
