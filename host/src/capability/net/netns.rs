//! A container's network namespace, entered from the host. `setns` changes
//! the namespace of the calling thread only, so every entry happens on a
//! dedicated thread that ends with the work (never a tokio worker, which would
//! carry the namespace into unrelated tasks). Commands started from that
//! thread (`nft`, `tc`) and sockets it creates live in the container's
//! namespace; the host's own namespace is never touched.

use nix::sched::{setns, unshare, CloneFlags};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The network namespace of a container's init process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Netns {
    pub pid: u32,
    /// The namespace's inode: tells it apart from a later process that got
    /// the same PID.
    pub inode: u64,
}

impl Netns {
    /// The namespace of `pid` (a container's init process, as Docker reports it).
    pub fn of(pid: u32) -> Result<Netns, String> {
        let meta = std::fs::metadata(path(pid))
            .map_err(|e| format!("network namespace of pid {pid}: {e}"))?;
        Ok(Netns {
            pid,
            inode: meta.ino(),
        })
    }

    /// Whether the namespace still exists under this PID (the container lives).
    pub fn alive(&self) -> bool {
        std::fs::metadata(path(self.pid)).is_ok_and(|m| m.ino() == self.inode)
    }

    /// Move the calling thread into the namespace. Only on a thread of its own.
    pub fn enter(&self) -> Result<(), String> {
        let f = File::open(path(self.pid))
            .map_err(|e| format!("open network namespace of pid {}: {e}", self.pid))?;
        if f.metadata().map(|m| m.ino()).ok() != Some(self.inode) {
            return Err(format!("the container of pid {} is gone", self.pid));
        }
        setns(&f, CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("setns into the network namespace of pid {}: {e}", self.pid))
    }

    /// Run `f` on a new thread inside the namespace; its result.
    pub async fn run<T, F>(self, f: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, String> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name(format!("clnrm-netns-{}", self.pid))
            .spawn(move || {
                let _ = tx.send(self.enter().and_then(|()| f()));
            })
            .map_err(|e| format!("spawn a thread for the network namespace: {e}"))?;
        rx.await
            .map_err(|_| "the network namespace thread died".to_string())?
    }
}

fn path(pid: u32) -> String {
    format!("/proc/{pid}/ns/net")
}

/// Run a command (from the calling thread, hence in its network namespace),
/// with `stdin` fed to it; its stdout, or its stderr as the error.
pub fn command(program: &str, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e} (is it installed? `cargo xtask setup` checks)"))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .map_err(|e| format!("{program}: writing its input: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether this kernel has `sch_netem`: asked once per process, in a
/// throwaway namespace (a thread that unshares its own, tries a netem qdisc on
/// its loopback, and ends, taking the namespace with it).
pub fn has_netem() -> bool {
    static NETEM: OnceLock<bool> = OnceLock::new();
    *NETEM.get_or_init(|| {
        std::thread::spawn(|| {
            unshare(CloneFlags::CLONE_NEWNET).is_ok()
                && command(
                    "tc",
                    &["qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
                    None,
                )
                .is_ok()
        })
        .join()
        .unwrap_or(false)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A namespace of our own for tests: a thread that unshares and parks,
    /// reachable through /proc/self/task/<tid>/ns/net. Dropping it ends it.
    pub(crate) struct TestNs {
        pub ns: Netns,
        stop: std::sync::mpsc::Sender<()>,
    }

    impl TestNs {
        pub fn new() -> Option<TestNs> {
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let (stop, stop_rx) = std::sync::mpsc::channel::<()>();
            std::thread::spawn(move || {
                let r = unshare(CloneFlags::CLONE_NEWNET)
                    .map_err(|e| e.to_string())
                    .and_then(|()| command("ip", &["link", "set", "lo", "up"], None))
                    .map(|_| nix::unistd::gettid().as_raw() as u32);
                let _ = ready_tx.send(r);
                let _ = stop_rx.recv();
            });
            let tid = ready_rx.recv().ok()?.ok()?;
            Some(TestNs {
                ns: Netns::of(tid).ok()?,
                stop,
            })
        }
    }

    impl Drop for TestNs {
        fn drop(&mut self) {
            let _ = self.stop.send(());
        }
    }

    pub(crate) fn root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    #[tokio::test]
    async fn commands_run_inside_the_namespace_not_the_host() {
        if !root() {
            return;
        }
        let Some(t) = TestNs::new() else { return };
        let host_links = command("ip", &["-o", "link"], None).unwrap();
        let inside =
            t.ns.run(|| command("ip", &["-o", "link"], None))
                .await
                .unwrap();
        // A fresh namespace has only its loopback.
        assert_eq!(inside.lines().count(), 1, "{inside}");
        assert!(inside.contains("lo:"), "{inside}");
        assert_eq!(command("ip", &["-o", "link"], None).unwrap(), host_links);
        assert!(t.ns.alive());
    }

    #[test]
    fn a_failing_command_says_what_and_why() {
        let e = command("sh", &["-c", "echo bad >&2; exit 3"], None).unwrap_err();
        assert!(e.contains("exit status: 3") && e.contains("bad"), "{e}");
        let e = command("no-such-program-clnrm", &[], None).unwrap_err();
        assert!(e.contains("no-such-program-clnrm"), "{e}");
    }

    #[test]
    fn a_gone_process_has_no_namespace() {
        assert!(Netns::of(u32::MAX).is_err());
    }
}
