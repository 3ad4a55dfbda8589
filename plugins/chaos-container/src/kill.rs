//! kill_container: signal a container and observe its death.

use crate::config::{self, Kill};
use crate::observe::{self, FaultSpan};
use clnrm_sdk::chaos::clnrm::chaos::{clock, container};
use clnrm_sdk::chaos::exports::clnrm::chaos::chaos::{Injection, Outcome};

/// Parse and check the table; the signal's number with it.
pub fn check(config_json: &str) -> Result<(Kill, i32), String> {
    let cfg: Kill = config::parse(config_json)?;
    let signum = config::check_signal(&cfg.signal)?;
    Ok((cfg, signum))
}

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let (cfg, signum) = check(&inj.config_json)?;
    let target = config::target(&cfg.target, &inj.services, &inj.scenario)?;
    let span = FaultSpan::start("clnrm.chaos.kill", inj.parent, "kill_container", &target, cfg.delay_ms);
    span.str("signal", &cfg.signal);

    clock::sleep_ms(cfg.delay_ms);
    observe::require_running(&span, &target)?;
    let sent_at = clock::now_ms();
    if let Err(e) = container::kill(&target, &cfg.signal) {
        return span.fail(format!("kill `{target}` with {}: {e}", cfg.signal));
    }
    span.event("signal.sent");

    // Only the death Docker reports counts.
    let Some((state, _)) = observe::wait_state(&target, cfg.observe_timeout_ms, |s| !s.running).or_else(|e| span.fail(e))? else {
        return span.fail(format!("`{target}` still running {} ms after {}", cfg.observe_timeout_ms, cfg.signal));
    };
    let after = clock::now_ms().saturating_sub(sent_at);
    let code = state.exit_code.unwrap_or(-1);
    span.int("container.exit_code", code as i64);
    span.bool("container.oom_killed", state.oom_killed);
    span.int("observed.after_ms", after as i64);
    // SIGKILL cannot be caught: the only honest evidence is 128 + 9.
    if signum == 9 && code != 137 {
        return span.fail(format!("`{target}` stopped with exit code {code}, not 137, after SIGKILL"));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!("sent {} to {target} after {} ms; container stopped with exit code {code} {after} ms later", cfg.signal, cfg.delay_ms),
    })
}
