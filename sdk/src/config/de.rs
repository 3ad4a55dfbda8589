//! A serde `Deserializer` over a `serde_json::Value` whose error is [`ConfigError`].
//!
//! Why not `serde_json::from_value` (+ `serde_path_to_error`): serde's derive hands the
//! deserializer's error type the facts as data (`unknown_field(key, expected_keys)`,
//! `missing_field(key)`, `invalid_type(found, expected)`), but serde_json flattens them
//! into prose at once, and getting them back means re-parsing that prose, which is what
//! structured errors are meant to end. With [`ConfigError`] as the error type, the
//! facts stay data, and the path is put together as an error travels up (each map and
//! array level adds its key or index). No dependency beyond serde and serde_json.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Number, Value};

use super::error::ConfigError;
use crate::suggest;

impl de::Error for ConfigError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ConfigError::InvalidValue {
            path: vec![],
            message: msg.to_string(),
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        ConfigError::WrongType {
            path: vec![],
            expected: expected_words(&exp.to_string()),
            found: found_words(&unexp),
        }
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = exp.to_string();
        let words = expected_words(&expected);
        if words != expected {
            // A number out of a primitive's range (-1 for a u64): a type the user can name.
            return ConfigError::WrongType {
                path: vec![],
                expected: words,
                found: found_words(&unexp),
            };
        }
        ConfigError::InvalidValue {
            path: vec![],
            message: format!("expected {expected}, found {}", found_words(&unexp)),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        ConfigError::unknown_key(&[], field, expected)
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let hint = suggest::nearest(variant, expected.iter().copied())
            .map(|s| format!("; did you mean {s:?}?"))
            .unwrap_or_default();
        let all: Vec<String> = expected.iter().map(|v| format!("{v:?}")).collect();
        ConfigError::InvalidValue {
            path: vec![],
            message: format!(
                "unknown value {variant:?}{hint} (valid: {})",
                all.join(", ")
            ),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        ConfigError::missing_key(&[], field)
    }
}

/// Rust's names for what a visitor wanted, in the words of a TOML author.
fn expected_words(exp: &str) -> String {
    match exp {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".into(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".into(),
        "f32" | "f64" => "a number".into(),
        "a borrowed string" | "a string" | "a character" => "a string".into(),
        "a boolean" => "a boolean".into(),
        "a sequence" | "a tuple" => "an array".into(),
        "a map" | "map" => "a table".into(),
        s if s.starts_with("struct ") => "a table".into(),
        s if s.starts_with("a sequence") || s.starts_with("tuple") => "an array".into(),
        s => s.into(),
    }
}

/// How a found value is named: `string "x"`, `integer 3`, `a table`.
fn found_words(unexp: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match unexp {
        U::Bool(b) => format!("boolean {b}"),
        U::Unsigned(n) => format!("integer {n}"),
        U::Signed(n) => format!("integer {n}"),
        U::Float(x) => format!("float {x}"),
        U::Str(s) if s.chars().count() > 40 => {
            format!("string {:?}...", s.chars().take(40).collect::<String>())
        }
        U::Str(s) => format!("string {s:?}"),
        U::Seq => "an array".into(),
        U::Map => "a table".into(),
        U::Unit | U::Option => "nothing (null)".into(),
        other => other.to_string(),
    }
}

/// Deserializes `value` (a borrowed JSON value) with [`ConfigError`] errors.
pub(crate) struct ValueDe<'de>(pub &'de Value);

fn visit_number<'de, V: Visitor<'de>>(n: &Number, visitor: V) -> Result<V::Value, ConfigError> {
    if let Some(u) = n.as_u64() {
        visitor.visit_u64(u)
    } else if let Some(i) = n.as_i64() {
        visitor.visit_i64(i)
    } else {
        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
    }
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = ConfigError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => visit_number(n, visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.iter().enumerate(),
            }),
            Value::Object(map) => visitor.visit_map(Table::new(map)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        // Only unit variants: TOML configs name choices with strings.
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => self.deserialize_any(visitor),
        }
    }

    /// A struct is a table, never an array: serde would otherwise fill a struct's fields
    /// from an array by position, and a TOML author never means that.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Table::new(map)),
            Value::Array(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &visitor)),
            _ => self.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map
        identifier ignored_any
    }
}

struct Seq<'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
}

impl<'de> de::SeqAccess<'de> for Seq<'de> {
    type Error = ConfigError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ConfigError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, v)) => seed
                .deserialize(ValueDe(v))
                .map(Some)
                .map_err(|e| e.within(&i.to_string())),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Table<'de> {
    entries: serde_json::map::Iter<'de>,
    value: Option<(&'de String, &'de Value)>,
}

impl<'de> Table<'de> {
    fn new(map: &'de Map<String, Value>) -> Self {
        Table {
            entries: map.iter(),
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for Table<'de> {
    type Error = ConfigError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ConfigError> {
        match self.entries.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.value = Some((k, v));
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ConfigError> {
        let (k, v) = self
            .value
            .take()
            .ok_or_else(|| ConfigError::Other("a value asked for before its key".into()))?;
        seed.deserialize(ValueDe(v)).map_err(|e| e.within(k))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
