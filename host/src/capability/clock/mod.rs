//! The `clnrm:chaos/clock` capability.

mod host;
