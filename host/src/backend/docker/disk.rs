//! A Docker container's filesystems, read and filled from the host.

use super::Docker;
use crate::backend::cgroup::DiskUsage;
use crate::backend::{BackendError, DiskBackend};

#[async_trait::async_trait]
impl DiskBackend for Docker {
    async fn disk_usage(&self, id: &str, path: &str) -> Result<DiskUsage, BackendError> {
        crate::backend::resources::disk_usage(self, id, path).await
    }

    async fn fill_disk(&self, id: &str, path: &str, percent: u8) -> Result<u64, BackendError> {
        crate::backend::resources::fill_disk(self, id, path, percent).await
    }

    async fn unfill_disk(&self, id: &str, path: &str) -> Result<(), BackendError> {
        crate::backend::resources::unfill_disk(self, id, path).await
    }
}
