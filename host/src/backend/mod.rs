//! What the host alone touches: the Docker engine (and, later, the kernel).

pub mod docker;
pub mod labels;

pub use docker::{ContainerState, Docker, DockerError, ExecOutcome, Leftovers};
