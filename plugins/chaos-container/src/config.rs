//! The `chaos_injection` tables this plugin understands.

use serde::Deserialize;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Kill {
    #[serde(rename = "type")]
    pub _type: String,
    /// Wait this long after the scenario's steps start.
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default = "sigkill")]
    pub signal: String,
    /// Service to kill; default the scenario's main service.
    pub target: Option<String>,
    /// How long to watch for the container's death before calling the fault unobserved.
    #[serde(default = "observe_ms")]
    pub observe_timeout_ms: u64,
}

fn sigkill() -> String {
    "SIGKILL".into()
}

fn observe_ms() -> u64 {
    5_000
}

pub fn parse<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| format!("invalid chaos_injection: {e}"))
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
        "STOP" => 19,
        "CONT" => 18,
        _ => return None,
    })
}
