//! Plugin resolution by name. First-party plugins live in the plugin dir
//! (`$CLNRM_PLUGIN_DIR`, else `plugins/` next to the binary or one level up,
//! where `cargo xtask plugins` puts them); third-party ones come from a suite's
//! `[plugins]` table. Each is compiled once (cached), described once, and
//! checked for a compatible WIT version.

use super::bindings::chaos::exports::clnrm::chaos::chaos::Injection;
use super::bindings::chaos::{ChaosPlugin, ChaosPluginPre};
use super::bindings::validator::exports::clnrm::chaos::validator::{Finding, SpanRecord};
use super::bindings::validator::{ValidatorPlugin, ValidatorPluginPre};
use super::cache::Cache;
use super::call::{self, ChaosCall, ChaosReturn, PluginError, ValidateCall};
use super::host::{Grants, PluginState};
use super::sandbox::{self, EpochTicker};
use crate::suite::{nearest, Suite, SuiteError};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::Engine;

/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "clnrm:chaos";
pub const WIT_VERSION: &str = "0.2.0";

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
    Chaos(ChaosPluginPre<PluginState>),
    Validator(ValidatorPluginPre<PluginState>),
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
}

impl ResolvedPlugins {
    /// Every plugin used, by name (for the report).
    pub fn infos(&self) -> BTreeMap<String, PluginInfo> {
        self.chaos
            .values()
            .chain(self.validators.values())
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

impl Registry {
    pub fn new() -> Result<Registry, RegistryError> {
        let engine = Engine::new(&sandbox::engine_config())
            .map_err(|e| RegistryError::Engine(e.to_string()))?;
        let mut chaos_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut chaos_linker)
            .map_err(|e| RegistryError::Engine(e.to_string()))?;
        ChaosPlugin::add_to_linker::<_, HasSelf<_>>(&mut chaos_linker, |s| s)
            .map_err(|e| RegistryError::Engine(e.to_string()))?;
        let mut validator_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut validator_linker)
            .map_err(|e| RegistryError::Engine(e.to_string()))?;
        ValidatorPlugin::add_to_linker::<_, HasSelf<_>>(&mut validator_linker, |s| s)
            .map_err(|e| RegistryError::Engine(e.to_string()))?;
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
        let (exports_chaos, exports_validator) = self.check_version(&component).map_err(fail)?;
        let (pre, info) = if exports_chaos {
            let pre = self
                .chaos_linker
                .instantiate_pre(&component)
                .map_err(|e| fail(format!("cannot link: {e:#}")))?;
            let pre = ChaosPluginPre::new(pre)
                .map_err(|e| fail(format!("does not implement the chaos-plugin world: {e:#}")))?;
            let info = call::describe_chaos(&self.engine, &pre, name)
                .await
                .map_err(|e| fail(e.to_string()))?;
            (Pre::Chaos(pre), info)
        } else if exports_validator {
            let pre = self
                .validator_linker
                .instantiate_pre(&component)
                .map_err(|e| fail(format!("cannot link: {e:#}")))?;
            let pre = ValidatorPluginPre::new(pre).map_err(|e| {
                fail(format!(
                    "does not implement the validator-plugin world: {e:#}"
                ))
            })?;
            let info = call::describe_validator(&self.engine, &pre, name)
                .await
                .map_err(|e| fail(e.to_string()))?;
            (Pre::Validator(pre), info)
        } else {
            return Err(fail(format!(
                "exports neither {WIT_PACKAGE}/chaos nor {WIT_PACKAGE}/validator"
            )));
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
        if !compatible(&info.wit_version) {
            return Err(fail(format!(
                "was built for {WIT_PACKAGE}@{}; this host accepts {}",
                info.wit_version,
                accepted()
            )));
        }
        let loaded = Arc::new(LoadedPlugin {
            grants: Grants::from_declared(&info.capabilities),
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

    /// Which worlds the component exports; refuses incompatible WIT versions
    /// before linking, with a message that says which versions we accept.
    fn check_version(
        &self,
        component: &wasmtime::component::Component,
    ) -> Result<(bool, bool), String> {
        let ty = component.component_type();
        let names: Vec<String> = ty
            .imports(&self.engine)
            .map(|(n, _)| n.to_string())
            .chain(ty.exports(&self.engine).map(|(n, _)| n.to_string()))
            .collect();
        for n in &names {
            if let Some(rest) = n.strip_prefix(&format!("{WIT_PACKAGE}/")) {
                let version = rest.split('@').nth(1).unwrap_or("");
                if !compatible(version) {
                    return Err(format!(
                        "was built for {WIT_PACKAGE}@{version} (uses {n}); this host accepts {}",
                        accepted()
                    ));
                }
            }
        }
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let has = |iface: &str| {
            exports
                .iter()
                .any(|n| n.starts_with(&format!("{WIT_PACKAGE}/{iface}@")))
        };
        Ok((has("chaos"), has("validator")))
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
        let bad = |span: std::ops::Range<usize>, what: String, message: String| -> RegistryError {
            Box::new(suite.error_at(span, format!("invalid {what}: {message}"), None)).into()
        };
        for inj in suite.scenarios.iter().flat_map(|s| &s.injections) {
            let Some(p) = plugins.chaos.get(&inj.fault_type) else {
                continue;
            };
            let Pre::Chaos(pre) = &p.pre else { continue };
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
                Ok(Err(m)) => {
                    return Err(bad(
                        inj.span.clone(),
                        format!("chaos_injection `{}`", inj.fault_type),
                        m,
                    ))
                }
                Err(e) => {
                    return Err(bad(
                        inj.span.clone(),
                        format!("chaos_injection `{}`", inj.fault_type),
                        e.to_string(),
                    ))
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
                Ok(Err(m)) => {
                    // "expect.span[2]: ..." names an entry: point at that entry.
                    let entry = m
                        .strip_prefix(&format!("expect.{}[", exp.table))
                        .and_then(|r| r.split(']').next())
                        .and_then(|n| n.parse::<usize>().ok());
                    let mut span = entry
                        .and_then(|i| suite.expect_entry_span(&exp.table, i))
                        .unwrap_or_else(|| exp.span.clone());
                    // ... and at the unknown key itself when it is in that entry.
                    if let Some(key) = m
                        .split("unknown key \"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                    {
                        let rest = &suite.source[span.start.min(suite.source.len())..];
                        let entry_text =
                            &rest[..rest[1..].find("\n[").map(|i| i + 1).unwrap_or(rest.len())];
                        if let Some(at) = entry_text.find(key) {
                            span = span.start + at..span.start + at + key.len();
                        }
                    }
                    return Err(bad(span, format!("[expect.{}]", exp.table), m));
                }
                Err(e) => {
                    return Err(bad(
                        exp.span.clone(),
                        format!("[expect.{}]", exp.table),
                        e.to_string(),
                    ))
                }
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
        match &plugin.pre {
            Pre::Chaos(pre) => {
                call::inject(
                    &self.engine,
                    pre,
                    &plugin.info.name,
                    plugin.grants,
                    injection,
                    call,
                )
                .await
            }
            Pre::Validator(_) => ChaosReturn {
                result: Err(PluginError::Failed {
                    plugin: plugin.info.name.clone(),
                    message: "is a validator, not a chaos plugin".into(),
                }),
                journal: call.journal,
                divergence: None,
            },
        }
    }

    pub async fn validate(
        &self,
        plugin: &LoadedPlugin,
        table: &str,
        config_json: &str,
        trace: &[SpanRecord],
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

/// 0.x: same minor; 1.x and later: same major.
fn compatible(version: &str) -> bool {
    match (parse_major_minor(version), parse_major_minor(WIT_VERSION)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b,
        _ => false,
    }
}

fn accepted() -> String {
    match parse_major_minor(WIT_VERSION) {
        Some((0, m)) => format!("{WIT_PACKAGE}@0.{m}.x"),
        Some((major, _)) => format!("{WIT_PACKAGE}@{major}.x"),
        None => WIT_VERSION.to_string(),
    }
}

fn parse_major_minor(v: &str) -> Option<(u64, u64)> {
    let mut it = v.split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_compatibility() {
        assert!(compatible("0.2.0"));
        assert!(compatible("0.2.7"));
        assert!(!compatible("0.1.0"));
        assert!(!compatible("0.3.0"));
        assert!(!compatible("1.0.0"));
        assert!(!compatible("garbage"));
        assert_eq!(accepted(), "clnrm:chaos@0.2.x");
    }
}
