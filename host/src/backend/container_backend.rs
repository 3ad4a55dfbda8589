//! The one seam between the engine (and the plugin host) and a container
//! runtime. Three implementations: [`super::Docker`] (bollard, a real run),
//! [`super::Replay`] (a replayed run: the journal answers every call before it
//! gets here) and [`super::Fake`] (in memory, for the engine's unit tests).
//! Method names and arguments are those the Docker client always had, so a
//! call site reads the same whichever backend is behind it.

use super::cgroup::{CgroupUsage, DiskUsage, LiveLimits};
use super::docker::{BackendError, ContainerState, ExecOutcome, Leftovers, Network};
use crate::suite::ServiceSpec;
use std::time::Duration;

/// How often `wait_stopped` asks again.
const WAIT_POLL: Duration = Duration::from_millis(10);

/// Everything the engine and the plugin host ask of a container runtime.
/// Object-safe: held as `Arc<dyn ContainerBackend>`.
#[async_trait::async_trait]
pub trait ContainerBackend: Send + Sync {
    /// Whether the daemon still answers (bounded: a dead proxy may hang).
    async fn ping(&self) -> Result<(), BackendError>;

    /// The image is present locally (a real run prepares images before it
    /// starts, through [`super::ImageBackend`]: pulled or built).
    async fn ensure_image(&self, image: &str) -> Result<(), BackendError>;

    /// Create the scenario's own network, labelled for the run.
    async fn create_network(&self, run_id: &str, scenario: &str) -> Result<Network, BackendError>;

    /// Remove a network; Ok(false) when it was already gone.
    async fn remove_network(&self, name: &str) -> Result<bool, BackendError>;

    async fn network_connect(
        &self,
        network: &str,
        id: &str,
        alias: &str,
    ) -> Result<(), BackendError>;

    async fn network_disconnect(&self, network: &str, id: &str) -> Result<(), BackendError>;

    /// Whether the container is attached to `network`.
    async fn network_attached(&self, network: &str, id: &str) -> Result<bool, BackendError>;

    /// The container's IPv4 address on `network`; none when it is not
    /// attached (network faults address peers by it).
    async fn network_address(
        &self,
        _network: &str,
        _id: &str,
    ) -> Result<Option<String>, BackendError> {
        Ok(None)
    }

    /// Create and start a service's container, labelled for the run, attached
    /// to `network` under its service id; without one, it has no network at
    /// all (only loopback). Returns its id.
    async fn start_service(
        &self,
        run_id: &str,
        scenario: &str,
        spec: &ServiceSpec,
        network: Option<&str>,
    ) -> Result<String, BackendError>;

    /// The network interfaces the kernel shows in the container's network
    /// namespace, sorted (`["lo"]` for a container without a network); None
    /// when that cannot be read here (not running, a remote daemon).
    async fn interfaces(&self, _id: &str) -> Result<Option<Vec<String>>, BackendError> {
        Ok(None)
    }

    /// Run `sh -c command` in the container; `timeout`: stop waiting (the
    /// caller then stops the container).
    async fn exec(
        &self,
        id: &str,
        command: &str,
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError>;

    /// Run `argv` in the container as it is, without a shell (images
    /// without `sh`). By default: the words quoted for `sh -c`.
    async fn exec_argv(
        &self,
        id: &str,
        argv: &[String],
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        self.exec(id, &crate::suite::quoted(argv), timeout).await
    }

    async fn inspect(&self, id: &str) -> Result<ContainerState, BackendError>;

    /// Wait (bounded) until the container is no longer running; its last state.
    async fn wait_stopped(
        &self,
        id: &str,
        bound: Duration,
    ) -> Result<ContainerState, BackendError> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let st = self.inspect(id).await?;
            if !st.running || tokio::time::Instant::now() >= deadline {
                return Ok(st);
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// Send a signal (`SIGKILL`, `SIGTERM`, ...) to the container.
    async fn kill(&self, id: &str, signal: &str) -> Result<(), BackendError>;

    async fn pause(&self, id: &str) -> Result<(), BackendError>;

    async fn unpause(&self, id: &str) -> Result<(), BackendError>;

    /// Remove a container (and its anonymous volumes), killing it if needed.
    /// Ok(false) when it was already gone.
    async fn remove(&self, id: &str) -> Result<bool, BackendError>;

    /// A file or directory of a container (running or stopped) as a tar archive.
    async fn archive(&self, id: &str, path: &str) -> Result<Vec<u8>, BackendError>;

    /// What the container's main process wrote to stdout and stderr (Docker's
    /// `logs`), interleaved as Docker kept it.
    async fn logs(&self, id: &str) -> Result<Vec<u8>, BackendError>;

    /// Number of processes running in a container (0 when it is not running).
    async fn process_count(&self, id: &str) -> Result<usize, BackendError>;

    /// Everything still carrying all of the given `label` filters
    /// (`key=value` or `key`).
    async fn leftovers(&self, label_filters: Vec<String>) -> Result<Leftovers, BackendError>;

    /// The kernel's count of OOM kills in the container's memory cgroup, when
    /// readable: the only evidence of an OOM kill in a container that lives on.
    async fn oom_kills(&self, id: &str) -> Option<u64>;

    /// A reading of the container's cgroup (v1 or v2) and of its processes' fds.
    async fn cgroup_read(&self, id: &str) -> Result<CgroupUsage, BackendError>;

    /// Apply the limits that are set; returns the previous value of each one
    /// set (None: there was no limit), so applying the answer restores them.
    async fn set_limits(&self, id: &str, limits: &LiveLimits) -> Result<LiveLimits, BackendError>;

    /// The filesystem at `path` inside the container.
    async fn disk_usage(&self, id: &str, path: &str) -> Result<DiskUsage, BackendError>;

    /// Fill the filesystem at `path` inside the container with a filler file
    /// until `percent` of it is used (100: until ENOSPC); the bytes written.
    async fn fill_disk(&self, id: &str, path: &str, percent: u8) -> Result<u64, BackendError>;

    /// Remove the filler `fill_disk` left at `path`.
    async fn unfill_disk(&self, id: &str, path: &str) -> Result<(), BackendError>;
}
