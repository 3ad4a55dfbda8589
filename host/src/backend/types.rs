//! What every backend speaks: its error and the values its calls return.

use thiserror::Error;

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
    /// The backend does not offer this call (the default of [`super::Refuse`]).
    #[error("{0}: not available from this backend")]
    Unavailable(&'static str),
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
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// A network the run created: Docker's id (what verification lists) and
/// its name (what people read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Network {
    pub id: String,
    pub name: String,
}
