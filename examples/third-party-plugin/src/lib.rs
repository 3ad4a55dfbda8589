//! freeze_then_kill: freeze a container, hold it frozen, thaw it, then kill it,
//! observing every step from Docker's own state before the span says it happened.
#![cfg(target_family = "wasm")]

use clnrm_sdk::prelude::*;
use serde::Deserialize;

/// One `chaos_injection = { type = "freeze_then_kill", ... }` table (`type` aside).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FreezeThenKill {
    /// Wait this long after the scenario's steps start.
    #[serde(default)]
    delay_ms: u64,
    /// How long the container stays frozen.
    #[serde(default = "freeze_ms")]
    freeze_ms: u64,
    /// The signal sent after the thaw.
    #[serde(default = "Signal::kill")]
    signal: Signal,
    /// A service of the scenario, or "random"; default: the scenario's main service.
    target: Option<String>,
}

fn freeze_ms() -> u64 {
    300
}

/// How long to wait for each effect before calling it unobserved.
const OBSERVE_MS: u64 = 5_000;

// describe, check (typed, key by key) and the export, written from the table above.
clnrm_sdk::chaos_fault! {
    name: "freeze-then-kill",
    capabilities: ["container"],
    faults: { "freeze_then_kill": FreezeThenKill => freeze_then_kill; }
}

fn freeze_then_kill(cfg: FreezeThenKill, inj: &Injection) -> Result<Outcome, String> {
    let target = target(cfg.target.as_deref(), inj)?;
    // From here on the span records what happened: chaos.type, target.service, ...
    let span = FaultSpan::start(
        "chaos.freeze_then_kill",
        inj.parent,
        "freeze_then_kill",
        &target,
        cfg.delay_ms,
    );
    span.int("freeze_ms", cfg.freeze_ms as i64);
    span.str("signal", cfg.signal.name());
    clock::sleep_ms(cfg.delay_ms);
    require_running(&span, &target)?;

    // 1. Freeze, and see Docker report it paused; 2. thaw, and see it running again.
    container::pause(&target).or_else(|e| span.fail(format!("pause `{target}`: {e}")))?;
    expect_state(&span, &target, OBSERVE_MS, "paused", |s| {
        s.status == "paused"
    })?;
    span.event("container.paused");
    clock::sleep_ms(cfg.freeze_ms);
    container::unpause(&target).or_else(|e| span.fail(format!("unpause `{target}`: {e}")))?;
    expect_state(&span, &target, OBSERVE_MS, "running again", |s| {
        s.status == "running"
    })?;
    span.event("container.resumed");

    // 3. Kill, and see it stopped with the signal's exit code.
    container::kill(&target, cfg.signal.name())
        .or_else(|e| span.fail(format!("kill `{target}`: {e}")))?;
    span.event("signal.sent");
    let (state, after_ms) = expect_state(&span, &target, OBSERVE_MS, "stopped", |s| !s.running)?;
    let code = state.exit_code.unwrap_or(-1);
    span.int("container.exit_code", code as i64);
    span.int("observed.after_ms", after_ms as i64);
    if code != 128 + cfg.signal.number() {
        return span.fail(format!(
            "`{target}` exited with {code} after {}",
            cfg.signal
        ));
    }

    // Only now, with all three effects seen, is the fault observed.
    span.observed();
    let summary = format!(
        "froze {target} for {} ms, thawed it, then {} ended it with exit code {code}",
        cfg.freeze_ms, cfg.signal
    );
    Ok(Outcome {
        observed: true,
        summary,
    })
}
