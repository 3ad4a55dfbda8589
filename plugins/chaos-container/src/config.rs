//! The `chaos_injection` tables this plugin understands. Unknown keys are
//! errors (reported with the table's position before the run starts).

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
    #[serde(default = "sigkill")]
    pub signal: String,
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
    #[serde(default = "sigterm")]
    pub signal: String,
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

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Disconnect {
    #[serde(rename = "type")]
    pub _type: String,
    #[serde(default)]
    pub delay_ms: u64,
    /// Reconnect after this long; absent = stay cut off until cleanup.
    pub duration_ms: Option<u64>,
    pub target: Option<String>,
    #[serde(default = "observe_ms")]
    pub observe_timeout_ms: u64,
}

fn sigkill() -> String {
    "SIGKILL".into()
}
fn sigterm() -> String {
    "SIGTERM".into()
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

pub fn parse<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| {
        // The position is in the JSON the host made of the table, not in the
        // user's file (the host reports the table's own position): drop it.
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map(|(m, _)| m.to_string())
            .unwrap_or(msg);
        format!("invalid chaos_injection: {msg}")
    })
}

/// The target service: the configured one (which must belong to the
/// scenario), one drawn from the seeded stream for "random", or the
/// scenario's main service.
pub fn target(
    configured: &Option<String>,
    services: &[String],
    scenario: &str,
) -> Result<String, String> {
    if configured.as_deref() == Some("random") && !services.iter().any(|s| s == "random") {
        if services.is_empty() {
            return Err("the scenario has no service to act on".into());
        }
        let i = clnrm_sdk::chaos::clnrm::chaos::rng::next_u64() % services.len() as u64;
        return Ok(services[i as usize].clone());
    }
    let t = configured
        .clone()
        .or_else(|| services.first().cloned())
        .ok_or("the scenario has no service to act on")?;
    if !services.contains(&t) {
        return Err(format!(
            "target `{t}` is not a service of scenario `{scenario}` (services: {})",
            services.join(", ")
        ));
    }
    Ok(t)
}

/// Linux signal numbers for the names Docker accepts (with or without "SIG").
pub fn signal_number(signal: &str) -> Option<i32> {
    if let Ok(n) = signal.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = signal.trim_start_matches("SIG");
    Some(match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ABRT" => 6,
        "KILL" => 9,
        "USR1" => 10,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "CONT" => 18,
        "STOP" => 19,
        _ => return None,
    })
}

pub fn check_signal(signal: &str) -> Result<i32, String> {
    signal_number(signal).ok_or_else(|| {
        format!("unknown signal `{signal}` (use e.g. \"SIGKILL\", \"SIGTERM\" or a number)")
    })
}
