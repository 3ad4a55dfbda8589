//! A container's lifecycle on Docker: start, inspect, signal, pause, remove,
//! and what it leaves (logs, archives, processes, leftovers).

use super::{container_name, Docker};
use crate::backend::labels;
use crate::backend::{BackendError, ContainerBackend, ContainerState, ExecOutcome, Leftovers};
use crate::suite::ServiceSpec;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, Mount, MountTypeEnum, NetworkingConfig,
    ResourcesUlimits,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

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

    /// Create and start a service's container, labelled for the run, attached
    /// to `network` under its service id, or to no network at all.
    async fn start_service(
        &self,
        run_id: &str,
        scenario: &str,
        spec: &ServiceSpec,
        network: Option<&str>,
    ) -> Result<String, BackendError> {
        let launch = super::command::launch(spec, self.image_command(&spec.image).await.as_ref());
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
            ulimits: self.ulimits(spec.max_file_descriptors),
            tmpfs: (!spec.tmpfs.is_empty()).then(|| {
                spec.tmpfs
                    .iter()
                    .map(|(p, mb)| (p.clone(), format!("size={mb}m")))
                    .collect::<HashMap<_, _>>()
            }),
            cap_add: self.cap_add(&spec.capabilities),
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
        let mut body = ContainerCreateBody {
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
        super::options::apply(&spec.options, &mut body, network);
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
        // `files` go in between create and start, so the command finds them.
        let started = match super::options::upload_files(
            &self.client,
            &created.id,
            &spec.options.files,
        )
        .await
        {
            Ok(()) => self
                .client
                .start_container(
                    &created.id,
                    None::<bollard::query_parameters::StartContainerOptions>,
                )
                .await
                .map_err(BackendError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = started {
            // Nobody will know this id: remove it now (verification and gc
            // would still find it by label if this fails too).
            let _ = self.remove(&created.id).await;
            return Err(e);
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

    async fn exec_env(
        &self,
        id: &str,
        command: &str,
        argv: Option<&[String]>,
        env: &[String],
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        let cmd = match argv {
            Some(argv) => argv.iter().map(String::as_str).collect(),
            None => vec!["sh", "-c", command],
        };
        self.exec_cmd_env(id, cmd, env, timeout).await
    }

    async fn inspect(&self, id: &str) -> Result<ContainerState, BackendError> {
        let info = match self
            .client
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
        {
            Ok(info) => info,
            // A state bollard's model does not know (Podman's `stopped`,
            // `configured`, `stopping`...): read the same answer loosely.
            Err(
                bollard::errors::Error::JsonDataError { .. }
                | bollard::errors::Error::JsonSerdeError { .. },
            ) => return self.inspect_loosely(id).await,
            Err(e) => return Err(e.into()),
        };
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

    async fn pause(&self, id: &str) -> Result<(), BackendError> {
        Ok(self.client.pause_container(id).await?)
    }

    async fn unpause(&self, id: &str) -> Result<(), BackendError> {
        Ok(self.client.unpause_container(id).await?)
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

    async fn image_healthcheck(
        &self,
        image: &str,
        container: &str,
    ) -> Result<Option<crate::suite::Healthcheck>, BackendError> {
        if self.is_podman() {
            return self.podman_image_healthcheck(container).await;
        }
        super::options::image_healthcheck(&self.client, image).await
    }

    fn engine_id(&self) -> Option<crate::backend::engine::EngineId> {
        Some(self.engine().clone())
    }

    fn follow_logs(&self, id: &str) -> Option<crate::backend::LogStream> {
        Some(super::options::follow_logs(&self.client, id))
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
}

/// In Docker's default capability set, not in Podman's.
const DOCKER_DEFAULT_CAPS_PODMAN_LACKS: [&str; 3] = ["NET_RAW", "MKNOD", "AUDIT_WRITE"];

impl Docker {
    /// The ulimits a container is created with. Docker's containers inherit
    /// its daemon's limits; Podman gives each container its own defaults
    /// (1048576 files, 4194304 processes for root), which runc cannot set
    /// above the hard limits of the engine's own service ("error setting rlimit type
    /// 7: operation not permitted"): on Podman both are set, never above the
    /// service's hard limits unless the scenario asks for more.
    fn ulimits(&self, nofile: Option<u64>) -> Option<Vec<ResourcesUlimits>> {
        let limit = |name: &str, n: u64| ResourcesUlimits {
            name: Some(name.into()),
            soft: Some(n.min(i64::MAX as u64) as i64),
            hard: Some(n.min(i64::MAX as u64) as i64),
        };
        if !self.is_podman() {
            return nofile.map(|n| vec![limit("nofile", n)]);
        }
        let (files, procs) = self.engine.max_ulimits;
        Some(vec![
            limit("nofile", nofile.unwrap_or(files.min(1_048_576))),
            limit("nproc", procs.min(4_194_304)),
        ])
    }

    /// The capabilities added to the engine's default set. Podman's default
    /// set is Docker's without NET_RAW, MKNOD and AUDIT_WRITE (no `ping` in
    /// its containers): on Podman those are added, so a scenario sees the
    /// same container on either engine.
    fn cap_add(&self, caps: &[String]) -> Option<Vec<String>> {
        let mut v = caps.to_vec();
        if self.is_podman() {
            for c in DOCKER_DEFAULT_CAPS_PODMAN_LACKS {
                if !v
                    .iter()
                    .any(|x| x.trim_start_matches("CAP_").eq_ignore_ascii_case(c))
                {
                    v.push(c.to_string());
                }
            }
        }
        (!v.is_empty()).then_some(v)
    }

    /// `inspect` without bollard's model: Podman's own states mapped onto
    /// Docker's (`stopped` → `exited`, `configured` → `created`, `stopping` →
    /// `running`), so every caller sees one vocabulary.
    async fn inspect_loosely(&self, id: &str) -> Result<ContainerState, BackendError> {
        let path = format!("/containers/{id}/json");
        let a = super::raw::request(&self.engine.endpoint, "GET", &path, None).await?;
        if a.status == 404 {
            return Err(BackendError::NotFound(id.to_string()));
        }
        if a.status >= 400 {
            return Err(BackendError::Conflict(format!(
                "inspect {id}: {} {}",
                a.status,
                a.message()
            )));
        }
        Ok(state_of(&a.json()?))
    }
}

/// A container's state from an inspect answer, whichever engine wrote it.
pub(super) fn state_of(info: &serde_json::Value) -> ContainerState {
    let st = &info["State"];
    let running = st["Running"].as_bool().unwrap_or(false);
    let status = normalise_status(st["Status"].as_str().unwrap_or("unknown"), running);
    ContainerState {
        status,
        running,
        exit_code: (!running).then(|| st["ExitCode"].as_i64()).flatten(),
        oom_killed: st["OOMKilled"].as_bool().unwrap_or(false),
        pid: st["Pid"].as_i64().filter(|p| *p > 0).map(|p| p as u32),
    }
}

/// Podman's states in Docker's words.
pub(super) fn normalise_status(status: &str, running: bool) -> String {
    match status {
        "stopped" => "exited",
        "configured" | "initialized" => "created",
        "stopping" if running => "running",
        "stopping" => "exited",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_states_read_as_dockers() {
        // Podman 4.3's compat inspect of a container stopped by SIGTERM.
        let stopped = serde_json::json!({"State": {"Status": "stopped", "Running": false,
            "Paused": false, "OOMKilled": false, "Dead": false, "Pid": 0, "ExitCode": 143}});
        let s = state_of(&stopped);
        assert_eq!(
            (s.status.as_str(), s.running, s.exit_code, s.pid),
            ("exited", false, Some(143), None)
        );
        let oom = serde_json::json!({"State": {"Status": "exited", "Running": false,
            "OOMKilled": true, "Pid": 0, "ExitCode": 137}});
        assert!(state_of(&oom).oom_killed);
        let running = serde_json::json!({"State": {"Status": "running", "Running": true,
            "Pid": 4242, "ExitCode": 0}});
        let s = state_of(&running);
        assert_eq!((s.exit_code, s.pid), (None, Some(4242)));
        assert_eq!(normalise_status("configured", false), "created");
        assert_eq!(normalise_status("stopping", true), "running");
        assert_eq!(normalise_status("paused", false), "paused");
    }
}
