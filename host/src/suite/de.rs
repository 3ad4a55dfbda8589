//! Hand-written deserializers for the dialect's "this or that" shapes.
//!
//! `#[serde(untagged)]` would buffer the value (losing every span inside it,
//! and breaking `toml::Spanned`) and then say only "data did not match any
//! variant". These visitors say what was expected, and let the toml
//! deserializer point at the offending element or key: each element is
//! deserialized in place, so an unknown key inside a `run` entry is reported
//! at that key with the valid ones.

use super::model::{RunEntry, TableShape};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use toml::Spanned;

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
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(TableOf)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// `run`: one command in the main service, or commands run at once.
#[derive(Debug)]
pub enum Run {
    Command(String),
    Parallel(Vec<Spanned<TableOf<RunEntry>>>),
}

impl<'de> Deserialize<'de> for Run {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Run;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "`run` to be a command string, or an array of { service, command } tables",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Run, E> {
                Ok(Run::Command(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Run, E> {
                Ok(Run::Command(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Run, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<Spanned<TableOf<RunEntry>>>()? {
                    out.push(e);
                }
                Ok(Run::Parallel(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `parallel_services`: `true`/`false`, or peer services started alongside.
#[derive(Debug)]
pub enum ParallelServices {
    All(bool),
    These(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for ParallelServices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ParallelServices;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`parallel_services` to be true, false, or an array of service names")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParallelServices, E> {
                Ok(ParallelServices::All(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ParallelServices, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<Spanned<ServiceName>>()? {
                    let span = e.span();
                    out.push(Spanned::new(span, e.into_inner().0));
                }
                Ok(ParallelServices::These(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A service id inside `parallel_services`.
struct ServiceName(String);

impl<'de> Deserialize<'de> for ServiceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServiceName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a service name (the <id> of a [service.<id>] table)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ServiceName, E> {
                Ok(ServiceName(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One `chaos_injection` table, keys with their positions. Its keys belong
/// to the plugin that handles its `type` (the plugin's `check` judges them).
#[derive(Debug)]
pub struct ChaosTable(pub BTreeMap<String, Spanned<toml::Value>>);

const CHAOS_TABLE: &str = "a chaos_injection table { type = \"...\", ... }";

fn chaos_entries<'de, A: MapAccess<'de>>(mut map: A) -> Result<ChaosTable, A::Error> {
    let mut out = BTreeMap::new();
    while let Some((k, v)) = map.next_entry::<String, Spanned<toml::Value>>()? {
        out.insert(k, v);
    }
    Ok(ChaosTable(out))
}

impl<'de> Deserialize<'de> for ChaosTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ChaosTable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(CHAOS_TABLE)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ChaosTable, A::Error> {
                chaos_entries(map)
            }
        }
        d.deserialize_any(V)
    }
}

/// `chaos_injection`: one table or an array of them.
#[derive(Debug)]
pub enum ChaosInjection {
    One(ChaosTable),
    Many(Vec<Spanned<ChaosTable>>),
}

impl<'de> Deserialize<'de> for ChaosInjection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ChaosInjection;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "`chaos_injection` to be {CHAOS_TABLE}, or an array of them"
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ChaosInjection, A::Error> {
                chaos_entries(map).map(ChaosInjection::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ChaosInjection, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<Spanned<ChaosTable>>()? {
                    out.push(e);
                }
                Ok(ChaosInjection::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}
