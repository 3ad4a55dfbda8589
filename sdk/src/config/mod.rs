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

/// [`parse`] for a config already decoded to JSON.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, ConfigError> {
    T::deserialize(de::ValueDe(value))
}

/// What the WIT `check` export returns on error. Today's WIT has `result<_, string>`;
/// when it carries the `config-error` variant, this type and [`to_wit`] change, and
/// nothing else.
pub type WitCheckError = String;

/// THE one place where a plugin's [`ConfigError`] becomes what the WIT `check` (and a
/// validator's `validate`) returns; every `check` the SDK's plugin macros export goes
/// through it. `root` names the config the way the user wrote it (`chaos_injection`,
/// `expect.span`): while the WIT carries a string, the message starts with the path
/// from there (`expect.span[1]: unknown key "parnet"; ...`).
pub fn to_wit(root: &str, err: ConfigError) -> WitCheckError {
    err.at(root).to_string()
}

#[cfg(test)]
mod tests;
