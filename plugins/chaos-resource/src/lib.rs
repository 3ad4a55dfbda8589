//! First-party chaos plugin for resource pressure. Every claim on a span
//! comes from a reading of the target's cgroup (v1 or v2), `/proc/<pid>/fd`
//! or `statvfs`, taken through the host's `cgroup` interface; a changed limit
//! is read back before the span says it was in force, and restored (and read
//! back again) after `duration_ms` (absent: once the scenario's steps end).
//!
//! | type | pressure | evidence (span) |
//! |---|---|---|
//! | `memory_pressure` | memory limit lowered live (`memory_mb`) or the service's own | peak vs limit, failcnt, OOM kills (`clnrm.resource.memory_pressure`) |
//! | `cpu_throttle` | CPU quota lowered live (`cpu_percent`) or the service's own | `cpu.stat` throttled periods and time (`clnrm.resource.cpu_throttle`) |
//! | `disk_fill` | a filler file in a tmpfs of the target, written from the host | `statvfs`: no free blocks (`clnrm.resource.disk_full`) |
//! | `fd_exhaustion` | RLIMIT_NOFILE of its processes lowered (`max_file_descriptors`) or theirs | a process's open fds at its limit (`clnrm.resource.fd_exhaustion`) |
//!
//! While the pressure is seen, the plugin tells the host (`note-pressure`),
//! so a step of that service that passes meanwhile is marked `degraded`.
// Natively only for `cargo test` (the fake host): plugin logic tested without wasmtime.
#![cfg(any(target_family = "wasm", test))]

mod cpu;
mod disk;
mod fd;
mod memory;
mod sample;
mod tables;
#[cfg(test)]
mod tests;

use clnrm_sdk::prelude::*;

struct ChaosResource;

const NAME: &str = "chaos-resource";

const TYPES: [&str; 4] = [
    "memory_pressure",
    "cpu_throttle",
    "disk_fill",
    "fd_exhaustion",
];

impl ChaosPlugin for ChaosResource {
    fn describe() -> PluginInfo {
        plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            &TYPES,
            &["container", "cgroup"],
        )
    }

    fn check(fault_type: &str, config_json: &str) -> Result<(), ConfigError> {
        match fault_type {
            "memory_pressure" => config::parse::<tables::Memory>(config_json).map(|_| ()),
            "cpu_throttle" => config::parse::<tables::Cpu>(config_json).map(|_| ()),
            "disk_fill" => {
                let d = config::parse::<tables::Disk>(config_json)?;
                if !d.path.starts_with('/') || d.path.split('/').any(|c| c == "..") {
                    return Err(ConfigError::InvalidValue {
                        path: vec!["path".into()],
                        message: "an absolute path in the container, without `..`".into(),
                    });
                }
                Ok(())
            }
            "fd_exhaustion" => config::parse::<tables::Fd>(config_json).map(|_| ()),
            other => Err(unhandled(NAME, other)),
        }
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "memory_pressure" => memory::run(&injection),
            "cpu_throttle" => cpu::run(&injection),
            "disk_fill" => disk::run(&injection),
            "fd_exhaustion" => fd::run(&injection),
            other => Err(unhandled(NAME, other).to_string()),
        }
    }
}

clnrm_sdk::chaos_plugin!(ChaosResource);
