//! `pressure.level`: how close a reading came to a limit, spelled once for the
//! `chaos-resource` plugin (injected pressure) and the host (a service's static
//! `limits`, observed on every step). Ungated: the host uses it too.

/// `memory`: `high` when the limit was reached (peak ≥ 95 % of it, the kernel
/// failed a charge, or it OOM-killed), `medium` from 70 %, else `low`.
pub fn memory(peak: u64, limit: u64, failed: u64, killed: u64) -> &'static str {
    if failed > 0 || killed > 0 {
        "high"
    } else {
        share(peak, limit)
    }
}

/// `cpu`: `high` when the kernel throttled the cgroup in at least one period
/// (the quota was used up), else `low`: cpu.stat counts no "nearly".
pub fn cpu(throttled_periods: u64) -> &'static str {
    if throttled_periods > 0 {
        "high"
    } else {
        "low"
    }
}

/// `disk` (bytes used of a filesystem) and `fd` (open fds of the busiest
/// process against its RLIMIT_NOFILE): `high` from 95 % of the limit,
/// `medium` from 70 %, else `low`.
pub fn share(used: u64, limit: u64) -> &'static str {
    let (used, limit) = (u128::from(used), u128::from(limit));
    if used * 100 >= limit * 95 {
        "high"
    } else if used * 100 >= limit * 70 {
        "medium"
    } else {
        "low"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(memory(50, 100, 0, 0), "low");
        assert_eq!(memory(70, 100, 0, 0), "medium");
        assert_eq!(memory(95, 100, 0, 0), "high");
        assert_eq!(memory(1, 100, 1, 0), "high");
        assert_eq!(memory(1, 100, 0, 1), "high");
        assert_eq!(cpu(0), "low");
        assert_eq!(cpu(3), "high");
        assert_eq!(share(69, 100), "low");
        assert_eq!(share(94, 100), "medium");
        assert_eq!(share(256, 256), "high");
        assert_eq!(share(u64::MAX, u64::MAX), "high");
    }
}
