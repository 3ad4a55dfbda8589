//! What the host alone touches: the Docker engine (and, later, the kernel).

pub mod cgroup;
pub mod docker;
pub mod gc;
pub mod labels;
pub mod liveness;

pub use docker::{ContainerState, Docker, DockerError, ExecOutcome, Leftovers, Network};
