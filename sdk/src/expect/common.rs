//! Pieces shared by the trace-shape validators (`graph`, `counts`, `window`, `order`):
//! one-table-or-array configs, `[a, b]` span-name pairs, "no span named" messages and
//! millisecond formatting.

use serde_json::Value;

use super::config::{self, child, invalid, wrong_type, Table};
use super::model::{Span, Trace};
use crate::config::ConfigError;
use crate::suggest::ranked;

/// The tables of `[expect.<x>]` (one table, path `[]`) or `[[expect.<x>]]` (an array,
/// paths `[i]`), each with the path its errors start with and the label its findings
/// get (`expect.<x>` / `expect.<x>[i]`, `root` being `expect.<x>`).
pub(crate) fn tables<'a>(
    config: &'a Value,
    root: &str,
) -> Result<Vec<(Path, &'a Table)>, ConfigError> {
    match config {
        Value::Object(t) => Ok(vec![(Path::new(root, vec![]), t)]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = vec![i.to_string()];
                config::table(item, &path).map(|t| (Path::new(root, path), t))
            })
            .collect(),
        other => Err(wrong_type(&[], "a table or an array of tables", other)),
    }
}

/// Where a table is: its config path (for errors) and its label under the root (for
/// findings: `expect.counts[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path {
    pub keys: Vec<String>,
    pub label: String,
}

impl Path {
    pub fn new(root: &str, keys: Vec<String>) -> Self {
        let label = crate::config::render_path(root, &keys);
        Path { keys, label }
    }
}

/// A non-empty span name.
pub(crate) fn name(v: &Value, path: &[String]) -> Result<String, ConfigError> {
    let s = config::string(v, path)?;
    if s.is_empty() {
        return Err(invalid(path, "must not be empty"));
    }
    Ok(s.to_owned())
}

/// `[["a", "b"], ...]`: pairs of non-empty span names. `shape` names the pair in type
/// errors, e.g. `["parent", "child"]`.
pub(crate) fn name_pairs(
    v: &Value,
    path: &[String],
    shape: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    let expected = format!("an array of [{shape}] pairs");
    let items = v.as_array().ok_or_else(|| wrong_type(path, &expected, v))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let p = child(path, &i.to_string());
            match item.as_array().map(Vec::as_slice) {
                Some([a, b]) => Ok((name(a, &child(&p, "0"))?, name(b, &child(&p, "1"))?)),
                Some(other) => Err(invalid(
                    &p,
                    format!(
                        "expected a pair [{shape}], found an array of {} item(s)",
                        other.len()
                    ),
                )),
                None => Err(wrong_type(&p, &format!("a pair [{shape}]"), item)),
            }
        })
        .collect()
}

/// `no span named "x"; nearest names in the trace: "a", "b", "c"` (or `; the trace is
/// empty`), the wording of `[[expect.span]]`.
pub(crate) fn no_such_span(name: &str, trace: &Trace) -> String {
    let names = trace.names();
    if names.is_empty() {
        return format!("no span named {name:?}; the trace is empty");
    }
    let near: Vec<String> = ranked(name, names, 3)
        .iter()
        .map(|n| format!("{n:?}"))
        .collect();
    format!(
        "no span named {name:?}; nearest names in the trace: {}",
        near.join(", ")
    )
}

/// Nanoseconds as milliseconds with at most 3 decimals, trailing zeros dropped.
pub(crate) fn ms(ns: u64) -> String {
    let s = format!("{:.3}", ns as f64 / 1_000_000.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A span's interval relative to the trace's epoch: `[2500 ms, 2700.5 ms]`.
pub(crate) fn interval(span: &Span) -> String {
    format!("[{} ms, {} ms]", ms(span.start_ns), ms(span.end_ns))
}

/// Span ids listed in one message at most.
pub(crate) const MAX_IDS: usize = 20;

/// `["a", "b"]`: names as a message shows them.
pub(crate) fn quoted_list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `4, 9, 12`, capped at [`MAX_IDS`].
pub(crate) fn ids<'a>(spans: impl IntoIterator<Item = &'a Span>) -> String {
    let spans: Vec<&Span> = spans.into_iter().collect();
    let mut s: Vec<String> = spans
        .iter()
        .take(MAX_IDS)
        .map(|s| s.id.to_string())
        .collect();
    if spans.len() > MAX_IDS {
        s.push(format!("... ({} more)", spans.len() - MAX_IDS));
    }
    s.join(", ")
}

/// Building blocks of the validators' test traces.
#[cfg(test)]
pub(crate) mod testing {
    use super::super::model::{Kind, Span, Status};

    pub const MS: u64 = 1_000_000;

    /// A span lasting `[start_ms, end_ms]`, kind internal, status unset.
    pub fn sp(id: u32, parent: Option<u32>, name: &str, start_ms: u64, end_ms: u64) -> Span {
        Span {
            id,
            parent,
            name: name.into(),
            kind: Kind::Internal,
            status: Status::Unset,
            status_message: None,
            start_ns: start_ms * MS,
            end_ns: end_ms * MS,
            attrs: vec![],
            events: vec![],
        }
    }

    /// The shape of a passing one-scenario run (docs/spans.md):
    /// run > scenario > service.start, step:s, cleanup > cleanup.verification, recovery.
    pub fn run_trace() -> Vec<Span> {
        vec![
            sp(0, None, "clnrm.run", 0, 1000),
            sp(1, Some(0), "clnrm.scenario", 10, 900),
            sp(2, Some(1), "clnrm.service.start", 20, 200),
            sp(3, Some(1), "clnrm.step:s", 200, 500),
            sp(4, Some(1), "clnrm.cleanup", 500, 800),
            sp(5, Some(4), "clnrm.cleanup.verification", 700, 790),
            sp(6, Some(4), "clnrm.recovery", 790, 800),
        ]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::*;
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(ms(2_700_500_000), "2700.5");
        assert_eq!(ms(0), "0");
        assert_eq!(ms(1), "0");
        assert_eq!(ms(1_234_567), "1.235");
        assert_eq!(interval(&sp(0, None, "x", 3, 7)), "[3 ms, 7 ms]");
        let t = Trace::new(run_trace());
        assert_eq!(
            no_such_span("clnrm.stp:s", &t),
            "no span named \"clnrm.stp:s\"; nearest names in the trace: \"clnrm.step:s\", \"clnrm.run\", \"clnrm.scenario\""
        );
        assert_eq!(
            no_such_span("x", &Trace::default()),
            "no span named \"x\"; the trace is empty"
        );
        let many: Vec<Span> = (0..25).map(|i| sp(i, None, "x", 0, 0)).collect();
        assert!(ids(&many).ends_with("19, ... (5 more)"));
    }

    #[test]
    fn shapes() {
        let one = json!({ "a": 1 });
        assert_eq!(
            tables(&one, "expect.x").unwrap()[0].0,
            Path {
                keys: vec![],
                label: "expect.x".into()
            }
        );
        let two = json!([{}, {}]);
        let t = tables(&two, "expect.x").unwrap();
        assert_eq!(
            (t[0].0.label.as_str(), t[1].0.label.as_str()),
            ("expect.x[0]", "expect.x[1]")
        );
        assert_eq!(
            (t[0].0.keys.clone(), t[1].0.keys.clone()),
            (vec!["0".to_string()], vec!["1".to_string()])
        );
        let err = tables(&json!([{}, 3]), "expect.x").unwrap_err();
        assert_eq!(
            err,
            ConfigError::WrongType {
                path: vec!["1".into()],
                expected: "a table".into(),
                found: "integer 3".into()
            }
        );
        assert_eq!(
            err.at("expect.x").to_string(),
            "expect.x[1]: expected a table, found integer 3"
        );
        assert_eq!(
            tables(&json!("s"), "expect.x")
                .unwrap_err()
                .at("expect.x")
                .to_string(),
            "expect.x: expected a table or an array of tables, found string \"s\""
        );
        let root = vec!["p".to_string()];
        let p = name_pairs(&json!([["a", "b"]]), &root, "\"A\", \"B\"").unwrap();
        assert_eq!(p, vec![("a".to_string(), "b".to_string())]);
        for (v, want) in [
            (
                json!("a"),
                "p: expected an array of [\"A\", \"B\"] pairs, found string \"a\"",
            ),
            (
                json!(["a"]),
                "p[0]: expected a pair [\"A\", \"B\"], found string \"a\"",
            ),
            (
                json!([["a"]]),
                "p[0]: expected a pair [\"A\", \"B\"], found an array of 1 item(s)",
            ),
            (
                json!([["a", 1]]),
                "p[0][1]: expected a string, found integer 1",
            ),
            (json!([["", "b"]]), "p[0][0]: must not be empty"),
        ] {
            let err = name_pairs(&v, &root, "\"A\", \"B\"").unwrap_err();
            assert_eq!(err.to_string(), want);
        }
    }

    /// No config, however wrong, may panic in any of the four checkers: every key gets
    /// every kind of value, in a table and in an array of tables.
    #[test]
    fn no_panic_on_any_config() {
        use super::super::{check_counts, check_graph, check_order, check_window};
        let weird = [
            Value::Null,
            json!(true),
            json!(0),
            json!(-1),
            json!(1.5),
            json!(u64::MAX),
            json!(""),
            json!("clnrm.run"),
            json!([]),
            json!([[]]),
            json!([["a"]]),
            json!([["a", "a"]]),
            json!([["a", "b", "c"]]),
            json!([[1, null]]),
            json!(["a", 1]),
            json!({}),
            json!({ "eq": 1, "gt": u64::MAX, "lt": 0 }),
            json!({ "clnrm.run": { "gtt": 1 } }),
        ];
        let bases = [
            json!({ "must_include": [["a", "b"]], "must_not_cross": [["a", "b"]], "acyclic": true }),
            json!({ "spans_total": 1, "errors_total": { "gte": 0 }, "events_total": 0, "by_name": { "x": 1 } }),
            json!({ "outer": "a", "contains": ["b"], "max_duration_ms": 1 }),
            json!({ "must_precede": [["a", "b"]], "must_follow": [["a", "b"]] }),
        ];
        let trace = Trace::new(run_trace());
        let check = |c: &Value| {
            let _ = check_graph(c, &trace);
            let _ = check_counts(c, &trace);
            let _ = check_window(c, &trace);
            let _ = check_order(c, &trace);
        };
        for base in &bases {
            let keys: Vec<String> = base.as_object().unwrap().keys().cloned().collect();
            for key in keys.iter().map(String::as_str).chain(["unknown"]) {
                for w in &weird {
                    let mut config = base.clone();
                    config[key] = w.clone();
                    check(&config);
                    check(&Value::Array(vec![config]));
                }
            }
        }
        for w in &weird {
            check(w);
        }
    }
}
