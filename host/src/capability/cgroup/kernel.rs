//! Kernel-side evidence from a container's cgroup and processes. Docker only
//! sets `State.OOMKilled` when the container exits; a step's process
//! OOM-killed in a container that lives on shows up only in the cgroup's own
//! counter, and pressure below a kill (a limit reached, CPU throttled, fds at
//! the rlimit) only in the cgroup files and `/proc`.
//!
//! The readers take the cgroup directories as paths, so the cgroup v2 reader
//! is tested on this cgroup v1 machine on files captured from a v2-only
//! kernel (`tests/fixtures/cgroup-v2/captured/`, written by `capture.sh` in a
//! qemu VM) and on hand-written edge cases next to them.

use std::path::{Path, PathBuf};

/// One reading of a container (see the WIT `cgroup.usage`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CgroupUsage {
    pub version: u8,
    pub memory_limit: Option<u64>,
    pub memory_usage: u64,
    pub memory_peak: Option<u64>,
    pub memory_failcnt: u64,
    pub oom_kills: u64,
    pub cpu_limit_millicores: Option<u64>,
    pub cpu_nr_throttled: u64,
    pub cpu_throttled_us: u64,
    pub pids_current: u64,
    /// Open fds of the busiest process, its soft RLIMIT_NOFILE, all processes' total.
    pub fds_max: u32,
    pub fd_limit: Option<u64>,
    pub fds_total: u32,
}

/// Limits to change live; None leaves one as it is (see the WIT `cgroup.limits`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveLimits {
    pub memory_mb: Option<u64>,
    pub memory_swap_mb: Option<u64>,
    pub cpu_millicores: Option<u64>,
    pub max_file_descriptors: Option<u64>,
}

/// A filesystem as `statvfs` sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    pub total_bytes: u64,
    pub free_bytes: u64,
}

/// The cgroup directories of a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dirs {
    V1 {
        memory: PathBuf,
        cpu: PathBuf,
        pids: PathBuf,
    },
    V2(PathBuf),
}

/// The kernel's count of OOM kills in the memory cgroup of process `pid`
/// (cgroup v1 `memory.oom_control`, v2 `memory.events`).
pub fn oom_kills(pid: u32) -> Option<u64> {
    let text = match dirs(pid)? {
        Dirs::V1 { memory, .. } => read(&memory.join("memory.oom_control"))?,
        Dirs::V2(dir) => read(&dir.join("memory.events"))?,
    };
    keyed(&text, "oom_kill")
}

/// Where the cgroups of process `pid` live: v1 when the memory controller
/// has a v1 hierarchy (Docker's processes then also list a `0::` line), else v2.
pub fn dirs(pid: u32) -> Option<Dirs> {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    dirs_from(&cgroups, &mounts)
}

fn dirs_from(cgroups: &str, mountinfo: &str) -> Option<Dirs> {
    let mut unified = None;
    let v1 = |ctl: &str| -> Option<PathBuf> {
        cgroups.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            controllers
                .split(',')
                .any(|c| c == ctl)
                .then(|| Some(mount_v1(mountinfo, ctl)?.join(path.trim_start_matches('/'))))?
        })
    };
    if let (Some(memory), Some(cpu), Some(pids)) = (v1("memory"), v1("cpu"), v1("pids")) {
        return Some(Dirs::V1 { memory, cpu, pids });
    }
    for l in cgroups.lines() {
        if let Some(path) = l.strip_prefix("0::") {
            unified = Some(mount_v2(mountinfo)?.join(engine_scope(path).trim_start_matches('/')));
        }
    }
    unified.map(Dirs::V2)
}

/// The container's own v2 cgroup: crun under Podman's systemd manager may
/// run the processes in a `container` child of `libpod-<id>.scope`
/// (`run.oci.systemd.subgroup`), while the limits are the scope's.
fn engine_scope(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some((parent, "container"))
            if parent
                .rsplit('/')
                .next()
                .is_some_and(|p| p.starts_with("libpod-") && p.ends_with(".scope")) =>
        {
            parent
        }
        _ => path,
    }
}

/// Where the v1 controller `ctl` is mounted (usually /sys/fs/cgroup/<ctl>).
fn mount_v1(mountinfo: &str, ctl: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let mut post = post.split_whitespace();
        let (fstype, _src, opts) = (post.next()?, post.next()?, post.next()?);
        (fstype == "cgroup" && opts.split(',').any(|o| o == ctl))
            .then(|| pre.split_whitespace().nth(4).map(PathBuf::from))?
    })
}

fn mount_v2(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        (post.split_whitespace().next()? == "cgroup2")
            .then(|| pre.split_whitespace().nth(4).map(PathBuf::from))?
    })
}

/// Read the cgroup at `dirs` and the fds of its processes (under `proc`,
/// normally `/proc`).
pub fn read_usage(dirs: &Dirs, proc: &Path) -> Result<CgroupUsage, String> {
    let mut u = match dirs {
        Dirs::V1 { memory, cpu, pids } => read_v1(memory, cpu, pids)?,
        Dirs::V2(dir) => read_v2(dir)?,
    };
    let procs_file = match dirs {
        Dirs::V1 { memory, .. } => memory.join("cgroup.procs"),
        Dirs::V2(dir) => dir.join("cgroup.procs"),
    };
    let procs = need(&procs_file)?;
    for pid in procs.split_whitespace() {
        // A process may exit between the list and its fd directory.
        let Ok(entries) = std::fs::read_dir(proc.join(pid).join("fd")) else {
            continue;
        };
        let n = entries.count() as u32;
        u.fds_total += n;
        if n >= u.fds_max {
            u.fds_max = n;
            u.fd_limit = read(&proc.join(pid).join("limits"))
                .and_then(|l| nofile_soft(&l))
                .or(u.fd_limit);
        }
    }
    Ok(u)
}

/// cgroup v1: memory.{usage,max_usage,limit}_in_bytes, memory.failcnt,
/// memory.oom_control; cpu.stat and cpu.cfs_{quota,period}_us; pids.current.
pub fn read_v1(memory: &Path, cpu: &Path, pids: &Path) -> Result<CgroupUsage, String> {
    let num = |p: PathBuf| -> Result<u64, String> { parse_num(&need(&p)?, &p) };
    let stat = need(&cpu.join("cpu.stat"))?;
    let quota: i64 = need(&cpu.join("cpu.cfs_quota_us"))?
        .trim()
        .parse()
        .map_err(|e| format!("{}: {e}", cpu.join("cpu.cfs_quota_us").display()))?;
    let period = num(cpu.join("cpu.cfs_period_us"))?;
    let limit = num(memory.join("memory.limit_in_bytes"))?;
    Ok(CgroupUsage {
        version: 1,
        // v1 says "unlimited" with a huge page-rounded number.
        memory_limit: (limit < (1 << 62)).then_some(limit),
        memory_usage: num(memory.join("memory.usage_in_bytes"))?,
        memory_peak: Some(num(memory.join("memory.max_usage_in_bytes"))?),
        memory_failcnt: num(memory.join("memory.failcnt"))?,
        oom_kills: keyed(&need(&memory.join("memory.oom_control"))?, "oom_kill").unwrap_or(0),
        cpu_limit_millicores: (quota > 0 && period > 0).then(|| quota as u64 * 1000 / period),
        cpu_nr_throttled: keyed(&stat, "nr_throttled").unwrap_or(0),
        cpu_throttled_us: keyed(&stat, "throttled_time").unwrap_or(0) / 1000,
        pids_current: num(pids.join("pids.current"))?,
        ..CgroupUsage::default()
    })
}

/// cgroup v2: memory.{current,peak,max,events}, cpu.stat, cpu.max, pids.current.
pub fn read_v2(dir: &Path) -> Result<CgroupUsage, String> {
    let num = |f: &str| -> Result<u64, String> { parse_num(&need(&dir.join(f))?, &dir.join(f)) };
    let events = need(&dir.join("memory.events"))?;
    let stat = need(&dir.join("cpu.stat"))?;
    let max = need(&dir.join("memory.max"))?;
    let cpu_max = need(&dir.join("cpu.max"))?;
    let mut cpu = cpu_max.split_whitespace();
    let cpu_limit = match (cpu.next(), cpu.next().and_then(|p| p.parse::<u64>().ok())) {
        (Some(q), Some(period)) if period > 0 => q.parse::<u64>().ok().map(|q| q * 1000 / period),
        _ => None,
    };
    Ok(CgroupUsage {
        version: 2,
        memory_limit: max.trim().parse().ok(),
        memory_usage: num("memory.current")?,
        // memory.peak exists from Linux 5.19.
        memory_peak: read(&dir.join("memory.peak")).and_then(|p| p.trim().parse().ok()),
        memory_failcnt: keyed(&events, "max").unwrap_or(0),
        oom_kills: keyed(&events, "oom_kill").unwrap_or(0),
        cpu_limit_millicores: cpu_limit,
        cpu_nr_throttled: keyed(&stat, "nr_throttled").unwrap_or(0),
        cpu_throttled_us: keyed(&stat, "throttled_usec").unwrap_or(0),
        pids_current: num("pids.current")?,
        ..CgroupUsage::default()
    })
}

/// Lift a memory or CPU limit entirely (Docker's update cannot: 0 means
/// "unchanged" to it), by writing the container's own cgroup files.
pub fn lift(dirs: &Dirs, memory: bool, cpu: bool) -> Result<(), String> {
    let write = |p: PathBuf, v: &str| {
        std::fs::write(&p, v).map_err(|e| format!("write {}: {e}", p.display()))
    };
    match dirs {
        Dirs::V1 {
            memory: m, cpu: c, ..
        } => {
            if memory {
                // The swap limit must stay at or above the memory limit: raise it first.
                let _ = write(m.join("memory.memsw.limit_in_bytes"), "-1");
                write(m.join("memory.limit_in_bytes"), "-1")?;
                let _ = write(m.join("memory.memsw.limit_in_bytes"), "-1");
            }
            if cpu {
                write(c.join("cpu.cfs_quota_us"), "-1")?;
            }
        }
        Dirs::V2(d) => {
            if memory {
                write(d.join("memory.max"), "max")?;
                let _ = write(d.join("memory.swap.max"), "max");
            }
            if cpu {
                write(d.join("cpu.max"), "max")?;
            }
        }
    }
    Ok(())
}

/// The soft "Max open files" of a `/proc/<pid>/limits` text; None: unlimited.
pub fn nofile_soft(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// `key value` lines (cpu.stat, memory.events, memory.oom_control).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

fn need(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("read {}: {e}", p.display()))
}

fn parse_num(text: &str, p: &Path) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("{}: {e} ({:?})", p.display(), text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
    }

    #[test]
    fn v2_files_are_read() {
        let u = read_v2(&fixtures().join("cgroup-v2/limited")).unwrap();
        assert_eq!(u.version, 2);
        assert_eq!(u.memory_limit, Some(67_108_864));
        assert_eq!(u.memory_usage, 66_977_792);
        assert_eq!(u.memory_peak, Some(67_108_864));
        assert_eq!((u.memory_failcnt, u.oom_kills), (12, 1));
        assert_eq!(u.cpu_limit_millicores, Some(100));
        assert_eq!((u.cpu_nr_throttled, u.cpu_throttled_us), (57, 5_432_101));
        assert_eq!(u.pids_current, 3);
        let u = read_v2(&fixtures().join("cgroup-v2/unlimited")).unwrap();
        assert_eq!((u.memory_limit, u.cpu_limit_millicores), (None, None));
        // memory.peak absent (kernels before 5.19).
        assert_eq!(u.memory_peak, None);
        assert_eq!(
            (u.memory_failcnt, u.oom_kills, u.cpu_nr_throttled),
            (0, 0, 0)
        );
        let e = read_v2(&fixtures().join("cgroup-v2/missing")).unwrap_err();
        assert!(e.contains("memory.events"), "{e}");
    }

    /// Files a real v2 kernel wrote (Debian 6.1 in a VM, see capture.sh):
    /// 64M + 100 millicores after a throttled loop and an OOM kill; 48 MiB kept
    /// under 64M with nothing killed; no limits at all.
    #[test]
    fn v2_files_captured_from_a_v2_kernel_are_read() {
        let d = fixtures().join("cgroup-v2/captured");
        let u = read_v2(&d.join("limited")).unwrap();
        assert_eq!(u.version, 2);
        assert_eq!(u.memory_limit, Some(64 << 20));
        assert_eq!(u.memory_peak, Some(64 << 20), "the limit was reached");
        assert_eq!((u.memory_failcnt, u.oom_kills), (35, 1));
        assert_eq!(u.cpu_limit_millicores, Some(100));
        assert_eq!(
            (u.cpu_nr_throttled, u.cpu_throttled_us),
            (1595, 143_445_193)
        );
        assert_eq!(u.pids_current, 1);

        let u = read_v2(&d.join("pressured")).unwrap();
        assert_eq!(u.memory_limit, Some(64 << 20));
        assert_eq!(
            (u.memory_usage, u.memory_peak),
            (50_667_520, Some(51_757_056))
        );
        // 77 % of the limit, no failed charge: "medium" for the plugin, not "high".
        assert_eq!((u.memory_failcnt, u.oom_kills), (0, 0));
        assert_eq!(u.cpu_limit_millicores, None, "cpu.max \"max 100000\"");

        let u = read_v2(&d.join("unlimited")).unwrap();
        assert_eq!((u.memory_limit, u.cpu_limit_millicores), (None, None));
        assert_eq!((u.cpu_nr_throttled, u.cpu_throttled_us), (0, 0));
    }

    #[test]
    fn v1_files_are_read() {
        let d = fixtures().join("cgroup-v1");
        let u = read_v1(&d.join("memory"), &d.join("cpu"), &d.join("pids")).unwrap();
        assert_eq!(u.version, 1);
        assert_eq!(u.memory_limit, Some(67_108_864));
        assert_eq!(
            (u.memory_usage, u.memory_peak),
            (2_666_496, Some(3_563_520))
        );
        assert_eq!((u.memory_failcnt, u.oom_kills), (0, 0));
        assert_eq!(u.cpu_limit_millicores, Some(100));
        assert_eq!((u.cpu_nr_throttled, u.cpu_throttled_us), (1, 85_274));
        assert_eq!(u.pids_current, 2);
    }

    #[test]
    fn dirs_follow_each_engines_cgroup_paths() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cgroup-engines");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let id = "ef325c6d5de901c1127af9951d31724f2b40c13e01d6fb09b2d7218af4cced17";
        let v1 = |file: &str, path: &str| {
            assert_eq!(
                dirs_from(&read(file), &read("v1.mountinfo")),
                Some(Dirs::V1 {
                    memory: format!("/sys/fs/cgroup/memory/{path}").into(),
                    cpu: format!("/sys/fs/cgroup/cpu/{path}").into(),
                    pids: format!("/sys/fs/cgroup/pids/{path}").into(),
                }),
                "{file}"
            )
        };
        v1(
            "podman-v1-cgroupfs.cgroup",
            &format!("libpod_parent/libpod-{id}"),
        );
        v1(
            "podman-v1-systemd.cgroup",
            &format!("machine.slice/libpod-{id}.scope"),
        );
        v1(
            "docker-v1-cgroupfs.cgroup",
            "docker/09d019dc5dec8c8358fdccfee499f40a570dc3a1a213cbd2f754c072d5268967",
        );
        let v2 = |file: &str, path: &str| {
            assert_eq!(
                dirs_from(&read(file), &read("v2.mountinfo")),
                Some(Dirs::V2(format!("/sys/fs/cgroup/{path}").into())),
                "{file}"
            )
        };
        v2(
            "podman-v2-cgroupfs.cgroup",
            &format!("libpod_parent/libpod-{id}"),
        );
        v2(
            "podman-v2-systemd.cgroup",
            &format!("machine.slice/libpod-{id}.scope"),
        );
        v2(
            "podman-v2-rootless.cgroup",
            &format!("user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{id}.scope"),
        );
        v2(
            "docker-v2-systemd.cgroup",
            &format!("system.slice/docker-{id}.scope"),
        );
        // A `container` folder of anything else is the container's own.
        assert_eq!(engine_scope("/a/container"), "/a/container");
    }

    #[test]
    fn dirs_follow_the_hierarchy_in_use() {
        let v1_mounts =
            "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
            31 25 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
            32 25 0:28 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";
        let cg = "8:pids:/docker/abc\n4:memory:/docker/abc\n1:cpu:/docker/abc\n0::/docker/abc\n";
        assert_eq!(
            dirs_from(cg, v1_mounts),
            Some(Dirs::V1 {
                memory: "/sys/fs/cgroup/memory/docker/abc".into(),
                cpu: "/sys/fs/cgroup/cpu/docker/abc".into(),
                pids: "/sys/fs/cgroup/pids/docker/abc".into(),
            })
        );
        let v2_mounts = "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";
        assert_eq!(
            dirs_from("0::/system.slice/docker-abc.scope\n", v2_mounts),
            Some(Dirs::V2(
                "/sys/fs/cgroup/system.slice/docker-abc.scope".into()
            ))
        );
        assert_eq!(dirs_from("0::/x\n", ""), None);
    }

    #[test]
    fn nofile_soft_limit_is_parsed() {
        let l = "Limit                     Soft Limit           Hard Limit           Units     \n\
                 Max open files            256                  512                  files     \n";
        assert_eq!(nofile_soft(l), Some(256));
        assert_eq!(
            nofile_soft(
                "Max open files            unlimited            unlimited            files\n"
            ),
            None
        );
    }
}
