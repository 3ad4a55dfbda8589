//! Is the process that owns a run still alive? PID plus the process's start
//! time (field 22 of /proc/<pid>/stat), so a reused PID is not mistaken for
//! the original owner.

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: skip
    // past its closing parenthesis, then count fields from field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

pub fn own_start_time() -> Option<u64> {
    start_time(std::process::id())
}

/// Whether a process with this PID exists: signal 0 checks without sending
/// anything (EPERM means it exists but is not ours to signal).
fn exists(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    matches!(kill(Pid::from_raw(raw), None), Ok(()) | Err(Errno::EPERM))
}

/// Whether the run owner (`pid`, and `started` when recorded) still runs.
pub fn is_alive(pid: u32, started: Option<u64>) -> bool {
    if !exists(pid) {
        return false;
    }
    match (start_time(pid), started) {
        // Exists but /proc is unreadable (another PID namespace): trust the PID.
        (None, _) => true,
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_reuse_is_detected() {
        let me = std::process::id();
        let t = own_start_time().expect("/proc is mounted");
        assert!(is_alive(me, Some(t)));
        assert!(
            !is_alive(me, Some(t + 1)),
            "same pid, other start time: another process"
        );
        assert!(!is_alive(u32::MAX - 1, None));
    }
}
