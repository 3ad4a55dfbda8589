//! Composition (`clnrm:chaos/compose`, WIT 0.3.2): what a chaos plugin needs
//! to run another plugin's fault by type name. The host routes the fault to
//! the plugin that handles it and runs it in a fresh store, on the same
//! scenario, under the composer's span, with a random stream derived from the
//! composer's (so a seed decides the whole composed run) and a journal of its
//! own that the composer's journal keeps (so a recording replays it).

use super::call::ChaosCall;
pub use super::composition::{ComposedOutcome, ComposedRun};
use super::journal::Journal;
use super::plugin::LoadedPlugin;
use super::sandbox::Limits;
pub use super::scenario::Compose;
use super::scenario::ScenarioCtx;
use super::Injection;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// How deep compositions may nest: a composer's faults (depth 1) may compose
/// again, up to this depth. A cycle through two composing plugins stops here.
pub const MAX_DEPTH: u32 = 3;

/// Everything a composed fault needs, shared by every chaos call of a scenario.
pub struct Composer {
    pub(super) engine: wasmtime::Engine,
    /// Every fault type the loaded chaos plugins handle, to its plugin (the
    /// same precedence as `chaos_injection` types: third-party first).
    pub(super) plugins: HashMap<String, Arc<LoadedPlugin>>,
    pub scenario: String,
    pub services: Vec<String>,
    /// Service -> the scenario's services whose `depends_on` names it.
    pub dependents: BTreeMap<String, Vec<String>>,
    pub limits: Limits,
    pub epoch_ns: u64,
}

/// The stream seed of the `n`-th fault a plugin call composes: from the
/// composer's own seed, so adding a composition elsewhere shifts nothing.
pub fn nested_seed(parent: [u8; 32], n: u64, fault_type: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"clnrm-compose\0");
    h.update(parent);
    h.update(n.to_le_bytes());
    h.update(fault_type.as_bytes());
    h.finalize().into()
}

/// The fault's configuration with its `type`: `config` may leave `type` out;
/// one that names another type is refused.
fn config_with_type(fault_type: &str, config_json: &str) -> Result<String, String> {
    let mut v: serde_json::Value = if config_json.trim().is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_str(config_json)
            .map_err(|e| format!("the configuration of `{fault_type}` is not JSON: {e}"))?
    };
    let obj = v
        .as_object_mut()
        .ok_or_else(|| format!("the configuration of `{fault_type}` is not a table"))?;
    match obj.get("type").and_then(|t| t.as_str()) {
        Some(t) if t != fault_type => {
            return Err(format!(
                "fault-type `{fault_type}` with a configuration of type `{t}`"
            ))
        }
        _ => {
            obj.insert("type".into(), fault_type.into());
        }
    }
    Ok(v.to_string())
}

impl Composer {
    /// Which plugin runs `fault_type` for `composer`, or why none may.
    pub fn route(
        &self,
        composer: &str,
        fault_type: &str,
        depth: u32,
    ) -> Result<&Arc<LoadedPlugin>, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "cannot compose `{fault_type}`: compositions nest at most {MAX_DEPTH} levels deep"
            ));
        }
        let Some(p) = self.plugins.get(fault_type) else {
            let known = self.plugins.keys().map(String::as_str);
            let hint = crate::suite::nearest(fault_type, known)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!("unknown fault type `{fault_type}`{hint}"));
        };
        if p.info.name == composer {
            return Err(format!(
                "plugin `{composer}` cannot compose its own fault type `{fault_type}`"
            ));
        }
        Ok(p)
    }
}

impl Compose for Composer {
    fn dependents(&self, service: &str) -> Vec<String> {
        self.dependents.get(service).cloned().unwrap_or_default()
    }

    fn run(
        self: Arc<Self>,
        sctx: Arc<ScenarioCtx>,
        composer: String,
        depth: u32,
        stream_seed: [u8; 32],
        fault_type: String,
        config_json: String,
        parent: u64,
        journal: Journal,
    ) -> Pin<Box<dyn Future<Output = ComposedRun> + Send>> {
        Box::pin(async move {
            let routed = self
                .route(&composer, &fault_type, depth)
                .cloned()
                .and_then(|p| Ok((p, config_with_type(&fault_type, &config_json)?)));
            let (plugin, config_json) = match routed {
                Ok(r) => r,
                Err(e) => {
                    return ComposedRun {
                        result: Err(e),
                        journal,
                        divergence: None,
                    }
                }
            };
            let injection = Injection {
                fault_type: fault_type.clone(),
                config_json,
                scenario: self.scenario.clone(),
                services: self.services.clone(),
                parent,
            };
            let call = ChaosCall {
                stream_seed,
                epoch_ns: self.epoch_ns,
                limits: self.limits,
                scenario: sctx,
                journal,
                // The composer's own first call already let the steps go.
                ready: None,
                depth,
            };
            let ret = plugin.inject_with(&self.engine, &injection, call).await;
            ComposedRun {
                result: ret
                    .result
                    .map(|o| ComposedOutcome {
                        observed: o.observed,
                        summary: o.summary,
                        plugin: plugin.info.name.clone(),
                    })
                    .map_err(|e| e.to_string()),
                journal: ret.journal,
                divergence: ret.divergence,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_seeds_depend_on_the_parent_the_position_and_the_type() {
        let a = nested_seed([1; 32], 1, "kill_container");
        assert_eq!(a, nested_seed([1; 32], 1, "kill_container"));
        assert_ne!(a, nested_seed([2; 32], 1, "kill_container"));
        assert_ne!(a, nested_seed([1; 32], 2, "kill_container"));
        assert_ne!(a, nested_seed([1; 32], 1, "pause_container"));
    }

    fn composer() -> Composer {
        Composer {
            engine: wasmtime::Engine::default(),
            plugins: HashMap::new(),
            scenario: "s".into(),
            services: vec!["a".into()],
            dependents: BTreeMap::new(),
            limits: Limits::chaos(std::time::Duration::from_secs(1)),
            epoch_ns: 0,
        }
    }

    #[test]
    fn depth_is_bounded_before_anything_is_looked_up() {
        let c = composer();
        let e = c
            .route("chaos-concurrent", "kill_container", MAX_DEPTH + 1)
            .err();
        assert!(e.unwrap_or_default().contains("at most 3 levels deep"));
        let e = c
            .route("chaos-concurrent", "kill_container", MAX_DEPTH)
            .err();
        assert_eq!(e.as_deref(), Some("unknown fault type `kill_container`"));
    }

    #[test]
    fn the_type_is_filled_in_and_a_contradiction_refused() {
        let c = config_with_type("kill_container", r#"{"target":"a"}"#).unwrap();
        let v: serde_json::Value = serde_json::from_str(&c).unwrap();
        assert_eq!(v["type"], "kill_container");
        assert_eq!(v["target"], "a");
        assert!(config_with_type("kill_container", "").is_ok());
        let e = config_with_type("kill_container", r#"{"type":"pause_container"}"#).unwrap_err();
        assert!(e.contains("pause_container"), "{e}");
        assert!(config_with_type("x", "[1]").is_err());
    }
}
