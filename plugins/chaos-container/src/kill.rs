//! kill_container: signal a container and observe its death.

use crate::config::{self, Kill};
use clnrm_sdk::chaos::clnrm::chaos::types::{AttrValue, SpanKind, SpanStatus};
use clnrm_sdk::chaos::clnrm::chaos::{clock, container, spans};
use clnrm_sdk::chaos::exports::clnrm::chaos::chaos::{Injection, Outcome};

const POLL_MS: u64 = 20;

/// Parse and check the table; the signal's number with it.
pub fn check(config_json: &str) -> Result<(Kill, i32), String> {
    let cfg: Kill = config::parse(config_json)?;
    let signum = config::signal_number(&cfg.signal).ok_or_else(|| format!("unknown signal `{}` (use e.g. \"SIGKILL\", \"SIGTERM\" or a number)", cfg.signal))?;
    Ok((cfg, signum))
}

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let (cfg, signum) = check(&inj.config_json)?;
    let target = cfg.target.clone().or_else(|| inj.services.first().cloned()).ok_or("the scenario has no service to kill")?;
    if !inj.services.contains(&target) {
        return Err(format!("target `{target}` is not a service of scenario `{}` (services: {})", inj.scenario, inj.services.join(", ")));
    }

    let span = spans::start("clnrm.chaos.kill", inj.parent, SpanKind::Internal);
    let attr = |k: &str, v: AttrValue| spans::set_attribute(span, k, &v);
    attr("chaos.type", AttrValue::Str("kill_container".into()));
    attr("target.service", AttrValue::Str(target.clone()));
    attr("signal", AttrValue::Str(cfg.signal.clone()));
    attr("delay_ms", AttrValue::Int(cfg.delay_ms as i64));

    clock::sleep_ms(cfg.delay_ms);
    let fail = |msg: String| {
        spans::set_attribute(span, "chaos.observed", &AttrValue::Boolean(false));
        spans::end(span, SpanStatus::Error, Some(&msg));
        Err(msg)
    };
    match container::inspect(&target) {
        Ok(st) if !st.running => return fail(format!("`{target}` was already {} before the kill (exit code {:?})", st.status, st.exit_code)),
        Err(e) => return fail(format!("cannot inspect `{target}`: {e}")),
        Ok(_) => {}
    }
    let sent_at = clock::now_ms();
    if let Err(e) = container::kill(&target, &cfg.signal) {
        return fail(format!("kill `{target}` with {}: {e}", cfg.signal));
    }
    spans::add_event(span, "signal.sent", &[]);

    // Watch for the death Docker reports; only that counts.
    let mut waited = 0;
    let state = loop {
        match container::inspect(&target) {
            Ok(st) if !st.running => break st,
            Ok(_) if waited >= cfg.observe_timeout_ms => {
                return fail(format!("`{target}` still running {} ms after {}", cfg.observe_timeout_ms, cfg.signal));
            }
            Ok(_) => {
                clock::sleep_ms(POLL_MS);
                waited += POLL_MS;
            }
            Err(e) => return fail(format!("cannot inspect `{target}` after the kill: {e}")),
        }
    };
    let after = clock::now_ms().saturating_sub(sent_at);
    let code = state.exit_code.unwrap_or(-1);
    attr("container.exit_code", AttrValue::Int(code as i64));
    attr("container.oom_killed", AttrValue::Boolean(state.oom_killed));
    attr("observed.after_ms", AttrValue::Int(after as i64));
    // SIGKILL cannot be caught: the only honest evidence is 128 + 9.
    if signum == 9 && code != 137 {
        return fail(format!("`{target}` stopped with exit code {code}, not 137, after SIGKILL"));
    }
    attr("chaos.observed", AttrValue::Boolean(true));
    spans::end(span, SpanStatus::Ok, None);
    Ok(Outcome {
        observed: true,
        summary: format!("sent {} to {target} after {} ms; container stopped with exit code {code} {after} ms later", cfg.signal, cfg.delay_ms),
    })
}
