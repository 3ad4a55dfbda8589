//! The resource half of the seam: a container's cgroup (OOM kills, usage, live
//! limits) and its filesystems (usage, a filler file).

use super::cgroup::{CgroupUsage, DiskUsage, LiveLimits};
use super::{BackendError, Refuse};

/// A container's cgroup. Every method has a default that refuses.
#[async_trait::async_trait]
pub trait CgroupBackend: Refuse {
    /// The kernel's count of OOM kills in the container's memory cgroup, when
    /// readable: the only evidence of an OOM kill in a container that lives on.
    async fn oom_kills(&self, _id: &str) -> Option<u64> {
        None
    }

    /// A reading of the container's cgroup (v1 or v2) and of its processes' fds.
    async fn cgroup_read(&self, _id: &str) -> Result<CgroupUsage, BackendError> {
        Err(self.refusal("cgroup_read"))
    }

    /// Apply the limits that are set; returns the previous value of each one
    /// set (None: there was no limit), so applying the answer restores them.
    async fn set_limits(
        &self,
        _id: &str,
        _limits: &LiveLimits,
    ) -> Result<LiveLimits, BackendError> {
        Err(self.refusal("set_limits"))
    }
}

/// A container's filesystems. Every method has a default that refuses.
#[async_trait::async_trait]
pub trait DiskBackend: Refuse {
    /// The filesystem at `path` inside the container.
    async fn disk_usage(&self, _id: &str, _path: &str) -> Result<DiskUsage, BackendError> {
        Err(self.refusal("disk_usage"))
    }

    /// Fill the filesystem at `path` inside the container with a filler file
    /// until `percent` of it is used (100: until ENOSPC); the bytes written.
    async fn fill_disk(&self, _id: &str, _path: &str, _percent: u8) -> Result<u64, BackendError> {
        Err(self.refusal("fill_disk"))
    }

    /// Remove the filler `fill_disk` left at `path`.
    async fn unfill_disk(&self, _id: &str, _path: &str) -> Result<(), BackendError> {
        Err(self.refusal("unfill_disk"))
    }
}
