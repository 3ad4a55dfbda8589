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
mod ping;
mod raw;

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
    /// Which engine answered (Docker or Podman) and where.
    engine: super::engine::EngineId,
}

impl Docker {
    /// Connect to the engine [`super::engine`] selects (`--engine`,
    /// CLNRM_ENGINE, DOCKER_HOST / CONTAINER_HOST, then the first socket
    /// that answers), check it answers, agree on an API version, and learn
    /// whether it is Docker or Podman.
    pub async fn connect() -> Result<Self, BackendError> {
        let candidates = super::engine::process_candidates().map_err(BackendError::Unreachable)?;
        let mut tried = Vec::new();
        for c in &candidates {
            match Self::connect_to(&c.endpoint).await {
                Ok(d) => match c.expect {
                    Some(k) if k != d.engine.kind => tried.push(format!(
                        "{} ({}): answers, but is {}, not {}",
                        c.endpoint,
                        c.why,
                        d.engine.kind.name(),
                        k.name()
                    )),
                    _ => {
                        tracing::info!(engine = d.engine.kind.name(), version = %d.engine.version, endpoint = %c.endpoint, why = c.why, "engine chosen");
                        return Ok(d);
                    }
                },
                Err(e) => tried.push(format!("{} ({}): {e}", c.endpoint, c.why)),
            }
        }
        Err(BackendError::Unreachable(format!(
            "no container engine answered: {}; {}",
            tried.join("; "),
            super::engine::no_engine_hint()
        )))
    }

    /// Every engine that answers on this machine (`gc --all-engines`), and
    /// why each other place did not.
    pub async fn connect_all() -> (Vec<Self>, Vec<String>) {
        let mut engines = Vec::new();
        let mut errors = Vec::new();
        for endpoint in super::engine::process_every_candidate() {
            match Self::connect_to(&endpoint).await {
                Ok(d) => engines.push(d),
                Err(e) => errors.push(format!("{endpoint}: {e}")),
            }
        }
        (engines, errors)
    }

    /// Connect to one endpoint and ask what it is.
    async fn connect_to(endpoint: &str) -> Result<Self, BackendError> {
        let unreachable = |e: bollard::errors::Error| BackendError::Unreachable(e.to_string());
        let in_time =
            |what: &str| BackendError::Unreachable(format!("no answer to {what} in 10 s"));
        let connect = |api: &bollard::ClientVersion| {
            if endpoint.starts_with("unix://") {
                bollard::Docker::connect_with_unix(endpoint, 120, api)
            } else if endpoint.starts_with("tcp://") || endpoint.starts_with("http://") {
                bollard::Docker::connect_with_http(endpoint, 120, api)
            } else {
                return Err(BackendError::Unreachable(format!(
                    "{endpoint}: expected unix:// or tcp://"
                )));
            }
            .map_err(unreachable)
        };
        let ping = tokio::time::timeout(
            Duration::from_secs(10),
            raw::request(endpoint, "GET", "/_ping", None),
        )
        .await
        .map_err(|_| in_time("/_ping"))??;
        let (client, kind, version) = match ping::said(&ping) {
            Some(s) => (connect(&ping::agreed(&s.api))?, s.kind, s.version),
            None => {
                // Headers we do not know: ask `/version`, as bollard negotiates.
                let client = connect(bollard::API_DEFAULT_VERSION)?;
                let client =
                    tokio::time::timeout(Duration::from_secs(10), client.negotiate_version())
                        .await
                        .map_err(|_| in_time("/version"))?
                        .map_err(unreachable)?;
                let version = tokio::time::timeout(Duration::from_secs(10), client.version())
                    .await
                    .map_err(|_| in_time("/version"))?
                    .map_err(unreachable)?;
                let components: Vec<&str> = version
                    .components
                    .iter()
                    .flatten()
                    .map(|c| c.name.as_str())
                    .collect();
                let kind = super::engine::Kind::of_version(
                    version.platform.as_ref().map(|p| p.name.as_str()),
                    &components,
                );
                (client, kind, version.version.unwrap_or_else(|| "?".into()))
            }
        };
        let peer = super::engine::service_peer(endpoint);
        let (rootless, cgroup_v1) = match (kind, peer.map(|(_, uid)| uid)) {
            // Podman 4.3's compat `/info` has no `name=rootless` option even when it is
            // rootless (measured: only `name=seccomp,profile=default`), and takes 0.4 s.
            // A local socket's owner says it at no cost, and the engine's cgroups are
            // this kernel's.
            (super::engine::Kind::Podman, Some(uid)) => (uid != 0, super::engine::host_cgroup_v1()),
            // Elsewhere, libpod's own info says both.
            (super::engine::Kind::Podman, None) => {
                let a = raw::request(endpoint, "GET", "/v4.0.0/libpod/info", None).await?;
                let info = a.json().ok();
                let info = info.as_ref();
                (
                    info.and_then(libpod_rootless) == Some(true),
                    info.and_then(libpod_cgroup_v1).unwrap_or(false),
                )
            }
            (super::engine::Kind::Docker, _) => {
                let info = tokio::time::timeout(Duration::from_secs(10), client.info())
                    .await
                    .map_err(|_| in_time("/info"))?
                    .map_err(unreachable)?;
                (
                    info.security_options
                        .iter()
                        .flatten()
                        .any(|o| o.contains("rootless")),
                    info.cgroup_version.is_some_and(|v| v.to_string() == "1"),
                )
            }
        };
        Ok(Docker {
            client,
            hosts_file: super::isolated::hosts_file(),
            commands: Default::default(),
            engine: super::engine::EngineId {
                kind,
                version,
                endpoint: endpoint.to_string(),
                rootless,
                max_ulimits: peer
                    .and_then(|(pid, _)| super::engine::service_limits(pid))
                    .unwrap_or_else(super::engine::own_limits),
                cgroup_v1,
            },
        })
    }

    /// Which engine this is.
    pub fn engine(&self) -> &super::engine::EngineId {
        &self.engine
    }

    pub(super) fn is_podman(&self) -> bool {
        self.engine.kind == super::engine::Kind::Podman
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

/// `host.security.rootless` of libpod's `/libpod/info` answer.
fn libpod_rootless(info: &serde_json::Value) -> Option<bool> {
    info.get("host")?
        .get("security")?
        .get("rootless")?
        .as_bool()
}

/// `host.cgroupVersion` (`"v1"` / `"v2"`) of libpod's `/libpod/info` answer.
fn libpod_cgroup_v1(info: &serde_json::Value) -> Option<bool> {
    Some(info.get("host")?.get("cgroupVersion")?.as_str()? == "v1")
}

#[cfg(test)]
mod rootless_tests {
    use super::{libpod_cgroup_v1, libpod_rootless};

    #[test]
    fn libpods_info_says_whether_podman_is_rootless() {
        // Shapes of Podman 4.3.1's /v4.0.0/libpod/info, rootless and rootful.
        let rootless =
            serde_json::json!({"host": {"security": {"rootless": true, "seccompEnabled": true}}});
        assert_eq!(libpod_rootless(&rootless), Some(true));
        let rootful = serde_json::json!({"host": {"security": {"rootless": false}}});
        assert_eq!(libpod_rootless(&rootful), Some(false));
        assert_eq!(
            libpod_rootless(&serde_json::json!({"message": "not found"})),
            None
        );
        let v1 = serde_json::json!({"host": {"cgroupVersion": "v1", "cgroupManager": "cgroupfs"}});
        assert_eq!(libpod_cgroup_v1(&v1), Some(true));
        assert_eq!(
            libpod_cgroup_v1(&serde_json::json!({"host": {"cgroupVersion": "v2"}})),
            Some(false)
        );
        assert_eq!(libpod_cgroup_v1(&rootful), None);
    }
}
