//! The `clnrm:chaos/log` capability.

mod host;
