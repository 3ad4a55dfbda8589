//! Live resource changes on a Docker container: memory and CPU limits
//! through Docker's update API (lifting one entirely through the cgroup
//! files, which Docker's update cannot do), the soft RLIMIT_NOFILE of its
//! processes with prlimit(2), and a filler file in one of its filesystems written from
//! the host through `/proc/<pid>/root` (the container's own mount namespace).

use super::cgroup::{self, DiskUsage, LiveLimits};
use super::{BackendError, Docker};
use bollard::models::ContainerUpdateBody;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// The filler `fill_disk` writes (one per filesystem path).
pub const FILLER: &str = ".clnrm-fill";

const MIB: u64 = 1024 * 1024;

pub async fn set_limits(
    docker: &Docker,
    client: &bollard::Docker,
    id: &str,
    want: &LiveLimits,
) -> Result<LiveLimits, BackendError> {
    let (pid, dirs) = docker.cgroup_dirs(id).await?;
    let now = cgroup::read_usage(&dirs, Path::new("/proc")).map_err(BackendError::Kernel)?;
    // 0 stands for "no limit", so the answer passed back restores that too.
    let mut prev = LiveLimits::default();
    let mut update = ContainerUpdateBody::default();
    let mut lift_memory = false;
    if let Some(mb) = want.memory_mb {
        prev.memory_mb = Some(now.memory_limit.map_or(0, |b| b / MIB));
        prev.memory_swap_mb = Some(memsw_mb(&dirs).unwrap_or(0));
        if mb == 0 {
            lift_memory = true;
        } else {
            update.memory = Some((mb * MIB) as i64);
            // No swap unless asked: a memory limit then really bounds the container.
            let swap = want.memory_swap_mb.filter(|s| *s >= mb).unwrap_or(mb);
            update.memory_swap = Some((swap * MIB) as i64);
        }
    }
    let mut lift_cpu = false;
    if let Some(m) = want.cpu_millicores {
        prev.cpu_millicores = Some(now.cpu_limit_millicores.unwrap_or(0));
        if m == 0 {
            lift_cpu = true;
        } else {
            update.nano_cpus = Some((m * 1_000_000) as i64);
        }
    }
    if update != ContainerUpdateBody::default() {
        if docker.engine().kind == super::engine::Kind::Podman {
            // Podman's compat API has no update endpoint (404): libpod's own.
            docker.libpod_update(id, &update).await?;
        } else {
            client.update_container(id, update).await?;
        }
    }
    if lift_memory || lift_cpu {
        cgroup::lift(&dirs, lift_memory, lift_cpu).map_err(BackendError::Kernel)?;
    }
    if let Some(n) = want.max_file_descriptors {
        let init = std::fs::read_to_string(format!("/proc/{pid}/limits"))
            .map_err(|e| BackendError::Kernel(format!("read /proc/{pid}/limits: {e}")))?;
        prev.max_file_descriptors = Some(cgroup::nofile_soft(&init).unwrap_or(0));
        set_nofile(&dirs, n)?;
    }
    Ok(prev)
}

/// The v1 memory+swap limit in MiB (None: unlimited or v2).
fn memsw_mb(dirs: &cgroup::Dirs) -> Option<u64> {
    let cgroup::Dirs::V1 { memory, .. } = dirs else {
        return None;
    };
    let b: u64 = std::fs::read_to_string(memory.join("memory.memsw.limit_in_bytes"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (b < (1 << 62)).then_some(b / MIB)
}

/// The soft RLIMIT_NOFILE (`n`; 0: up to the hard limit) of every process in
/// the cgroup. The hard limit stays: lowering it would be for good, since
/// raising a hard limit back needs CAP_SYS_RESOURCE, which a host in a
/// container often lacks.
fn set_nofile(dirs: &cgroup::Dirs, n: u64) -> Result<(), BackendError> {
    let procs = match dirs {
        cgroup::Dirs::V1 { memory, .. } => memory.join("cgroup.procs"),
        cgroup::Dirs::V2(d) => d.join("cgroup.procs"),
    };
    let list = std::fs::read_to_string(&procs)
        .map_err(|e| BackendError::Kernel(format!("read {}: {e}", procs.display())))?;
    let mut set = 0;
    for pid in list
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        match prlimit_soft(pid, n) {
            Ok(()) => set += 1,
            // A process may exit between the list and the call.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => {
                return Err(BackendError::Kernel(format!(
                    "prlimit({pid}, NOFILE, {n}): {e}"
                )))
            }
        }
    }
    if set == 0 {
        return Err(BackendError::Kernel(
            "no process to set RLIMIT_NOFILE on".into(),
        ));
    }
    Ok(())
}

fn prlimit_soft(pid: i32, n: u64) -> std::io::Result<()> {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit reads no new limit (null) and writes the old one into `old`.
    if unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let new = libc::rlimit {
        rlim_cur: if n == 0 {
            old.rlim_max
        } else {
            n.min(old.rlim_max)
        },
        rlim_max: old.rlim_max,
    };
    // SAFETY: prlimit only reads `new` (old_limit is null).
    if unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &new, std::ptr::null_mut()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// `path` inside the container, seen from the host.
async fn host_path(docker: &Docker, id: &str, path: &str) -> Result<PathBuf, BackendError> {
    let p = Path::new(path);
    if !p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(BackendError::Conflict(format!(
            "`{path}`: give an absolute path without `..`"
        )));
    }
    let pid = docker.cgroup_dirs(id).await?.0;
    Ok(PathBuf::from(format!("/proc/{pid}/root")).join(p.strip_prefix("/").unwrap_or(p)))
}

pub async fn disk_usage(docker: &Docker, id: &str, path: &str) -> Result<DiskUsage, BackendError> {
    let p = host_path(docker, id, path).await?;
    statvfs(&p)
}

fn statvfs(p: &Path) -> Result<DiskUsage, BackendError> {
    let s = nix::sys::statvfs::statvfs(p)
        .map_err(|e| BackendError::Kernel(format!("statvfs {}: {e}", p.display())))?;
    let frag = s.fragment_size() as u64;
    Ok(DiskUsage {
        total_bytes: s.blocks() as u64 * frag,
        free_bytes: s.blocks_available() as u64 * frag,
    })
}

pub async fn fill_disk(
    docker: &Docker,
    id: &str,
    path: &str,
    percent: u8,
) -> Result<u64, BackendError> {
    let dir = host_path(docker, id, path).await?;
    tokio::task::spawn_blocking(move || fill(&dir, percent))
        .await
        .map_err(|e| BackendError::Kernel(format!("filler: {e}")))?
}

/// Write zeros to `dir/FILLER` until `percent` of the filesystem is used or
/// the kernel says ENOSPC (which is the point at 100).
fn fill(dir: &Path, percent: u8) -> Result<u64, BackendError> {
    let d = statvfs(dir)?;
    let target_used = d.total_bytes * u64::from(percent.min(100)) / 100;
    let mut used = d.total_bytes - d.free_bytes;
    let file = dir.join(FILLER);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .map_err(|e| BackendError::Kernel(format!("create {}: {e}", file.display())))?;
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    while percent >= 100 || used < target_used {
        let n = if percent >= 100 {
            chunk.len()
        } else {
            chunk.len().min((target_used - used) as usize)
        };
        match f.write(&chunk[..n]) {
            Ok(0) => break,
            Ok(k) => {
                written += k as u64;
                used += k as u64;
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => {
                return Err(BackendError::Kernel(format!(
                    "write {}: {e}",
                    file.display()
                )))
            }
        }
    }
    // tmpfs has no writeback; flush for the others so statvfs sees it.
    let _ = f.sync_all();
    Ok(written)
}

pub async fn unfill_disk(docker: &Docker, id: &str, path: &str) -> Result<(), BackendError> {
    let file = host_path(docker, id, path).await?.join(FILLER);
    match std::fs::remove_file(&file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BackendError::Kernel(format!(
            "remove {}: {e}",
            file.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_stops_at_the_percentage_of_a_filesystem() {
        // A plain directory of the host's filesystem: 0 % writes nothing.
        let dir = std::env::temp_dir().join(format!("clnrm-fill-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(fill(&dir, 0).unwrap(), 0);
        assert!(dir.join(FILLER).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
