//! First-party chaos plugin for container faults. Every fault's span is OK
//! only when its effect was observed from Docker's own state, never on
//! intent alone.
//!
//! | type | effect | evidence |
//! |---|---|---|
//! | `kill_container` | signal (default SIGKILL) | container stopped; exit 137 for SIGKILL |
//! | `stop_container` | signal, grace period, then SIGKILL | container stopped; which signal did it |
//! | `pause_container` | freeze for `duration_ms`, thaw | state `paused`, then `running` |
//! | `network_disconnect` | cut off the scenario network (optionally reconnect) | Docker no longer lists the endpoint |
#![cfg(target_family = "wasm")]

mod config;
mod kill;
mod network;
mod observe;
mod pause;
mod stop;

use clnrm_sdk::chaos::clnrm::chaos::types::{ConfigError, PluginInfo};
use clnrm_sdk::chaos::exports::clnrm::chaos::chaos::{Guest, Injection, Outcome};

struct ChaosContainer;

const TYPES: [&str; 4] = [
    "kill_container",
    "stop_container",
    "pause_container",
    "network_disconnect",
];

impl Guest for ChaosContainer {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "chaos-container".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: clnrm_sdk::WIT_VERSION.into(),
            handles: TYPES.iter().map(|t| t.to_string()).collect(),
            capabilities: vec!["container".into()],
        }
    }

    fn check(fault_type: String, config_json: String) -> Result<(), ConfigError> {
        match fault_type.as_str() {
            "kill_container" => kill::check(&config_json).map(|_| ()),
            "stop_container" => stop::check(&config_json).map(|_| ()),
            "pause_container" => pause::check(&config_json).map(|_| ()),
            "network_disconnect" => network::check(&config_json).map(|_| ()),
            other => Err(format!("chaos-container does not handle `{other}`")),
        }
        .map_err(ConfigError::Other)
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "kill_container" => kill::run(&injection),
            "stop_container" => stop::run(&injection),
            "pause_container" => pause::run(&injection),
            "network_disconnect" => network::run(&injection),
            other => Err(format!("chaos-container does not handle `{other}`")),
        }
    }
}

clnrm_sdk::export_chaos_plugin!(ChaosContainer);
