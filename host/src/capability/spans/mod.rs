//! The `clnrm:chaos/spans` capability.

mod host;
