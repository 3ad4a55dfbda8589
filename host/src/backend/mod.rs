//! What the host alone touches: the container runtime (behind
//! [`ContainerBackend`]) and the kernel: network faults inside a container's
//! own network namespace ([`netns`], [`netfault`]).

mod container_backend;
pub mod docker;
#[cfg(test)]
pub mod fake;
pub mod gc;
mod image_backend;
mod isolated;
pub mod labels;
pub mod liveness;
pub mod registry_auth;
mod replay;
mod resources;

/// The cgroup readers live with their capability; Docker and the fake read through them.
pub use crate::capability::cgroup::kernel as cgroup;
pub use container_backend::ContainerBackend;
pub use docker::{BackendError, ContainerState, Docker, ExecOutcome, Leftovers, Network};
#[cfg(test)]
pub use fake::Fake;
pub use image_backend::{ImageBackend, ImageCommand, ImageError, ImageInfo, ImageProgress, Quiet};
pub use replay::Replay;
