//! What the host alone touches: the container runtime (behind
//! [`ContainerBackend`]) and, later, the kernel.

pub mod cgroup;
mod container_backend;
pub mod docker;
pub mod fake;
pub mod gc;
pub mod labels;
pub mod liveness;
mod replay;

pub use container_backend::ContainerBackend;
pub use docker::{ContainerState, Docker, DockerError, ExecOutcome, Leftovers, Network};
pub use fake::Fake;
pub use replay::Replay;
