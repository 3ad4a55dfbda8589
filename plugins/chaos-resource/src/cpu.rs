//! cpu_throttle: a CPU quota (lowered live, or the service's own) and the
//! periods the kernel throttled the container in.

use crate::sample;
use crate::tables::Cpu;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Cpu = injection_config(inj)?;
    let c = cfg.common();
    let (target, span) = sample::begin(
        inj,
        &c,
        "clnrm.resource.cpu_throttle",
        "cpu_throttle",
        "cpu",
    )?;
    let want = cfg.cpu_percent.map(|p| p * 10);
    let prev = sample::lower(
        &span,
        &target,
        want.map(|m| cgroup::Limits {
            cpu_millicores: Some(m),
            ..sample::no_limits()
        }),
        "CPU quota",
    )?;
    let first = sample::read(&span, &target)?;
    let Some(limit) = first.cpu_limit_millicores else {
        return span.fail(format!(
            "`{target}` has no CPU quota: give it limits.cpu_millicores or set cpu_percent here"
        ));
    };
    if let Some(m) = want {
        sample::took(&span, "cpu.quota", limit == m)?;
    }
    span.int("limit.millicores", limit as i64);
    let all = sample::watch(&span, &target, "cpu", c.hold, c.sample_ms, first, |a, b| {
        b.cpu_nr_throttled > a.cpu_nr_throttled
    })?;
    let last = all.last().cloned().unwrap_or(first);
    let periods = last.cpu_nr_throttled.saturating_sub(first.cpu_nr_throttled);
    let us = last.cpu_throttled_us.saturating_sub(first.cpu_throttled_us);
    span.int("throttled.periods", periods as i64);
    span.int("throttled.ms", (us / 1000) as i64);
    span.bool("throttle.detected", periods > 0);
    let recovered = sample::recover(
        inj,
        &target,
        prev.as_ref(),
        || Ok(()),
        |u| {
            Ok(match prev.as_ref().and_then(|p| p.cpu_millicores) {
                Some(0) => u.cpu_limit_millicores.is_none(),
                Some(m) => u.cpu_limit_millicores == Some(m),
                None => true,
            })
        },
    );
    if periods == 0 {
        return span.fail(format!(
            "`{target}` was never throttled under {limit} millicores (cpu.stat nr_throttled unchanged)"
        ));
    }
    if !matches!(recovered, Ok(true)) {
        return span.fail(format!(
            "`{target}`'s CPU quota not restored: {recovered:?}"
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "{target}: throttled in {periods} periods ({} ms) under {limit} millicores",
            us / 1000
        ),
    })
}
