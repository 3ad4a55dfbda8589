//! fd_exhaustion: RLIMIT_NOFILE of the target's processes (lowered live with
//! prlimit, or the one they have) and whether a process reached it.

use crate::sample;
use crate::tables::Fd;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Fd = injection_config(inj)?;
    let c = cfg.common();
    let (target, span) = sample::begin(
        inj,
        &c,
        "clnrm.resource.fd_exhaustion",
        "fd_exhaustion",
        "fd",
    )?;
    let prev = sample::lower(
        &span,
        &target,
        cfg.max_file_descriptors.map(|n| cgroup::Limits {
            max_file_descriptors: Some(n),
            ..sample::no_limits()
        }),
        "RLIMIT_NOFILE",
    )?;
    let first = sample::read(&span, &target)?;
    if let Some(n) = cfg.max_file_descriptors {
        sample::took(&span, "nofile.limit", first.fd_limit == Some(n))?;
    }
    let at_limit = |u: &clnrm_sdk::chaos::clnrm::chaos::cgroup::Usage| {
        u.fd_limit.is_some_and(|l| u64::from(u.fds_max) >= l)
    };
    let all = sample::watch(&span, &target, "fd", c.hold, c.sample_ms, first, |_, b| {
        at_limit(b)
    })?;
    // The busiest reading: the limit that process had, and its fds.
    let busiest = all
        .iter()
        .max_by_key(|u| u.fds_max)
        .cloned()
        .unwrap_or(first);
    let limit = cfg.max_file_descriptors.or(busiest.fd_limit);
    let exhausted = all.iter().any(at_limit);
    if let Some(l) = limit {
        span.int("limit", l as i64);
    }
    span.int("fds.peak", i64::from(busiest.fds_max));
    span.bool("fd.exhausted", exhausted);
    let recovered = sample::recover(
        inj,
        &target,
        prev.as_ref(),
        || Ok(()),
        |u| {
            Ok(match prev.as_ref().and_then(|p| p.max_file_descriptors) {
                Some(0) => u.fd_limit.is_none(),
                Some(n) => u.fd_limit == Some(n),
                None => true,
            })
        },
    );
    if !exhausted {
        return span.fail(format!(
            "no process of `{target}` reached its file descriptor limit ({limit:?}): at most {} open",
            busiest.fds_max
        ));
    }
    if !matches!(recovered, Ok(true)) {
        return span.fail(format!(
            "`{target}`'s RLIMIT_NOFILE not restored: {recovered:?}"
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "{target}: a process held {} file descriptors at its limit of {}",
            busiest.fds_max,
            limit.unwrap_or(0)
        ),
    })
}
