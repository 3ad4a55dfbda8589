//! The `clnrm:chaos/cgroup` capability: resource readings and live limits.

mod host;
pub mod kernel;
