//! `[expect.<table>]` and `[[expect.<table>]]`: what the trace must show,
//! judged by the validator plugin named after the table. Its keys are that
//! plugin's (its `check` judges them, later); here the table becomes JSON,
//! and the position of every key and value inside it is kept for that
//! plugin's errors.

use super::de::toml_to_json;
use super::positions::Positions;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// `[expect]`, raw: each table or array of tables as written.
pub type Expect = BTreeMap<String, Spanned<toml::Value>>;

#[derive(Debug, Clone)]
pub struct ExpectSpec {
    /// The `X` of `[expect.X]`.
    pub table: String,
    pub config_json: String,
    pub span: Range<usize>,
    /// Every key and value inside `[expect.X]`; for `[[expect.X]]` the first
    /// path segment is the entry's index (`["2", "attrs", "all", "k"]`), and
    /// `["2"]` is that entry (its `[[expect.X]]` header). The empty path is
    /// the whole value.
    pub positions: Positions,
}

/// The positions inside every `[expect.X]` of the parsed document (after
/// `[vars]`, before deserializing), by `X`.
pub fn locate(doc: &DeTable<'_>) -> BTreeMap<String, Positions> {
    let Some(DeValue::Table(expect)) = doc.get("expect").map(Spanned::get_ref) else {
        return BTreeMap::new();
    };
    expect
        .iter()
        .map(|(k, v)| (k.get_ref().to_string(), Positions::of(k.span(), v)))
        .collect()
}

/// Nothing to check here (the validator does that): each table as JSON.
pub fn resolve(raw: &Expect, mut positions: BTreeMap<String, Positions>) -> Vec<ExpectSpec> {
    raw.iter()
        .map(|(table, v)| ExpectSpec {
            table: table.clone(),
            config_json: toml_to_json(v.get_ref()).to_string(),
            span: v.span(),
            positions: positions.remove(table).unwrap_or_default(),
        })
        .collect()
}

/// The services a span can belong to in this suite: clnrm's own (`clnrm`),
/// each service id, and each `OTEL_SERVICE_NAME` a service's `env` sets.
pub fn span_services(services: &BTreeMap<String, super::ServiceSpec>) -> Vec<String> {
    let mut names: Vec<String> = vec!["clnrm".to_string()];
    for (id, spec) in services {
        names.push(id.clone());
        if let Some(n) = spec.env.get("OTEL_SERVICE_NAME") {
            names.push(n.clone());
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The `service = "..."` values of `[[expect.span]]`: a name other than
/// `clnrm` means the suite checks an application's spans, so its scenarios
/// run the OTLP receiver (`otel_receiver::receiver_needed`).
pub fn span_expectation_services(expectations: &[ExpectSpec]) -> Vec<String> {
    let Some(spec) = expectations.iter().find(|e| e.table == "span") else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&spec.config_json) else {
        return Vec::new();
    };
    let entries: Vec<&serde_json::Value> = match &value {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    entries
        .into_iter()
        .filter_map(|e| {
            e.get("service")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect()
}

/// `[[expect.span]] service = "..."` must name a service some span of this
/// suite can have ([`span_services`]): a typo would otherwise make an
/// expectation that can never match (or, with `count = { eq = 0 }`, one that
/// always passes).
pub fn check_span_services(
    cx: &super::diag::Ctx<'_>,
    expectations: &[ExpectSpec],
    services: &BTreeMap<String, super::ServiceSpec>,
) -> Result<(), super::SuiteError> {
    let Some(spec) = expectations.iter().find(|e| e.table == "span") else {
        return Ok(());
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&spec.config_json) else {
        return Ok(());
    };
    let entries: Vec<(Vec<String>, &serde_json::Value)> = match &value {
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (vec![i.to_string()], v))
            .collect(),
        other => vec![(Vec::new(), other)],
    };
    let known = span_services(services);
    for (mut path, entry) in entries {
        // Not a string: the validator's own check says so, with its words.
        let Some(name) = entry.get("service").and_then(|v| v.as_str()) else {
            continue;
        };
        if known.iter().any(|k| k == name) {
            continue;
        }
        path.push("service".into());
        let at = spec
            .positions
            .value(&path)
            .unwrap_or_else(|| spec.span.clone());
        let all = known
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match super::diag::nearest(name, known.iter().map(String::as_str)) {
            Some(n) => format!("did you mean \"{n}\"? spans here can be of: {all}"),
            None => format!("spans here can be of: {all}"),
        };
        return Err(cx.err(
            at,
            format!(
                "no service of this suite can have spans of service \"{name}\" (a service id, an `OTEL_SERVICE_NAME` a service's env sets, or \"clnrm\")"
            ),
            Some(help),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::suite::testing::{load_text, OK};
    use crate::suite::{line_col, Suite};

    /// `line:col` of the key (or value) at `path` of `[expect.<table>]`.
    fn at(suite: &Suite, table: &str, path: &[&str], value: bool) -> (usize, usize) {
        let path: Vec<String> = path.iter().map(|p| p.to_string()).collect();
        let e = suite
            .expectations
            .iter()
            .find(|e| e.table == table)
            .expect("the table");
        let span = if value {
            e.positions.value(&path)
        } else {
            e.positions.key(&path)
        };
        line_col(&suite.source, span.expect("a known path").start)
    }

    #[test]
    fn positions_in_arrays_of_tables() {
        let text = format!(
            r#"{OK}[vars]
kind = "Error"

[[expect.span]]
name = "clnrm.cleanup"

[[expect.span]]
name = "a"
  attrs.all = {{ "error.type" = "{{{{ kind }}}}", n = 1 }}

  [[expect.span]]
name = "b"
events.any = ["x",
  "y"]
parent = "a"

[expect.graph]
acyclic = true
"#
        );
        let s = load_text(&text).unwrap();
        // OK ends on line 11: line n of the text above is l(n).
        let l = |n: usize| 11 + n;
        // The whole value and each entry: their `[[expect.span]]` headers.
        assert_eq!(at(&s, "span", &[], false), (l(4), 10));
        assert_eq!(at(&s, "span", &[], true), (l(4), 1));
        assert_eq!(at(&s, "span", &["0"], false), (l(4), 1));
        assert_eq!(at(&s, "span", &["1"], true), (l(7), 1));
        assert_eq!(at(&s, "span", &["2"], false), (l(11), 3));
        assert_eq!(at(&s, "span", &["0", "name"], false), (l(5), 1));
        assert_eq!(at(&s, "span", &["0", "name"], true), (l(5), 8));
        // Dotted keys: each segment.
        assert_eq!(at(&s, "span", &["1", "attrs"], false), (l(9), 3));
        assert_eq!(at(&s, "span", &["1", "attrs", "all"], false), (l(9), 9));
        assert_eq!(
            at(&s, "span", &["1", "attrs", "all", "error.type"], false),
            (l(9), 17)
        );
        // After [vars] substitution the value is still the string as written.
        assert_eq!(
            at(&s, "span", &["1", "attrs", "all", "error.type"], true),
            (l(9), 32)
        );
        assert_eq!(
            at(&s, "span", &["1", "attrs", "all", "n"], false),
            (l(9), 46)
        );
        assert_eq!(
            at(&s, "span", &["2", "events", "any", "1"], true),
            (l(14), 3)
        );
        assert_eq!(at(&s, "span", &["2", "parent"], false), (l(15), 1));
        // An unknown key below a known one: the nearest known enclosing key.
        assert_eq!(at(&s, "span", &["1", "attrs", "nope"], false), (l(9), 3));
        assert_eq!(at(&s, "span", &["7", "name"], false), (l(4), 10));
        // A [expect.X] table: its header.
        assert_eq!(at(&s, "graph", &[], true), (l(17), 1));
        assert_eq!(at(&s, "graph", &["acyclic"], true), (l(18), 11));
        let span = s.expectations.iter().find(|e| e.table == "span").unwrap();
        assert_eq!(span.positions.value(&[]), Some(span.span.clone()));
        assert!(
            span.config_json.contains("\"error.type\":\"Error\""),
            "{}",
            span.config_json
        );
    }

    #[test]
    fn positions_in_inline_arrays_and_multiline_inline_tables() {
        let text = format!(
            r#"{OK}[expect]
span = [
  {{ name = "a", attrs.all = {{ k = "v" }} }},
  {{
    name = "b",
    # TOML 1.1: comments and newlines inside an inline table
      parent = "a",
  }},
]
counts = {{ spans_total = {{ gte = 1 }} }}
"#
        );
        let s = load_text(&text).unwrap();
        let l = |n: usize| 11 + n;
        assert_eq!(at(&s, "span", &[], false), (l(2), 1));
        assert_eq!(at(&s, "span", &[], true), (l(2), 8));
        assert_eq!(at(&s, "span", &["0"], false), (l(3), 3));
        assert_eq!(at(&s, "span", &["0", "name"], false), (l(3), 5));
        assert_eq!(
            at(&s, "span", &["0", "attrs", "all", "k"], false),
            (l(3), 31)
        );
        assert_eq!(
            at(&s, "span", &["0", "attrs", "all", "k"], true),
            (l(3), 35)
        );
        assert_eq!(at(&s, "span", &["1"], true), (l(4), 3));
        assert_eq!(at(&s, "span", &["1", "name"], false), (l(5), 5));
        assert_eq!(at(&s, "span", &["1", "parent"], false), (l(7), 7));
        assert_eq!(at(&s, "span", &["1", "parent"], true), (l(7), 16));
        assert_eq!(
            at(&s, "counts", &["spans_total", "gte"], false),
            (l(10), 28)
        );
        assert_eq!(at(&s, "counts", &["spans_total", "gte"], true), (l(10), 34));
    }

    #[test]
    fn the_corpus_entries_are_found_by_path() {
        // tests/malformed/bad_expect_span_second_entry.clnrm.toml: the
        // unknown key of the second entry is at 16:1.
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/malformed/bad_expect_span_second_entry.clnrm.toml"
        ))
        .unwrap();
        let s = load_text(&text).unwrap();
        assert_eq!(at(&s, "span", &["1", "parnet"], false), (16, 1));
        assert_eq!(at(&s, "span", &["1"], false), (14, 1));
    }

    #[test]
    fn a_span_service_no_service_can_have_is_a_load_error() {
        use crate::suite::testing::fails;
        let body = |service: &str| {
            format!(
                r#"{OK}[service.store]
image = "clnrm-base:latest"
env = {{ OTEL_SERVICE_NAME = "inventory" }}

[[expect.span]]
name = "a"

[[expect.span]]
name = "GET /stock"
service = "{service}"
"#
            )
        };
        for ok in ["app", "store", "inventory", "clnrm"] {
            load_text(&body(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let (line, col, msg, help) = fails(&body("inventroy"));
        // OK ends on line 11; `service = ` is on line 11 + 10, its value at col 11.
        assert_eq!((line, col), (21, 11), "{msg}");
        assert!(msg.contains("service \"inventroy\""), "{msg}");
        assert!(
            help.starts_with("did you mean \"inventory\"?")
                && help.contains("\"app\", \"clnrm\", \"inventory\", \"store\""),
            "{help}"
        );
        // A single [expect.span] table too.
        let (_, _, msg, _) = fails(&format!(
            "{OK}[expect.span]\nname = \"x\"\nservice = \"nope\"\n"
        ));
        assert!(msg.contains("\"nope\""), "{msg}");
    }
}
