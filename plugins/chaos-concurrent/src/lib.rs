//! First-party chaos plugin whose faults are made of the other plugins'
//! faults, run through the host's `compose` interface (WIT 0.3.2): the host
//! routes each composed fault to its plugin, journals it, and parents its
//! spans under this plugin's span. Every claim comes from what the composed
//! plugins observed or from Docker's own state.
//!
//! | type | what | span |
//! |---|---|---|
//! | `chaos_monkey` | seeded random strikes, round after round | `clnrm.chaos.monkey` |
//! | `cascade_failure` | fail the root, watch its `depends_on` dependents fail in turn | `clnrm.failure.cascade` |
//! | `concurrent_faults` | several faults of any plugins at the same moment | `clnrm.chaos.concurrent` |
//! | `concurrent_stress` | one fault on many containers at once | `clnrm.stress.concurrent` |
//! | `concurrent_recovery` | healthy, faults at once, healthy again | `clnrm.recovery.phase`, `clnrm.recovery.success` |
// Natively only for `cargo test` (the fake host): plugin logic tested without wasmtime.
#![cfg(any(target_family = "wasm", test))]

mod cascade;
mod composed;
mod concurrent;
mod monkey;
mod recovery;
mod tables;
#[cfg(test)]
mod tests;

use clnrm_sdk::prelude::*;

struct ChaosConcurrent;

pub(crate) const NAME: &str = "chaos-concurrent";

const TYPES: [&str; 5] = [
    "chaos_monkey",
    "cascade_failure",
    "concurrent_faults",
    "concurrent_stress",
    "concurrent_recovery",
];

impl ChaosPlugin for ChaosConcurrent {
    fn describe() -> PluginInfo {
        plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            &TYPES,
            &["container", "net", "compose"],
        )
    }

    fn check(fault_type: &str, config_json: &str) -> Result<(), ConfigError> {
        tables::check(fault_type, config_json)
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "chaos_monkey" => monkey::run(&injection),
            "cascade_failure" => cascade::run(&injection),
            "concurrent_faults" => concurrent::faults(&injection),
            "concurrent_stress" => concurrent::stress(&injection),
            "concurrent_recovery" => recovery::run(&injection),
            other => Err(unhandled(NAME, other).to_string()),
        }
    }
}

clnrm_sdk::chaos_plugin!(ChaosConcurrent);
