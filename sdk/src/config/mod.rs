//! Typed plugin configuration.
//!
//! A plugin declares its config as a `#[derive(Deserialize)]` struct (with
//! `#[serde(deny_unknown_fields)]`, so a typo is an error, never silently ignored) and
//! calls [`parse`]; what is wrong comes back as a [`ConfigError`] with the path of the
//! offending key, which the host turns into `file:line:col`.
//!
//! ```
//! use serde::Deserialize;
//! use clnrm_sdk::config::{self, ConfigError};
//!
//! #[derive(Deserialize, Debug)]
//! #[serde(deny_unknown_fields)]
//! struct Cfg {
//!     #[serde(rename = "type")]
//!     _type: String,
//!     #[serde(default)]
//!     delay_ms: u64,
//! }
//!
//! let cfg: Cfg = config::parse(r#"{"type": "x", "delay_ms": 5}"#).unwrap();
//! assert_eq!(cfg.delay_ms, 5);
//! let err = config::parse::<Cfg>(r#"{"type": "x", "dely_ms": 5}"#).unwrap_err();
//! assert_eq!(
//!     err,
//!     ConfigError::UnknownKey {
//!         path: vec!["dely_ms".into()],
//!         expected: vec!["type".into(), "delay_ms".into()],
//!     }
//! );
//! assert_eq!(
//!     err.to_string(),
//!     "unknown key \"dely_ms\"; did you mean \"delay_ms\"? (valid: type, delay_ms)"
//! );
//! ```

mod de;
mod error;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::{render_path, with, ConfigError};

/// Decodes the config JSON the host passes (the TOML table, converted 1:1) into `T`.
pub fn parse<T: DeserializeOwned>(config_json: &str) -> Result<T, ConfigError> {
    let value: Value = serde_json::from_str(config_json)
        .map_err(|e| ConfigError::Other(format!("config is not valid JSON: {e}")))?;
    from_value(&value)
}

/// [`parse`] for a fault's table without its `type` key: the config struct needs no
/// `#[serde(rename = "type")] _type` field (what [`chaos_fault!`](crate::chaos_fault)
/// decodes with). An unknown top-level key still lists `type` among the valid ones.
pub fn parse_fault<T: DeserializeOwned>(config_json: &str) -> Result<T, ConfigError> {
    let mut value: Value = serde_json::from_str(config_json)
        .map_err(|e| ConfigError::Other(format!("config is not valid JSON: {e}")))?;
    if let Some(table) = value.as_object_mut() {
        table.remove("type");
    }
    from_value(&value).map_err(|e| match e {
        ConfigError::UnknownKey { path, mut expected } if path.len() == 1 => {
            expected.insert(0, "type".into());
            ConfigError::UnknownKey { path, expected }
        }
        other => other,
    })
}

/// [`parse`] for a config already decoded to JSON.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, ConfigError> {
    T::deserialize(de::ValueDe(value))
}

/// THE one place where a plugin's [`ConfigError`] becomes the WIT `config-error` its
/// `check` export returns (the generated type of either world: both convert field by
/// field, the path unchanged, so the host can point at the key in the suite file).
/// Every `check` the SDK's plugin macros export goes through it.
pub fn to_wit<E: From<ConfigError>>(err: ConfigError) -> E {
    E::from(err)
}

/// `From<ConfigError>` for the `config-error` type generated in one world's bindings.
#[cfg(feature = "guest")]
macro_rules! wit_config_error_from {
    ($types:path) => {
        const _: () = {
            use $types as wit;
            impl From<ConfigError> for wit::ConfigError {
                fn from(e: ConfigError) -> Self {
                    match e {
                        ConfigError::UnknownKey { path, expected } => {
                            wit::ConfigError::UnknownKey(wit::UnknownKey { path, expected })
                        }
                        ConfigError::MissingKey { path, key } => {
                            wit::ConfigError::MissingKey(wit::MissingKey { path, key })
                        }
                        ConfigError::WrongType {
                            path,
                            expected,
                            found,
                        } => wit::ConfigError::WrongType(wit::WrongType {
                            path,
                            expected,
                            found,
                        }),
                        ConfigError::InvalidValue { path, message } => {
                            wit::ConfigError::InvalidValue(wit::InvalidValue { path, message })
                        }
                        ConfigError::Other(m) => wit::ConfigError::Other(m),
                    }
                }
            }
        };
    };
}
#[cfg(feature = "guest")]
wit_config_error_from!(crate::chaos::clnrm::chaos::types);
#[cfg(feature = "guest")]
wit_config_error_from!(crate::validator::clnrm::chaos::types);

#[cfg(test)]
mod tests;
