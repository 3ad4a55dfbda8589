//! hang: freeze every process of the target (the cgroup freezer, through
//! `container.pause`), keep it frozen, thaw it. Each transition is observed
//! in Docker's state before the span says it. A timeout enforced on the
//! frozen container (SIGKILL reaches a frozen cgroup) stops it: then there is
//! nothing to thaw, and the span says it was stopped while frozen.

use crate::tables::Hang;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Hang = injection_config(inj)?;
    let target = target(cfg.target.as_deref(), inj)?;
    let span = FaultSpan::start(
        "clnrm.timeout.hang",
        inj.parent,
        "hang",
        &target,
        cfg.delay_ms,
    );
    span.int("hang.duration_ms", cfg.duration_ms as i64);
    span.str("hang.method", "cgroup_freezer");

    clock::sleep_ms(cfg.delay_ms);
    require_running(&span, &target)?;
    if let Err(e) = container::pause(&target) {
        return span.fail(format!("freeze `{target}`: {e}"));
    }
    let frozen = wait_state(&target, cfg.observe_timeout_ms, |s| {
        s.status == "paused" || !s.running
    })
    .or_else(|e| span.fail(e))?;
    match frozen {
        Some((s, _)) if s.status == "paused" => {}
        Some((s, _)) => {
            return span.fail(format!(
                "`{target}` stopped ({}) instead of freezing",
                s.status
            ))
        }
        None => {
            return span.fail(format!(
                "`{target}` not reported paused within {} ms",
                cfg.observe_timeout_ms
            ))
        }
    }
    span.event("processes.frozen");
    span.str("hang.observed_state", "paused");
    let frozen_at = clock::now_ms();
    // Sleep in slices so a container stopped while frozen is noticed.
    let until = frozen_at + cfg.duration_ms;
    let mut stopped = None;
    while clock::now_ms() < until {
        clock::sleep_ms((until - clock::now_ms()).min(100));
        match container::inspect(&target) {
            Ok(s) if !s.running => {
                stopped = Some(s);
                break;
            }
            Ok(_) => {}
            Err(e) => return span.fail(format!("cannot inspect `{target}`: {e}")),
        }
    }
    let held = clock::now_ms().saturating_sub(frozen_at);
    span.int("hang.frozen.observed_ms", held as i64);
    if let Some(s) = stopped {
        // Something stopped it while it hung (a step's timeout, typically).
        span.event("container.stopped_while_frozen");
        span.bool("hang.thawed", false);
        span.str("hang.end_state", &s.status);
        if let Some(c) = s.exit_code {
            span.int("container.exit_code", c as i64);
        }
        span.observed();
        return Ok(Outcome {
            observed: true,
            summary: format!(
                "froze {target}; it was stopped while frozen ({}), nothing to thaw",
                s.status
            ),
        });
    }
    if let Err(e) = container::unpause(&target) {
        return span.fail(format!("thaw `{target}`: {e}"));
    }
    expect_state(
        &span,
        &target,
        cfg.observe_timeout_ms,
        "running again",
        |s| s.status == "running",
    )?;
    span.event("processes.thawed");
    span.bool("hang.thawed", true);
    span.str("hang.end_state", "running");
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!("froze {target} for {held} ms (observed paused, then running)"),
    })
}
