//! `clnrm plugins`: every plugin the host can find, described, and the
//! configuration keys each fault type or table accepts.
//!
//! Keys are not part of `plugin-info`. They are learnt from the plugin's own
//! `check`: given a key no plugin can know, a 0.3 plugin answers
//! `unknown-key { expected }`, the keys valid there. That is all the WIT
//! exposes: no types, defaults or documentation (and nothing for 0.2.x
//! plugins, whose `check` returns a bare string).

use super::{LoadedPlugin, Pre, Registry, RegistryError};
use crate::runtime::bindings::ConfigError;
use crate::suite::Suite;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a plugin file was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The first-party directory (`$CLNRM_PLUGIN_DIR` when set).
    PluginDir { from_env: bool },
    /// A suite's `[plugins]` table.
    Suite(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::PluginDir { from_env: true } => f.write_str("CLNRM_PLUGIN_DIR"),
            Origin::PluginDir { from_env: false } => f.write_str("built-in"),
            Origin::Suite(p) => write!(f, "[plugins] of {}", p.display()),
        }
    }
}

/// One plugin file: loaded and described, or why not.
pub struct Found {
    pub origin: Origin,
    pub path: PathBuf,
    pub plugin: Result<Arc<LoadedPlugin>, String>,
}

/// What `check` told about one fault type's or table's configuration.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigKeys {
    /// The keys valid at the top of the table, sorted as the plugin gave them.
    Keys(Vec<String>),
    /// The plugin did not say (it accepted the probe, or answered otherwise).
    NotExposed(String),
}

/// A key no configuration has: the probe `check` must refuse.
const PROBE: &str = "__clnrm_describe_probe__";

impl LoadedPlugin {
    pub fn kind(&self) -> &'static str {
        match self.pre {
            Pre::Chaos(_) => "chaos",
            Pre::Validator(_) => "validator",
        }
    }
}

impl Registry {
    /// Every `*.wasm` of the plugin directory, then every `[plugins]` entry of
    /// `suites`, in that order (each directory sorted by file name).
    pub async fn catalog(&self, suites: &[Suite]) -> Result<Vec<Found>, RegistryError> {
        let from_env = std::env::var_os("CLNRM_PLUGIN_DIR").is_some();
        let mut out = Vec::new();
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        if !suites.iter().any(|s| !s.plugins.is_empty()) || self.plugin_dir.is_some() {
            files = self.first_party("")?;
        }
        for (name, path) in files {
            let plugin = self.load(&name, &path).await.map_err(|e| e.to_string());
            out.push(Found {
                origin: Origin::PluginDir { from_env },
                path,
                plugin,
            });
        }
        for s in suites {
            for (name, path, _) in &s.plugins {
                let plugin = self.load(name, path).await.map_err(|e| e.to_string());
                out.push(Found {
                    origin: Origin::Suite(s.path.clone()),
                    path: path.clone(),
                    plugin,
                });
            }
        }
        Ok(out)
    }

    /// The configuration keys of `handle` (a fault type or `[expect.X]`
    /// table of `plugin`), asked of the plugin's `check` with a probe key.
    pub async fn config_keys(&self, plugin: &LoadedPlugin, handle: &str) -> ConfigKeys {
        let table = serde_json::json!({ PROBE: true }).to_string();
        let first = self.check(plugin, handle, &table).await;
        // `[[expect.span]]`-style tables are arrays of tables.
        let answer = match first {
            Ok(Err(ConfigError::WrongType(w))) if w.path.is_empty() => {
                self.check(plugin, handle, &format!("[{table}]")).await
            }
            other => other,
        };
        match answer {
            Ok(Err(ConfigError::UnknownKey(u)))
                if u.path.last().map(String::as_str) == Some(PROBE) =>
            {
                ConfigKeys::Keys(u.expected)
            }
            Ok(Ok(())) => ConfigKeys::NotExposed("its check accepts any key".into()),
            Ok(Err(ConfigError::Other(m))) => {
                ConfigKeys::NotExposed(format!("its check answered in free text: {m}"))
            }
            Ok(Err(e)) => ConfigKeys::NotExposed(format!("its check answered {e:?}")),
            Err(e) => ConfigKeys::NotExposed(format!("its check failed: {e}")),
        }
    }

    async fn check(
        &self,
        plugin: &LoadedPlugin,
        handle: &str,
        config_json: &str,
    ) -> Result<Result<(), ConfigError>, crate::runtime::PluginError> {
        match &plugin.pre {
            Pre::Chaos(pre) => {
                super::wasm::check_chaos(&self.engine, pre, &plugin.info.name, handle, config_json)
                    .await
            }
            Pre::Validator(pre) => {
                super::wasm::check_validator(
                    &self.engine,
                    pre,
                    &plugin.info.name,
                    handle,
                    config_json,
                )
                .await
            }
        }
    }
}
