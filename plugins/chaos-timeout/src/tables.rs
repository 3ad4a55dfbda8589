//! The `chaos_injection` tables this plugin understands, decoded by
//! `clnrm_sdk::config::parse`: an unknown key or a wrong type is a structured
//! error with the key's path, reported before the run starts.

use serde::Deserialize;

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Hang {
    #[serde(rename = "type")]
    pub _type: String,
    /// Wait this long after the scenario's steps start.
    #[serde(default)]
    pub delay_ms: u64,
    /// How long the target's processes stay frozen.
    #[serde(default = "hang_ms")]
    pub duration_ms: u64,
    /// Service to freeze; default the scenario's main service.
    pub target: Option<String>,
    /// How long to watch for each state change before calling it unobserved.
    #[serde(default = "observe_ms")]
    pub observe_timeout_ms: u64,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct SlowStart {
    #[serde(rename = "type")]
    pub _type: String,
    /// How long the service's first step waits before it runs.
    pub delay_ms: u64,
    /// Service whose first step is held; default the scenario's main service.
    pub target: Option<String>,
}

fn hang_ms() -> u64 {
    1_000
}
fn observe_ms() -> u64 {
    5_000
}
