//! Table-driven tests of the `[expect.counts]` checker.

use serde_json::{json, Value};

use super::super::common::testing::{run_trace, sp};
use super::super::model::Event;
use super::*;

/// The passing run with two errors and three events.
fn trace() -> Trace {
    let mut s = run_trace();
    s[3].status = Status::Error;
    s[3].status_message = Some("exit 1".into());
    s[6].status = Status::Error;
    let ev = |n: &str| Event {
        name: n.into(),
        time_ns: 0,
        attrs: vec![],
    };
    s[4].events = vec![ev("container.stop"), ev("container.remove")];
    s[5].events = vec![ev("cleanup.complete")];
    Trace::new(s)
}

/// (config, one (passed, exact message) per expected finding).
fn cases() -> Vec<(Value, Vec<(bool, &'static str)>)> {
    vec![
        (json!({ "spans_total": 7 }), vec![(true, "spans_total: eq 7 holds, found 7")]),
        (json!({ "spans_total": { "gte": 10 } }), vec![(false, "spans_total: expected gte 10, found 7")]),
        (json!({ "spans_total": { "gt": 6, "lt": 8 } }), vec![(true, "spans_total: gt 6 and lt 8 holds, found 7")]),
        (json!({ "spans_total": { "gt": 7 } }), vec![(false, "spans_total: expected gt 7, found 7")]),
        (json!({ "spans_total": { "lt": 7 } }), vec![(false, "spans_total: expected lt 7, found 7")]),
        (json!({ "spans_total": { "lte": 7, "gte": 7 } }), vec![(true, "spans_total: gte 7 and lte 7 holds, found 7")]),
        (json!({ "spans_total": { "lte": 5 } }), vec![(false, "spans_total: expected lte 5, found 7")]),
        (json!({ "errors_total": 2 }), vec![(true, "errors_total: eq 2 holds, found 2")]),
        (
            json!({ "errors_total": 0 }),
            vec![(false, "errors_total: expected eq 0, found 2 (span ids 3, 6); first: span #3 \"clnrm.step:s\" (parent \"clnrm.scenario\"): \"exit 1\"")],
        ),
        (json!({ "errors_total": { "gte": 3 } }), vec![(false, "errors_total: expected gte 3, found 2 (span ids 3, 6); first: span #3 \"clnrm.step:s\" (parent \"clnrm.scenario\"): \"exit 1\"")]),
        (json!({ "events_total": { "gte": 3 } }), vec![(true, "events_total: gte 3 holds, found 3")]),
        (json!({ "events_total": 0 }), vec![(false, "events_total: expected eq 0, found 3")]),
        (json!({ "by_name": { "clnrm.cleanup": 1 } }), vec![(true, "by_name.\"clnrm.cleanup\": eq 1 holds, found 1")]),
        (json!({ "by_name": { "clnrm.cleanup": { "gte": 2 } } }), vec![(false, "by_name.\"clnrm.cleanup\": expected gte 2, found 1 (span ids 4)")]),
        (json!({ "by_name": { "clnrm.leak": 0 } }), vec![(true, "by_name.\"clnrm.leak\": eq 0 holds, found 0")]),
        (
            json!({ "by_name": { "clnrm.cleanp": 1 } }),
            vec![(false, "by_name.\"clnrm.cleanp\": expected eq 1, found 0; no span named \"clnrm.cleanp\"; nearest names in the trace: \"clnrm.cleanup\", \"clnrm.run\", \"clnrm.step:s\"")],
        ),
        // every key, in fixed order: totals first, then by_name in key order
        (
            json!({ "by_name": { "z": 0, "clnrm.run": 1 }, "events_total": 3, "errors_total": { "lte": 2 }, "spans_total": { "gte": 1 } }),
            vec![
                (true, "spans_total: gte 1 holds, found 7"),
                (true, "errors_total: lte 2 holds, found 2"),
                (true, "events_total: eq 3 holds, found 3"),
                (true, "by_name.\"clnrm.run\": eq 1 holds, found 1"),
                (true, "by_name.z: eq 0 holds, found 0"),
            ],
        ),
        // an array of tables
        (
            json!([{ "spans_total": 7 }, { "spans_total": 8 }]),
            vec![(true, "spans_total: eq 7 holds, found 7"), (false, "spans_total: expected eq 8, found 7")],
        ),
    ]
}

#[test]
fn counts_table() {
    let trace = trace();
    for (config, want) in cases() {
        let findings = check_counts(&config, &trace).unwrap_or_else(|e| panic!("{config}: {e}"));
        let got: Vec<(bool, &str)> = findings
            .iter()
            .map(|f| (f.passed, f.message.as_str()))
            .collect();
        assert_eq!(got, want, "{config}");
    }
}

#[test]
fn empty_trace_and_labels() {
    let empty = Trace::default();
    let f = check_counts(&json!({ "spans_total": 0, "by_name": { "x": 1 } }), &empty).unwrap();
    assert!(f[0].passed);
    assert_eq!(
        f[1].message,
        "by_name.x: expected eq 1, found 0; no span named \"x\"; the trace is empty"
    );
    let labels: Vec<String> = f.into_iter().map(|f| f.expectation).collect();
    assert_eq!(
        labels,
        ["expect.counts.spans_total", "expect.counts.by_name.x"]
    );
    let arr = check_counts(
        &json!([{ "errors_total": 0 }, { "by_name": { "clnrm.run": 1 } }]),
        &empty,
    )
    .unwrap();
    let labels: Vec<String> = arr.into_iter().map(|f| f.expectation).collect();
    assert_eq!(
        labels,
        [
            "expect.counts[0].errors_total",
            "expect.counts[1].by_name.\"clnrm.run\""
        ]
    );
    let many = Trace::new((0..25).map(|i| sp(i, None, "x", 0, 1)).collect());
    let f = check_counts(&json!({ "by_name": { "x": 1 } }), &many).unwrap();
    assert!(f[0].message.ends_with("(span ids 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, ... (5 more))"), "{}", f[0].message);
}

#[test]
fn bounds_parse() {
    let p = parse_counts(&json!({ "spans_total": { "gte": 2, "lt": 9 } })).unwrap();
    assert_eq!(p.checks[0].metric, Metric::SpansTotal);
    assert_eq!(
        p.checks[0].bounds,
        Bounds {
            gte: Some(2),
            lt: Some(9),
            ..Bounds::default()
        }
    );
    for (b, n, holds) in [
        (json!(3), 3, true),
        (json!(3), 4, false),
        (json!({ "gt": 0 }), 1, true),
        (json!({ "gt": 0 }), 0, false),
        (json!({ "lt": 1 }), 0, true),
        (json!({ "gte": 1, "lte": 1 }), 1, true),
        (json!({ "gt": 1, "lt": 3 }), 2, true),
    ] {
        assert_eq!(
            bounds(&b, &["b".to_string()]).unwrap().holds(n),
            holds,
            "{b} {n}"
        );
    }
}

#[test]
fn config_errors() {
    for (config, want) in [
        (
            json!({ "span_total": 3 }),
            "expect.counts: unknown key \"span_total\"; did you mean \"spans_total\"? (valid: spans_total, errors_total, events_total, by_name)",
        ),
        (json!({ "byname": {} }), "expect.counts: unknown key \"byname\"; did you mean \"by_name\"?"),
        (json!([{ "spans_total": 1 }, { "error_total": 0 }]), "expect.counts[1]: unknown key \"error_total\"; did you mean \"errors_total\"?"),
        (json!({}), "expect.counts: checks nothing; give at least one of spans_total, errors_total, events_total, by_name"),
        (json!({ "spans_total": { "gtee": 3 } }), "expect.counts.spans_total: unknown key \"gtee\"; did you mean \"gte\"? (valid: eq, gte, lte, gt, lt)"),
        (json!({ "spans_total": {} }), "expect.counts.spans_total: give at least one of eq, gte, lte, gt, lt"),
        (json!({ "spans_total": "10" }), "expect.counts.spans_total: expected a non-negative integer or a table of eq, gte, lte, gt, lt, found string \"10\""),
        (json!({ "spans_total": -1 }), "expect.counts.spans_total: expected a non-negative integer or a table of eq, gte, lte, gt, lt, found integer -1"),
        (json!({ "events_total": 1.5 }), "expect.counts.events_total: expected a non-negative integer or a table of eq, gte, lte, gt, lt, found float 1.5"),
        (json!({ "errors_total": { "eq": "1" } }), "expect.counts.errors_total.eq: expected a non-negative integer, found string \"1\""),
        (json!({ "errors_total": { "lt": 0 } }), "expect.counts.errors_total: lt 0 can never hold"),
        (json!({ "errors_total": { "gt": 2, "lt": 3 } }), "expect.counts.errors_total: gt 2 and lt 3 can never hold"),
        (json!({ "errors_total": { "gte": 5, "lte": 4 } }), "expect.counts.errors_total: gte 5 and lte 4 can never hold"),
        (json!({ "errors_total": { "eq": 5, "gt": 5 } }), "expect.counts.errors_total: eq 5 and gt 5 can never hold"),
        (json!({ "errors_total": { "gt": u64::MAX } }), "can never hold"),
        (json!({ "by_name": [] }), "expect.counts.by_name: expected a table, found an array"),
        (json!({ "by_name": {} }), "expect.counts.by_name: checks nothing; give at least one span name"),
        (json!({ "by_name": { "a": 1, "clnrm.x": "2" } }), "expect.counts.by_name.\"clnrm.x\": expected a non-negative integer or a table"),
        (json!({ "by_name": { "": 1 } }), "expect.counts.by_name.\"\": the span name must not be empty"),
        (json!(3), "expect.counts: expected a table or an array of tables, found integer 3"),
    ] {
        let err = check_counts(&config, &Trace::default()).expect_err(&config.to_string())
            .at("expect.counts")
            .to_string();
        assert!(err.contains(want), "{config}:\n  error {err:?}\n  lacks {want:?}");
    }
}
