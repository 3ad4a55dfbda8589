//! The `clnrm:chaos/net` capability: faults and probes on a scenario's
//! traffic, inside the containers' own network namespaces.

pub mod dnsfault;
mod dnswire;
mod faults;
mod host;
mod kernel;
pub mod netfault;
pub mod netns;
mod nfqueue;

pub use faults::{Impairments, NetFaults, NoNetFaults};
pub use kernel::Kernel;
