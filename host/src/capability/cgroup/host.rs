//! `clnrm:chaos/cgroup` (0.3.1): resource readings and live limits of the
//! scenario's containers, named by service id. Needs [`Capability::CGROUP`].
//! Every call is answered from the recording in replay (readings are host
//! effects: replay has no kernel to ask).

use crate::backend::cgroup::{CgroupUsage, DiskUsage, LiveLimits};
use crate::backend::{Backend, BackendError};
use crate::runtime::bindings::chaos::clnrm::chaos::cgroup;
use crate::runtime::host::{Capability, HostCall, PluginState};
use serde_json::json;
use std::future::Future;
use std::sync::Arc;

/// The calls of `clnrm:chaos/cgroup`, as recordings name them.
impl HostCall {
    pub const CGROUP_READ: HostCall = HostCall("cgroup.read");
    pub const CGROUP_SET_LIMITS: HostCall = HostCall("cgroup.set-limits");
    pub const CGROUP_DISK: HostCall = HostCall("cgroup.disk");
    pub const CGROUP_FILL: HostCall = HostCall("cgroup.fill");
    pub const CGROUP_UNFILL: HostCall = HostCall("cgroup.unfill");
    pub const CGROUP_NOTE_PRESSURE: HostCall = HostCall("cgroup.note-pressure");
}

/// The runtime and container id of a service, or the plugin's `err` answer
/// for a service the scenario does not have.
type OnBackend = Result<(Arc<dyn Backend>, String), String>;

/// Run `op` on the service's container: the plugin gets a missing service or
/// a failed call as its `err` string.
async fn on_container<T, F, Fut>(
    target: wasmtime::Result<OnBackend>,
    op: F,
) -> wasmtime::Result<Result<T, String>>
where
    F: FnOnce(Arc<dyn Backend>, String) -> Fut,
    Fut: Future<Output = Result<T, BackendError>>,
{
    Ok(match target? {
        Ok((backend, id)) => op(backend, id).await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    })
}

impl PluginState {
    fn backend_of(&self, service: &str) -> wasmtime::Result<OnBackend> {
        Ok(self
            .container_of(service)?
            .map(|(ctx, id)| (ctx.backend(), id)))
    }
}

fn usage(u: CgroupUsage) -> cgroup::Usage {
    cgroup::Usage {
        cgroup_version: u.version,
        memory_limit: u.memory_limit,
        memory_usage: u.memory_usage,
        memory_peak: u.memory_peak,
        memory_failcnt: u.memory_failcnt,
        oom_kills: u.oom_kills,
        cpu_limit_millicores: u.cpu_limit_millicores,
        cpu_nr_throttled: u.cpu_nr_throttled,
        cpu_throttled_us: u.cpu_throttled_us,
        pids_current: u.pids_current,
        fds_max: u.fds_max,
        fd_limit: u.fd_limit,
        fds_total: u.fds_total,
    }
}

fn limits_in(l: &cgroup::Limits) -> LiveLimits {
    LiveLimits {
        memory_mb: l.memory_mb,
        memory_swap_mb: l.memory_swap_mb,
        cpu_millicores: l.cpu_millicores,
        max_file_descriptors: l.max_file_descriptors,
    }
}

fn limits_out(l: LiveLimits) -> cgroup::Limits {
    cgroup::Limits {
        memory_mb: l.memory_mb,
        memory_swap_mb: l.memory_swap_mb,
        cpu_millicores: l.cpu_millicores,
        max_file_descriptors: l.max_file_descriptors,
    }
}

fn disk(d: DiskUsage) -> cgroup::DiskUsage {
    cgroup::DiskUsage {
        total_bytes: d.total_bytes,
        free_bytes: d.free_bytes,
    }
}

/// The resources `note-pressure` accepts.
const RESOURCES: [&str; 4] = ["memory", "cpu", "disk", "fd"];

impl cgroup::Host for PluginState {
    async fn read(&mut self, service: String) -> wasmtime::Result<Result<cgroup::Usage, String>> {
        self.require(Capability::CGROUP)?;
        let args = json!([service]);
        self.answered(HostCall::CGROUP_READ, args, |s| {
            on_container(s.backend_of(&service), |b, id| async move {
                b.cgroup_read(&id).await.map(usage)
            })
        })
        .await
    }

    async fn set_limits(
        &mut self,
        service: String,
        limits: cgroup::Limits,
    ) -> wasmtime::Result<Result<cgroup::Limits, String>> {
        self.require(Capability::CGROUP)?;
        let args = json!([service, limits]);
        self.answered(HostCall::CGROUP_SET_LIMITS, args, |s| {
            let want = limits_in(&limits);
            on_container(s.backend_of(&service), |b, id| async move {
                b.set_limits(&id, &want).await.map(limits_out)
            })
        })
        .await
    }

    async fn disk(
        &mut self,
        service: String,
        path: String,
    ) -> wasmtime::Result<Result<cgroup::DiskUsage, String>> {
        self.require(Capability::CGROUP)?;
        let args = json!([service, path]);
        self.answered(HostCall::CGROUP_DISK, args, |s| {
            on_container(s.backend_of(&service), |b, id| async move {
                b.disk_usage(&id, &path).await.map(disk)
            })
        })
        .await
    }

    async fn fill(
        &mut self,
        service: String,
        path: String,
        percent: u8,
    ) -> wasmtime::Result<Result<u64, String>> {
        self.require(Capability::CGROUP)?;
        let args = json!([service, path, percent]);
        self.answered(HostCall::CGROUP_FILL, args, |s| {
            on_container(s.backend_of(&service), |b, id| async move {
                b.fill_disk(&id, &path, percent).await
            })
        })
        .await
    }

    async fn unfill(
        &mut self,
        service: String,
        path: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::CGROUP)?;
        let args = json!([service, path]);
        self.answered(HostCall::CGROUP_UNFILL, args, |s| {
            on_container(s.backend_of(&service), |b, id| async move {
                b.unfill_disk(&id, &path).await
            })
        })
        .await
    }

    async fn note_pressure(&mut self, service: String, kind: String) -> wasmtime::Result<()> {
        self.require(Capability::CGROUP)?;
        if !RESOURCES.contains(&kind.as_str()) {
            return Err(wasmtime::format_err!(
                "plugin `{}` noted pressure on \"{kind}\"; kinds: {}",
                self.plugin,
                RESOURCES.join(", ")
            ));
        }
        let args = json!([service, kind]);
        self.answered(HostCall::CGROUP_NOTE_PRESSURE, args, |s| {
            let ctx = s.scenario().cloned();
            async move {
                let ctx = ctx?;
                if ctx.containers.contains_key(&service) {
                    let at = ctx.trace.clock().elapsed_ns();
                    ctx.faults.record_pressure(&service, &kind, at);
                }
                Ok(())
            }
        })
        .await
    }
}
