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
}
