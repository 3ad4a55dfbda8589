#![cfg(target_family = "wasm")]
//! The `[expect.graph]` validator: converts the WIT trace into the sdk's span model and runs
//! `clnrm_sdk::expect::check_graph`, where all the logic (and its tests) lives.

use clnrm_sdk::expect;
use clnrm_sdk::validator::clnrm::chaos::types::{ConfigError, PluginInfo};
use clnrm_sdk::validator::exports::clnrm::chaos::validator::{Finding, Guest, SpanRecord};
use clnrm_sdk::validator_support as support;

struct ValidateGraph;

impl Guest for ValidateGraph {
    fn describe() -> PluginInfo {
        support::plugin_info("validate-graph", env!("CARGO_PKG_VERSION"), &["graph"])
    }

    fn check(table: String, config_json: String) -> Result<(), ConfigError> {
        support::config("graph", &table, &config_json)
            .and_then(|c| expect::parse_graph(&c).map(|_| ()))
            .map_err(ConfigError::Other)
    }

    fn validate(
        table: String,
        config_json: String,
        trace: Vec<SpanRecord>,
    ) -> Result<Vec<Finding>, String> {
        support::validate("graph", &table, &config_json, trace, expect::check_graph)
    }
}

clnrm_sdk::export_validator_plugin!(ValidateGraph);
