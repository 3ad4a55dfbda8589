//! The backend of a replayed run. Every container call a plugin makes is
//! answered from the recording by the journal before it reaches a backend;
//! one that gets here was not recorded, and there is no Docker to ask.

use super::cgroup::{CgroupUsage, DiskUsage, LiveLimits};
use super::docker::{BackendError, ContainerState, ExecOutcome, Leftovers, Network};
use super::ContainerBackend;
use crate::suite::ServiceSpec;
use std::time::Duration;

/// Answers every call with [`BackendError::Replaying`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Replay;

#[async_trait::async_trait]
impl ContainerBackend for Replay {
    async fn ping(&self) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
    async fn ensure_image(&self, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
    async fn create_network(&self, _: &str, _: &str) -> Result<Network, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn remove_network(&self, _: &str) -> Result<bool, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn network_connect(&self, _: &str, _: &str, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
    async fn network_disconnect(&self, _: &str, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
    async fn network_attached(&self, _: &str, _: &str) -> Result<bool, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn start_service(
        &self,
        _: &str,
        _: &str,
        _: &ServiceSpec,
        _: Option<&str>,
    ) -> Result<String, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn exec(
        &self,
        _: &str,
        _: &str,
        _: Option<Duration>,
    ) -> Result<ExecOutcome, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn inspect(&self, _: &str) -> Result<ContainerState, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn kill(&self, _: &str, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
    async fn pause(&self, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
    async fn unpause(&self, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
    async fn remove(&self, _: &str) -> Result<bool, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn archive(&self, _: &str, _: &str) -> Result<Vec<u8>, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn logs(&self, _: &str) -> Result<Vec<u8>, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn process_count(&self, _: &str) -> Result<usize, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn leftovers(&self, _: Vec<String>) -> Result<Leftovers, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn oom_kills(&self, _: &str) -> Option<u64> {
        None
    }
    async fn cgroup_read(&self, _: &str) -> Result<CgroupUsage, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn set_limits(&self, _: &str, _: &LiveLimits) -> Result<LiveLimits, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn disk_usage(&self, _: &str, _: &str) -> Result<DiskUsage, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn fill_disk(&self, _: &str, _: &str, _: u8) -> Result<u64, BackendError> {
        Err(BackendError::Replaying)
    }
    async fn unfill_disk(&self, _: &str, _: &str) -> Result<(), BackendError> {
        Err(BackendError::Replaying)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_says_it_was_not_recorded() {
        let b: std::sync::Arc<dyn ContainerBackend> = std::sync::Arc::new(Replay);
        let e = b.kill("c", "SIGKILL").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "replaying: no Docker; this call was not in the recording"
        );
        assert!(!e.is_unreachable());
        assert!(matches!(b.inspect("c").await, Err(BackendError::Replaying)));
        assert_eq!(b.oom_kills("c").await, None);
    }
}
