//! slow_start: the service's first step waits `delay_ms` before it runs. The
//! host holds the step (`scenario.hold-first-step`, the plugin's first host
//! call, so the hold is in place before the steps start) and answers once it
//! released it, with how long it really held it.

use crate::tables::SlowStart;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: SlowStart = injection_config(inj)?;
    let target = target(cfg.target.as_deref(), inj)?;
    // First call: the steps wait for it (see the WIT's `scenario` interface).
    let held = scenario::hold_first_step(&target, cfg.delay_ms);
    let span = FaultSpan::start(
        "clnrm.timeout.slow_start",
        inj.parent,
        "slow_start",
        &target,
        cfg.delay_ms,
    );
    let held = match held {
        Ok(ms) => ms,
        Err(e) => return span.fail(format!("hold the first step of `{target}`: {e}")),
    };
    span.event("step.released");
    // What the host measured: load-dependent, volatile in the digest.
    span.int("slow_start.measured_ms", held as i64);
    if held < cfg.delay_ms {
        return span.fail(format!(
            "the first step of `{target}` was held {held} ms, less than {} ms",
            cfg.delay_ms
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!("held the first step of {target} for {held} ms"),
    })
}
