#![cfg(target_family = "wasm")]
//! The `[expect.chaos]` validator: converts the WIT trace into the sdk's span model and runs
//! `clnrm_sdk::expect::check_chaos`, where all the logic (its semantics and its tests) lives.

use clnrm_sdk::expect;
use clnrm_sdk::validator::clnrm::chaos::types::{ConfigError, PluginInfo};
use clnrm_sdk::validator::exports::clnrm::chaos::validator::{Finding, Guest, SpanRecord};
use clnrm_sdk::validator_support as support;

struct ValidateChaos;

impl Guest for ValidateChaos {
    fn describe() -> PluginInfo {
        support::plugin_info("validate-chaos", env!("CARGO_PKG_VERSION"), &["chaos"])
    }

    fn check(table: String, config_json: String) -> Result<(), ConfigError> {
        support::config("chaos", &table, &config_json)
            .and_then(|c| expect::parse_chaos(&c).map(|_| ()))
            .map_err(ConfigError::Other)
    }

    fn validate(
        table: String,
        config_json: String,
        trace: Vec<SpanRecord>,
    ) -> Result<Vec<Finding>, String> {
        support::validate("chaos", &table, &config_json, trace, expect::check_chaos)
    }
}

clnrm_sdk::export_validator_plugin!(ValidateChaos);
