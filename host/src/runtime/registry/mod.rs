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
    self as wasm, ChaosCall, ChaosPre, ChaosReturn, CurrentValidator, PluginError, ValidateCall,
    ValidatorPre,
};
use super::host::{Grants, PluginState};
use super::plugin::{Api, Pre};
pub use super::plugin::{LoadedPlugin, PluginInfo, ResolvedPlugins};
use super::sandbox::{self, EpochTicker, Instances};
use super::validator_trace::ValidatorTrace;
use crate::suite::{nearest, Positions, Suite, SuiteError};
use sha2::Digest;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;
use wasmtime::component::{HasSelf, Linker};

mod call;
pub use call::ValidatorJob;
mod catalog;
mod load;
mod resolve;
#[cfg(test)]
mod tests;
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

    /// Tests: first-party plugins from `dir` (as `CLNRM_PLUGIN_DIR` would,
    /// without touching the process's environment).
    #[cfg(test)]
    pub(crate) fn with_plugin_dir(mut self, dir: PathBuf) -> Registry {
        self.plugin_dir = Some(dir);
        self
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
