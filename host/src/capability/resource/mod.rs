//! The `clnrm:chaos/resource` capability.

mod host;
