//! memory_pressure: a memory limit (lowered live, or the service's own) and
//! how close the container came to it.

use crate::sample::{self, MIB};
use crate::tables::Memory;
use clnrm_sdk::chaos::clnrm::chaos::cgroup::Usage;
use clnrm_sdk::prelude::*;

/// `pressure.level` from a peak, the limit, and new failures or OOM kills
/// (the SDK's rule, shared with the host's observation of static limits).
pub use clnrm_sdk::pressure::memory as level;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Memory = injection_config(inj)?;
    let c = cfg.common();
    let (target, span) = sample::begin(
        inj,
        &c,
        "clnrm.resource.memory_pressure",
        "memory_pressure",
        "memory",
    )?;
    let prev = sample::lower(
        &span,
        &target,
        cfg.memory_mb.map(|mb| cgroup::Limits {
            memory_mb: Some(mb),
            ..sample::no_limits()
        }),
        "memory limit",
    )?;
    let first = sample::read(&span, &target)?;
    let Some(limit) = first.memory_limit else {
        return span.fail(format!(
            "`{target}` has no memory limit: give it limits.memory_mb or set memory_mb here"
        ));
    };
    if let Some(mb) = cfg.memory_mb {
        sample::took(&span, "memory.limit", limit == mb * MIB)?;
    }
    span.int("limit.mb", (limit / MIB) as i64);
    let hit = |u: &Usage| u.memory_usage * 100 >= limit * 95;
    let all = sample::watch(
        &span,
        &target,
        "memory",
        c.hold,
        c.sample_ms,
        first,
        |a, b| {
            hit(b)
                || b.memory_failcnt > a.memory_failcnt
                || b.oom_kills > a.oom_kills
                || (b.memory_peak > a.memory_peak
                    && b.memory_peak.is_some_and(|p| p * 100 >= limit * 95))
        },
    )?;
    let last = all.last().cloned().unwrap_or(first);
    // The kernel's peak counts since the container started: it is evidence
    // for this window only when it rose during it.
    let kernel_peak = match (first.memory_peak, last.memory_peak) {
        (Some(a), Some(b)) if b > a => b,
        _ => 0,
    };
    let peak = all
        .iter()
        .map(|u| u.memory_usage)
        .max()
        .unwrap_or(0)
        .max(kernel_peak);
    let failed = last.memory_failcnt - first.memory_failcnt.min(last.memory_failcnt);
    let killed = last.oom_kills - first.oom_kills.min(last.oom_kills);
    let lvl = level(peak, limit, failed, killed);
    span.int("usage.peak_mb", (peak / MIB) as i64);
    span.int("memory.failcnt", failed as i64);
    span.int("oom.kills", killed as i64);
    span.str("pressure.level", lvl);
    let recovered = sample::recover(
        inj,
        &target,
        prev.as_ref(),
        || Ok(()),
        |u| {
            Ok(match prev.as_ref().and_then(|p| p.memory_mb) {
                Some(0) => u.memory_limit.is_none(),
                Some(mb) => u.memory_limit == Some(mb * MIB),
                None => true,
            })
        },
    );
    if lvl != "high" {
        return span.fail(format!(
            "`{target}` never reached its {} MB limit: peak {} MB, no failed charge, no OOM kill",
            limit / MIB,
            peak / MIB
        ));
    }
    if !matches!(recovered, Ok(true)) {
        return span.fail(format!(
            "`{target}`'s memory limit not restored: {recovered:?}"
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "{target}: peak {} MB of a {} MB limit ({failed} failed charges, {killed} OOM kills)",
            peak / MIB,
            limit / MIB
        ),
    })
}
