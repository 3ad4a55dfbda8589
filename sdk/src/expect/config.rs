//! Reading an `[expect.*]` config (the TOML table converted 1:1 to JSON) with errors that
//! say where (`expect.span[0].count.eq`) and what was expected, in TOML's vocabulary,
//! because the user wrote TOML, not JSON.

use serde_json::{Map, Value};

use super::suggest::nearest;

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
pub fn wrong_type(path: &str, expected: &str, v: &Value) -> String {
    format!("{path}: expected {expected}, found {}", describe(v))
}

/// Extends a config path with a key, quoting keys that are not bare TOML keys
/// (`attrs.all."exit.code"`), so the path can be pasted back into the TOML.
pub fn child(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        format!("{path}.{key}")
    } else {
        format!("{path}.{key:?}")
    }
}

pub fn table<'a>(v: &'a Value, path: &str) -> Result<&'a Table, String> {
    v.as_object().ok_or_else(|| wrong_type(path, "a table", v))
}

pub fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| wrong_type(path, "a string", v))
}

/// A number (integer or float) that is finite.
pub fn number(v: &Value, path: &str) -> Result<f64, String> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(wrong_type(path, "a number", v)),
    }
}

/// A non-negative integer (counts).
pub fn count(v: &Value, path: &str) -> Result<u64, String> {
    v.as_u64()
        .ok_or_else(|| wrong_type(path, "a non-negative integer", v))
}

/// An array of strings.
pub fn string_list(v: &Value, path: &str) -> Result<Vec<String>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| wrong_type(path, "an array of strings", v))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &format!("{path}[{i}]")).map(str::to_owned))
        .collect()
}

/// Rejects the keys of `map` not in `valid`: `<path>: unknown key "atrs"; did you mean
/// "attrs"? (valid: name, kind, ...)`. A typo must never be ignored silently, or an
/// expectation would quietly check less than its author thinks.
pub fn check_keys(map: &Table, valid: &[&str], path: &str, what: &str) -> Result<(), String> {
    for key in map.keys() {
        if !valid.contains(&key.as_str()) {
            let hint = nearest(key, valid.iter().copied(), 1)
                .first()
                .map(|s| format!("; did you mean {s:?}?"))
                .unwrap_or_default();
            return Err(format!(
                "{path}: unknown {what} {key:?}{hint} (valid: {})",
                valid.join(", ")
            ));
        }
    }
    Ok(())
}
