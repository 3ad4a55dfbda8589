//! The backend of a replayed run. Every container call a plugin makes is
//! answered from the recording by the journal before it reaches a backend;
//! one that gets here was not recorded, and there is no Docker to ask.

use super::{BackendError, CgroupBackend, ContainerBackend, DiskBackend, NetworkBackend, Refuse};

/// Answers every call with [`BackendError::Replaying`]: it offers nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Replay;

impl Refuse for Replay {
    fn refusal(&self, _: &'static str) -> BackendError {
        BackendError::Replaying
    }
}

impl ContainerBackend for Replay {}
impl NetworkBackend for Replay {}
impl CgroupBackend for Replay {}
impl DiskBackend for Replay {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_says_it_was_not_recorded() {
        let b: std::sync::Arc<dyn super::super::Backend> = std::sync::Arc::new(Replay);
        let e = b.kill("c", "SIGKILL").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "replaying: no Docker; this call was not in the recording"
        );
        assert!(!e.is_unreachable());
        assert!(matches!(b.inspect("c").await, Err(BackendError::Replaying)));
        assert_eq!(b.oom_kills("c").await, None);
        assert!(matches!(
            b.remove_network("n").await,
            Err(BackendError::Replaying)
        ));
        assert!(matches!(
            b.fill_disk("c", "/", 50).await,
            Err(BackendError::Replaying)
        ));
    }
}
