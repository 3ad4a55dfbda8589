//! A loaded plugin: what it says about itself, what it was granted, and
//! the pre-linked component its calls instantiate.

use super::bindings::chaos::exports::clnrm::chaos::chaos::Injection;
use super::bindings::ConfigError;
use super::call::{self, ChaosCall, ChaosPre, ChaosReturn, PluginError, ValidatorPre};
use super::host::Grants;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::Engine;

/// Which set of bindings a plugin is driven through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Api {
    /// `wit/clnrm.wit` (WIT_VERSION's track).
    Current,
    /// `wit/compat/0.2.0` (0.2.x).
    V0_2,
}
/// What a plugin says about itself (host-side copy of the WIT record).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub wit_version: String,
    pub handles: Vec<String>,
    pub capabilities: Vec<String>,
    /// SHA-256 of the component file (recordings note which build ran).
    pub sha256: String,
}
pub(super) enum Pre {
    Chaos(ChaosPre),
    Validator(ValidatorPre),
}
/// A compiled, described plugin ready to instantiate.
pub struct LoadedPlugin {
    pub info: PluginInfo,
    pub path: PathBuf,
    pub from_cache: bool,
    pub(super) grants: Grants,
    pub(super) pre: Pre,
}
/// The plugins one suite needs, by fault type and by `[expect.X]` table.
#[derive(Default, Clone)]
pub struct ResolvedPlugins {
    pub chaos: HashMap<String, Arc<LoadedPlugin>>,
    pub validators: HashMap<String, Arc<LoadedPlugin>>,
    /// Every fault type a loaded chaos plugin handles (same precedence as
    /// `chaos`): what `clnrm:chaos/compose` can route to.
    pub composable: HashMap<String, Arc<LoadedPlugin>>,
}
impl ResolvedPlugins {
    /// Every plugin used, by name (for the report and the recording): with a
    /// composing plugin, every plugin it may compose too, so a replay names a
    /// composed plugin that changed.
    pub fn infos(&self) -> BTreeMap<String, PluginInfo> {
        let composed = self
            .chaos
            .values()
            .any(|p| p.composes())
            .then(|| self.composable.values())
            .into_iter()
            .flatten();
        self.chaos
            .values()
            .chain(self.validators.values())
            .chain(composed)
            .map(|p| (p.info.name.clone(), p.info.clone()))
            .collect()
    }
}
impl LoadedPlugin {
    /// Whether it is a validator that takes the packed trace (`validate-packed`, WIT
    /// 0.3.3); validators built against older WIT take records.
    pub fn takes_packed(&self) -> bool {
        matches!(&self.pre, Pre::Validator(ValidatorPre::Current(v)) if v.takes_packed())
    }

    /// Whether it may compose other plugins' faults.
    pub fn composes(&self) -> bool {
        self.grants.has(super::host::Capability::COMPOSE)
    }

    /// Whether its faults may act on the scenario's network: it declares
    /// `net`, or `compose` (it may run any other plugin's fault). A scenario
    /// with `network = "auto"` gets a network of its own only then, or when
    /// it has several services.
    pub fn uses_network(&self) -> bool {
        self.grants.has(super::host::Capability::NET) || self.composes()
    }

    /// Ask this chaos plugin whether `config_json` is a valid `fault_type` table.
    pub(super) async fn check_chaos(
        &self,
        engine: &Engine,
        fault_type: &str,
        config_json: &str,
    ) -> Result<Result<(), ConfigError>, PluginError> {
        match &self.pre {
            Pre::Chaos(pre) => {
                call::check_chaos(engine, pre, &self.info.name, fault_type, config_json).await
            }
            Pre::Validator(_) => Err(PluginError::Failed {
                plugin: self.info.name.clone(),
                message: "is a validator, not a chaos plugin".into(),
            }),
        }
    }

    /// Run one injection of this chaos plugin (a scenario's, or a composed one).
    pub(super) async fn inject_with(
        &self,
        engine: &Engine,
        injection: &Injection,
        call: ChaosCall,
    ) -> ChaosReturn {
        match &self.pre {
            Pre::Chaos(pre) => {
                call::inject(engine, pre, &self.info.name, self.grants, injection, call).await
            }
            Pre::Validator(_) => ChaosReturn {
                result: Err(PluginError::Failed {
                    plugin: self.info.name.clone(),
                    message: "is a validator, not a chaos plugin".into(),
                }),
                journal: call.journal,
                divergence: None,
            },
        }
    }
}
