#![cfg(target_family = "wasm")]
//! The `[expect.order]` validator: converts the WIT trace into the sdk's span model and runs
//! `clnrm_sdk::expect::check_order`, where all the logic (and its tests) lives.

use clnrm_sdk::expect;
use clnrm_sdk::validator::clnrm::chaos::types::{ConfigError, PluginInfo};
use clnrm_sdk::validator::exports::clnrm::chaos::validator::{Finding, Guest, SpanRecord};
use clnrm_sdk::validator_support as support;

struct ValidateOrder;

impl Guest for ValidateOrder {
    fn describe() -> PluginInfo {
        support::plugin_info("validate-order", env!("CARGO_PKG_VERSION"), &["order"])
    }

    fn check(table: String, config_json: String) -> Result<(), ConfigError> {
        support::config("order", &table, &config_json)
            .and_then(|c| expect::parse_order(&c).map(|_| ()))
            .map_err(ConfigError::Other)
    }

    fn validate(
        table: String,
        config_json: String,
        trace: Vec<SpanRecord>,
    ) -> Result<Vec<Finding>, String> {
        support::validate("order", &table, &config_json, trace, expect::check_order)
    }
}

clnrm_sdk::export_validator_plugin!(ValidateOrder);
