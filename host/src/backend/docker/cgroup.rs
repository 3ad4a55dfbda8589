//! A Docker container's cgroup, read and changed through the kernel.

use super::Docker;
use crate::backend::cgroup::{self, CgroupUsage, LiveLimits};
use crate::backend::{BackendError, CgroupBackend, ContainerBackend};
use std::path::Path;

#[async_trait::async_trait]
impl CgroupBackend for Docker {
    async fn oom_kills(&self, id: &str) -> Option<u64> {
        let pid = self.inspect(id).await.ok()?.pid?;
        crate::backend::cgroup::oom_kills(pid)
    }

    async fn cgroup_read(&self, id: &str) -> Result<CgroupUsage, BackendError> {
        let dirs = self.cgroup_dirs(id).await?.1;
        cgroup::read_usage(&dirs, Path::new("/proc")).map_err(BackendError::Kernel)
    }

    async fn set_limits(&self, id: &str, limits: &LiveLimits) -> Result<LiveLimits, BackendError> {
        crate::backend::resources::set_limits(self, &self.client, id, limits).await
    }
}

impl Docker {
    /// The init process of a running container and its cgroup directories.
    pub(in crate::backend) async fn cgroup_dirs(
        &self,
        id: &str,
    ) -> Result<(u32, cgroup::Dirs), BackendError> {
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
