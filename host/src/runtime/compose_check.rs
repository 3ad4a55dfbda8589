//! Load-time checks of composed faults: a composing injection (its plugin
//! declares "compose") names its faults in `faults = [...]` and `fault = ...`,
//! each a type name or a table with `type`. Before anything runs, each must
//! be a type another plugin handles, and its table must pass that plugin's
//! own `check`; the error points at the key inside the entry.

use super::bindings::chaos::clnrm::chaos::types::InvalidValue;
use super::bindings::ConfigError;
use super::plugin::LoadedPlugin;
use crate::suite::nearest;
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::Engine;

/// The entries a composing injection's table names, with their paths:
/// `fault = ...` and each of `faults = [...]`.
fn entries(v: &serde_json::Value) -> Vec<(Vec<String>, &serde_json::Value)> {
    let mut out: Vec<(Vec<String>, &serde_json::Value)> = Vec::new();
    if let Some(f) = v.get("fault") {
        out.push((vec!["fault".into()], f));
    }
    for (i, f) in v
        .get("faults")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        out.push((vec!["faults".into(), i.to_string()], f));
    }
    out
}

/// The fault types a composing injection's table names (a type name, or a
/// table's `type`; anything else is [`check`]'s to refuse). A plugin cannot
/// compose itself, so one level is all there is.
pub fn composed_types(config_json: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(config_json) else {
        return Vec::new();
    };
    entries(&v)
        .into_iter()
        .filter_map(|(_, e)| match e {
            serde_json::Value::String(t) => Some(t.clone()),
            e => e.get("type")?.as_str().map(str::to_string),
        })
        .collect()
}

/// The faults a composing injection names, checked before anything runs:
/// each entry of `faults = [...]` and `fault = ...` (a type name, or a
/// table with `type`) must be a type some other plugin handles, and its
/// table must pass that plugin's `check`. The error (paths from the
/// injection's table) and a hint.
pub(super) async fn check(
    engine: &Engine,
    composer: &LoadedPlugin,
    config_json: &str,
    composable: &HashMap<String, Arc<LoadedPlugin>>,
) -> Option<(ConfigError, Option<String>)> {
    let v: serde_json::Value = serde_json::from_str(config_json).ok()?;
    let invalid = |path: &[String], message: String| {
        ConfigError::InvalidValue(InvalidValue {
            path: path.to_vec(),
            message,
        })
    };
    for (path, entry) in entries(&v) {
        let (fault_type, table) = match entry {
            serde_json::Value::String(t) => (t.clone(), serde_json::json!({ "type": t })),
            serde_json::Value::Object(o) => match o.get("type").and_then(|t| t.as_str()) {
                Some(t) => (t.to_string(), entry.clone()),
                None => {
                    return Some((
                        invalid(&path, "a composed fault needs its `type`".into()),
                        Some("write a fault type name, or a table with type = \"...\"".into()),
                    ))
                }
            },
            _ => {
                return Some((
                    invalid(
                        &path,
                        "expected a fault type name or a table with `type`".into(),
                    ),
                    None,
                ))
            }
        };
        let Some(target) = composable.get(&fault_type) else {
            let known: Vec<&str> = {
                let mut k: Vec<&str> = composable
                    .iter()
                    .filter(|(_, p)| p.info.name != composer.info.name)
                    .map(|(t, _)| t.as_str())
                    .collect();
                k.sort();
                k
            };
            let help = match nearest(&fault_type, known.iter().copied()) {
                Some(n) => format!(
                    "did you mean `{n}`? fault types to compose: {}",
                    known.join(", ")
                ),
                None => format!("fault types to compose: {}", known.join(", ")),
            };
            return Some((
                invalid(&path, format!("unknown fault type `{fault_type}`")),
                Some(help),
            ));
        };
        if target.info.name == composer.info.name {
            return Some((
                invalid(
                    &path,
                    format!("`{fault_type}` is {}'s own fault type; a plugin cannot compose itself", composer.info.name),
                ),
                Some("compose fault types of other plugins (chaos-container, chaos-network, chaos-resource, ...)".into()),
            ));
        }
        match target
            .check_chaos(engine, &fault_type, &table.to_string())
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Some((prefix_path(e, &path), None)),
            Err(e) => return Some((invalid(&path, e.to_string()), None)),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::composed_types;

    #[test]
    fn the_types_a_composition_names() {
        // The chaos_monkey of tests/chaos/concurrent_chaos.clnrm.toml, and a lone `fault`.
        let monkey = r#"{"type":"chaos_monkey","targets":["m1"],"faults":["kill_container",{"type":"pause_container","duration_ms":200},{"type":"network_latency","latency_ms":100},{"grace_period_ms":200}]}"#;
        assert_eq!(
            composed_types(monkey),
            ["kill_container", "pause_container", "network_latency"]
        );
        assert_eq!(composed_types(r#"{"fault":"hang"}"#), ["hang"]);
        assert!(composed_types(r#"{"type":"kill_container"}"#).is_empty());
        assert!(composed_types("not json").is_empty());
    }
}

/// A composed fault's `check` error, its paths made relative to the
/// composing injection's table (`faults[2].latency_ms`).
fn prefix_path(e: ConfigError, prefix: &[String]) -> ConfigError {
    let join = |p: Vec<String>| prefix.iter().cloned().chain(p).collect::<Vec<_>>();
    match e {
        ConfigError::UnknownKey(mut u) => {
            u.path = join(u.path);
            ConfigError::UnknownKey(u)
        }
        ConfigError::MissingKey(mut m) => {
            m.path = join(m.path);
            ConfigError::MissingKey(m)
        }
        ConfigError::WrongType(mut w) => {
            w.path = join(w.path);
            ConfigError::WrongType(w)
        }
        ConfigError::InvalidValue(mut v) => {
            v.path = join(v.path);
            ConfigError::InvalidValue(v)
        }
        ConfigError::Other(m) => ConfigError::InvalidValue(InvalidValue {
            path: prefix.to_vec(),
            message: m,
        }),
    }
}
