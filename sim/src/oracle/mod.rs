//! Independent judges of the real core: a reference model written only from the documented semantics.

pub mod model;
