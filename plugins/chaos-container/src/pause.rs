//! pause_container: freeze a container, hold it, thaw it; both transitions
//! are observed from Docker's state.

use crate::tables::Pause;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Pause = injection_config(inj)?;
    let target = target(cfg.target.as_deref(), inj)?;
    let span = FaultSpan::start(
        "clnrm.chaos.pause",
        inj.parent,
        "pause_container",
        &target,
        cfg.delay_ms,
    );
    span.int("duration_ms", cfg.duration_ms as i64);

    clock::sleep_ms(cfg.delay_ms);
    require_running(&span, &target)?;
    if let Err(e) = container::pause(&target) {
        return span.fail(format!("pause `{target}`: {e}"));
    }
    expect_state(&span, &target, cfg.observe_timeout_ms, "paused", |s| {
        s.status == "paused"
    })?;
    span.event("container.paused");
    let paused_at = clock::now_ms();
    clock::sleep_ms(cfg.duration_ms);
    if let Err(e) = container::unpause(&target) {
        return span.fail(format!("unpause `{target}`: {e}"));
    }
    expect_state(
        &span,
        &target,
        cfg.observe_timeout_ms,
        "running again",
        |s| s.status == "running",
    )?;
    let held = clock::now_ms().saturating_sub(paused_at);
    span.event("container.resumed");
    span.int("paused.observed_ms", held as i64);
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!("froze {target} for {held} ms (observed paused, then running)"),
    })
}
