//! First-party chaos plugin for container faults. Every fault's span is OK
//! only when its effect was observed from Docker's own state, never on
//! intent alone (`clnrm_sdk::fault::FaultSpan`). None of them touches the
//! network (`network_disconnect` is chaos-network's), so a one-service
//! scenario with these faults runs without a network of its own.
//!
//! | type | effect | evidence |
//! |---|---|---|
//! | `kill_container` | signal (default SIGKILL) | container stopped; exit 137 for SIGKILL |
//! | `stop_container` | signal, grace period, then SIGKILL | container stopped; which signal did it |
//! | `pause_container` | freeze for `duration_ms`, thaw | state `paused`, then `running` |
// Natively only for `cargo test` (the fake host): plugin logic tested without wasmtime.
#![cfg(any(target_family = "wasm", test))]

mod kill;
mod pause;
mod stop;
mod tables;
#[cfg(test)]
mod tests;

use clnrm_sdk::prelude::*;

struct ChaosContainer;

const NAME: &str = "chaos-container";

const TYPES: [&str; 3] = ["kill_container", "stop_container", "pause_container"];

impl ChaosPlugin for ChaosContainer {
    fn describe() -> PluginInfo {
        plugin_info(NAME, env!("CARGO_PKG_VERSION"), &TYPES, &["container"])
    }

    fn check(fault_type: &str, config_json: &str) -> Result<(), ConfigError> {
        match fault_type {
            "kill_container" => config::parse::<tables::Kill>(config_json).map(|_| ()),
            "stop_container" => config::parse::<tables::Stop>(config_json).map(|_| ()),
            "pause_container" => config::parse::<tables::Pause>(config_json).map(|_| ()),
            other => Err(unhandled(NAME, other)),
        }
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "kill_container" => kill::run(&injection),
            "stop_container" => stop::run(&injection),
            "pause_container" => pause::run(&injection),
            other => Err(unhandled(NAME, other).to_string()),
        }
    }
}

clnrm_sdk::chaos_plugin!(ChaosContainer);
