//! stop_container: the polite signal, a grace period, then SIGKILL; the span
//! says which one actually stopped the container.

use crate::tables::Stop;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Stop = injection_config(inj)?;
    let target = target(cfg.target.as_deref(), inj)?;
    let span = FaultSpan::start(
        "clnrm.chaos.stop",
        inj.parent,
        "stop_container",
        &target,
        cfg.delay_ms,
    );
    span.str("signal", cfg.signal.name());
    span.int("grace_period_ms", cfg.grace_period_ms as i64);

    clock::sleep_ms(cfg.delay_ms);
    require_running(&span, &target)?;
    let sent_at = clock::now_ms();
    if let Err(e) = container::kill(&target, cfg.signal.name()) {
        return span.fail(format!("signal `{target}` with {}: {e}", cfg.signal));
    }
    span.event("signal.sent");
    let graceful =
        wait_state(&target, cfg.grace_period_ms, |s| !s.running).or_else(|e| span.fail(e))?;
    let (state, graceful) = match graceful {
        Some((st, _)) => (st, true),
        None => {
            span.event("grace.expired");
            if let Err(e) = container::kill(&target, "SIGKILL") {
                return span.fail(format!("SIGKILL `{target}` after the grace period: {e}"));
            }
            match wait_state(&target, cfg.observe_timeout_ms, |s| !s.running)
                .or_else(|e| span.fail(e))?
            {
                Some((st, _)) => (st, false),
                None => return span.fail(format!("`{target}` still running after SIGKILL")),
            }
        }
    };
    let after = clock::now_ms().saturating_sub(sent_at);
    let code = state.exit_code.unwrap_or(-1);
    span.bool("stop.graceful", graceful);
    span.int("container.exit_code", code as i64);
    span.int("observed.after_ms", after as i64);
    if !graceful && code != 137 {
        return span.fail(format!(
            "`{target}` stopped with exit code {code}, not 137, after SIGKILL"
        ));
    }
    span.observed();
    let how = if graceful {
        format!("exited on {} within the grace period", cfg.signal)
    } else {
        format!(
            "ignored {} for {} ms and was SIGKILLed",
            cfg.signal, cfg.grace_period_ms
        )
    };
    Ok(Outcome {
        observed: true,
        summary: format!("{target} {how}: exit code {code} after {after} ms"),
    })
}
