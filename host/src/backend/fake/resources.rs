//! The fake's cgroup counters and limits, and its tmpfs fillers.

use super::*;

#[async_trait::async_trait]
impl CgroupBackend for Fake {
    async fn oom_kills(&self, id: &str) -> Option<u64> {
        self.reachable().ok()?;
        let st = self.lock();
        st.containers
            .get(id)
            .filter(|c| c.running)
            .map(|c| c.oom_kills)
    }

    async fn cgroup_read(&self, id: &str) -> Result<CgroupUsage, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let c = running(st.container(id)?, id)?;
        let nonzero = |v: Option<u64>| v.filter(|n| *n > 0);
        Ok(CgroupUsage {
            memory_limit: nonzero(c.limits.memory_mb).map(|mb| mb * 1024 * 1024),
            cpu_limit_millicores: nonzero(c.limits.cpu_millicores),
            fd_limit: nonzero(c.limits.max_file_descriptors),
            oom_kills: c.oom_kills.max(c.usage.oom_kills),
            ..c.usage
        })
    }

    async fn set_limits(&self, id: &str, want: &LiveLimits) -> Result<LiveLimits, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = Fake::service_of(&st, id);
        let c = running(st.container(id)?, id)?;
        let mut prev = LiveLimits::default();
        if let Some(mb) = want.memory_mb {
            prev.memory_mb = c.limits.memory_mb;
            prev.memory_swap_mb = c.limits.memory_swap_mb;
            c.limits.memory_mb = Some(mb);
            c.limits.memory_swap_mb = Some(want.memory_swap_mb.filter(|s| *s >= mb).unwrap_or(mb));
        }
        if let Some(m) = want.cpu_millicores {
            prev.cpu_millicores = c.limits.cpu_millicores;
            c.limits.cpu_millicores = Some(m);
        }
        if let Some(n) = want.max_file_descriptors {
            prev.max_file_descriptors = c.limits.max_file_descriptors;
            c.limits.max_file_descriptors = Some(n);
        }
        st.log(format!("set_limits {service} {want:?}"));
        Ok(prev)
    }
}

#[async_trait::async_trait]
impl DiskBackend for Fake {
    async fn disk_usage(&self, id: &str, path: &str) -> Result<DiskUsage, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let c = running(st.container(id)?, id)?;
        let (total, filled) = *c
            .disks
            .get(path)
            .ok_or_else(|| BackendError::Kernel(format!("statvfs {path}: no such tmpfs")))?;
        Ok(DiskUsage {
            total_bytes: total,
            free_bytes: total - filled,
        })
    }

    async fn fill_disk(&self, id: &str, path: &str, percent: u8) -> Result<u64, BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = Fake::service_of(&st, id);
        let c = running(st.container(id)?, id)?;
        let (total, filled) = c
            .disks
            .get_mut(path)
            .ok_or_else(|| BackendError::Kernel(format!("create {path}: no such tmpfs")))?;
        let want = (*total * u64::from(percent.min(100)) / 100).max(*filled);
        let written = want - *filled;
        *filled = want;
        st.log(format!("fill_disk {service} {path} {percent}"));
        Ok(written)
    }

    async fn unfill_disk(&self, id: &str, path: &str) -> Result<(), BackendError> {
        self.reachable()?;
        let mut st = self.lock();
        let service = Fake::service_of(&st, id);
        let c = running(st.container(id)?, id)?;
        if let Some((_, filled)) = c.disks.get_mut(path) {
            *filled = 0;
        }
        st.log(format!("unfill_disk {service} {path}"));
        Ok(())
    }
}
