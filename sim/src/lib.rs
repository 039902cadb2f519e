//! The simulation testbed. Its oracles judge the real engine.
