//! The `clnrm:chaos/rng` capability.

mod host;
