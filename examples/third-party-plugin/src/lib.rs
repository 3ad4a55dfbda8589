//! freeze_then_kill: freeze a container, hold it frozen, thaw it, then kill it,
//! observing every step from Docker's own state before the span says it happened.
#![cfg(target_family = "wasm")]

use clnrm_sdk::prelude::*;
use serde::Deserialize;

/// One `chaos_injection = { type = "freeze_then_kill", ... }` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FreezeThenKill {
    #[serde(rename = "type")]
    _type: String,
    /// Wait this long after the scenario's steps start.
    #[serde(default)]
    delay_ms: u64,
    /// How long the container stays frozen.
    #[serde(default = "default_freeze_ms")]
    freeze_ms: u64,
    /// The signal sent after the thaw.
    #[serde(default = "Signal::kill")]
    signal: Signal,
    /// A service of the scenario, or "random"; default: the scenario's main service.
    target: Option<String>,
    /// How long to wait for each effect before calling it unobserved.
    #[serde(default = "default_observe_ms")]
    observe_timeout_ms: u64,
}

fn default_freeze_ms() -> u64 {
    300
}

fn default_observe_ms() -> u64 {
    5_000
}

struct Plugin;

impl ChaosPlugin for Plugin {
    fn describe() -> PluginInfo {
        plugin_info(
            "freeze-then-kill",
            env!("CARGO_PKG_VERSION"),
            &["freeze_then_kill"],
            &["container"],
        )
    }

    fn check(fault_type: &str, config_json: &str) -> Result<(), ConfigError> {
        match fault_type {
            "freeze_then_kill" => config::parse::<FreezeThenKill>(config_json).map(|_| ()),
            other => Err(unhandled("freeze-then-kill", other)),
        }
    }

    fn inject(inj: Injection) -> Result<Outcome, String> {
        let cfg: FreezeThenKill = injection_config(&inj)?;
        let target = target(cfg.target.as_deref(), &inj)?;
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

        // 1. Freeze, and see Docker report it paused.
        if let Err(e) = container::pause(&target) {
            return span.fail(format!("pause `{target}`: {e}"));
        }
        let frozen = wait_state(&target, cfg.observe_timeout_ms, |s| s.status == "paused");
        if frozen.or_else(|e| span.fail(e))?.is_none() {
            return span.fail(format!("`{target}` not reported paused"));
        }
        span.event("container.paused");
        clock::sleep_ms(cfg.freeze_ms);

        // 2. Thaw, and see it running again.
        if let Err(e) = container::unpause(&target) {
            return span.fail(format!("unpause `{target}`: {e}"));
        }
        let thawed = wait_state(&target, cfg.observe_timeout_ms, |s| s.status == "running");
        if thawed.or_else(|e| span.fail(e))?.is_none() {
            return span.fail(format!("`{target}` not reported running again"));
        }
        span.event("container.resumed");

        // 3. Kill, and see it stopped.
        if let Err(e) = container::kill(&target, cfg.signal.name()) {
            return span.fail(format!("kill `{target}` with {}: {e}", cfg.signal));
        }
        span.event("signal.sent");
        let stopped = wait_state(&target, cfg.observe_timeout_ms, |s| !s.running);
        let Some((state, after_ms)) = stopped.or_else(|e| span.fail(e))? else {
            return span.fail(format!("`{target}` still running after {}", cfg.signal));
        };
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
        Ok(Outcome {
            observed: true,
            summary: format!(
                "froze {target} for {} ms, thawed it, then {} ended it with exit code {code}",
                cfg.freeze_ms, cfg.signal
            ),
        })
    }
}

clnrm_sdk::chaos_plugin!(Plugin);
