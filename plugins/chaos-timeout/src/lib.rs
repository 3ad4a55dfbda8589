//! First-party chaos plugin for faults that make things late, so that
//! timeouts fire for real.
//!
//! | type | fault | evidence (span) |
//! |---|---|---|
//! | `hang` | freeze every process of the target (cgroup freezer, `container.pause`) for `duration_ms`, then thaw | Docker reports it `paused`, then `running` again, or stopped while frozen (a timeout enforced on it) (`clnrm.timeout.hang`) |
//! | `slow_start` | hold the service's first step `delay_ms` before it runs (`scenario.hold-first-step`) | the host reports how long the step was really held (`clnrm.timeout.slow_start`) |
//!
//! `clock_skew` is not declared: it cannot be done for real here, so the host refuses it
//! with the reason (host/src/suite/chaos.rs) and nothing lists or suggests it.
// Natively only for `cargo test` (the fake host): plugin logic tested without wasmtime.
#![cfg(any(target_family = "wasm", test))]

mod hang;
mod slow_start;
mod tables;
#[cfg(test)]
mod tests;

use clnrm_sdk::prelude::*;

struct ChaosTimeout;

const NAME: &str = "chaos-timeout";

const TYPES: [&str; 2] = ["hang", "slow_start"];

impl ChaosPlugin for ChaosTimeout {
    fn describe() -> PluginInfo {
        plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            &TYPES,
            &["container", "scenario"],
        )
    }

    fn check(fault_type: &str, config_json: &str) -> Result<(), ConfigError> {
        match fault_type {
            "hang" => config::parse::<tables::Hang>(config_json).map(|_| ()),
            "slow_start" => config::parse::<tables::SlowStart>(config_json).map(|_| ()),
            other => Err(unhandled(NAME, other)),
        }
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "hang" => hang::run(&injection),
            "slow_start" => slow_start::run(&injection),
            other => Err(unhandled(NAME, other).to_string()),
        }
    }
}

clnrm_sdk::chaos_plugin!(ChaosTimeout);
