//! Writing a chaos plugin: implement [`ChaosPlugin`] and export it with
//! [`chaos_plugin!`](crate::chaos_plugin).
//!
//! [`ChaosPlugin::check`] returns a structured [`ConfigError`]; the macro turns it into
//! the WIT's answer through [`config::to_wit`](crate::config::to_wit), the one place
//! that conversion happens, so every chaos plugin reports config errors the same way.

use crate::chaos::clnrm::chaos::types::PluginInfo;
use crate::chaos::exports::clnrm::chaos::chaos::{Injection, Outcome};
use crate::config::ConfigError;

/// A chaos plugin: what the host calls, with SDK types.
pub trait ChaosPlugin {
    /// Name, version, fault types handled and host capabilities needed (see
    /// [`plugin_info`]).
    fn describe() -> PluginInfo;

    /// Checks one `chaos_injection` table of type `fault_type` (its JSON, `type`
    /// included) before anything runs, so a bad table is an input error (exit 2), not a
    /// failed scenario. Typically `config::parse::<MyConfig>(config_json).map(|_| ())`.
    fn check(fault_type: &str, config_json: &str) -> Result<(), ConfigError>;

    /// Injects the fault and observes it; `Err` fails the scenario with that message.
    fn inject(injection: Injection) -> Result<Outcome, String>;
}

/// The `describe()` answer of a chaos plugin: this SDK's WIT version, the fault types it
/// `handles` and the host `capabilities` it uses (e.g. `["container"]`).
pub fn plugin_info(
    name: &str,
    version: &str,
    handles: &[&str],
    capabilities: &[&str],
) -> PluginInfo {
    PluginInfo {
        name: name.into(),
        version: version.into(),
        wit_version: crate::WIT_VERSION.into(),
        handles: handles.iter().map(|h| (*h).to_owned()).collect(),
        capabilities: capabilities.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// `chaos_plugin { fault_type }` does not handle ...: the `check` error for a fault type
/// the plugin did not declare.
pub fn unhandled(plugin: &str, fault_type: &str) -> ConfigError {
    ConfigError::Other(format!("{plugin} does not handle `{fault_type}`"))
}

/// Exports a [`ChaosPlugin`] as the WIT `chaos-plugin` world. Once per plugin crate
/// (a `cdylib` built for `wasm32-wasip2`):
///
/// ```ignore
/// clnrm_sdk::chaos_plugin!(MyPlugin);
/// ```
#[macro_export]
macro_rules! chaos_plugin {
    ($plugin:ty) => {
        struct __ClnrmChaos;

        impl $crate::chaos::exports::clnrm::chaos::chaos::Guest for __ClnrmChaos {
            fn describe() -> $crate::chaos::clnrm::chaos::types::PluginInfo {
                <$plugin as $crate::ChaosPlugin>::describe()
            }

            fn check(
                fault_type: ::std::string::String,
                config_json: ::std::string::String,
            ) -> ::std::result::Result<(), $crate::chaos::clnrm::chaos::types::ConfigError> {
                <$plugin as $crate::ChaosPlugin>::check(&fault_type, &config_json)
                    .map_err($crate::config::to_wit)
            }

            fn inject(
                injection: $crate::chaos::exports::clnrm::chaos::chaos::Injection,
            ) -> ::std::result::Result<
                $crate::chaos::exports::clnrm::chaos::chaos::Outcome,
                ::std::string::String,
            > {
                <$plugin as $crate::ChaosPlugin>::inject(injection)
            }
        }

        $crate::export_chaos_plugin!(__ClnrmChaos);
    };
}

/// A whole chaos plugin from its typed configs: `describe`, `check` and `inject` written
/// for you, and the export. Each fault type names its config struct (decoded with
/// [`config::parse_fault`](crate::config::parse_fault): no `type` field needed, a typo is a
/// structured error at its key) and the function that injects it,
/// `fn(Config, &Injection) -> Result<Outcome, String>`; `where` adds a check of the decoded
/// config, `fn(&Config) -> Result<(), ConfigError>`, run by `check` and before `inject`.
///
/// ```ignore
/// use clnrm_sdk::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Nap { #[serde(default)] delay_ms: u64, target: Option<String> }
///
/// fn nap(cfg: Nap, inj: &Injection) -> Result<Outcome, String> {
///     let target = target(cfg.target.as_deref(), inj)?;
///     let span = FaultSpan::start("chaos.nap", inj.parent, "nap", &target, cfg.delay_ms);
///     clock::sleep_ms(cfg.delay_ms);
///     span.observed();
///     Ok(Outcome { observed: true, summary: format!("napped near {target}") })
/// }
///
/// clnrm_sdk::chaos_fault! {
///     name: "nap", capabilities: [],
///     faults: { "nap": Nap => nap; }
/// }
/// ```
#[macro_export]
macro_rules! chaos_fault {
    (
        name: $name:literal,
        capabilities: [$($cap:literal),* $(,)?],
        faults: { $($fault:literal : $cfg:ty => $run:path $(where $check:path)? ;)+ } $(,)?
    ) => {
        struct __ClnrmFault;

        impl $crate::ChaosPlugin for __ClnrmFault {
            fn describe() -> $crate::chaos::clnrm::chaos::types::PluginInfo {
                $crate::chaos_support::plugin_info(
                    $name,
                    env!("CARGO_PKG_VERSION"),
                    &[$($fault),+],
                    &[$($cap),*],
                )
            }

            fn check(
                fault_type: &str,
                config_json: &str,
            ) -> ::std::result::Result<(), $crate::config::ConfigError> {
                match fault_type {
                    $($fault => {
                        let _cfg: $cfg = $crate::config::parse_fault(config_json)?;
                        $($check(&_cfg)?;)?
                        Ok(())
                    })+
                    other => Err($crate::chaos_support::unhandled($name, other)),
                }
            }

            fn inject(
                inj: $crate::chaos::exports::clnrm::chaos::chaos::Injection,
            ) -> ::std::result::Result<
                $crate::chaos::exports::clnrm::chaos::chaos::Outcome,
                ::std::string::String,
            > {
                let bad = |e: $crate::config::ConfigError| e.at("chaos_injection").to_string();
                match inj.fault_type.as_str() {
                    $($fault => {
                        let cfg: $cfg = $crate::config::parse_fault(&inj.config_json).map_err(bad)?;
                        $($check(&cfg).map_err(bad)?;)?
                        $run(cfg, &inj)
                    })+
                    other => Err($crate::chaos_support::unhandled($name, other).to_string()),
                }
            }
        }

        $crate::chaos_plugin!(__ClnrmFault);
    };
}
