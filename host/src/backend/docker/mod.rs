//! Docker through bollard: start service containers, exec steps, observe,
//! kill, remove, and count what a run left behind. One file per capability
//! trait the client implements.

mod cgroup;
mod command;
mod containers;
mod disk;
mod exec;
mod image;
mod info;
mod networks;
mod options;
mod owned;

use super::BackendError;
use super::Refuse;
pub use owned::{Owned, ResourceKind};
use std::time::Duration;

#[derive(Clone)]
pub struct Docker {
    client: bollard::Docker,
    /// The `/etc/hosts` bind-mounted into containers without a network, which
    /// then skip Docker's network sandbox; None: they get Docker's `none` mode.
    hosts_file: Option<std::path::PathBuf>,
    /// Each image's own command, as inspected when images were prepared:
    /// whether a service keeps alive costs no round trip at start.
    commands:
        std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, super::ImageCommand>>>,
}

impl Docker {
    /// Connect (DOCKER_HOST or the local socket), check the daemon answers,
    /// and agree on an API version it speaks.
    pub async fn connect() -> Result<Self, BackendError> {
        let client = bollard::Docker::connect_with_defaults()
            .map_err(|e| BackendError::Unreachable(e.to_string()))?;
        let client = tokio::time::timeout(Duration::from_secs(10), client.negotiate_version())
            .await
            .map_err(|_| BackendError::Unreachable("no answer in 10 s".into()))?
            .map_err(|e| BackendError::Unreachable(e.to_string()))?;
        client
            .ping()
            .await
            .map_err(|e| BackendError::Unreachable(e.to_string()))?;
        Ok(Docker {
            client,
            hosts_file: super::isolated::hosts_file(),
            commands: Default::default(),
        })
    }
}

/// Every call is answered: nothing is refused.
impl Refuse for Docker {}

/// The name of a scenario's network (every backend names it the same way).
pub(super) fn network_name(run_id: &str, scenario: &str) -> String {
    format!(
        "clnrm-{}-{}",
        &run_id[..run_id.len().min(12)],
        sanitize(scenario)
    )
}

/// The name of a service's container.
pub(super) fn container_name(run_id: &str, scenario: &str, service: &str) -> String {
    format!(
        "clnrm-{}-{}-{}",
        &run_id[..run_id.len().min(12)],
        sanitize(scenario),
        sanitize(service)
    )
}

/// Docker names allow [a-zA-Z0-9_.-].
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
