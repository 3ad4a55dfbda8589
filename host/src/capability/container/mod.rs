//! The `clnrm:chaos/container` capability.

mod host;
