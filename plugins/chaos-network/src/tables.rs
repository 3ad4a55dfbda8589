//! The `chaos_injection` tables this plugin understands, decoded by
//! `clnrm_sdk::config::parse`: an unknown key, a wrong type or a value out of
//! range is a structured error with the key's path, reported before the run
//! starts (file:line:col).
//!
//! Common keys: `target` (default the scenario's main service), `peers`
//! (default every other service), `delay_ms` (start after), `duration_ms`
//! (heal after; absent: the fault stays until the scenario's containers go),
//! `probe_port` (the port probes connect to: a closed port answers with a
//! reset, so any port shows reachability), `probe_timeout_ms`.

use clnrm_sdk::config::ConfigError;
use serde::Deserialize;

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    #[serde(rename = "type")]
    pub _type: String,
    pub latency_ms: u32,
    /// Each packet's delay is uniform in latency ± jitter (seeded); ≤ latency.
    #[serde(default)]
    pub jitter_ms: u32,
    pub target: Option<String>,
    #[serde(default)]
    pub peers: Vec<String>,
    #[serde(default)]
    pub delay_ms: u64,
    pub duration_ms: Option<u64>,
    #[serde(default = "probe_port")]
    pub probe_port: u16,
    /// Probes whose round trips are measured.
    #[serde(default = "latency_probes")]
    pub probes: u32,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Loss {
    #[serde(rename = "type")]
    pub _type: String,
    pub loss_percent: f64,
    pub target: Option<String>,
    #[serde(default)]
    pub peers: Vec<String>,
    #[serde(default)]
    pub delay_ms: u64,
    pub duration_ms: Option<u64>,
    #[serde(default = "probe_port")]
    pub probe_port: u16,
    /// Probes (one SYN each) whose losses are counted.
    #[serde(default = "loss_probes")]
    pub probes: u32,
    /// A SYN unanswered this long counts as lost (well under TCP's 1 s retry).
    #[serde(default = "loss_probe_timeout_ms")]
    pub probe_timeout_ms: u32,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    #[serde(rename = "type")]
    pub _type: String,
    /// Split brain: each group reaches only itself; a service in no group
    /// keeps reaching everyone. Without groups: `target` cut off from `peers`.
    pub groups: Option<Vec<Vec<String>>>,
    pub target: Option<String>,
    #[serde(default)]
    pub peers: Vec<String>,
    #[serde(default)]
    pub delay_ms: u64,
    pub duration_ms: Option<u64>,
    #[serde(default = "probe_port")]
    pub probe_port: u16,
    #[serde(default = "probe_timeout_ms")]
    pub probe_timeout_ms: u32,
}

/// `connection_refused` and `connection_timeout`.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Port {
    #[serde(rename = "type")]
    pub _type: String,
    pub port: u16,
    pub target: Option<String>,
    #[serde(default)]
    pub peers: Vec<String>,
    #[serde(default)]
    pub delay_ms: u64,
    pub duration_ms: Option<u64>,
    #[serde(default = "probe_timeout_ms")]
    pub probe_timeout_ms: u32,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Bandwidth {
    #[serde(rename = "type")]
    pub _type: String,
    pub rate_kbit: u32,
    pub target: Option<String>,
    #[serde(default)]
    pub peers: Vec<String>,
    #[serde(default)]
    pub delay_ms: u64,
    pub duration_ms: Option<u64>,
    /// How long the throughput measurement sends.
    #[serde(default = "measure_ms")]
    pub measure_ms: u32,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
/// `network_disconnect`: the endpoint itself goes (Docker's view), not just
/// the traffic.
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

/// `dns_failure`: resolution of `names` fails inside the target's namespace.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    #[serde(rename = "type")]
    pub _type: String,
    pub target: Option<String>,
    /// Exact names or globs (`*` any run of characters), case-insensitive.
    pub names: Vec<String>,
    #[serde(default)]
    pub mode: DnsMode,
    #[serde(default)]
    pub delay_ms: u64,
    pub duration_ms: Option<u64>,
    /// The name probed to show the failure (default: the first name without
    /// a `*`); it must match `names`.
    pub probe_name: Option<String>,
    /// A name that must keep resolving (default: the first service of the
    /// scenario that `names` does not match).
    pub control_name: Option<String>,
    #[serde(default = "dns_probe_timeout_ms")]
    pub probe_timeout_ms: u32,
}

#[derive(Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DnsMode {
    #[default]
    Nxdomain,
    Servfail,
    Timeout,
}

impl DnsMode {
    pub fn name(self) -> &'static str {
        match self {
            DnsMode::Nxdomain => "nxdomain",
            DnsMode::Servfail => "servfail",
            DnsMode::Timeout => "timeout",
        }
    }
}

/// Whether `name` matches `pattern` (as the host matches queries):
/// case-insensitive, `*` any run of characters.
pub fn dns_matches(pattern: &str, name: &str) -> bool {
    fn glob(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| glob(rest, &n[i..])),
            Some((c, rest)) => n.first() == Some(c) && glob(rest, &n[1..]),
        }
    }
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    glob(p.as_bytes(), n.as_bytes())
}

fn check_dns(c: &Dns) -> Result<(), ConfigError> {
    if c.names.is_empty() {
        return Err(ConfigError::invalid_value(
            &["names".into()],
            "no name to fail: give at least one name or glob",
        ));
    }
    for (i, n) in c.names.iter().enumerate() {
        let bad = n.is_empty()
            || n.split('.').any(str::is_empty)
            || !n
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.*".contains(ch));
        if bad {
            return Err(ConfigError::invalid_value(
                &["names".into(), i.to_string()],
                format!("`{n}` is not a DNS name or glob (letters, digits, `-`, `_`, `.`, `*`)"),
            ));
        }
    }
    let literal = c.names.iter().any(|n| !n.contains('*'));
    match &c.probe_name {
        Some(p) if !c.names.iter().any(|n| dns_matches(n, p)) => {
            return Err(ConfigError::invalid_value(
                &["probe_name".into()],
                format!("`{p}` matches none of `names`: its failure would show nothing"),
            ))
        }
        None if !literal => {
            return Err(ConfigError::invalid_value(
                &["names".into()],
                "only globs: set `probe_name` to a name they match that resolves before the fault",
            ))
        }
        _ => {}
    }
    if let Some(ctl) = &c.control_name {
        if c.names.iter().any(|n| dns_matches(n, ctl)) {
            return Err(ConfigError::invalid_value(
                &["control_name".into()],
                format!("`{ctl}` matches `names`: it cannot show that other names still resolve"),
            ));
        }
    }
    positive(c.probe_timeout_ms, "probe_timeout_ms")
}

/// Parse and range-check one table.
pub fn check(fault_type: &str, json: &str) -> Result<(), ConfigError> {
    use clnrm_sdk::config::parse;
    match fault_type {
        "network_latency" => {
            let c: Latency = parse(json)?;
            if c.latency_ms == 0 {
                return Err(ConfigError::invalid_value(
                    &["latency_ms".into()],
                    "a latency of 0 ms injects nothing",
                ));
            }
            if c.jitter_ms > c.latency_ms {
                return Err(ConfigError::invalid_value(
                    &["jitter_ms".into()],
                    format!(
                        "a jitter of {} ms exceeds the latency of {} ms (delays would be negative)",
                        c.jitter_ms, c.latency_ms
                    ),
                ));
            }
            positive(c.probes, "probes")
        }
        "packet_loss" => {
            let c: Loss = parse(json)?;
            if !(0.0..=100.0).contains(&c.loss_percent) {
                return Err(ConfigError::invalid_value(
                    &["loss_percent".into()],
                    format!("{} is not within 0..=100", c.loss_percent),
                ));
            }
            positive(c.probes, "probes")
        }
        "network_partition" => {
            let c: Partition = parse(json)?;
            if let Some(groups) = &c.groups {
                if groups.len() < 2 {
                    return Err(ConfigError::invalid_value(
                        &["groups".into()],
                        "a split needs at least two groups",
                    ));
                }
                let mut seen = Vec::new();
                for (i, g) in groups.iter().enumerate() {
                    if g.is_empty() {
                        return Err(ConfigError::invalid_value(
                            &["groups".into(), i.to_string()],
                            "an empty group",
                        ));
                    }
                    for (j, s) in g.iter().enumerate() {
                        if seen.contains(s) {
                            return Err(ConfigError::invalid_value(
                                &["groups".into(), i.to_string(), j.to_string()],
                                format!("`{s}` is in two groups"),
                            ));
                        }
                        seen.push(s.clone());
                    }
                }
                if c.target.is_some() || !c.peers.is_empty() {
                    return Err(ConfigError::invalid_value(
                        &["groups".into()],
                        "give either `groups` or `target`/`peers`, not both",
                    ));
                }
            }
            Ok(())
        }
        "connection_refused" | "connection_timeout" => parse::<Port>(json).map(|_| ()),
        "network_disconnect" => parse::<Disconnect>(json).map(|_| ()),
        "dns_failure" => check_dns(&parse::<Dns>(json)?),
        "bandwidth_limit" => {
            let c: Bandwidth = parse(json)?;
            positive(c.rate_kbit, "rate_kbit")?;
            positive(c.measure_ms, "measure_ms")
        }
        other => Err(clnrm_sdk::prelude::unhandled(crate::NAME, other)),
    }
}

fn observe_ms() -> u64 {
    5_000
}

fn positive(v: u32, key: &str) -> Result<(), ConfigError> {
    if v == 0 {
        return Err(ConfigError::invalid_value(
            &[key.into()],
            "must be at least 1",
        ));
    }
    Ok(())
}

fn probe_port() -> u16 {
    // discard: nothing listens there in a test container; a reset answers.
    9
}
fn latency_probes() -> u32 {
    5
}
fn loss_probes() -> u32 {
    200
}
fn loss_probe_timeout_ms() -> u32 {
    150
}
fn dns_probe_timeout_ms() -> u32 {
    // Well under resolvers' 5 s retry; Docker's resolver answers in a few ms.
    1_000
}
fn probe_timeout_ms() -> u32 {
    1_000
}
fn measure_ms() -> u32 {
    1_000
}
