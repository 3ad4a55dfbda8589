//! The `chaos_injection` tables this plugin understands. A composed fault is
//! written as a type name (`"kill_container"`) or a table with its `type`
//! (`{ type = "pause_container", duration_ms = 300 }`): the host checks each
//! against its own plugin before the run (keys `fault` and `faults`), and the
//! plugin here fills in `target`.

use clnrm_sdk::config::ConfigError;
use serde::Deserialize;
use serde_json::{Map, Value};

/// One composed fault as written.
#[derive(Deserialize, Debug, Clone)]
#[serde(transparent)]
pub struct FaultEntry(pub Value);

impl FaultEntry {
    pub fn kill() -> FaultEntry {
        FaultEntry(Value::String("kill_container".into()))
    }

    /// Its type name.
    pub fn fault_type(&self) -> &str {
        match &self.0 {
            Value::String(t) => t,
            Value::Object(o) => o.get("type").and_then(Value::as_str).unwrap_or(""),
            _ => "",
        }
    }

    /// Its table as JSON, aimed at `target` (unless it names its own).
    pub fn at(&self, target: Option<&str>) -> String {
        let mut table = match &self.0 {
            Value::Object(o) => o.clone(),
            _ => Map::new(),
        };
        table.insert("type".into(), self.fault_type().into());
        if let Some(t) = target {
            table.entry("target").or_insert_with(|| t.into());
        }
        Value::Object(table).to_string()
    }

    /// The shape: a name, or a table with a string `type`; `targeted`: the
    /// composer picks the target, so the entry must not set one.
    pub fn check(&self, path: &[String], targeted: bool) -> Result<(), ConfigError> {
        match &self.0 {
            Value::String(t) if !t.is_empty() => Ok(()),
            Value::Object(o) => {
                if !o.get("type").is_some_and(Value::is_string) {
                    return Err(ConfigError::missing_key(path, "type"));
                }
                if targeted && o.contains_key("target") {
                    let mut p = path.to_vec();
                    p.push("target".into());
                    return Err(ConfigError::invalid_value(
                        &p,
                        "the composing fault picks the target: leave `target` out here",
                    ));
                }
                Ok(())
            }
            _ => Err(ConfigError::invalid_value(
                path,
                "expected a fault type name or a table with `type`",
            )),
        }
    }
}

fn path(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| p.to_string()).collect()
}

/// `chaos_monkey`: random strikes, from the seeded stream.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Monkey {
    #[serde(rename = "type")]
    pub _type: String,
    /// Services it may strike; default every service of the scenario.
    #[serde(default)]
    pub targets: Vec<String>,
    pub faults: Vec<FaultEntry>,
    /// Chance, per round, of a strike.
    pub failure_rate_percent: u32,
    #[serde(default = "rounds")]
    pub rounds: u32,
    /// Pause before each round.
    #[serde(default = "interval_ms")]
    pub interval_ms: u64,
    #[serde(default)]
    pub delay_ms: u64,
}

/// `cascade_failure`: fail the root, observe its dependents fail in turn.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Cascade {
    #[serde(rename = "type")]
    pub _type: String,
    pub root: String,
    /// How the root is failed; default `kill_container`.
    #[serde(default = "FaultEntry::kill")]
    pub fault: FaultEntry,
    #[serde(default)]
    pub delay_ms: u64,
    /// How long each dependent may take to fail after what it depends on.
    #[serde(default = "observe_timeout_ms")]
    pub observe_timeout_ms: u64,
}

/// `concurrent_faults`: several faults, of any plugins, at the same moment.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Concurrent {
    #[serde(rename = "type")]
    pub _type: String,
    /// Each with its own `target` (default the scenario's main service).
    pub faults: Vec<FaultEntry>,
    #[serde(default)]
    pub delay_ms: u64,
}

/// `concurrent_stress`: one fault on many containers at once.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Stress {
    #[serde(rename = "type")]
    pub _type: String,
    /// Default every service of the scenario.
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default = "FaultEntry::kill")]
    pub fault: FaultEntry,
    #[serde(default)]
    pub delay_ms: u64,
}

/// `concurrent_recovery`: a healthy system, faults at once, back to healthy.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    #[serde(rename = "type")]
    pub _type: String,
    /// Each with its own `target`; they must end by themselves (a pause
    /// with `duration_ms`, an impairment with `duration_ms`...).
    pub faults: Vec<FaultEntry>,
    /// Services that must answer their probe; default every service.
    #[serde(default)]
    pub services: Vec<String>,
    /// Probe this port from a peer too (TCP connect must complete), besides
    /// Docker reporting the container running.
    pub probe_port: Option<u16>,
    #[serde(default)]
    pub delay_ms: u64,
    /// How long the system may take to answer again after the faults end.
    #[serde(default = "recover_timeout_ms")]
    pub recover_timeout_ms: u64,
}

fn rounds() -> u32 {
    10
}
fn interval_ms() -> u64 {
    200
}
fn observe_timeout_ms() -> u64 {
    5_000
}
fn recover_timeout_ms() -> u64 {
    10_000
}

fn each(faults: &[FaultEntry], targeted: bool) -> Result<(), ConfigError> {
    if faults.is_empty() {
        return Err(ConfigError::invalid_value(
            &path(&["faults"]),
            "name at least one fault",
        ));
    }
    for (i, f) in faults.iter().enumerate() {
        f.check(&path(&["faults", &i.to_string()]), targeted)?;
    }
    Ok(())
}

/// Parse and range-check one table.
pub fn check(fault_type: &str, json: &str) -> Result<(), ConfigError> {
    use clnrm_sdk::config::parse;
    match fault_type {
        "chaos_monkey" => {
            let c: Monkey = parse(json)?;
            each(&c.faults, true)?;
            if c.failure_rate_percent > 100 {
                return Err(ConfigError::invalid_value(
                    &path(&["failure_rate_percent"]),
                    "a percentage from 0 to 100",
                ));
            }
            if c.rounds == 0 {
                return Err(ConfigError::invalid_value(
                    &path(&["rounds"]),
                    "must be at least 1",
                ));
            }
            Ok(())
        }
        "cascade_failure" => {
            let c: Cascade = parse(json)?;
            c.fault.check(&path(&["fault"]), true)
        }
        "concurrent_faults" => {
            let c: Concurrent = parse(json)?;
            each(&c.faults, false)?;
            if c.faults.len() < 2 {
                return Err(ConfigError::invalid_value(
                    &path(&["faults"]),
                    "concurrent faults are at least two",
                ));
            }
            Ok(())
        }
        "concurrent_stress" => {
            let c: Stress = parse(json)?;
            c.fault.check(&path(&["fault"]), true)
        }
        "concurrent_recovery" => {
            let c: Recovery = parse(json)?;
            each(&c.faults, false)
        }
        other => Err(clnrm_sdk::chaos_support::unhandled(crate::NAME, other)),
    }
}
