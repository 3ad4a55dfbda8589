//! The `clnrm:chaos/scenario` capability.

mod host;
