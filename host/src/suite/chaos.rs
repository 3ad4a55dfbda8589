//! A scenario's `chaos_injection`: one table or an array of them. Each
//! table's keys belong to the plugin that handles its `type` (the plugin's
//! `check` judges them, later); here it needs a `type`, and the position of
//! every key and value inside it is kept for that plugin's errors.

use super::de::toml_to_json;
use super::diag::{Ctx, SuiteError};
use super::positions::Positions;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One `chaos_injection` table, keys with their positions.
#[derive(Debug)]
pub struct ChaosTable(pub BTreeMap<String, Spanned<toml::Value>>);

const CHAOS_TABLE: &str = "a chaos_injection table { type = \"...\", ... }";

/// Fault types people ask for that no plugin offers because they cannot be done for real
/// here: refused with the reason (exit 2), instead of an "unknown type" guess. Plugins
/// declare only what works, so `clnrm plugins` and "did you mean" never offer these.
const REFUSED: &[(&str, &str)] = &[(
    "clock_skew",
    "clock_skew cannot be done for real on this host: a time namespace offsets only \
     CLOCK_MONOTONIC and CLOCK_BOOTTIME, not the wall clock (CLOCK_REALTIME) a skew is about, \
     and setting the wall clock (CAP_SYS_TIME) would change the host's clock for every \
     container",
)];

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

#[derive(Debug, Clone)]
pub struct InjectionSpec {
    pub fault_type: String,
    /// The `chaos_injection` table as JSON.
    pub config_json: String,
    /// Where the table is in the file (for "unknown chaos type" errors): the
    /// whole value, or this entry of an array of them.
    pub span: Range<usize>,
    /// Every key and value inside the table (for a plugin's `check` errors),
    /// by path relative to the table (`["signal"]`, `["targets", "0"]`); the
    /// empty path is the table itself (its key: `chaos_injection` for a lone
    /// table, the entry itself for an entry of an array).
    pub positions: Positions,
}

/// The positions inside every `chaos_injection` table of the parsed
/// document (after `[vars]`, before deserializing): by scenario, then by
/// table. Shapes deserializing rejects are skipped here.
pub fn locate(doc: &DeTable<'_>) -> Vec<Vec<Positions>> {
    let Some(DeValue::Array(scenarios)) = doc.get("scenario").map(Spanned::get_ref) else {
        return Vec::new();
    };
    scenarios
        .iter()
        .map(|sc| {
            let DeValue::Table(sc) = sc.get_ref() else {
                return Vec::new();
            };
            let Some((key, v)) = sc.get_key_value("chaos_injection") else {
                return Vec::new();
            };
            match v.get_ref() {
                DeValue::Array(list) => list.iter().map(|e| Positions::of(e.span(), e)).collect(),
                _ => vec![Positions::of(key.span(), v)],
            }
        })
        .collect()
}

/// The injections of one scenario; `positions` is that scenario's entry of
/// [`locate`].
pub fn check(
    cx: &Ctx,
    raw: Option<&Spanned<ChaosInjection>>,
    mut positions: Vec<Positions>,
) -> Result<Vec<InjectionSpec>, SuiteError> {
    let Some(ci) = raw else {
        return Ok(Vec::new());
    };
    let tables: Vec<(&ChaosTable, Range<usize>)> = match ci.get_ref() {
        ChaosInjection::One(t) => vec![(t, ci.span())],
        ChaosInjection::Many(list) => list.iter().map(|t| (t.get_ref(), t.span())).collect(),
    };
    positions.resize_with(tables.len(), Positions::default);
    tables
        .into_iter()
        .zip(positions)
        .map(|((t, span), positions)| match t.0.get("type") {
            Some(ty) => match ty.get_ref() {
                toml::Value::String(s) if REFUSED.iter().any(|(t, _)| t == s) => {
                    let reason = REFUSED.iter().find(|(t, _)| t == s).map(|(_, r)| *r);
                    Err(cx.err(
                        ty.span(),
                        reason.unwrap_or_default(),
                        Some("use `hang` or `slow_start` to make things late".into()),
                    ))
                }
                toml::Value::String(s) if !s.is_empty() => {
                    let json = serde_json::Value::Object(
                        t.0.iter()
                            .map(|(k, v)| (k.clone(), toml_to_json(v.get_ref())))
                            .collect(),
                    );
                    Ok(InjectionSpec {
                        fault_type: s.clone(),
                        config_json: json.to_string(),
                        span,
                        positions,
                    })
                }
                other => Err(cx.err(
                    ty.span(),
                    format!(
                        "`type` must be a fault type name, found {}",
                        describe(other)
                    ),
                    Some("e.g. type = \"kill_container\"".into()),
                )),
            },
            None => Err(cx.err(
                span,
                "a `chaos_injection` table needs `type` (a string)",
                Some("e.g. { type = \"kill_container\", delay_ms = 500 }".into()),
            )),
        })
        .collect()
}

fn describe(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("string {s:?}"),
        other => format!("{} `{other}`", other.type_str()),
    }
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{fails, load_text, OK};
    use crate::suite::{line_col, Suite};

    #[test]
    fn chaos_type_must_be_a_string() {
        let (l, c, m, _) = fails(&OK.replace("type = \"kill_container\"", "type = 5"));
        assert_eq!((l, c), (11, 28), "{m}");
        assert!(m.contains("found integer `5`"), "{m}");
        let (l, c, m, _) = fails(
            &OK.replace("chaos_injection = {", "chaos_injection = [{")
                .replace("delay_ms = 500 }", "delay_ms = 500 }, 7]"),
        );
        assert_eq!((l, c), (11, 65), "{m}");
        assert!(m.contains("expected a chaos_injection table"), "{m}");
        let (l, c, m, _) = fails(&OK.replace("type = \"kill_container\", ", ""));
        assert_eq!((l, c), (11, 19), "{m}");
        assert!(m.contains("needs `type`"), "{m}");
        let (_, _, m, _) = fails(&OK.replace("\"kill_container\"", "\"\""));
        assert!(m.contains("found string \"\""), "{m}");
    }

    #[test]
    fn a_refused_type_says_why_at_its_value() {
        let (l, c, m, help) = fails(&OK.replace("\"kill_container\"", "\"clock_skew\""));
        assert_eq!((l, c), (11, 28), "{m}");
        assert!(
            m.contains("clock_skew cannot be done for real on this host"),
            "{m}"
        );
        assert!(help.contains("hang"), "{help}");
    }

    /// `line:col` of the key (or value) at `path` of injection `i` of scenario `s`.
    fn at(suite: &Suite, s: usize, i: usize, path: &[&str], value: bool) -> (usize, usize) {
        let path: Vec<String> = path.iter().map(|p| p.to_string()).collect();
        let pos = &suite.scenarios[s].injections[i].positions;
        let span = if value {
            pos.value(&path)
        } else {
            pos.key(&path)
        };
        line_col(&suite.source, span.expect("a known path").start)
    }

    #[test]
    fn positions_of_one_inline_table() {
        let s = load_text(&OK.replace(
            "delay_ms = 500 }",
            "delay_ms = 500, targets = [\"a\", { n = 1 }] }",
        ))
        .unwrap();
        // chaos_injection = { type = "kill_container", delay_ms = 500, targets = ["a", { n = 1 }] }
        assert_eq!(at(&s, 0, 0, &[], false), (11, 1));
        assert_eq!(at(&s, 0, 0, &[], true), (11, 19));
        assert_eq!(at(&s, 0, 0, &["type"], false), (11, 21));
        assert_eq!(at(&s, 0, 0, &["type"], true), (11, 28));
        assert_eq!(at(&s, 0, 0, &["delay_ms"], true), (11, 57));
        assert_eq!(at(&s, 0, 0, &["targets"], false), (11, 62));
        assert_eq!(at(&s, 0, 0, &["targets", "0"], false), (11, 73));
        assert_eq!(at(&s, 0, 0, &["targets", "1", "n"], false), (11, 80));
        assert_eq!(at(&s, 0, 0, &["targets", "1", "n"], true), (11, 84));
        // Unknown below a known key: the nearest known enclosing one (the entry).
        assert_eq!(at(&s, 0, 0, &["targets", "1", "x"], false), (11, 78));
        assert_eq!(
            s.scenarios[0].injections[0].positions.value(&[]),
            Some(s.scenarios[0].injections[0].span.clone())
        );
    }

    #[test]
    fn positions_of_array_entries_multiline_tables_and_subtables() {
        let text = r#"[vars]
sig = "SIGTERM"
[service.app]
image = "x"
[[scenario]]
name = "a"
service = "app"
run = "true"
chaos_injection = [
  { type = "kill_container", delay_ms = 1 },
  {
    type = "kill_container",
      signal = "{{ sig }}",
  },
]
[[scenario]]
name = "b"
service = "app"
run = "true"
[scenario.chaos_injection]
type = "kill_container"
  target.name = "app"
"#;
        let s = load_text(text).unwrap();
        assert_eq!(at(&s, 0, 0, &[], false), (10, 3));
        assert_eq!(at(&s, 0, 0, &["delay_ms"], false), (10, 30));
        assert_eq!(at(&s, 0, 1, &[], true), (11, 3));
        assert_eq!(at(&s, 0, 1, &["type"], false), (12, 5));
        // After [vars] substitution: the string as written in the file.
        assert_eq!(at(&s, 0, 1, &["signal"], false), (13, 7));
        assert_eq!(at(&s, 0, 1, &["signal"], true), (13, 16));
        assert!(s.scenarios[0].injections[1].config_json.contains("SIGTERM"));
        // A [scenario.chaos_injection] table: its header; a dotted key: its segments.
        assert_eq!(at(&s, 1, 0, &[], true), (20, 1));
        assert_eq!(at(&s, 1, 0, &["type"], true), (21, 8));
        assert_eq!(at(&s, 1, 0, &["target"], false), (22, 3));
        assert_eq!(at(&s, 1, 0, &["target", "name"], false), (22, 10));
        assert_eq!(at(&s, 1, 0, &["target", "name"], true), (22, 17));
    }
}
