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

impl Docker {
    /// A live memory / CPU change through libpod's
    /// `/libpod/containers/{id}/update` (OCI resources), for Podman, whose
    /// compat API answers 404 to Docker's `/containers/{id}/update`.
    pub(in crate::backend) async fn libpod_update(
        &self,
        id: &str,
        update: &bollard::models::ContainerUpdateBody,
    ) -> Result<(), BackendError> {
        let body = libpod_resources(update);
        // libpod routes answer only under a version prefix.
        let path = format!("/v4.0.0/libpod/containers/{id}/update");
        let a = super::raw::request(&self.engine().endpoint, "POST", &path, Some(body)).await?;
        match a.status {
            200..=299 => Ok(()),
            404 => Err(BackendError::NotFound(format!("{id}: {}", a.message()))),
            s => Err(BackendError::Conflict(format!(
                "podman update of {id}: {s} {}",
                a.message()
            ))),
        }
    }
}

/// Docker's update body in libpod's (OCI `LinuxResources`) words.
fn libpod_resources(u: &bollard::models::ContainerUpdateBody) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    if u.memory.is_some() || u.memory_swap.is_some() {
        let mut m = serde_json::Map::new();
        if let Some(b) = u.memory {
            m.insert("limit".into(), b.into());
        }
        if let Some(b) = u.memory_swap {
            m.insert("swap".into(), b.into());
        }
        body.insert("memory".into(), m.into());
    }
    if let Some(n) = u.nano_cpus {
        // nano-CPUs as a CFS quota per 100 ms period, as Docker sets them.
        const PERIOD: i64 = 100_000;
        body.insert(
            "cpu".into(),
            serde_json::json!({ "quota": n * PERIOD / 1_000_000_000, "period": PERIOD }),
        );
    }
    body.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_docker_update_becomes_libpods_resources() {
        let u = bollard::models::ContainerUpdateBody {
            memory: Some(64 << 20),
            memory_swap: Some(64 << 20),
            nano_cpus: Some(250_000_000),
            ..Default::default()
        };
        assert_eq!(
            libpod_resources(&u),
            serde_json::json!({
                "memory": { "limit": 67108864, "swap": 67108864 },
                "cpu": { "quota": 25000, "period": 100000 }
            })
        );
        assert_eq!(libpod_resources(&Default::default()), serde_json::json!({}));
    }
}
