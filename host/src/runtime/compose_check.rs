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
    let mut entries: Vec<(Vec<String>, &serde_json::Value)> = Vec::new();
    if let Some(f) = v.get("fault") {
        entries.push((vec!["fault".into()], f));
    }
    for (i, f) in v
        .get("faults")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .enumerate()
    {
        entries.push((vec!["faults".into(), i.to_string()], f));
    }
    let invalid = |path: &[String], message: String| {
        ConfigError::InvalidValue(InvalidValue {
            path: path.to_vec(),
            message,
        })
    };
    for (path, entry) in entries {
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
