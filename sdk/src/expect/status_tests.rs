//! Table-driven tests of `[expect.status]`.

use serde_json::json;

use super::*;
use crate::expect::rules::fixture::{self, b, edited, run_cases, run_config_errors, s, set, Case};

#[test]
fn globs() {
    for (glob, name, want) in [
        ("clnrm.cleanup", "clnrm.cleanup", true),
        ("clnrm.cleanup", "clnrm.cleanup.verification", false),
        ("clnrm.cleanup*", "clnrm.cleanup", true),
        ("clnrm.cleanup*", "clnrm.cleanup.verification", true),
        ("clnrm.step:*", "clnrm.step:kill", true),
        ("clnrm.step:*", "clnrm.steps", false),
        ("*", "", true),
        ("*", "anything", true),
        ("", "", true),
        ("", "x", false),
        ("?", "", false),
        ("?", "a", true),
        ("clnrm.step:kill_?", "clnrm.step:kill_1", true),
        ("clnrm.step:kill_?", "clnrm.step:kill_12", false),
        ("*.recovery", "clnrm.network.recovery", true),
        ("*.recovery", "clnrm.recovery.x", false),
        ("a*b*c", "aXbYc", true),
        ("a*b*c", "abbbc", true),
        ("a*b*c", "acb", false),
        ("**a", "a", true),
        ("*a*", "bab", true),
        ("a*", "A", false),
        ("é?", "éü", true),
    ] {
        assert_eq!(glob_matches(glob, name), want, "{glob:?} on {name:?}");
    }
}

#[test]
fn status_table() {
    let cases: Vec<Case> = vec![
        // all
        (
            json!({ "all": "OK" }),
            fixture::trace(),
            vec![(
                "expect.status.all",
                false,
                vec!["1 of 14 span(s) fail: span #9 \"clnrm.step:killed\" (parent \"clnrm.scenario\"): status is ERROR (\"clnrm.step:killed failed\"), expected OK"],
            )],
        ),
        (
            json!({ "all": "ok" }),
            edited(9, |s| s.status = Status::Ok),
            vec![("expect.status.all", true, vec!["14 span(s) have status OK (span ids 0, 1, 2"])],
        ),
        (
            json!({ "all": "UNSET" }),
            fixture::trace(),
            vec![("expect.status.all", false, vec!["14 of 14 span(s) fail", "... (4 more)"])],
        ),
        (
            json!({ "all": "OK" }),
            Trace::default(),
            vec![("expect.status.all", false, vec!["the trace is empty"])],
        ),
        // by_name
        (
            json!({ "by_name": { "clnrm.cleanup*": "OK", "clnrm.step:*": "OK", "clnrm.step:kill?d": "ERROR" } }),
            fixture::trace(),
            vec![
                ("expect.status.by_name.\"clnrm.cleanup*\"", true, vec!["4 span(s) matching \"clnrm.cleanup*\" have status OK (span ids 4, 5, 11, 12)"]),
                ("expect.status.by_name.\"clnrm.step:*\"", false, vec!["1 of 2 span(s) matching \"clnrm.step:*\" fail: span #9 \"clnrm.step:killed\"", "status is ERROR"]),
                ("expect.status.by_name.\"clnrm.step:kill?d\"", true, vec!["span ids 9"]),
            ],
        ),
        (
            json!({ "by_name": { "clnrm.recovery": "OK" } }),
            edited(13, |s| s.status = Status::Unset),
            vec![("expect.status.by_name.\"clnrm.recovery\"", false, vec!["span #13 \"clnrm.recovery\" (parent \"clnrm.cleanup\"): status is UNSET, expected OK"])],
        ),
        (
            json!({ "by_name": { "clnrm.cleanp*": "OK" } }),
            fixture::trace(),
            vec![("expect.status.by_name.\"clnrm.cleanp*\"", false, vec!["no span name matches \"clnrm.cleanp*\"; nearest names in the trace: \"clnrm.cleanup\""])],
        ),
        (
            json!({ "by_name": { "x": "OK" } }),
            Trace::default(),
            vec![("expect.status.by_name.x", false, vec!["no span name matches \"x\"; the trace is empty"])],
        ),
        // errors_allowed as a boolean: false is 0, true is any number
        (
            json!({ "errors_allowed": false }),
            fixture::trace(),
            vec![("expect.status.errors_allowed", false, vec!["1 span(s) with status ERROR, at most 0 allowed: span #9"])],
        ),
        (
            json!({ "errors_allowed": false }),
            edited(9, |s| s.status = Status::Ok),
            vec![("expect.status.errors_allowed", true, vec!["0 span(s) with status ERROR, at most 0 allowed"])],
        ),
        (
            json!({ "errors_allowed": true }),
            fixture::trace(),
            vec![("expect.status.errors_allowed", true, vec!["1 span(s) with status ERROR, any number allowed (errors_allowed = true)"])],
        ),
        // errors_allowed
        (
            json!({ "errors_allowed": 1 }),
            fixture::trace(),
            vec![("expect.status.errors_allowed", true, vec!["1 span(s) with status ERROR, at most 1 allowed (span ids 9)"])],
        ),
        (
            json!({ "errors_allowed": 0 }),
            fixture::trace(),
            vec![("expect.status.errors_allowed", false, vec!["1 span(s) with status ERROR, at most 0 allowed: span #9 \"clnrm.step:killed\" (parent \"clnrm.scenario\"): status ERROR (\"clnrm.step:killed failed\")"])],
        ),
        (
            json!({ "errors_allowed": 0 }),
            edited(9, |s| s.status = Status::Ok),
            vec![("expect.status.errors_allowed", true, vec!["0 span(s) with status ERROR, at most 0 allowed"])],
        ),
        // cleanup_must_succeed
        (
            json!({ "cleanup_must_succeed": true }),
            fixture::trace(),
            vec![("expect.status.cleanup_must_succeed", true, vec!["2 clnrm.cleanup span(s) are OK with cleanup.success = true (span ids 4, 11)"])],
        ),
        (
            json!({ "cleanup_must_succeed": true }),
            edited(11, |c| set(c, "cleanup.success", s("true"))),
            vec![("expect.status.cleanup_must_succeed", true, vec![])],
        ),
        (
            json!({ "cleanup_must_succeed": true }),
            edited(11, |c| {
                c.status = Status::Error;
                c.status_message = Some("left behind: 1 container(s)".into());
                set(c, "cleanup.success", b(false));
            }),
            vec![("expect.status.cleanup_must_succeed", false, vec!["1 of 2 clnrm.cleanup span(s) fail: span #11 \"clnrm.cleanup\" (parent \"clnrm.step:killed\"): status is ERROR (\"left behind: 1 container(s)\"), expected OK and cleanup.success = false, expected true"])],
        ),
        (
            json!({ "cleanup_must_succeed": true }),
            edited(4, |c| fixture::unset(c, "cleanup.success")),
            vec![("expect.status.cleanup_must_succeed", false, vec!["span #4", "cleanup.success missing, expected true"])],
        ),
        (
            json!({ "cleanup_must_succeed": true }),
            fixture::without(&[4, 5, 6, 11, 12, 13]),
            vec![("expect.status.cleanup_must_succeed", false, vec!["no \"clnrm.cleanup\" span in the trace: the run never cleaned up"])],
        ),
    ];
    run_cases(check_status, cases);
}

#[test]
fn findings_follow_key_order_and_false_skips() {
    let config = json!({ "cleanup_must_succeed": true, "errors_allowed": 5, "all": "OK", "by_name": { "a": "OK" } });
    let labels: Vec<String> = check_status(&config, &fixture::trace())
        .unwrap()
        .into_iter()
        .map(|f| f.expectation)
        .collect();
    assert_eq!(
        labels,
        [
            "expect.status.all",
            "expect.status.by_name.a",
            "expect.status.errors_allowed",
            "expect.status.cleanup_must_succeed"
        ]
    );
    let none = check_status(&json!({ "cleanup_must_succeed": false }), &fixture::trace()).unwrap();
    assert!(none.is_empty());
}

#[test]
fn parse() {
    let e = parse_status(&json!({ "all": "error", "by_name": { "x*": "unset" }, "errors_allowed": 2, "cleanup_must_succeed": true })).unwrap();
    assert_eq!(
        e,
        StatusExpectation {
            all: Some(Status::Error),
            by_name: vec![("x*".into(), Status::Unset)],
            errors_allowed: Some(2),
            cleanup_must_succeed: true,
        }
    );
}

#[test]
fn status_config_errors() {
    run_config_errors(
        "expect.status",
        check_status,
        vec![
            (json!({ "al": "OK" }), vec!["expect.status: unknown key \"al\"; did you mean \"all\"?", "(valid: all, by_name, errors_allowed, cleanup_must_succeed)"]),
            (json!({ "errors_alowed": 1 }), vec!["did you mean \"errors_allowed\"?"]),
            (json!({}), vec!["expect.status: an empty table checks nothing; give at least one of all, by_name, errors_allowed, cleanup_must_succeed"]),
            (json!([{ "all": "OK" }]), vec!["expect.status: expected a table ([expect.status]), found an array"]),
            (json!({ "all": "okay" }), vec!["expect.status.all: expected one of UNSET, OK, ERROR, found string \"okay\""]),
            (json!({ "all": true }), vec!["expect.status.all: expected a string, found boolean true"]),
            (json!({ "by_name": "OK" }), vec!["expect.status.by_name: expected a table, found string \"OK\""]),
            (json!({ "by_name": {} }), vec!["expect.status.by_name: an empty table checks nothing"]),
            (json!({ "by_name": { "": "OK" } }), vec!["expect.status.by_name: a glob must not be empty"]),
            (json!({ "by_name": { "clnrm.step:*": "FAIL" } }), vec!["expect.status.by_name.\"clnrm.step:*\": expected one of UNSET, OK, ERROR, found string \"FAIL\""]),
            (json!({ "errors_allowed": -1 }), vec!["expect.status.errors_allowed: expected a non-negative integer, found integer -1"]),
            (json!({ "errors_allowed": "1" }), vec!["expect.status.errors_allowed: expected a count (integer >= 0), or a boolean (false = 0, true = any number), found string \"1\""]),
            (json!({ "cleanup_must_succeed": "yes" }), vec!["expect.status.cleanup_must_succeed: expected a boolean, found string \"yes\""]),
        ],
    );
}
