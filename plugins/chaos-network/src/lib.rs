//! First-party chaos plugin for network faults. The host applies them inside
//! the target container's own network namespace (nftables, tbf, NFQUEUE:
//! `clnrm:chaos/net`), so they go with the container; this plugin decides
//! what to impair, then proves it with probes from the peers' namespaces
//! before any span says the fault took effect, and again after healing
//! before it claims recovery.
//!
//! | type | effect | evidence |
//! |---|---|---|
//! | `network_latency` | peers' packets to the target held `latency_ms` (± `jitter_ms`, seeded) | probe RTT ≥ `latency_ms` − `jitter_ms` |
//! | `packet_loss` | peers' packets to the target dropped by seeded draws | share of probes lost |
//! | `network_partition` | target cut from peers, or `groups` split from each other | probes fail both ways |
//! | `connection_refused` | new connections to `port` reset | probe refused (was not before) |
//! | `connection_timeout` | SYNs to `port` dropped | probe times out (did not before) |
//! | `bandwidth_limit` | the target's egress limited to `rate_kbit` | measured throughput |
//! | `dns_failure` | queries leaving the target for `names` answered NXDOMAIN/SERVFAIL or dropped | a resolution probe from inside the target fails (did not before), another name still resolves |
//! | `network_disconnect` | the target's endpoint removed from the scenario network (optionally reconnected) | Docker no longer lists the endpoint |
// Natively only for `cargo test` (the fake host): plugin logic tested without wasmtime.
#![cfg(any(target_family = "wasm", test))]

mod disconnect;
mod dns;
mod impair;
mod partition;
mod probe;
mod tables;
#[cfg(test)]
mod tests;

use clnrm_sdk::prelude::*;

struct ChaosNetwork;

pub(crate) const NAME: &str = "chaos-network";

const TYPES: [&str; 8] = [
    "network_latency",
    "packet_loss",
    "network_partition",
    "connection_refused",
    "connection_timeout",
    "bandwidth_limit",
    "network_disconnect",
    "dns_failure",
];

impl ChaosPlugin for ChaosNetwork {
    fn describe() -> PluginInfo {
        plugin_info(
            NAME,
            env!("CARGO_PKG_VERSION"),
            &TYPES,
            &["container", "net"],
        )
    }

    fn check(fault_type: &str, config_json: &str) -> Result<(), ConfigError> {
        tables::check(fault_type, config_json)
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "network_partition" => partition::run(&injection),
            "network_disconnect" => disconnect::run(&injection),
            "dns_failure" => dns::run(&injection),
            "network_latency" | "packet_loss" | "connection_refused" | "connection_timeout"
            | "bandwidth_limit" => impair::run(&injection),
            other => Err(unhandled(NAME, other).to_string()),
        }
    }
}

clnrm_sdk::chaos_plugin!(ChaosNetwork);
