//! What the host alone touches: the container runtime, behind capability-sized
//! traits ([`ContainerBackend`], [`NetworkBackend`], [`CgroupBackend`],
//! [`DiskBackend`]) that [`Backend`] gathers for callers that need several.

mod cgroup_backend;
mod container_backend;
pub mod docker;
pub mod engine;
#[cfg(test)]
pub mod fake;
pub mod gc;
mod image_backend;
mod isolated;
pub mod labels;
pub mod liveness;
mod network_backend;
pub mod registry_auth;
mod replay;
mod resources;
mod types;

/// The cgroup readers live with their capability; Docker and the fake read through them.
pub use crate::capability::cgroup::kernel as cgroup;
pub use cgroup_backend::{CgroupBackend, DiskBackend};
pub use container_backend::{ContainerBackend, LogStream};
pub use docker::Docker;
#[cfg(test)]
pub use fake::Fake;
pub use image_backend::{ImageBackend, ImageCommand, ImageError, ImageInfo, ImageProgress, Quiet};
pub use network_backend::NetworkBackend;
pub use replay::Replay;
pub use types::{BackendError, ContainerState, ExecOutcome, Leftovers, Network};

/// What a backend answers to a call it does not offer: the default body of every
/// backend trait method returns it, so a backend overrides only what it answers.
pub trait Refuse: Send + Sync {
    fn refusal(&self, call: &'static str) -> BackendError {
        BackendError::Unavailable(call)
    }
}

/// Every capability of a container runtime: what the engine and the plugin host
/// hold (`Arc<dyn Backend>`). A function that needs one capability takes that
/// trait; `&dyn Backend` coerces to it.
pub trait Backend: ContainerBackend + NetworkBackend + CgroupBackend + DiskBackend {}

impl<T: ContainerBackend + NetworkBackend + CgroupBackend + DiskBackend + ?Sized> Backend for T {}
