//! The container half of the seam between the engine (and the plugin host) and a
//! container runtime: lifecycle, exec, inspection, logs and archives. Three
//! implementations: [`super::Docker`] (bollard, a real run), [`super::Replay`] (a
//! replayed run: the journal answers every call before it gets here) and
//! [`super::Fake`] (in memory, for the engine's unit tests). Method names and
//! arguments are those the Docker client always had, so a call site reads the same
//! whichever backend is behind it. Every method has a default that refuses (see
//! [`super::Refuse`]), so a backend implements only what it answers.

use super::{BackendError, ContainerState, ExecOutcome, Leftovers, Refuse};
use crate::suite::ServiceSpec;
use std::time::Duration;

/// Chunks of a container's output, ending when the container does.
pub type LogStream = futures_util::stream::BoxStream<'static, Result<Vec<u8>, BackendError>>;

/// How often `wait_stopped` asks again.
const WAIT_POLL: Duration = Duration::from_millis(10);

/// What the engine and the plugin host ask of a container runtime about containers.
/// Object-safe: held as `Arc<dyn ContainerBackend>` (or as part of [`super::Backend`]).
#[async_trait::async_trait]
pub trait ContainerBackend: Refuse {
    /// Whether the daemon still answers (bounded: a dead proxy may hang).
    async fn ping(&self) -> Result<(), BackendError> {
        Err(self.refusal("ping"))
    }

    /// The image is present locally (a real run prepares images before it
    /// starts, through [`super::ImageBackend`]: pulled or built).
    async fn ensure_image(&self, _image: &str) -> Result<(), BackendError> {
        Err(self.refusal("ensure_image"))
    }

    /// Create and start a service's container, labelled for the run, attached
    /// to `network` under its service id; without one, it has no network at
    /// all (only loopback). Returns its id.
    async fn start_service(
        &self,
        _run_id: &str,
        _scenario: &str,
        _spec: &ServiceSpec,
        _network: Option<&str>,
    ) -> Result<String, BackendError> {
        Err(self.refusal("start_service"))
    }

    /// Run `sh -c command` in the container; `timeout`: stop waiting (the
    /// caller then stops the container).
    async fn exec(
        &self,
        _id: &str,
        _command: &str,
        _timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        Err(self.refusal("exec"))
    }

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

    /// A step's command (`argv` as it is, else `command` through `sh -c`)
    /// with `KEY=value` entries added to its environment (the step span's
    /// `TRACEPARENT`). By default the environment is not passed on.
    async fn exec_env(
        &self,
        id: &str,
        command: &str,
        argv: Option<&[String]>,
        _env: &[String],
        timeout: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        match argv {
            Some(argv) => self.exec_argv(id, argv, timeout).await,
            None => self.exec(id, command, timeout).await,
        }
    }

    async fn inspect(&self, _id: &str) -> Result<ContainerState, BackendError> {
        Err(self.refusal("inspect"))
    }

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
    async fn kill(&self, _id: &str, _signal: &str) -> Result<(), BackendError> {
        Err(self.refusal("kill"))
    }

    async fn pause(&self, _id: &str) -> Result<(), BackendError> {
        Err(self.refusal("pause"))
    }

    async fn unpause(&self, _id: &str) -> Result<(), BackendError> {
        Err(self.refusal("unpause"))
    }

    /// Remove a container (and its anonymous volumes), killing it if needed.
    /// Ok(false) when it was already gone.
    async fn remove(&self, _id: &str) -> Result<bool, BackendError> {
        Err(self.refusal("remove"))
    }

    /// A file or directory of a container (running or stopped) as a tar archive.
    async fn archive(&self, _id: &str, _path: &str) -> Result<Vec<u8>, BackendError> {
        Err(self.refusal("archive"))
    }

    /// What the container's main process wrote to stdout and stderr (Docker's
    /// `logs`), interleaved as Docker kept it.
    async fn logs(&self, _id: &str) -> Result<Vec<u8>, BackendError> {
        Err(self.refusal("logs"))
    }

    /// The image's own `HEALTHCHECK` (`ready = "healthcheck"` without a
    /// service `healthcheck`), for `container`, created from `image`; None
    /// when it has none.
    async fn image_healthcheck(
        &self,
        _image: &str,
        _container: &str,
    ) -> Result<Option<crate::suite::Healthcheck>, BackendError> {
        Ok(None)
    }

    /// Which engine answers (Docker or Podman, its version): the run span
    /// says it. None for backends that are no engine (fake, replay).
    fn engine_id(&self) -> Option<super::engine::EngineId> {
        None
    }

    /// The container's output as it comes (Docker's `logs --follow`), from
    /// the start; None when this backend cannot follow (callers poll `logs`).
    fn follow_logs(&self, _id: &str) -> Option<LogStream> {
        None
    }

    /// Number of processes running in a container (0 when it is not running).
    async fn process_count(&self, _id: &str) -> Result<usize, BackendError> {
        Err(self.refusal("process_count"))
    }

    /// Everything still carrying all of the given `label` filters
    /// (`key=value` or `key`).
    async fn leftovers(&self, _label_filters: Vec<String>) -> Result<Leftovers, BackendError> {
        Err(self.refusal("leftovers"))
    }
}
