//! Table-driven tests of the matchers and the `[[expect.span]]` checker.

use serde_json::{json, Value};

use super::*;

const MS: u64 = 1_000_000;

fn span(id: u32, parent: Option<u32>, name: &str) -> Span {
    Span {
        id,
        parent,
        name: name.into(),
        kind: Kind::Internal,
        status: Status::Unset,
        status_message: None,
        start_ns: 0,
        end_ns: 0,
        attrs: vec![],
        events: vec![],
    }
}

fn s(v: &str) -> AttrValue {
    AttrValue::Str(v.into())
}

fn ev(name: &str) -> Event {
    Event {
        name: name.into(),
        time_ns: 0,
        attrs: vec![],
    }
}

/// A trace shaped like a killed step with its cleanup and recovery, a second (failed)
/// cleanup, an unrelated step and an orphan whose parent is not in the trace.
fn fixture() -> Trace {
    let run = Span {
        status: Status::Ok,
        end_ns: 10_000 * MS,
        ..span(0, None, "clnrm.run")
    };
    let scenario = Span {
        attrs: vec![("scenario.name".into(), s("kill_api"))],
        ..span(1, Some(0), "clnrm.scenario")
    };
    let step = Span {
        status: Status::Error,
        status_message: Some("container killed".into()),
        start_ns: 1000 * MS,
        end_ns: 2500 * MS,
        attrs: vec![
            ("exit.code".into(), AttrValue::Int(42)),
            ("result".into(), s("error")),
            ("error.type".into(), s("container_killed")),
            ("degraded".into(), AttrValue::Bool(true)),
            ("container.id".into(), s("abc123")),
        ],
        ..span(2, Some(1), "clnrm.step:exit_42")
    };
    let cleanup = Span {
        status: Status::Ok,
        start_ns: 2500 * MS,
        end_ns: 2700 * MS + MS / 2,
        attrs: vec![
            ("cleanup.success".into(), AttrValue::Bool(true)),
            ("cleanup.triggered".into(), s("kill")),
            ("containers.cleaned".into(), AttrValue::Int(3)),
            ("timeout.ms".into(), AttrValue::Int(900)),
        ],
        events: vec![
            ev("container.stop"),
            ev("container.remove"),
            ev("cleanup.complete"),
        ],
        ..span(3, Some(2), "clnrm.cleanup")
    };
    let recovery = Span {
        kind: Kind::Client,
        status: Status::Ok,
        ..span(4, Some(3), "clnrm.recovery")
    };
    let failed_cleanup = Span {
        status: Status::Error,
        status_message: Some("leaked".into()),
        start_ns: 2700 * MS,
        end_ns: 2800 * MS,
        attrs: vec![
            ("cleanup.success".into(), s("false")),
            ("cleanup.triggered".into(), s("end")),
        ],
        events: vec![ev("container.stop")],
        ..span(5, Some(1), "clnrm.cleanup")
    };
    let other = Span {
        kind: Kind::Server,
        status: Status::Ok,
        attrs: vec![
            ("timeout.ms".into(), s("abc")),
            ("exit.code".into(), s("0")),
        ],
        ..span(6, Some(1), "clnrm.step:other")
    };
    let orphan = span(7, Some(99), "clnrm.orphan");
    Trace::new(vec![
        run,
        scenario,
        step,
        cleanup,
        recovery,
        failed_cleanup,
        other,
        orphan,
    ])
}

// ---------------------------------------------------------------- model

#[test]
fn canonical_forms() {
    for (v, want, shown) in [
        (AttrValue::Int(42), "42", "42"),
        (AttrValue::Int(-7), "-7", "-7"),
        (AttrValue::Bool(true), "true", "true"),
        (AttrValue::Bool(false), "false", "false"),
        (AttrValue::Float(0.5), "0.5", "0.5"),
        (AttrValue::Float(1.0), "1", "1"),
        (s("42"), "42", "\"42\""),
    ] {
        assert_eq!(v.canonical(), want);
        assert_eq!(v.to_string(), shown);
    }
    assert_eq!(s(" 12.5 ").as_f64(), Some(12.5));
    assert_eq!(s("NaN").as_f64(), None);
    assert_eq!(AttrValue::Bool(true).as_f64(), None);
}

#[test]
fn kind_and_status_parse_ignoring_case() {
    assert_eq!(Kind::parse("SERVER"), Some(Kind::Server));
    assert_eq!(Kind::parse("consumer"), Some(Kind::Consumer));
    assert_eq!(Kind::parse("srv"), None);
    assert_eq!(Status::parse("ok"), Some(Status::Ok));
    assert_eq!(Status::parse("Error"), Some(Status::Error));
    assert_eq!(Status::parse("okay"), None);
}

#[test]
fn trace_helpers() {
    let t = fixture();
    assert_eq!(t.by_id(3).map(|s| s.name.as_str()), Some("clnrm.cleanup"));
    assert!(t.by_id(99).is_none());
    let cleanup = t.by_id(3).unwrap();
    assert_eq!(t.parent_name(cleanup), Some("clnrm.step:exit_42"));
    assert_eq!(t.parent_name(t.by_id(0).unwrap()), None);
    assert_eq!(
        t.children(1).map(|s| s.id).collect::<Vec<_>>(),
        vec![2, 5, 6]
    );
    assert_eq!(
        t.named("clnrm.cleanup").map(|s| s.id).collect::<Vec<_>>(),
        vec![3, 5]
    );
    assert_eq!(t.names().len(), 7);
    assert_eq!(
        t.describe(cleanup),
        "span #3 \"clnrm.cleanup\" (parent \"clnrm.step:exit_42\")"
    );
    assert_eq!(
        t.describe(t.by_id(0).unwrap()),
        "span #0 \"clnrm.run\" (root)"
    );
    assert_eq!(
        t.describe(t.by_id(7).unwrap()),
        "span #7 \"clnrm.orphan\" (parent #99, not in trace)"
    );
    assert_eq!(cleanup.duration_ms(), 200.5);
    let backwards = Span {
        start_ns: 10,
        end_ns: 5,
        ..span(0, None, "x")
    };
    assert_eq!(backwards.duration_ns(), 0);
    let repeated = Span {
        attrs: vec![("k".into(), s("a")), ("k".into(), s("b"))],
        ..span(0, None, "x")
    };
    assert_eq!(repeated.attr("k"), Some(&s("b")));
}

// ---------------------------------------------------------------- matchers

/// (matcher, attribute value, None = must match / Some(reason) = exact failure reason).
fn matcher_cases() -> Vec<(Value, Option<AttrValue>, Option<&'static str>)> {
    use AttrValue::{Bool, Float, Int};
    vec![
        // literals compare string forms, both ways
        (json!("42"), Some(Int(42)), None),
        (json!(42), Some(s("42")), None),
        (json!(42), Some(Int(41)), Some("k = 41, expected \"42\"")),
        (
            json!("42"),
            Some(s("41")),
            Some("k = \"41\", expected \"42\""),
        ),
        (json!(true), Some(Bool(true)), None),
        (json!("true"), Some(Bool(true)), None),
        (json!(true), Some(s("true")), None),
        (
            json!(false),
            Some(Bool(true)),
            Some("k = true, expected \"false\""),
        ),
        (json!(1.0), Some(Float(1.0)), None),
        (json!(1.0), Some(Int(1)), None),
        (json!(0.5), Some(Float(0.5)), None),
        (json!(1.5), Some(s("1.5")), None),
        (json!("x"), None, Some("k missing")),
        // arrays: any of
        (json!(["a", "b"]), Some(s("b")), None),
        (
            json!(["a", "b"]),
            Some(s("c")),
            Some("k = \"c\", expected one of [\"a\", \"b\"]"),
        ),
        (json!(["a", "b"]), None, Some("k missing")),
        (json!(["a", { "gte": 10 }]), Some(Int(12)), None),
        (
            json!(["a", { "gte": 10 }]),
            Some(Int(5)),
            Some("k = 5, expected one of [\"a\", {gte 10}]"),
        ),
        (json!([{ "exists": false }, "x"]), None, None),
        (json!([[1, 2], 3]), Some(Int(2)), None),
        // eq / ne
        (json!({ "eq": "42" }), Some(Int(42)), None),
        (
            json!({ "eq": 42 }),
            Some(s("43")),
            Some("k = \"43\", expected eq \"42\""),
        ),
        (json!({ "ne": "error" }), Some(s("pass")), None),
        (
            json!({ "ne": "error" }),
            Some(s("error")),
            Some("k = \"error\", expected ne \"error\""),
        ),
        (json!({ "ne": "x" }), None, Some("k missing")),
        // ordering operators
        (json!({ "gt": 10 }), Some(Int(11)), None),
        (
            json!({ "gt": 10 }),
            Some(Int(10)),
            Some("k = 10, expected gt 10"),
        ),
        (json!({ "gte": 1000 }), Some(Int(1000)), None),
        (
            json!({ "gte": 1000 }),
            Some(Int(900)),
            Some("k = 900, expected gte 1000"),
        ),
        (json!({ "gte": 1000 }), Some(s("1000.5")), None),
        (json!({ "gte": "1000" }), Some(Int(1000)), None),
        (
            json!({ "gte": 1000 }),
            Some(s("abc")),
            Some("k = \"abc\", expected gte 1000 (value is not a number)"),
        ),
        (
            json!({ "gte": 0 }),
            Some(Bool(true)),
            Some("k = true, expected gte 0 (value is not a number)"),
        ),
        (json!({ "gte": 1 }), None, Some("k missing")),
        (json!({ "lt": 1 }), Some(Float(0.5)), None),
        (
            json!({ "lt": 1 }),
            Some(Float(1.0)),
            Some("k = 1, expected lt 1"),
        ),
        (json!({ "lte": -1 }), Some(Int(-1)), None),
        (
            json!({ "lte": -1 }),
            Some(Int(0)),
            Some("k = 0, expected lte -1"),
        ),
        (json!({ "gte": 1, "lte": 5 }), Some(Int(3)), None),
        (
            json!({ "gte": 1, "lte": 5 }),
            Some(Int(7)),
            Some("k = 7, expected lte 5"),
        ),
        (
            json!({ "gte": 10, "lte": 5.5 }),
            Some(Int(7)),
            Some("k = 7, expected gte 10 and lte 5.5"),
        ),
        // matches / contains
        (json!({ "matches": "^abc[0-9]+$" }), Some(s("abc123")), None),
        (
            json!({ "matches": "^abc[0-9]+$" }),
            Some(s("xabc1")),
            Some("k = \"xabc1\", expected matches \"^abc[0-9]+$\""),
        ),
        (json!({ "matches": "^4" }), Some(Int(42)), None),
        (
            json!({ "matches": "kill" }),
            Some(s("container_killed")),
            None,
        ),
        (
            json!({ "contains": "kill" }),
            Some(s("container_killed")),
            None,
        ),
        (
            json!({ "contains": "kill" }),
            Some(s("oom")),
            Some("k = \"oom\", expected contains \"kill\""),
        ),
        (json!({ "contains": 4 }), Some(Int(42)), None),
        // exists
        (json!({ "exists": true }), Some(s("")), None),
        (json!({ "exists": true }), None, Some("k missing")),
        (json!({ "exists": false }), None, None),
        (
            json!({ "exists": false }),
            Some(s("x")),
            Some("k = \"x\", expected absent"),
        ),
        (
            json!({ "exists": true, "ne": "" }),
            Some(s("")),
            Some("k = \"\", expected ne \"\""),
        ),
    ]
}

#[test]
fn matcher_table() {
    for (config, value, want) in matcher_cases() {
        let m = Matcher::from_json(&config, &["m".to_string()])
            .unwrap_or_else(|e| panic!("{config}: {e}"));
        let got = m.check("k", value.as_ref());
        let want_result = match want {
            None => Ok(()),
            Some(reason) => Err(reason.to_string()),
        };
        assert_eq!(got, want_result, "matcher {config} on {value:?}");
        assert_eq!(
            m.matches(value.as_ref()),
            want.is_none(),
            "matches() agrees with check() for {config}"
        );
    }
}

#[test]
fn matcher_config_errors() {
    for (config, want) in [
        (json!({ "gtt": 1 }), vec!["m: unknown key \"gtt\"; did you mean \"gt\"?", "valid: eq, ne, gt, gte, lt, lte, matches, exists, contains"]),
        (json!({ "regex": "a" }), vec!["unknown key \"regex\""]),
        (json!({ "gte": "abc" }), vec!["m.gte: expected a number, found string \"abc\""]),
        (json!({ "lt": true }), vec!["m.lt: expected a number, found boolean true"]),
        (json!({ "matches": "(" }), vec!["m.matches: invalid regex \"(\""]),
        (json!({ "matches": 1 }), vec!["m.matches: expected a string, found integer 1"]),
        (json!({ "exists": "yes" }), vec!["m.exists: expected a boolean, found string \"yes\""]),
        (json!({ "eq": [1] }), vec!["m.eq: expected a string, number or boolean, found an array"]),
        (json!({ "contains": {} }), vec!["m.contains: expected a string, number or boolean, found a table"]),
        (json!([]), vec!["m: an empty any-of array can never match"]),
        (json!({}), vec!["m: an empty operator table checks nothing"]),
        (Value::Null, vec!["m: expected a string, number, boolean, array (any of) or table of operators, found nothing (null)"]),
        (json!([1, { "foo": 1 }]), vec!["m[1]: unknown key \"foo\""]),
    ] {
        let err = Matcher::from_json(&config, &["m".to_string()])
            .expect_err(&config.to_string())
            .to_string();
        for w in want {
            assert!(err.contains(w), "{config}: {err:?} lacks {w:?}");
        }
    }
}

// ---------------------------------------------------------------- [[expect.span]]

/// (one `[[expect.span]]` table, must pass, substrings of the message, substrings it must lack).
fn span_cases() -> Vec<(Value, bool, Vec<&'static str>, Vec<&'static str>)> {
    vec![
        // name only
        (json!({ "name": "clnrm.cleanup" }), true, vec!["matched 2 span(s) (span ids 3, 5)"], vec![]),
        (
            json!({ "name": "clnrm.cleanp" }),
            false,
            vec!["no span named \"clnrm.cleanp\"; nearest names in the trace: \"clnrm.cleanup\", "],
            vec![],
        ),
        // kind
        (json!({ "name": "clnrm.recovery", "kind": "CLIENT" }), true, vec!["span ids 4"], vec![]),
        (
            json!({ "name": "clnrm.recovery", "kind": "server" }),
            false,
            vec!["no span matched; closest is span #4 \"clnrm.recovery\" (parent \"clnrm.cleanup\"): kind is client, expected server"],
            vec!["candidates"],
        ),
        // parent
        (json!({ "name": "clnrm.cleanup", "parent": "clnrm.step:exit_42" }), true, vec!["matched 1 span(s) (span ids 3)"], vec![]),
        (
            json!({ "name": "clnrm.recovery", "parent": "clnrm.step:exit_42" }),
            false,
            vec!["span #4", "parent is \"clnrm.cleanup\", expected \"clnrm.step:exit_42\""],
            vec![],
        ),
        (json!({ "name": "clnrm.run", "parent": "x" }), false, vec!["span #0 \"clnrm.run\" (root): span is a root, expected parent \"x\""], vec![]),
        (json!({ "name": "clnrm.orphan", "parent": "x" }), false, vec!["parent #99 is not in the trace, expected parent \"x\""], vec![]),
        // attrs.all
        (
            json!({ "name": "clnrm.step:exit_42", "attrs": { "all": { "exit.code": "42", "degraded": true, "result": ["error", "fail"] } } }),
            true,
            vec!["matched 1 span(s)"],
            vec![],
        ),
        (
            json!({ "name": "clnrm.step:exit_42", "attrs": { "all": { "exit.code": "41" } } }),
            false,
            vec!["no span matched; closest is span #2 \"clnrm.step:exit_42\" (parent \"clnrm.scenario\"): attribute exit.code = 42, expected \"41\""],
            vec![],
        ),
        (
            json!({ "name": "clnrm.cleanup", "attrs": { "all": { "cleanup.verified": "true" } } }),
            false,
            vec!["no span matched (2 candidates); closest is span #3", "attribute cleanup.verified missing"],
            vec![],
        ),
        (
            json!({ "name": "clnrm.cleanup", "attrs": { "all": { "timeout.ms": { "gte": 1000 } } } }),
            false,
            vec!["span #3", "attribute timeout.ms = 900, expected gte 1000"],
            vec![],
        ),
        (
            json!({ "name": "clnrm.step:other", "attrs": { "all": { "timeout.ms": { "gte": 1000 } } } }),
            false,
            vec!["attribute timeout.ms = \"abc\", expected gte 1000 (value is not a number)"],
            vec![],
        ),
        // closest = fewest failed conditions
        (
            json!({ "name": "clnrm.cleanup", "status": "OK", "attrs": { "all": { "cleanup.success": "false", "cleanup.triggered": "end" } } }),
            false,
            vec!["closest is span #5 \"clnrm.cleanup\" (parent \"clnrm.scenario\"): status is ERROR (\"leaked\"), expected OK"],
            vec!["span #3", "cleanup.triggered"],
        ),
        (
            json!({ "name": "clnrm.cleanup", "status": "ok", "attrs": { "all": { "cleanup.success": "true", "cleanup.triggered": "end" } } }),
            false,
            vec!["closest is span #3", "attribute cleanup.triggered = \"kill\", expected \"end\""],
            vec!["span #5", "status is"],
        ),
        // every failed condition of the closest span is listed
        (
            json!({ "name": "clnrm.step:exit_42", "kind": "server", "status": "ok", "attrs": { "all": { "exit.code": "0" } } }),
            false,
            vec!["kind is internal, expected server; status is ERROR (\"container killed\"), expected OK; attribute exit.code = 42, expected \"0\""],
            vec![],
        ),
        // attrs.any
        (
            json!({ "name": "clnrm.cleanup", "attrs": { "any": { "cleanup.success": "maybe", "cleanup.triggered": "end" } } }),
            true,
            vec!["span ids 5"],
            vec![],
        ),
        (
            json!({ "name": "clnrm.recovery", "attrs": { "any": { "a": "1", "b": { "exists": true } } } }),
            false,
            vec!["span #4", "no attrs.any matched (attribute a missing | attribute b missing)"],
            vec![],
        ),
        // events.any / events.all
        (json!({ "name": "clnrm.cleanup", "events": { "any": ["cleanup.complete", "nope"] } }), true, vec!["span ids 3"], vec![]),
        (
            json!({ "name": "clnrm.recovery", "events": { "any": ["x", "y"] } }),
            false,
            vec!["span #4", "none of events [\"x\", \"y\"] present (span has no events)"],
            vec![],
        ),
        (
            json!({ "name": "clnrm.cleanup", "events": { "all": ["container.stop", "container.remove"] } }),
            true,
            vec!["matched 1 span(s) (span ids 3)"],
            vec![],
        ),
        (
            json!({ "name": "clnrm.cleanup", "parent": "clnrm.scenario", "events": { "all": ["container.stop", "container.remove", "cleanup.complete"] } }),
            false,
            vec!["span #3", "parent is \"clnrm.step:exit_42\", expected \"clnrm.scenario\""],
            vec!["span #5"],
        ),
        (
            json!({ "name": "clnrm.cleanup", "attrs": { "all": { "cleanup.triggered": "end" } }, "events": { "all": ["container.stop", "container.remove", "cleanup.complete"] } }),
            false,
            vec!["span #3", "attribute cleanup.triggered = \"kill\", expected \"end\""],
            vec!["span #5"],
        ),
        (
            json!({ "name": "clnrm.cleanup", "status": "error", "attrs": { "all": { "cleanup.triggered": "end" } }, "events": { "all": ["container.stop", "container.remove"] } }),
            false,
            vec!["closest is span #5", "event \"container.remove\" missing (span has events \"container.stop\")"],
            vec!["\"container.stop\" missing"],
        ),
        // status
        (json!({ "name": "clnrm.cleanup", "status": "OK" }), true, vec!["span ids 3"], vec![]),
        (json!({ "name": "clnrm.scenario", "status": "error" }), false, vec!["span #1", "status is UNSET, expected ERROR"], vec![]),
        // duration_ms
        (json!({ "name": "clnrm.step:exit_42", "duration_ms": { "min": 1000, "max": 2000 } }), true, vec!["span ids 2"], vec![]),
        (json!({ "name": "clnrm.step:exit_42", "duration_ms": { "max": 1000 } }), false, vec!["span #2", "duration 1500 ms, expected max 1000 ms"], vec![]),
        (json!({ "name": "clnrm.cleanup", "duration_ms": { "min": 250.5 } }), false, vec!["span #3", "duration 200.5 ms, expected min 250.5 ms"], vec![]),
        (json!({ "name": "clnrm.cleanup", "duration_ms": { "min": 150 } }), true, vec!["span ids 3"], vec![]),
        // count
        (json!({ "name": "clnrm.cleanup", "count": { "eq": 2 } }), true, vec!["count eq 2 holds: matched 2 span(s) (span ids 3, 5)"], vec![]),
        (json!({ "name": "clnrm.cleanup", "count": { "eq": 3 } }), false, vec!["expected count eq 3, found 2 (span ids 3, 5)"], vec![";"]),
        (
            json!({ "name": "clnrm.cleanup", "status": "ok", "count": { "gte": 2 } }),
            false,
            vec!["expected count gte 2, found 1 (span ids 3); closest non-matching is span #5 \"clnrm.cleanup\" (parent \"clnrm.scenario\"): status is ERROR (\"leaked\"), expected OK"],
            vec![],
        ),
        (json!({ "name": "clnrm.cleanup", "count": { "lte": 1 } }), false, vec!["expected count lte 1, found 2 (span ids 3, 5)"], vec!["closest"]),
        (json!({ "name": "clnrm.cleanup", "count": { "gte": 1, "lte": 2 } }), true, vec!["count gte 1 and lte 2 holds"], vec![]),
        (json!({ "name": "clnrm.cleanup", "status": "OK", "count": { "eq": 1 } }), true, vec!["span ids 3"], vec![]),
        (json!({ "name": "clnrm.leak", "count": { "eq": 0 } }), true, vec!["count eq 0 holds: no span matched"], vec![]),
        (
            json!({ "name": "clnrm.cleanup", "status": "ok", "attrs": { "all": { "cleanup.success": "false" } }, "count": { "gte": 1 } }),
            false,
            vec!["expected count gte 1, found 0; no span matched (2 candidates); closest is span #3", "attribute cleanup.success = true, expected \"false\""],
            vec!["span ids"],
        ),
        (json!({ "name": "clnrm.leak", "count": { "gte": 1 } }), false, vec!["expected count gte 1, found 0; no span named \"clnrm.leak\""], vec![]),
    ]
}

#[test]
fn span_table() {
    let trace = fixture();
    for (config, pass, must, must_not) in span_cases() {
        let findings = check_spans(&config, &trace).unwrap_or_else(|e| panic!("{config}: {e}"));
        assert_eq!(findings.len(), 1);
        let f = &findings[0];
        assert_eq!(f.passed, pass, "{config}: {}", f.message);
        for w in must {
            assert!(
                f.message.contains(w),
                "{config}:\n  message {:?}\n  lacks   {w:?}",
                f.message
            );
        }
        for w in must_not {
            assert!(
                !f.message.contains(w),
                "{config}:\n  message {:?}\n  has     {w:?}",
                f.message
            );
        }
    }
}

#[test]
fn findings_are_labelled_by_index_and_name() {
    let trace = fixture();
    let config = json!([{ "name": "clnrm.run" }, { "name": "clnrm.nope" }]);
    let f = check_spans(&config, &trace).unwrap();
    assert_eq!(
        f[0],
        Finding {
            expectation: "expect.span[0] clnrm.run".into(),
            passed: true,
            message: "matched 1 span(s) (span ids 0)".into()
        }
    );
    assert_eq!(f[1].expectation, "expect.span[1] clnrm.nope");
    assert!(!f[1].passed);
    let single = check_spans(&json!({ "name": "clnrm.run" }), &trace).unwrap();
    assert_eq!(single[0].expectation, "expect.span[0] clnrm.run");
    assert!(check_spans(&json!([]), &trace).unwrap().is_empty());
}

#[test]
fn empty_trace_and_long_id_lists() {
    let f = check_spans(&json!({ "name": "x" }), &Trace::default()).unwrap();
    assert_eq!(f[0].message, "no span named \"x\"; the trace is empty");
    let many = Trace::new((0..25).map(|i| span(i, None, "x")).collect());
    let f = check_spans(&json!({ "name": "x", "count": { "lte": 3 } }), &many).unwrap();
    assert!(
        f[0].message.contains("found 25 (span ids 0, 1, "),
        "{}",
        f[0].message
    );
    assert!(
        f[0].message.ends_with("19, ... (5 more))"),
        "{}",
        f[0].message
    );
}

#[test]
fn config_errors() {
    for (config, want) in [
        (json!({ "name": "x", "atrs": {} }), vec!["expect.span: unknown key \"atrs\"; did you mean \"attrs\"?", "(valid: name, kind, parent, attrs, events, status, duration_ms, count, service, during, after)"]),
        (json!([{ "name": "a" }, { "name": "b", "stauts": "OK" }]), vec!["expect.span[1]: unknown key \"stauts\"; did you mean \"status\"?"]),
        (json!({ "name": "x", "Name": "y" }), vec!["unknown key \"Name\"; did you mean \"name\"?"]),
        (json!({ "name": "x", "attrs": { "al": {} } }), vec!["expect.span.attrs: unknown key \"al\"; did you mean \"all\"?"]),
        (json!({ "name": "x", "attrs": { "exit.code": "0" } }), vec!["expect.span.attrs: unknown key \"exit.code\"", "(valid: all, any)"]),
        (json!({ "name": "x", "events": { "anny": ["a"] } }), vec!["expect.span.events: unknown key \"anny\"; did you mean \"any\"?"]),
        // Too far from any key for a "did you mean" (the host's threshold): the valid keys only.
        (json!({ "name": "x", "duration_ms": { "maximum": 3 } }), vec!["expect.span.duration_ms: unknown key \"maximum\" (valid: min, max)"]),
        (json!({ "name": "x", "duration_ms": { "maxx": 3 } }), vec!["expect.span.duration_ms: unknown key \"maxx\"; did you mean \"max\"? (valid: min, max)"]),
        (json!({ "name": "x", "count": { "eql": 3 } }), vec!["expect.span.count: unknown key \"eql\"; did you mean \"eq\"?"]),
        (
            json!({ "name": "x", "attrs": { "all": { "exit.code": { "gtt": 1 } } } }),
            vec!["expect.span.attrs.all.\"exit.code\": unknown key \"gtt\"; did you mean \"gt\"?", "valid: eq, ne"],
        ),
        (json!({ "name": "x", "attrs": { "any": { "k": { "matches": "[" } } } }), vec!["expect.span.attrs.any.k.matches: invalid regex"]),
        (json!({ "kind": "server" }), vec!["expect.span: missing required key \"name\""]),
        (json!({ "name": 3 }), vec!["expect.span.name: expected a string, found integer 3"]),
        (json!({ "name": "" }), vec!["expect.span.name: must not be empty"]),
        (json!({ "name": "x", "kind": "srv" }), vec!["expect.span.kind: expected one of internal, server, client, producer, consumer, found string \"srv\""]),
        (json!({ "name": "x", "status": "okay" }), vec!["expect.span.status: expected one of UNSET, OK, ERROR, found string \"okay\""]),
        (json!({ "name": "x", "status": 1 }), vec!["expect.span.status: expected a string, found integer 1"]),
        (json!({ "name": "x", "parent": ["a"] }), vec!["expect.span.parent: expected a string, found an array"]),
        (json!({ "name": "x", "attrs": "a=1" }), vec!["expect.span.attrs: expected a table, found string \"a=1\""]),
        (json!({ "name": "x", "attrs": { "all": [] } }), vec!["expect.span.attrs.all: expected a table, found an array"]),
        (json!({ "name": "x", "attrs": { "any": {} } }), vec!["expect.span.attrs.any: an empty table can never match"]),
        (json!({ "name": "x", "events": { "any": "a" } }), vec!["expect.span.events.any: expected an array of strings, found string \"a\""]),
        (json!({ "name": "x", "events": { "all": ["a", 1] } }), vec!["expect.span.events.all[1]: expected a string, found integer 1"]),
        (json!({ "name": "x", "events": { "any": [] } }), vec!["expect.span.events.any: an empty array can never match"]),
        (json!({ "name": "x", "duration_ms": 5 }), vec!["expect.span.duration_ms: expected a table, found integer 5"]),
        (json!({ "name": "x", "duration_ms": {} }), vec!["expect.span.duration_ms: give at least one of min, max"]),
        (json!({ "name": "x", "duration_ms": { "min": "1" } }), vec!["expect.span.duration_ms.min: expected a number, found string \"1\""]),
        (json!({ "name": "x", "duration_ms": { "max": -1 } }), vec!["expect.span.duration_ms.max: expected a non-negative number, found integer -1"]),
        (json!({ "name": "x", "duration_ms": { "min": 5, "max": 1 } }), vec!["expect.span.duration_ms: min 5 is greater than max 1"]),
        (json!({ "name": "x", "count": 3 }), vec!["expect.span.count: expected a table, found integer 3"]),
        (json!({ "name": "x", "count": {} }), vec!["expect.span.count: give at least one of eq, gte, lte"]),
        (json!({ "name": "x", "count": { "eq": -1 } }), vec!["expect.span.count.eq: expected a non-negative integer, found integer -1"]),
        (json!({ "name": "x", "count": { "gte": 1.5 } }), vec!["expect.span.count.gte: expected a non-negative integer, found float 1.5"]),
        (json!({ "name": "x", "count": { "gte": 3, "lte": 1 } }), vec!["expect.span.count: gte 3 and lte 1 can never hold"]),
        (json!({ "name": "x", "count": { "eq": 5, "lte": 2 } }), vec!["expect.span.count: eq 5 and lte 2 can never hold"]),
        (json!("x"), vec!["expect.span: expected a table or an array of tables, found string \"x\""]),
        (json!([1]), vec!["expect.span[0]: expected a table, found integer 1"]),
        // one bad table fails the whole config, even after good ones
        (json!([{ "name": "a" }, { "name": "b", "count": { "eq": "2" } }]), vec!["expect.span[1].count.eq: expected a non-negative integer, found string \"2\""]),
    ] {
        let err = check_spans(&config, &fixture())
            .expect_err(&config.to_string())
            .at("expect.span")
            .to_string();
        for w in want {
            assert!(err.contains(w), "{config}:\n  error {err:?}\n  lacks {w:?}");
        }
    }
}

/// No config, however wrong, may panic: every position gets every kind of value.
#[test]
fn no_panic_on_any_config() {
    let weird = [
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(u64::MAX),
        json!(""),
        json!("x"),
        json!("("),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({ "eq": 1 }),
        json!({ "min": 1, "max": 0 }),
        json!({ "all": { "k": { "gte": "x" } } }),
        json!({ "any": [] }),
    ];
    let base = json!({
        "name": "clnrm.cleanup", "kind": "internal", "parent": "p", "status": "OK",
        "attrs": { "all": { "k": "v" }, "any": { "k": { "gte": 1 } } },
        "events": { "any": ["a"], "all": ["b"] },
        "duration_ms": { "min": 0, "max": 10 }, "count": { "eq": 1, "gte": 0, "lte": 5 },
    });
    let paths: &[&[&str]] = &[
        &[],
        &["name"],
        &["kind"],
        &["parent"],
        &["status"],
        &["attrs"],
        &["attrs", "all"],
        &["attrs", "all", "k"],
        &["attrs", "any"],
        &["attrs", "any", "k"],
        &["attrs", "any", "k", "gte"],
        &["events"],
        &["events", "any"],
        &["events", "all"],
        &["duration_ms"],
        &["duration_ms", "min"],
        &["duration_ms", "max"],
        &["count"],
        &["count", "eq"],
        &["count", "gte"],
        &["count", "lte"],
        &["unknown"],
    ];
    let trace = fixture();
    for path in paths {
        for w in &weird {
            let mut config = base.clone();
            let mut slot = &mut config;
            for key in *path {
                slot = &mut slot[*key];
            }
            *slot = w.clone();
            let _ = check_spans(&config, &trace);
            let _ = check_spans(&Value::Array(vec![config]), &trace);
        }
    }
    for op in OPERATORS {
        for w in &weird {
            let _ = Matcher::from_json(&json!({ op: w }), &["m".to_string()])
                .map(|m| m.check("k", Some(&AttrValue::Int(1))));
        }
    }
}

/// Config errors are data: the variant, and a path relative to the validator's config
/// (for `[[expect.span]]`, the array: the entry's index first), which the host maps to
/// a position in the user's file.
#[test]
fn config_errors_are_structured() {
    use crate::config::ConfigError;
    let p = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases = [
        (
            json!([{ "name": "a" }, { "name": "b", "stauts": "OK" }]),
            ConfigError::UnknownKey {
                path: p(&["1", "stauts"]),
                expected: p(&SPAN_KEYS),
            },
        ),
        (
            json!([{ "kind": "server" }]),
            ConfigError::MissingKey {
                path: p(&["0"]),
                key: "name".into(),
            },
        ),
        (
            json!({ "name": "x", "count": { "eq": "2" } }),
            ConfigError::WrongType {
                path: p(&["count", "eq"]),
                expected: "a non-negative integer".into(),
                found: "string \"2\"".into(),
            },
        ),
        (
            json!([{ "name": "x", "attrs": { "all": { "exit.code": { "gtt": 1 } } } }]),
            ConfigError::UnknownKey {
                path: p(&["0", "attrs", "all", "exit.code", "gtt"]),
                expected: p(&crate::expect::OPERATORS),
            },
        ),
        (
            json!({ "name": "x", "count": { "gte": 3, "lte": 1 } }),
            ConfigError::InvalidValue {
                path: p(&["count"]),
                message: "gte 3 and lte 1 can never hold".into(),
            },
        ),
        (
            json!({ "name": "x", "events": { "all": ["a", 1] } }),
            ConfigError::WrongType {
                path: p(&["events", "all", "1"]),
                expected: "a string".into(),
                found: "integer 1".into(),
            },
        ),
    ];
    for (config, want) in cases {
        assert_eq!(
            parse_span_expectations(&config).unwrap_err(),
            want,
            "{config}"
        );
    }
}
