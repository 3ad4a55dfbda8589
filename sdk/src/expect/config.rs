//! Reading an `[expect.*]` config (the TOML table converted 1:1 to JSON) by hand, for
//! the validators whose configs are too free-form for a `#[derive(Deserialize)]` struct
//! (matchers, maps keyed by span name). Errors are [`ConfigError`]s whose `path` is
//! relative to the config the validator was given (for `[[expect.x]]`, the array:
//! `path[0]` is the entry's index), with types named in TOML's vocabulary, because the
//! user wrote TOML, not JSON.

use serde_json::{Map, Value};

pub use crate::config::with as child;
use crate::config::ConfigError;

/// A TOML table as JSON.
pub type Table = Map<String, Value>;

/// How messages name a value: `string "abc"`, `integer 3`, `float 1.5`, `boolean true`,
/// `an array`, `a table`.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if n.is_f64() => format!("float {n}"),
        Value::Number(n) => format!("integer {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("string {:?}...", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "a table".into(),
    }
}

/// `<path>: expected <expected>, found <what v is>`.
pub fn wrong_type(path: &[String], expected: &str, v: &Value) -> ConfigError {
    ConfigError::wrong_type(path, expected, describe(v))
}

/// `<path>: <message>`: the value has the right type but is not acceptable.
pub fn invalid(path: &[String], message: impl Into<String>) -> ConfigError {
    ConfigError::invalid_value(path, message)
}

pub fn table<'a>(v: &'a Value, path: &[String]) -> Result<&'a Table, ConfigError> {
    v.as_object().ok_or_else(|| wrong_type(path, "a table", v))
}

pub fn string<'a>(v: &'a Value, path: &[String]) -> Result<&'a str, ConfigError> {
    v.as_str().ok_or_else(|| wrong_type(path, "a string", v))
}

/// A number (integer or float) that is finite.
pub fn number(v: &Value, path: &[String]) -> Result<f64, ConfigError> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(wrong_type(path, "a number", v)),
    }
}

/// A non-negative integer (counts).
pub fn count(v: &Value, path: &[String]) -> Result<u64, ConfigError> {
    v.as_u64()
        .ok_or_else(|| wrong_type(path, "a non-negative integer", v))
}

/// An array of strings.
pub fn string_list(v: &Value, path: &[String]) -> Result<Vec<String>, ConfigError> {
    let items = v
        .as_array()
        .ok_or_else(|| wrong_type(path, "an array of strings", v))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &child(path, &i.to_string())).map(str::to_owned))
        .collect()
}

/// Rejects the first key of `map` not in `valid` as [`ConfigError::UnknownKey`] (shown
/// as `<path>: unknown key "atrs"; did you mean "attrs"? (valid: name, kind, ...)`).
/// A typo must never be ignored silently, or an expectation would quietly check less
/// than its author thinks.
pub fn check_keys(map: &Table, valid: &[&str], path: &[String]) -> Result<(), ConfigError> {
    match map.keys().find(|k| !valid.contains(&k.as_str())) {
        Some(key) => Err(ConfigError::unknown_key(path, key, valid)),
        None => Ok(()),
    }
}
