//! kill_container: signal a container and observe its death.

use crate::tables::Kill;
use clnrm_sdk::prelude::*;

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Kill = injection_config(inj)?;
    let target = target(cfg.target.as_deref(), inj)?;
    let span = FaultSpan::start(
        "clnrm.chaos.kill",
        inj.parent,
        "kill_container",
        &target,
        cfg.delay_ms,
    );
    span.str("signal", cfg.signal.name());
    let jitter = if cfg.jitter_ms > 0 {
        rng::next_u64() % (cfg.jitter_ms + 1)
    } else {
        0
    };
    if cfg.jitter_ms > 0 {
        // Drawn from the seeded stream: part of what the digest proves.
        span.int("delay.jitter_ms", jitter as i64);
    }

    clock::sleep_ms(cfg.delay_ms + jitter);
    require_running(&span, &target)?;
    let sent_at = clock::now_ms();
    // tests/plugins/kill-variant builds this file with `test-variant`: a
    // deliberately changed plugin (SIGTERM for SIGKILL) for replay's
    // divergence test. Never on in the shipped plugin.
    let signal = if cfg!(feature = "test-variant") {
        "SIGTERM".to_string()
    } else {
        cfg.signal.name().to_string()
    };
    if let Err(e) = container::kill(&target, &signal) {
        return span.fail(format!("kill `{target}` with {}: {e}", cfg.signal));
    }
    span.event("signal.sent");

    // Only the death Docker reports counts.
    let Some((state, _)) =
        wait_state(&target, cfg.observe_timeout_ms, |s| !s.running).or_else(|e| span.fail(e))?
    else {
        return span.fail(format!(
            "`{target}` still running {} ms after {}",
            cfg.observe_timeout_ms, cfg.signal
        ));
    };
    let after = clock::now_ms().saturating_sub(sent_at);
    let code = state.exit_code.unwrap_or(-1);
    span.int("container.exit_code", code as i64);
    span.bool("container.oom_killed", state.oom_killed);
    span.int("observed.after_ms", after as i64);
    // SIGKILL cannot be caught: the only honest evidence is 128 + 9.
    if cfg.signal.number() == 9 && code != 137 {
        return span.fail(format!(
            "`{target}` stopped with exit code {code}, not 137, after SIGKILL"
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!("sent {} to {target} after {} ms; container stopped with exit code {code} {after} ms later", cfg.signal, cfg.delay_ms + jitter),
    })
}
