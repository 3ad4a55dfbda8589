//! Kernel-side evidence from a container's cgroup. Docker only sets
//! `State.OOMKilled` when the container exits; a step's process OOM-killed in
//! a container that lives on shows up only in the cgroup's own counter.

use std::path::PathBuf;

/// The kernel's count of OOM kills in the memory cgroup of process `pid`
/// (cgroup v1 `memory.oom_control`, v2 `memory.events`).
pub fn oom_kills(pid: u32) -> Option<u64> {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let file = cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let rel = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            Some(memory_mount_v1()?.join(rel).join("memory.oom_control"))
        } else if controllers.is_empty() {
            Some(
                PathBuf::from("/sys/fs/cgroup")
                    .join(rel)
                    .join("memory.events"),
            )
        } else {
            None
        }
    })?;
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
}

/// Where the v1 memory controller is mounted (usually /sys/fs/cgroup/memory).
fn memory_mount_v1() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let mut post = post.split_whitespace();
        let (fstype, _src, opts) = (post.next()?, post.next()?, post.next()?);
        if fstype == "cgroup" && opts.split(',').any(|o| o == "memory") {
            pre.split_whitespace().nth(4).map(PathBuf::from)
        } else {
            None
        }
    })
}
