//! The `chaos_injection` tables this plugin understands, decoded by
//! `clnrm_sdk::config::parse`: an unknown key, a wrong type or an unknown signal is
//! a structured error with the key's path, reported before the run starts.

use clnrm_sdk::fault::Signal;
use serde::Deserialize;

/// Keys every fault of this plugin takes.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Kill {
    #[serde(rename = "type")]
    pub _type: String,
    /// Wait this long after the scenario's steps start.
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default = "Signal::kill")]
    pub signal: Signal,
    /// Add a seeded random 0..=jitter_ms to the delay (reproducible from the seed).
    #[serde(default)]
    pub jitter_ms: u64,
    /// Service to act on; default the scenario's main service; "random"
    /// picks one of the scenario's services from the seeded stream.
    pub target: Option<String>,
    /// How long to watch for the effect before calling the fault unobserved.
    #[serde(default = "observe_ms")]
    pub observe_timeout_ms: u64,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    #[serde(rename = "type")]
    pub _type: String,
    #[serde(default)]
    pub delay_ms: u64,
    /// The polite signal first (default SIGTERM) ...
    #[serde(default = "Signal::term")]
    pub signal: Signal,
    /// ... then SIGKILL if the container still runs after this long.
    #[serde(default = "grace_ms")]
    pub grace_period_ms: u64,
    pub target: Option<String>,
    #[serde(default = "observe_ms")]
    pub observe_timeout_ms: u64,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    #[serde(rename = "type")]
    pub _type: String,
    #[serde(default)]
    pub delay_ms: u64,
    /// How long the container stays frozen.
    #[serde(default = "pause_ms")]
    pub duration_ms: u64,
    pub target: Option<String>,
    #[serde(default = "observe_ms")]
    pub observe_timeout_ms: u64,
}

fn observe_ms() -> u64 {
    5_000
}
fn grace_ms() -> u64 {
    10_000
}
fn pause_ms() -> u64 {
    1_000
}
