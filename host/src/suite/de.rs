//! Deserialization pieces shared by the element files; nothing here knows a
//! particular table (the dependency goes one way: element files use `de`).
//!
//! The dialect's "this or that" shapes (`run`, `parallel_services`,
//! `chaos_injection`) have hand-written visitors next to their types:
//! `#[serde(untagged)]` would buffer the value (losing every span inside it,
//! and breaking `toml::Spanned`) and then say only "data did not match any
//! variant". The visitors say what was expected, and deserialize each element
//! in place, so the toml deserializer points at the offending element or key.

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Names a table's shape in "expected ..." messages (see [`TableOf`]).
pub trait TableShape {
    const EXPECTING: &'static str;
    /// A check across keys that serde cannot express (one of two keys
    /// required), reported at the table's position like a missing field.
    fn whole(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A table deserialized as `T`; anything else is "invalid type: ..., expected
/// <T's shape>" instead of serde's "expected struct T".
#[derive(Debug)]
pub struct TableOf<T>(pub T);

impl<T> std::ops::Deref for TableOf<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de> + TableShape> Deserialize<'de> for TableOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + TableShape> Visitor<'de> for V<T> {
            type Value = TableOf<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let t = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
                t.whole().map_err(de::Error::custom)?;
                Ok(TableOf(t))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// TOML to JSON, 1:1 (datetimes become their RFC 3339 text): plugin-owned
/// tables are handed to plugins as JSON.
pub fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or(J::Null),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// A duration written as text, as the original clnrm files do (`timeout = "1s"`,
/// `kill_timeout = "5s"`): a number and a unit (`500ms`, `1s`, `2m`, `1m 30s`),
/// read with humantime; at least 1 ms. The `*_ms` integer keys stay the
/// precise form; a table gives one or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationText(pub std::time::Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"500ms\", \"1s\" or \"2m\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DurationText, E> {
                let d = humantime::parse_duration(s.trim()).map_err(|e| {
                    E::custom(format!(
                        "{s:?} is not a duration ({e}): write it like \"500ms\", \"1s\" or \"2m\""
                    ))
                })?;
                if d < std::time::Duration::from_millis(1) {
                    return Err(E::custom(format!("{s:?}: a timeout must be at least 1ms")));
                }
                Ok(DurationText(d))
            }
        }
        d.deserialize_str(V)
    }
}
