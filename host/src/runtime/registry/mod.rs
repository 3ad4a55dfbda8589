//! Plugin resolution by name. First-party plugins live in the plugin dir
//! (`$CLNRM_PLUGIN_DIR`, else `plugins/` next to the binary or one level up,
//! where `cargo xtask plugins` puts them); third-party ones come from a suite's
//! `[plugins]` table. Each is compiled once (cached), described once, and
//! checked for a compatible WIT version: the current one or a frozen older
//! one (docs/wit-versioning.md), whose bindings are then used for it.

use super::bindings::chaos::exports::clnrm::chaos::chaos::Injection;
use super::bindings::chaos::{ChaosPlugin, ChaosPluginPre};
use super::bindings::validator::exports::clnrm::chaos::validator::Finding;
use super::bindings::validator::ValidatorPlugin;
use super::bindings::{v0_2, ConfigError};
use super::cache::Cache;
use super::call::{
    self, ChaosCall, ChaosPre, ChaosReturn, CurrentValidator, PluginError, ValidateCall,
    ValidatorPre,
};
use super::host::{Grants, PluginState};
use super::sandbox::{self, EpochTicker, Instances};
use super::validator_trace::ValidatorTrace;
use crate::suite::{nearest, Positions, Suite, SuiteError};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;
use wasmtime::component::{HasSelf, Linker};

mod catalog;
pub use catalog::{ConfigKeys, Found, Origin};
use wasmtime::Engine;

/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "clnrm:chaos";
/// Its version: the `package` line of `wit/clnrm.wit`, read by build.rs (one
/// source of truth; a test ties the sdk's constant to it).
pub const WIT_VERSION: &str = env!("CLNRM_WIT_VERSION");
/// Older versions the host still implements from their frozen WIT
/// (`wit/compat/<version>/clnrm.wit`): each stands for its compatible track.
pub const COMPAT_VERSIONS: &[&str] = &["0.2.0"];

/// Which set of bindings a plugin is driven through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    /// `wit/clnrm.wit` (WIT_VERSION's track).
    Current,
    /// `wit/compat/0.2.0` (0.2.x).
    V0_2,
}

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("cannot set up the plugin runtime: {0}")]
    Engine(String),
    #[error("no plugin directory found (looked in {0}); run `cargo xtask plugins` or set CLNRM_PLUGIN_DIR")]
    NoPluginDir(String),
    #[error("plugin `{name}` ({path}): {message}")]
    Load {
        name: String,
        path: String,
        message: String,
    },
    #[error(transparent)]
    Suite(#[from] Box<SuiteError>),
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

enum Pre {
    Chaos(ChaosPre),
    Validator(ValidatorPre),
}

/// A compiled, described plugin ready to instantiate.
pub struct LoadedPlugin {
    pub info: PluginInfo,
    pub path: PathBuf,
    pub from_cache: bool,
    grants: Grants,
    pre: Pre,
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

pub struct Registry {
    engine: Engine,
    _ticker: EpochTicker,
    chaos_linker: Linker<PluginState>,
    validator_linker: Linker<PluginState>,
    plugin_dir: Option<PathBuf>,
    searched: Vec<PathBuf>,
    cache: Cache,
    loaded: Mutex<HashMap<PathBuf, Arc<LoadedPlugin>>>,
}

impl LoadedPlugin {
    /// Whether it is a validator that takes the packed trace (`validate-packed`, WIT
    /// 0.3.3); validators built against older WIT take records.
    pub fn takes_packed(&self) -> bool {
        matches!(&self.pre, Pre::Validator(ValidatorPre::Current(v)) if v.takes_packed())
    }

    /// Whether it may compose other plugins' faults.
    pub fn composes(&self) -> bool {
        self.grants.has(super::host::Capability::Compose)
    }

    /// Whether its faults may act on the scenario's network: it declares
    /// `net`, or `compose` (it may run any other plugin's fault). A scenario
    /// with `network = "auto"` gets a network of its own only then, or when
    /// it has several services.
    pub fn uses_network(&self) -> bool {
        self.grants.has(super::host::Capability::Net) || self.composes()
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

impl Registry {
    /// The registry of a run or a replay: plugin instances from a pool of
    /// [`sandbox::pool_slots`].
    pub fn new() -> Result<Registry, RegistryError> {
        Registry::with(Instances::Pooled(sandbox::pool_slots()))
    }

    /// The registry of a command that only loads and describes plugins
    /// (`validate`, `plugins`): faster to start (see [`Instances::OnDemand`]).
    pub fn for_checks() -> Result<Registry, RegistryError> {
        Registry::with(Instances::OnDemand)
    }

    fn with(instances: Instances) -> Result<Registry, RegistryError> {
        let engine = Engine::new(&sandbox::engine_config(instances))
            .map_err(|e| RegistryError::Engine(e.to_string()))?;
        let engine_err = |e: wasmtime::Error| RegistryError::Engine(format!("{e:#}"));
        // Every supported WIT version's imports in the same linkers: their
        // names differ by version (`...container@0.2.0`, `@0.3.0`).
        let mut chaos_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut chaos_linker).map_err(engine_err)?;
        ChaosPlugin::add_to_linker::<_, HasSelf<_>>(&mut chaos_linker, |s| s)
            .map_err(engine_err)?;
        v0_2::chaos::ChaosPlugin::add_to_linker::<_, HasSelf<_>>(&mut chaos_linker, |s| s)
            .map_err(engine_err)?;
        let mut validator_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut validator_linker).map_err(engine_err)?;
        ValidatorPlugin::add_to_linker::<_, HasSelf<_>>(&mut validator_linker, |s| s)
            .map_err(engine_err)?;
        v0_2::validator::ValidatorPlugin::add_to_linker::<_, HasSelf<_>>(
            &mut validator_linker,
            |s| s,
        )
        .map_err(engine_err)?;
        let searched = plugin_dir_candidates();
        let plugin_dir = searched.iter().find(|d| d.is_dir()).cloned();
        Ok(Registry {
            _ticker: EpochTicker::start(&engine),
            engine,
            chaos_linker,
            validator_linker,
            plugin_dir,
            searched,
            cache: Cache::new(),
            loaded: Mutex::new(HashMap::new()),
        })
    }

    fn first_party_dir(&self) -> Result<&Path, RegistryError> {
        self.plugin_dir.as_deref().ok_or_else(|| {
            RegistryError::NoPluginDir(
                self.searched
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
    }

    /// Load (compile or fetch from cache), check and describe one plugin.
    pub async fn load(&self, name: &str, path: &Path) -> Result<Arc<LoadedPlugin>, RegistryError> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(p) = self
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(p.clone());
        }
        let fail = |message: String| RegistryError::Load {
            name: name.to_string(),
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let (component, from_cache) = self
            .cache
            .component(&self.engine, &bytes)
            .map_err(|e| fail(format!("not a valid WebAssembly component: {e:#}")))?;
        let (world, api, packed) = self.check_version(&component).map_err(fail)?;
        let not_world = |w: &'static str| {
            move |e: wasmtime::Error| format!("does not implement the {w} world: {e:#}")
        };
        let (pre, info) = match world {
            World::Chaos => {
                let pre = self
                    .chaos_linker
                    .instantiate_pre(&component)
                    .map_err(|e| fail(format!("cannot link: {e:#}")))?;
                let pre = match api {
                    Api::Current => ChaosPluginPre::new(pre).map(ChaosPre::Current),
                    Api::V0_2 => v0_2::chaos::ChaosPluginPre::new(pre).map(ChaosPre::V0_2),
                }
                .map_err(not_world("chaos-plugin"))
                .map_err(fail)?;
                let info = call::describe_chaos(&self.engine, &pre, name)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                (Pre::Chaos(pre), info)
            }
            World::Validator => {
                let pre = self
                    .validator_linker
                    .instantiate_pre(&component)
                    .map_err(|e| fail(format!("cannot link: {e:#}")))?;
                let pre = match api {
                    Api::Current => CurrentValidator::new(pre, packed).map(ValidatorPre::Current),
                    Api::V0_2 => {
                        v0_2::validator::ValidatorPluginPre::new(pre).map(ValidatorPre::V0_2)
                    }
                }
                .map_err(not_world("validator-plugin"))
                .map_err(fail)?;
                let info = call::describe_validator(&self.engine, &pre, name)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                (Pre::Validator(pre), info)
            }
        };
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        let info = PluginInfo {
            name: info.name,
            version: info.version,
            wit_version: info.wit_version,
            handles: info.handles,
            capabilities: info.capabilities,
            sha256,
        };
        match api_for(&info.wit_version) {
            None => {
                return Err(fail(format!(
                    "was built for {WIT_PACKAGE}@{}; this host accepts {}",
                    info.wit_version,
                    accepted()
                )))
            }
            Some(declared) if declared != api => {
                return Err(fail(format!(
                    "says it was built for {WIT_PACKAGE}@{} (plugin-info.wit-version), \
                     but its exports are from another version of the package",
                    info.wit_version
                )))
            }
            Some(_) => {}
        }
        let grants = Grants::from_declared(&info.capabilities).map_err(|e| fail(e.to_string()))?;
        let loaded = Arc::new(LoadedPlugin {
            grants,
            info,
            path: path.to_path_buf(),
            from_cache,
            pre,
        });
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, loaded.clone());
        Ok(loaded)
    }

    /// Which world the component exports, which bindings drive it (by the WIT
    /// version its exports name) and whether it exports `packed-validator`
    /// (0.3.3); refuses incompatible WIT versions before linking, with a
    /// message that says which versions we accept.
    fn check_version(
        &self,
        component: &wasmtime::component::Component,
    ) -> Result<(World, Api, bool), String> {
        let ty = component.component_type();
        let imports = ty.imports(&self.engine).map(|(n, _)| n.to_string());
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let (world, api) = classify_names(imports.chain(exports.iter().cloned()), &exports)?;
        Ok((world, api, exports_interface(&exports, "packed-validator")))
    }

    /// Resolve every plugin a suite names: its fault types and its
    /// `[expect.X]` tables. Unknown names are errors that point into the file.
    pub async fn resolve(&self, suite: &Suite) -> Result<ResolvedPlugins, RegistryError> {
        let mut third_party = Vec::new();
        for (name, path, span) in &suite.plugins {
            match self.load(name, path).await {
                Ok(p) => third_party.push(p),
                Err(RegistryError::Load { message, .. }) => {
                    return Err(Box::new(suite.error_at(
                        span.clone(),
                        format!(
                            "cannot load plugin `{name}` from {}: {message}",
                            path.display()
                        ),
                        Some("paths in [plugins] are relative to the suite file".into()),
                    ))
                    .into())
                }
                Err(e) => return Err(e),
            }
        }
        let mut out = ResolvedPlugins::default();
        let needs_chaos = suite.scenarios.iter().any(|s| !s.injections.is_empty());
        let mut chaos_candidates: Vec<Arc<LoadedPlugin>> = third_party
            .iter()
            .filter(|p| matches!(p.pre, Pre::Chaos(_)))
            .cloned()
            .collect();
        if needs_chaos {
            for (name, path) in self.first_party("chaos-")? {
                chaos_candidates.push(self.load(&name, &path).await?);
            }
        }
        for p in &chaos_candidates {
            for t in &p.info.handles {
                out.composable.entry(t.clone()).or_insert_with(|| p.clone());
            }
        }
        for inj in suite.scenarios.iter().flat_map(|s| &s.injections) {
            if out.chaos.contains_key(&inj.fault_type) {
                continue;
            }
            match chaos_candidates
                .iter()
                .find(|p| p.info.handles.contains(&inj.fault_type))
            {
                Some(p) => {
                    out.chaos.insert(inj.fault_type.clone(), p.clone());
                }
                None => {
                    let known: Vec<&str> = chaos_candidates
                        .iter()
                        .flat_map(|p| p.info.handles.iter().map(String::as_str))
                        .collect();
                    let help = match nearest(&inj.fault_type, known.iter().copied()) {
                        Some(n) => format!("did you mean `{n}`? known fault types: {}", known.join(", ")),
                        None => format!("known fault types: {}; a third-party type needs its plugin in [plugins]", known.join(", ")),
                    };
                    return Err(Box::new(suite.error_at(
                        inj.span.clone(),
                        format!("unknown chaos type `{}`", inj.fault_type),
                        Some(help),
                    ))
                    .into());
                }
            }
        }
        for exp in &suite.expectations {
            if let Some(p) = third_party
                .iter()
                .find(|p| matches!(p.pre, Pre::Validator(_)) && p.info.handles.contains(&exp.table))
            {
                out.validators.insert(exp.table.clone(), p.clone());
                continue;
            }
            let path = self
                .first_party_dir()?
                .join(format!("validate-{}.wasm", exp.table));
            if path.is_file() {
                let p = self.load(&format!("validate-{}", exp.table), &path).await?;
                if matches!(p.pre, Pre::Validator(_)) && p.info.handles.contains(&exp.table) {
                    out.validators.insert(exp.table.clone(), p);
                    continue;
                }
            }
            let known: Vec<String> = self
                .first_party("validate-")?
                .into_iter()
                .map(|(n, _)| n.trim_start_matches("validate-").to_string())
                .collect();
            let help = match nearest(&exp.table, known.iter().map(String::as_str)) {
                Some(n) => format!(
                    "did you mean [expect.{n}]? validators available: {}",
                    known.join(", ")
                ),
                None => format!("validators available: {}", known.join(", ")),
            };
            return Err(Box::new(suite.error_at(
                exp.span.clone(),
                format!(
                    "unknown expectation table [expect.{}]: no validator plugin handles it",
                    exp.table
                ),
                Some(help),
            ))
            .into());
        }
        no_network_for_network_faults(suite, &out)?;
        self.check_configs(suite, &out).await?;
        Ok(out)
    }

    /// Let each plugin check its own tables before anything starts, so a bad
    /// key is an error with a file position, not a failure mid-run.
    async fn check_configs(
        &self,
        suite: &Suite,
        plugins: &ResolvedPlugins,
    ) -> Result<(), RegistryError> {
        let bad = |span: Range<usize>, what: String, message: String, help: Option<String>| {
            RegistryError::from(Box::new(suite.error_at(
                span,
                format!("invalid {what}: {message}"),
                help,
            )))
        };
        for (sc, inj) in suite
            .scenarios
            .iter()
            .flat_map(|s| s.injections.iter().map(move |i| (s, i)))
        {
            let Some(p) = plugins.chaos.get(&inj.fault_type) else {
                continue;
            };
            let Pre::Chaos(pre) = &p.pre else { continue };
            let what = format!("chaos_injection `{}`", inj.fault_type);
            match call::check_chaos(
                &self.engine,
                pre,
                &p.info.name,
                &inj.fault_type,
                &inj.config_json,
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let (span, message, help) =
                        config_error_report(&e, "chaos_injection", &inj.positions, &inj.span);
                    return Err(bad(span, what, message, help));
                }
                Err(e) => return Err(bad(inj.span.clone(), what, e.to_string(), None)),
            }
            if let Some(e) = unknown_peer(&inj.config_json, &sc.services) {
                let (span, message, help) =
                    config_error_report(&e, "chaos_injection", &inj.positions, &inj.span);
                return Err(bad(span, what, message, help));
            }
            if p.composes() {
                if let Some((e, help)) = super::compose_check::check(
                    &self.engine,
                    p,
                    &inj.config_json,
                    &plugins.composable,
                )
                .await
                {
                    let (span, message, h) =
                        config_error_report(&e, "chaos_injection", &inj.positions, &inj.span);
                    return Err(bad(span, what, message, help.or(h)));
                }
            }
        }
        for exp in &suite.expectations {
            let Some(p) = plugins.validators.get(&exp.table) else {
                continue;
            };
            let Pre::Validator(pre) = &p.pre else {
                continue;
            };
            let what = format!("[expect.{}]", exp.table);
            match call::check_validator(
                &self.engine,
                pre,
                &p.info.name,
                &exp.table,
                &exp.config_json,
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let root = format!("expect.{}", exp.table);
                    let (span, message, help) =
                        config_error_report(&e, &root, &exp.positions, &exp.span);
                    return Err(bad(span, what, message, help));
                }
                Err(e) => return Err(bad(exp.span.clone(), what, e.to_string(), None)),
            }
        }
        Ok(())
    }

    /// First-party plugins whose file name starts with `prefix`, sorted.
    fn first_party(&self, prefix: &str) -> Result<Vec<(String, PathBuf)>, RegistryError> {
        let dir = self.first_party_dir()?;
        let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
            .map_err(|e| RegistryError::NoPluginDir(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.strip_suffix(".wasm")?.to_string();
                name.starts_with(prefix).then(|| (name, e.path()))
            })
            .collect();
        found.sort();
        Ok(found)
    }

    pub async fn inject(
        &self,
        plugin: &LoadedPlugin,
        injection: &Injection,
        call: ChaosCall,
    ) -> ChaosReturn {
        plugin.inject_with(&self.engine, injection, call).await
    }

    /// What a scenario's chaos calls compose with (`clnrm:chaos/compose`):
    /// None when no chaos plugin of the suite composes.
    pub fn composer(
        &self,
        plugins: &ResolvedPlugins,
        suite: &Suite,
        scenario: &crate::suite::ScenarioSpec,
        limits: super::Limits,
        epoch_ns: u64,
    ) -> Option<Arc<super::Composer>> {
        if !plugins.chaos.values().any(|p| p.composes()) {
            return None;
        }
        Some(Arc::new(super::Composer {
            engine: self.engine.clone(),
            plugins: plugins.composable.clone(),
            scenario: scenario.name.clone(),
            services: scenario.services.clone(),
            dependents: suite.dependents(&scenario.services),
            limits,
            epoch_ns,
        }))
    }

    /// Judge `trace` with `plugin` (packed when the plugin takes it, else as records).
    pub async fn validate(
        &self,
        plugin: &LoadedPlugin,
        table: &str,
        config_json: &str,
        trace: &ValidatorTrace,
        call: ValidateCall,
    ) -> Result<Vec<Finding>, PluginError> {
        match &plugin.pre {
            Pre::Validator(pre) => {
                call::validate(
                    &self.engine,
                    pre,
                    &plugin.info.name,
                    table,
                    config_json,
                    trace,
                    call,
                )
                .await
            }
            Pre::Chaos(_) => Err(PluginError::Failed {
                plugin: plugin.info.name.clone(),
                message: "is a chaos plugin, not a validator".into(),
            }),
        }
    }
}

/// `network = "none"` and a fault that acts on the network cannot go together.
fn no_network_for_network_faults(
    suite: &Suite,
    plugins: &ResolvedPlugins,
) -> Result<(), RegistryError> {
    for sc in suite
        .scenarios
        .iter()
        .filter(|s| s.network == crate::suite::NetworkMode::None)
    {
        for inj in &sc.injections {
            if let Some(p) = plugins
                .chaos
                .get(&inj.fault_type)
                .filter(|p| p.uses_network())
            {
                return Err(Box::new(suite.error_at(
                    inj.span.clone(),
                    format!(
                        "scenario `{}` has network = \"none\", but `{}` (plugin {}) acts on the network",
                        sc.name, inj.fault_type, p.info.name
                    ),
                    Some("drop `network = \"none\"` (the default, \"auto\", gives the scenario a network of its own for this fault) or set network = \"own\"".into()),
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// One validator call of [`Registry::validate_all`].
#[derive(Clone)]
pub struct ValidatorJob {
    pub plugin: Arc<LoadedPlugin>,
    pub table: String,
    pub config_json: String,
}

impl Registry {
    /// Every job on the same trace, at once: at most `width` calls run at a time (each is
    /// CPU-bound wasm, so more than the cores only interleave). Results in the jobs' order.
    pub async fn validate_all(
        self: &Arc<Self>,
        jobs: Vec<ValidatorJob>,
        trace: Arc<ValidatorTrace>,
        resource: Vec<(String, String)>,
        width: usize,
    ) -> Vec<Result<Vec<Finding>, PluginError>> {
        let permits = Arc::new(tokio::sync::Semaphore::new(width.max(1)));
        let calls: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let (registry, trace, permits) = (self.clone(), trace.clone(), permits.clone());
                let call = ValidateCall {
                    limits: super::Limits::VALIDATOR,
                    resource: resource.clone(),
                };
                let plugin = job.plugin.info.name.clone();
                let task = tokio::spawn(async move {
                    // The semaphore is never closed: acquiring cannot fail.
                    let _permit = permits.acquire_owned().await;
                    registry
                        .validate(&job.plugin, &job.table, &job.config_json, &trace, call)
                        .await
                });
                (plugin, task)
            })
            .collect();
        let mut out = Vec::with_capacity(calls.len());
        for (plugin, task) in calls {
            out.push(task.await.unwrap_or_else(|e| {
                Err(PluginError::Trap {
                    plugin,
                    message: format!("the host task running it failed: {e}"),
                })
            }));
        }
        out
    }
}

fn plugin_dir_candidates() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("CLNRM_PLUGIN_DIR") {
        dirs.push(PathBuf::from(d));
        return dirs;
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.join("plugins"));
        if let Some(up) = exe_dir.parent() {
            dirs.push(up.join("plugins"));
        }
    }
    dirs
}

/// The world a component exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum World {
    Chaos,
    Validator,
}

/// From a component's import and export names: its world and the bindings
/// for the WIT version its exports name. Every `clnrm:chaos/...@v` name must
/// be of one accepted track (a plugin cannot mix 0.2 and 0.3 interfaces).
fn classify_names(
    all: impl Iterator<Item = String>,
    exports: &[String],
) -> Result<(World, Api), String> {
    let prefix = format!("{WIT_PACKAGE}/");
    let mut api = None;
    for n in all {
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        let version = rest.split('@').nth(1).unwrap_or("");
        match (api_for(version), &api) {
            (None, _) => {
                return Err(format!(
                    "was built for {WIT_PACKAGE}@{version} (uses {n}); this host accepts {}",
                    accepted()
                ))
            }
            (Some(a), Some((b, first))) if a != *b => {
                return Err(format!(
                    "mixes versions of {WIT_PACKAGE}: {first} and {n}; build it against one WIT"
                ))
            }
            (Some(a), None) => api = Some((a, n)),
            (Some(_), Some(_)) => {}
        }
    }
    let export = |iface: &str| {
        exports
            .iter()
            .find(|n| n.starts_with(&format!("{prefix}{iface}@")))
            .map(|n| api_for(n.split('@').nth(1).unwrap_or("")))
    };
    match (export("chaos"), export("validator")) {
        (Some(Some(a)), _) => Ok((World::Chaos, a)),
        (None, Some(Some(a))) => Ok((World::Validator, a)),
        _ => Err(format!(
            "exports neither {WIT_PACKAGE}/chaos nor {WIT_PACKAGE}/validator"
        )),
    }
}

/// Whether `exports` has `clnrm:chaos/<iface>@<any version>`.
fn exports_interface(exports: &[String], iface: &str) -> bool {
    let prefix = format!("{WIT_PACKAGE}/{iface}@");
    exports.iter().any(|n| n.starts_with(&prefix))
}

/// Which bindings serve a plugin built for `version`, if any: the current
/// track or a frozen older one.
fn api_for(version: &str) -> Option<Api> {
    if same_track(version, WIT_VERSION) {
        Some(Api::Current)
    } else if COMPAT_VERSIONS.iter().any(|c| same_track(version, c)) {
        Some(Api::V0_2)
    } else {
        None
    }
}

/// Semver compatibility as wasmtime's linker applies it: 0.x: same minor;
/// 1.x and later: same major.
fn same_track(a: &str, b: &str) -> bool {
    match (parse_major_minor(a), parse_major_minor(b)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b,
        _ => false,
    }
}

fn track(version: &str) -> String {
    match parse_major_minor(version) {
        Some((0, m)) => format!("{WIT_PACKAGE}@0.{m}.x"),
        Some((major, _)) => format!("{WIT_PACKAGE}@{major}.x"),
        None => format!("{WIT_PACKAGE}@{version}"),
    }
}

/// "clnrm:chaos@0.2.x or clnrm:chaos@0.3.x": every accepted track, oldest first.
fn accepted() -> String {
    let mut v: Vec<&str> = COMPAT_VERSIONS.to_vec();
    v.push(WIT_VERSION);
    v.iter().map(|v| track(v)).collect::<Vec<_>>().join(" or ")
}

fn parse_major_minor(v: &str) -> Option<(u64, u64)> {
    let mut it = v.split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Where and how to report a plugin's `check` error: the span (the key, the
/// value, or the whole table, by what the error names; `positions` gives the
/// nearest known enclosing span, `whole` when it knows nothing), the message
/// and a hint. `root` names the table in messages (`expect.span`).
/// `peers = [...]` and `groups = [[...], ...]` of a `chaos_injection` name
/// services of its scenario (the network dialect's keys; a plugin's `check`
/// cannot know the services): the first entry that is none, as an invalid
/// value at its position.
fn unknown_peer(config_json: &str, services: &[String]) -> Option<ConfigError> {
    let v: serde_json::Value = serde_json::from_str(config_json).ok()?;
    let mut refs: Vec<(Vec<String>, &str)> = Vec::new();
    if let Some(peers) = v.get("peers").and_then(|p| p.as_array()) {
        for (i, p) in peers.iter().enumerate() {
            if let Some(name) = p.as_str() {
                refs.push((vec!["peers".into(), i.to_string()], name));
            }
        }
    }
    // The composition dialect: `targets = [...]` and `root = "..."`.
    if let Some(targets) = v.get("targets").and_then(|p| p.as_array()) {
        for (i, p) in targets.iter().enumerate() {
            if let Some(name) = p.as_str() {
                refs.push((vec!["targets".into(), i.to_string()], name));
            }
        }
    }
    if let Some(name) = v.get("root").and_then(|r| r.as_str()) {
        refs.push((vec!["root".into()], name));
    }
    if let Some(groups) = v.get("groups").and_then(|g| g.as_array()) {
        for (i, g) in groups.iter().enumerate() {
            for (j, m) in g.as_array().into_iter().flatten().enumerate() {
                if let Some(name) = m.as_str() {
                    refs.push((vec!["groups".into(), i.to_string(), j.to_string()], name));
                }
            }
        }
    }
    let (path, name) = refs
        .into_iter()
        .find(|(_, name)| !services.iter().any(|s| s == name))?;
    Some(ConfigError::InvalidValue(
        crate::runtime::bindings::chaos::clnrm::chaos::types::InvalidValue {
            path,
            message: format!(
                "`{name}` is not a service of this scenario (its services: {})",
                services.join(", ")
            ),
        },
    ))
}

fn config_error_report(
    e: &ConfigError,
    root: &str,
    positions: &Positions,
    whole: &Range<usize>,
) -> (Range<usize>, String, Option<String>) {
    let at = |span: Option<Range<usize>>| span.unwrap_or_else(|| whole.clone());
    // Keys are quoted as TOML writes them, the way the plugins' own messages do.
    let quoted = |keys: &[String]| keys.join(", ");
    match e {
        ConfigError::UnknownKey(u) => {
            let key = u.path.last().map(String::as_str).unwrap_or_default();
            let mut help = nearest(key, u.expected.iter().map(String::as_str))
                .map(|n| format!("did you mean \"{n}\"? "))
                .unwrap_or_default();
            help.push_str(&format!("valid keys here: {}", quoted(&u.expected)));
            (
                at(positions.key(&u.path)),
                format!(
                    "unknown key \"{key}\" in {}",
                    show_path(root, &u.path[..u.path.len().saturating_sub(1)])
                ),
                Some(help),
            )
        }
        ConfigError::MissingKey(m) => (
            at(positions.value(&m.path)),
            format!("{} needs the key \"{}\"", show_path(root, &m.path), m.key),
            Some(format!("add {} = ...", m.key)),
        ),
        ConfigError::WrongType(w) => (
            at(positions.value(&w.path)),
            format!(
                "{}: expected {}, found {}",
                show_path(root, &w.path),
                w.expected,
                w.found
            ),
            None,
        ),
        ConfigError::InvalidValue(v) => (
            at(positions.value(&v.path)),
            format!("{}: {}", show_path(root, &v.path), v.message),
            None,
        ),
        ConfigError::Other(m) => (whole.clone(), m.clone(), None),
    }
}

/// `expect.span[2].attrs.nmae`: keys dotted, array indices bracketed.
fn show_path(root: &str, path: &[String]) -> String {
    let mut out = root.to_string();
    for seg in path {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::chaos::clnrm::chaos::types::{
        InvalidValue, MissingKey, UnknownKey, WrongType,
    };

    #[test]
    fn version_compatibility() {
        assert_eq!(api_for(WIT_VERSION), Some(Api::Current));
        assert_eq!(api_for("0.3.0"), Some(Api::Current));
        assert_eq!(api_for("0.3.9"), Some(Api::Current));
        assert_eq!(api_for("0.2.0"), Some(Api::V0_2));
        assert_eq!(api_for("0.2.7"), Some(Api::V0_2));
        assert_eq!(api_for("0.1.0"), None);
        assert_eq!(api_for("0.4.0"), None);
        assert_eq!(api_for("1.0.0"), None);
        assert_eq!(api_for("garbage"), None);
        assert_eq!(accepted(), "clnrm:chaos@0.2.x or clnrm:chaos@0.3.x");
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_exports_pick_the_bindings_and_bad_versions_are_refused() {
        // As `check_version` calls it: imports and exports, then the exports.
        let ok = |imports: &[&str], exports: &[&str]| {
            let all = names(imports).into_iter().chain(names(exports));
            classify_names(all, &names(exports))
        };
        assert_eq!(
            ok(
                &["wasi:cli/stdout@0.2.6", "clnrm:chaos/container@0.2.0"],
                &["clnrm:chaos/chaos@0.2.0"]
            ),
            Ok((World::Chaos, Api::V0_2))
        );
        assert_eq!(
            ok(&["clnrm:chaos/log@0.3.0"], &["clnrm:chaos/validator@0.3.0"]),
            Ok((World::Validator, Api::Current))
        );
        for bad in ["0.1.0", "1.0.0"] {
            let e = ok(&[], &[&format!("clnrm:chaos/chaos@{bad}")]).unwrap_err();
            assert!(
                e.contains(&format!("was built for clnrm:chaos@{bad}"))
                    && e.contains("clnrm:chaos@0.2.x or clnrm:chaos@0.3.x"),
                "{e}"
            );
        }
        let e = ok(
            &["clnrm:chaos/container@0.2.0"],
            &["clnrm:chaos/chaos@0.3.0"],
        )
        .unwrap_err();
        assert!(e.contains("mixes versions"), "{e}");
        let e = ok(&[], &["wasi:http/handler@0.2.0"]).unwrap_err();
        assert!(e.contains("exports neither"), "{e}");
        // 0.3.3's second validator export is on the same track; not on a 0.2 plugin.
        let both = [
            "clnrm:chaos/validator@0.3.3",
            "clnrm:chaos/packed-validator@0.3.3",
        ];
        assert_eq!(ok(&[], &both), Ok((World::Validator, Api::Current)));
        assert!(exports_interface(&names(&both), "packed-validator"));
        assert!(!exports_interface(&names(&both[..1]), "packed-validator"));
        let e = ok(
            &[],
            &[
                "clnrm:chaos/validator@0.2.0",
                "clnrm:chaos/packed-validator@0.3.3",
            ],
        )
        .unwrap_err();
        assert!(e.contains("mixes versions"), "{e}");
    }

    /// The package line of a WIT file, read independently of build.rs.
    fn package_version(wit: &str) -> String {
        let line = wit
            .lines()
            .find(|l| l.trim_start().starts_with("package "))
            .expect("a package line");
        line.trim()
            .trim_start_matches("package ")
            .trim_end_matches(';')
            .split_once('@')
            .expect("a versioned package")
            .1
            .to_string()
    }

    #[test]
    fn host_and_sdk_versions_are_the_wit_files() {
        let current = package_version(include_str!("../../../../wit/clnrm.wit"));
        assert_eq!(WIT_VERSION, current);
        assert_eq!(clnrm_sdk::WIT_VERSION, current);
        assert_eq!(
            COMPAT_VERSIONS,
            [package_version(include_str!("../../../../wit/compat/0.2.0/clnrm.wit")).as_str()]
        );
        assert!(!same_track(COMPAT_VERSIONS[0], WIT_VERSION));
    }

    fn p(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    /// `[[expect.span]]` with two entries; the second has `parnet` and
    /// `attrs = { nmae = 1 }`.
    fn positions() -> Positions {
        let mut pos = Positions::default();
        pos.insert(p(&[]), 0..200, 0..200);
        pos.insert(p(&["0"]), 0..80, 0..80);
        pos.insert(p(&["1"]), 100..200, 100..200);
        pos.insert(p(&["1", "parnet"]), 120..126, 129..144);
        pos.insert(p(&["1", "attrs"]), 150..155, 158..170);
        pos
    }

    #[test]
    fn config_errors_point_at_what_they_name() {
        let whole = 0..200;
        let pos = positions();

        let e = ConfigError::UnknownKey(UnknownKey {
            path: p(&["1", "parnet"]),
            expected: p(&["name", "parent", "status"]),
        });
        let (span, msg, help) = config_error_report(&e, "expect.span", &pos, &whole);
        assert_eq!(span, 120..126, "the key itself");
        assert_eq!(msg, "unknown key \"parnet\" in expect.span[1]");
        assert_eq!(
            help.as_deref(),
            Some("did you mean \"parent\"? valid keys here: name, parent, status")
        );

        // A key inside `attrs` that Positions does not list: the nearest enclosing key.
        let e = ConfigError::UnknownKey(UnknownKey {
            path: p(&["1", "attrs", "nmae"]),
            expected: p(&["zzz"]),
        });
        let (span, _, help) = config_error_report(&e, "expect.span", &pos, &whole);
        assert_eq!(span, 150..155);
        assert_eq!(help.as_deref(), Some("valid keys here: zzz"));

        let e = ConfigError::MissingKey(MissingKey {
            path: p(&["1"]),
            key: "name".into(),
        });
        let (span, msg, help) = config_error_report(&e, "expect.span", &pos, &whole);
        assert_eq!(span, 100..200, "the table that lacks it");
        assert_eq!(msg, "expect.span[1] needs the key \"name\"");
        assert_eq!(help.as_deref(), Some("add name = ..."));

        let e = ConfigError::WrongType(WrongType {
            path: p(&["1", "parnet"]),
            expected: "a string".into(),
            found: "an integer".into(),
        });
        let (span, msg, _) = config_error_report(&e, "expect.span", &pos, &whole);
        assert_eq!(span, 129..144, "the value");
        assert_eq!(
            msg,
            "expect.span[1].parnet: expected a string, found an integer"
        );

        let e = ConfigError::InvalidValue(InvalidValue {
            path: p(&["1", "attrs"]),
            message: "expected a table of attribute matchers".into(),
        });
        let (span, msg, _) = config_error_report(&e, "expect.span", &pos, &whole);
        assert_eq!(span, 158..170);
        assert_eq!(
            msg,
            "expect.span[1].attrs: expected a table of attribute matchers"
        );

        let e = ConfigError::Other("something else".into());
        let (span, msg, help) = config_error_report(&e, "expect.span", &pos, &(5..9));
        assert_eq!((span, msg.as_str(), help), (5..9, "something else", None));
    }

    #[test]
    fn config_errors_fall_back_to_the_entry_when_positions_are_unknown() {
        let e = ConfigError::WrongType(WrongType {
            path: p(&["signal"]),
            expected: "a signal name".into(),
            found: "an integer".into(),
        });
        let (span, msg, _) =
            config_error_report(&e, "chaos_injection", &Positions::default(), &(40..90));
        assert_eq!(span, 40..90);
        assert_eq!(
            msg,
            "chaos_injection.signal: expected a signal name, found an integer"
        );
    }
}
