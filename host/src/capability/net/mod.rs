//! The `clnrm:chaos/net` capability: faults and probes on a scenario's
//! traffic, inside the containers' own network namespaces.

pub mod dnsfault;
mod dnswire;
mod host;
pub mod netfault;
pub mod netns;
mod nfqueue;
