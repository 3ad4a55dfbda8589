//! What the host alone touches: the container runtime (behind
//! [`ContainerBackend`]) and the kernel: network faults inside a container's
//! own network namespace ([`netns`], [`netfault`]).

pub mod cgroup;
mod container_backend;
pub mod dnsfault;
mod dnswire;
pub mod docker;
#[cfg(test)]
pub mod fake;
pub mod gc;
mod isolated;
pub mod labels;
pub mod liveness;
pub mod netfault;
pub mod netns;
mod nfqueue;
mod replay;
mod resources;

pub use container_backend::ContainerBackend;
pub use docker::{ContainerState, Docker, DockerError, ExecOutcome, Leftovers, Network};
#[cfg(test)]
pub use fake::Fake;
pub use replay::Replay;
