//! Is the process that owns a run still alive? PID plus the process's start
//! time (field 22 of /proc/<pid>/stat), so a reused PID is not mistaken for
//! the original owner.

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

/// Whether the run owner (`pid`, and `started` when recorded) still runs.
pub fn is_alive(pid: u32, started: Option<u64>) -> bool {
    match (start_time(pid), started) {
        (None, _) => false,
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
