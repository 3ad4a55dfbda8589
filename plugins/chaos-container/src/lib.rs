//! First-party chaos plugin for container faults.
//!
//! `kill_container`: after `delay_ms`, send `signal` (default SIGKILL) to the
//! target service's container, then watch Docker until the container is seen
//! dead. The `clnrm.chaos.kill` span is OK only when the death was observed
//! (for SIGKILL: exit code 137), never on intent alone.
#![cfg(target_family = "wasm")]

mod config;
mod kill;

use clnrm_sdk::chaos::clnrm::chaos::types::PluginInfo;
use clnrm_sdk::chaos::exports::clnrm::chaos::chaos::{Guest, Injection, Outcome};

struct ChaosContainer;

impl Guest for ChaosContainer {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "chaos-container".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: clnrm_sdk::WIT_VERSION.into(),
            handles: vec!["kill_container".into()],
            capabilities: vec!["container".into()],
        }
    }

    fn check(fault_type: String, config_json: String) -> Result<(), String> {
        match fault_type.as_str() {
            "kill_container" => kill::check(&config_json).map(|_| ()),
            other => Err(format!("chaos-container does not handle `{other}`")),
        }
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "kill_container" => kill::run(&injection),
            other => Err(format!("chaos-container does not handle `{other}`")),
        }
    }
}

clnrm_sdk::export_chaos_plugin!(ChaosContainer);
