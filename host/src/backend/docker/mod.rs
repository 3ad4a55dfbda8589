//! Docker through bollard: start service containers, exec steps, observe,
//! kill, remove, and count what a run left behind.

use super::cgroup::{self, CgroupUsage, DiskUsage, LiveLimits};
use super::labels;
use super::ContainerBackend;
use crate::suite::ServiceSpec;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Mount, MountTypeEnum, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest, NetworkingConfig, ResourcesUlimits,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

mod command;
mod exec;
mod image;

/// How much of a step's stdout/stderr we keep (the tail).
const OUTPUT_CAP: usize = 64 * 1024;

#[derive(Debug, Error)]
pub enum BackendError {
    #[error("Docker is unreachable ({0}); is the daemon running and DOCKER_HOST right?")]
    Unreachable(String),
    #[error("image `{0}` is not present locally (it was pulled or found before the run started: was it removed since?)")]
    ImageMissing(String),
    #[error("docker: {0}")]
    Api(#[from] bollard::errors::Error),
    /// A replayed run asked for something the recording does not answer.
    #[error("replaying: no Docker; this call was not in the recording")]
    Replaying,
    /// No such container or network (the fake backend's 404).
    #[error("no such container or network: {0}")]
    NotFound(String),
    /// The object is in the wrong state for the call (the fake backend's 409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Reading or changing the container's cgroup or processes failed.
    #[error("kernel: {0}")]
    Kernel(String),
}

impl BackendError {
    /// True when the daemon itself is gone (as opposed to one call failing).
    pub fn is_unreachable(&self) -> bool {
        match self {
            BackendError::Unreachable(_) => true,
            BackendError::Api(e) => matches!(
                e,
                bollard::errors::Error::IOError { .. }
                    | bollard::errors::Error::HyperResponseError { .. }
                    | bollard::errors::Error::RequestTimeoutError
            ),
            _ => false,
        }
    }
}

/// What Docker says about a container right now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    /// Host PID of the container's init process while it runs.
    pub pid: Option<u32>,
}

impl ContainerState {
    /// Docker's `paused` status (a paused container still counts as running).
    pub fn is_paused(&self) -> bool {
        self.status == "paused"
    }
}

/// The result of running one command in a container.
#[derive(Clone, Debug, Default)]
pub struct ExecOutcome {
    /// None when Docker could not tell (the container died under it).
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// What is still there for a label filter after cleanup.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Leftovers {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }
}

#[derive(Clone)]
pub struct Docker {
    client: bollard::Docker,
    /// The `/etc/hosts` bind-mounted into containers without a network, which
    /// then skip Docker's network sandbox; None: they get Docker's `none` mode.
    hosts_file: Option<std::path::PathBuf>,
    /// Each image's own command, as inspected when images were prepared:
    /// whether a service keeps alive costs no round trip at start.
    commands: std::sync::Arc<std::sync::Mutex<HashMap<String, super::ImageCommand>>>,
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

#[async_trait::async_trait]
impl ContainerBackend for Docker {
    /// Whether the daemon still answers (bounded: a dead proxy may hang).
    async fn ping(&self) -> Result<(), BackendError> {
        match tokio::time::timeout(Duration::from_secs(5), self.client.ping()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(BackendError::Unreachable(e.to_string())),
            Err(_) => Err(BackendError::Unreachable("no answer to ping in 5 s".into())),
        }
    }

    async fn ensure_image(&self, image: &str) -> Result<(), BackendError> {
        match self.client.inspect_image(image).await {
            Ok(_) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(BackendError::ImageMissing(image.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Create the scenario's own bridge network, labelled for the run; its
    /// services find each other there by service id.
    async fn create_network(&self, run_id: &str, scenario: &str) -> Result<Network, BackendError> {
        let name = network_name(run_id, scenario);
        let mut lbl = labels::for_run(run_id);
        lbl.insert(labels::SCENARIO.to_string(), scenario.to_string());
        let req = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            labels: Some(lbl),
            ..Default::default()
        };
        let created = self.client.create_network(req).await?;
        Ok(Network {
            id: created.id,
            name,
        })
    }

    /// Remove a network; Ok(false) when it was already gone.
    async fn remove_network(&self, name: &str) -> Result<bool, BackendError> {
        match self.client.remove_network(name).await {
            Ok(()) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn network_disconnect(&self, network: &str, id: &str) -> Result<(), BackendError> {
        let req = NetworkDisconnectRequest {
            container: Some(id.to_string()),
            force: Some(true),
        };
        Ok(self.client.disconnect_network(network, req).await?)
    }

    async fn network_connect(
        &self,
        network: &str,
        id: &str,
        alias: &str,
    ) -> Result<(), BackendError> {
        let req = NetworkConnectRequest {
            container: Some(id.to_string()),
            endpoint_config: Some(EndpointSettings {
                aliases: Some(vec![alias.to_string()]),
                ..Default::default()
            }),
        };
        Ok(self.client.connect_network(network, req).await?)
    }

    /// Whether Docker lists the container as attached to `network`.
    async fn network_attached(&self, network: &str, id: &str) -> Result<bool, BackendError> {
        let info = self
            .client
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await?;
        Ok(info
            .network_settings
            .and_then(|n| n.networks)
            .is_some_and(|n| n.contains_key(network)))
    }

    async fn network_address(
        &self,
        network: &str,
        id: &str,
    ) -> Result<Option<String>, BackendError> {
        let info = self
            .client
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await?;
        Ok(info
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(network))
            .and_then(|e| e.ip_address)
            .filter(|a| !a.is_empty()))
    }

    async fn pause(&self, id: &str) -> Result<(), BackendError> {
        Ok(self.client.pause_container(id).await?)
    }

    async fn unpause(&self, id: &str) -> Result<(), BackendError> {
        Ok(self.client.unpause_container(id).await?)
    }

    /// A file or directory of a container (running or stopped) as a tar archive.
    async fn archive(&self, id: &str, path: &str) -> Result<Vec<u8>, BackendError> {
        let opts = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = self.client.download_from_container(id, Some(opts));
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    async fn logs(&self, id: &str) -> Result<Vec<u8>, BackendError> {
        let opts = bollard::query_parameters::LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        let mut stream = self.client.logs(id, Some(opts));
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?.into_bytes());
        }
        Ok(out)
    }

    /// Number of processes running in a container (0 when it is not running).
    async fn process_count(&self, id: &str) -> Result<usize, BackendError> {
        match self
            .client
            .top_processes(id, None::<bollard::query_parameters::TopOptions>)
            .await
        {
            Ok(top) => Ok(top.processes.map(|p| p.len()).unwrap_or(0)),
            // 409: not running; 404: gone. Either way nothing runs in it.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Create and start a service's container, labelled for the run, attached
    /// to `network` under its service id, or to no network at all.
    async fn start_service(
        &self,
        run_id: &str,
        scenario: &str,
        spec: &ServiceSpec,
        network: Option<&str>,
    ) -> Result<String, BackendError> {
        let launch = command::launch(spec, self.image_command(&spec.image).await.as_ref());
        let host_config = HostConfig {
            memory: spec.memory_mb.map(|mb| (mb * 1024 * 1024) as i64),
            // Same as memory unless `memory_swap_mb` says otherwise: no
            // swap, so a limit really means OOM.
            memory_swap: spec
                .memory_swap_mb
                .or(spec.memory_mb)
                .map(|mb| (mb * 1024 * 1024) as i64),
            nano_cpus: spec.cpu_millicores.map(|m| (m * 1_000_000) as i64),
            pids_limit: spec.pids,
            ulimits: spec.max_file_descriptors.map(|n| {
                vec![ResourcesUlimits {
                    name: Some("nofile".into()),
                    soft: Some(n as i64),
                    hard: Some(n as i64),
                }]
            }),
            tmpfs: (!spec.tmpfs.is_empty()).then(|| {
                spec.tmpfs
                    .iter()
                    .map(|(p, mb)| (p.clone(), format!("size={mb}m")))
                    .collect::<HashMap<_, _>>()
            }),
            cap_add: (!spec.capabilities.is_empty()).then(|| spec.capabilities.clone()),
            // No network of its own: none at all (only loopback), never
            // Docker's shared default bridge.
            network_mode: Some(network.unwrap_or("none").to_string()),
            mounts: match (network, &self.hosts_file) {
                (None, Some(hosts)) => Some(vec![Mount {
                    target: Some("/etc/hosts".into()),
                    source: Some(hosts.to_string_lossy().into_owned()),
                    typ: Some(MountTypeEnum::BIND),
                    read_only: Some(true),
                    ..Default::default()
                }]),
                _ => None,
            },
            ..Default::default()
        };
        let networking_config = network.map(|n| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                n.to_string(),
                EndpointSettings {
                    aliases: Some(vec![spec.id.clone()]),
                    ..Default::default()
                },
            )])),
        });
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: launch.cmd,
            entrypoint: launch.entrypoint,
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(labels::for_service(run_id, scenario, &spec.id)),
            host_config: Some(host_config),
            networking_config,
            // See `isolated`: no sandbox at all, half the start time.
            network_disabled: (network.is_none() && self.hosts_file.is_some()).then_some(true),
            ..Default::default()
        };
        let name = container_name(run_id, scenario, &spec.id);
        let opts = CreateContainerOptionsBuilder::default().name(&name).build();
        // No image check before: `clnrm run` checked every image up front, and
        // a create without its image answers 404 anyway (one round trip less).
        let created = match self.client.create_container(Some(opts), body).await {
            Ok(c) => c,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                message,
            }) if message.contains("image") => {
                return Err(BackendError::ImageMissing(spec.image.clone()))
            }
            Err(e) => return Err(e.into()),
        };
        if let Err(e) = self
            .client
            .start_container(
                &created.id,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
        {
            // Nobody will know this id: remove it now (verification and gc
            // would still find it by label if this fails too).
            let _ = self.remove(&created.id).await;
            return Err(e.into());
        }
        Ok(created.id)
    }

    /// Run `sh -c command` in the container; collect exit code and output.
    /// `timeout`: stop waiting (the caller kills the container).
    async fn exec(
        &self,
        id: &str,
        command: &str,
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        self.exec_cmd(id, vec!["sh", "-c", command], timeout).await
    }

    /// Run `argv` as it is: no shell in between.
    async fn exec_argv(
        &self,
        id: &str,
        argv: &[String],
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        self.exec_cmd(id, argv.iter().map(String::as_str).collect(), timeout)
            .await
    }

    async fn inspect(&self, id: &str) -> Result<ContainerState, BackendError> {
        let info = self
            .client
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await?;
        let st = info.state.unwrap_or_default();
        Ok(ContainerState {
            status: st
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
            running: st.running.unwrap_or(false),
            exit_code: (st.running != Some(true)).then_some(st.exit_code).flatten(),
            oom_killed: st.oom_killed.unwrap_or(false),
            pid: st.pid.filter(|p| *p > 0).map(|p| p as u32),
        })
    }

    async fn kill(&self, id: &str, signal: &str) -> Result<(), BackendError> {
        let opts = KillContainerOptionsBuilder::default()
            .signal(signal)
            .build();
        Ok(self.client.kill_container(id, Some(opts)).await?)
    }

    /// Remove a container (and its anonymous volumes), killing it if needed.
    /// Ok(false) when it was already gone.
    async fn remove(&self, id: &str) -> Result<bool, BackendError> {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.client.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            // Someone else is removing it right now (e.g. its own run's cleanup).
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) if message.contains("already in progress") => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Everything still carrying all of the given `label` filters.
    async fn leftovers(&self, label_filters: Vec<String>) -> Result<Leftovers, BackendError> {
        let filters = HashMap::from([("label".to_string(), label_filters)]);
        // Three independent questions: asked at once.
        let (containers, networks, volumes) = tokio::try_join!(
            self.client.list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build(),
            )),
            self.client.list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            )),
            self.client.list_volumes(Some(
                ListVolumesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            )),
        )?;
        Ok(Leftovers {
            containers: containers.into_iter().filter_map(|c| c.id).collect(),
            networks: networks.into_iter().filter_map(|n| n.id).collect(),
            volumes: volumes
                .volumes
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.name)
                .collect(),
        })
    }

    /// From the kernel: `/proc/<pid>/net/dev` of the container's init.
    async fn interfaces(&self, id: &str) -> Result<Option<Vec<String>>, BackendError> {
        let Some(pid) = self.inspect(id).await?.pid else {
            return Ok(None);
        };
        match super::isolated::interfaces(Path::new("/proc"), pid) {
            Ok(names) => Ok(Some(names)),
            // Not our kernel (a remote daemon), or it just exited.
            Err(_) => Ok(None),
        }
    }

    async fn oom_kills(&self, id: &str) -> Option<u64> {
        let pid = self.inspect(id).await.ok()?.pid?;
        super::cgroup::oom_kills(pid)
    }

    async fn cgroup_read(&self, id: &str) -> Result<CgroupUsage, BackendError> {
        let dirs = self.cgroup_dirs(id).await?.1;
        cgroup::read_usage(&dirs, Path::new("/proc")).map_err(BackendError::Kernel)
    }

    async fn set_limits(&self, id: &str, limits: &LiveLimits) -> Result<LiveLimits, BackendError> {
        super::resources::set_limits(self, &self.client, id, limits).await
    }

    async fn disk_usage(&self, id: &str, path: &str) -> Result<DiskUsage, BackendError> {
        super::resources::disk_usage(self, id, path).await
    }

    async fn fill_disk(&self, id: &str, path: &str, percent: u8) -> Result<u64, BackendError> {
        super::resources::fill_disk(self, id, path, percent).await
    }

    async fn unfill_disk(&self, id: &str, path: &str) -> Result<(), BackendError> {
        super::resources::unfill_disk(self, id, path).await
    }
}

impl Docker {
    /// The init process of a running container and its cgroup directories.
    pub(super) async fn cgroup_dirs(&self, id: &str) -> Result<(u32, cgroup::Dirs), BackendError> {
        let pid = self
            .inspect(id)
            .await?
            .pid
            .ok_or_else(|| BackendError::Conflict(format!("container {id} is not running")))?;
        let dirs = cgroup::dirs(pid)
            .ok_or_else(|| BackendError::Kernel(format!("no cgroup found for pid {pid}")))?;
        Ok((pid, dirs))
    }
}

/// A network the run created: Docker's id (what verification lists) and
/// its name (what people read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Network {
    pub id: String,
    pub name: String,
}

/// A resource carrying the `clnrm` label.
#[derive(Clone, Debug)]
pub struct Owned {
    pub kind: ResourceKind,
    pub id: String,
    pub labels: HashMap<String, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceKind {
    Container,
    Network,
    Volume,
}

impl Docker {
    /// Every container, network and volume labelled `clnrm` (any run).
    pub async fn list_owned(&self) -> Result<Vec<Owned>, BackendError> {
        let filters = HashMap::from([("label".to_string(), vec![labels::RUN.to_string()])]);
        let mut out = Vec::new();
        for c in self
            .client
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await?
        {
            out.push(Owned {
                kind: ResourceKind::Container,
                id: c.id.unwrap_or_default(),
                labels: c.labels.unwrap_or_default(),
            });
        }
        for n in self
            .client
            .list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?
        {
            out.push(Owned {
                kind: ResourceKind::Network,
                id: n.id.unwrap_or_default(),
                labels: n.labels.unwrap_or_default(),
            });
        }
        for v in self
            .client
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?
            .volumes
            .unwrap_or_default()
        {
            out.push(Owned {
                kind: ResourceKind::Volume,
                id: v.name,
                labels: v.labels,
            });
        }
        Ok(out)
    }

    pub async fn remove_volume(&self, name: &str) -> Result<bool, BackendError> {
        match self
            .client
            .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

pub(super) fn push_capped(buf: &mut String, bytes: &[u8]) {
    buf.push_str(&String::from_utf8_lossy(bytes));
    if buf.len() > OUTPUT_CAP {
        let cut = buf.len() - OUTPUT_CAP;
        let cut = (cut..buf.len())
            .find(|i| buf.is_char_boundary(*i))
            .unwrap_or(buf.len());
        buf.drain(..cut);
    }
}

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
