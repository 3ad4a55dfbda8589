//! Containers without any network (a scenario with `network.mode = "none"`).
//!
//! Docker's `none` network mode still builds a libnetwork sandbox for each
//! container (a namespace set up by the daemon, `/etc/hosts`, `resolv.conf`):
//! measured here, that is about half of a container's start (335 ms with it,
//! 155 ms without). With `NetworkDisabled`, runc gives the container a fresh
//! network namespace holding only `lo` and the daemon does nothing else; the
//! one thing missing is an `/etc/hosts`, so `localhost` would not resolve. We
//! bind-mount a fixed one, read-only, as Docker's own would be.
//!
//! That only works when the daemon sees our files (a local socket); with a
//! remote daemon the container gets Docker's `none` mode and its sandbox.
//! Either way, what the container really has is read back from the kernel
//! ([`interfaces`]) and put in the trace: isolation is observed, not assumed.

use std::path::{Path, PathBuf};

/// What `/etc/hosts` says in a container without a network: loopback only,
/// the lines Docker writes first in its own.
const HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/// The `/etc/hosts` to bind-mount into containers without a network, written
/// (atomically, once per content) under the user's clnrm directory; None when
/// the daemon cannot see it (not a local socket) or it cannot be written.
pub fn hosts_file() -> Option<PathBuf> {
    if !daemon_is_local() {
        return None;
    }
    let dir = crate::user_dirs::cache_dir()?;
    let path = dir.join("etc-hosts");
    if std::fs::read_to_string(&path).is_ok_and(|s| s == HOSTS) {
        return Some(path);
    }
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!("etc-hosts.{}", std::process::id()));
        std::fs::write(&tmp, HOSTS)?;
        std::fs::rename(&tmp, &path)
    };
    match write() {
        Ok(()) => Some(path),
        Err(e) => {
            tracing::debug!(
                "no hosts file for network-less containers ({e}); using Docker's none mode"
            );
            None
        }
    }
}

/// Whether the Docker daemon runs on this machine (it reads our files): no
/// `DOCKER_HOST`, or a `unix://` one.
fn daemon_is_local() -> bool {
    std::env::var("DOCKER_HOST").map_or(true, |h| h.is_empty() || h.starts_with("unix://"))
}

/// The network interfaces in the namespace of process `pid`, from
/// `/proc/<pid>/net/dev` under `proc` (the kernel's own list).
pub fn interfaces(proc: &Path, pid: u32) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(proc.join(pid.to_string()).join("net/dev"))?;
    Ok(parse_net_dev(&text))
}

/// Interface names from `/proc/net/dev` (two header lines, then `name: counters`).
fn parse_net_dev(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().to_string()))
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_dev_lists_interfaces_sorted() {
        // As read from a network-less container on this machine, and from one on a bridge.
        let none = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(none), ["lo"]);
        let bridged = format!("{none}  eth0:    1394      12    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n");
        assert_eq!(parse_net_dev(&bridged), ["eth0", "lo"]);
        assert!(parse_net_dev("").is_empty());
    }

    #[test]
    fn our_own_namespace_has_loopback() {
        let me = std::process::id();
        let names = interfaces(Path::new("/proc"), me).expect("/proc/<pid>/net/dev");
        assert!(names.iter().any(|n| n == "lo"), "{names:?}");
    }
}
