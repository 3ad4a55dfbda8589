//! The `clnrm:chaos/compose` capability.

mod host;
