//! Table-driven tests of the `[expect.order]` checker.

use serde_json::{json, Value};

use super::super::common::testing::{run_trace, sp};
use super::*;

/// (trace, config, one (passed, substrings of the message) per expected finding).
#[allow(clippy::type_complexity)]
fn cases() -> Vec<(Trace, Value, Vec<(bool, Vec<&'static str>)>)> {
    let run = || Trace::new(run_trace());
    // two retries, each after one of two attempts; the second retry starts too early
    let retries = || {
        Trace::new(vec![
            sp(0, None, "attempt", 0, 100),
            sp(1, None, "attempt", 50, 300),
            sp(2, None, "retry", 100, 150),
            sp(3, None, "retry", 90, 200),
            sp(4, None, "retry", 40, 60),
        ])
    };
    vec![
        (
            run(),
            json!({ "must_precede": [["clnrm.service.start", "clnrm.step:s"], ["clnrm.step:s", "clnrm.cleanup"]] }),
            vec![
                (true, vec!["all 1 span(s) named \"clnrm.step:s\" start at or after the end of a \"clnrm.service.start\" span (the earliest ends at 200 ms)"]),
                (true, vec![]),
            ],
        ),
        (
            run(),
            json!({ "must_precede": [["clnrm.cleanup", "clnrm.step:s"]] }),
            vec![(false, vec!["1 of 1 span(s) named \"clnrm.step:s\" start before any \"clnrm.cleanup\" span has ended; first: span #3 \"clnrm.step:s\" (parent \"clnrm.scenario\") starts at 200 ms, but the earliest \"clnrm.cleanup\" to end, span #4, ends at 800 ms"])],
        ),
        // overlapping spans: B starting before A ends is a failure
        (run(), json!({ "must_precede": [["clnrm.scenario", "clnrm.step:s"]] }), vec![(false, vec!["starts at 200 ms, but the earliest \"clnrm.scenario\" to end, span #1, ends at 900 ms"])]),
        // must_follow [A, B] is must_precede [B, A]
        (run(), json!({ "must_follow": [["clnrm.cleanup", "clnrm.step:s"]] }), vec![(true, vec!["named \"clnrm.cleanup\" start at or after the end of a \"clnrm.step:s\" span"])]),
        (run(), json!({ "must_follow": [["clnrm.step:s", "clnrm.cleanup"]] }), vec![(false, vec!["span(s) named \"clnrm.step:s\" start before any \"clnrm.cleanup\" span has ended"])]),
        // "some A": the earliest-ending attempt counts; retries #3 and #4 start before it ends
        (
            retries(),
            json!({ "must_precede": [["attempt", "retry"]] }),
            vec![(false, vec!["2 of 3 span(s) named \"retry\" start before any \"attempt\" span has ended; first: span #3 \"retry\" (root) starts at 90 ms, but the earliest \"attempt\" to end, span #0, ends at 100 ms"])],
        ),
        // starting exactly at the end counts as after
        (Trace::new(vec![sp(0, None, "a", 0, 100), sp(1, None, "b", 100, 100)]), json!({ "must_precede": [["a", "b"]] }), vec![(true, vec![])]),
        // missing spans
        (
            run(),
            json!({ "must_precede": [["clnrm.service.strat", "clnrm.step:s"]] }),
            vec![(false, vec!["the 1 span(s) named \"clnrm.step:s\" have no \"clnrm.service.strat\" span to come after: no span named \"clnrm.service.strat\"; nearest names in the trace: \"clnrm.service.start\""])],
        ),
        (
            run(),
            json!({ "must_precede": [["clnrm.step:s", "clnrm.recvery"]] }),
            vec![(false, vec!["no span named \"clnrm.recvery\"; nearest names in the trace: \"clnrm.recovery\"", "(to check against the \"clnrm.step:s\" span(s))"])],
        ),
        (
            Trace::default(),
            json!({ "must_follow": [["a", "b"]] }),
            vec![(false, vec!["no span named \"b\"; the trace is empty; and no span named \"a\"; the trace is empty"])],
        ),
        // both keys, in an array of tables
        (
            run(),
            json!([{ "must_follow": [["clnrm.recovery", "clnrm.cleanup.verification"]], "must_precede": [["clnrm.run", "clnrm.scenario"]] }, { "must_precede": [["clnrm.step:s", "clnrm.recovery"]] }]),
            vec![(false, vec!["\"clnrm.run\" to end"]), (true, vec![]), (true, vec![])],
        ),
    ]
}

#[test]
fn order_table() {
    for (trace, config, want) in cases() {
        let findings = check_order(&config, &trace).unwrap_or_else(|e| panic!("{config}: {e}"));
        assert_eq!(findings.len(), want.len(), "{config}: {findings:#?}");
        for (f, (pass, must)) in findings.iter().zip(want) {
            assert_eq!(f.passed, pass, "{config}: {}", f.message);
            for w in must {
                assert!(
                    f.message.contains(w),
                    "{config}:\n  message {:?}\n  lacks   {w:?}",
                    f.message
                );
            }
        }
    }
}

#[test]
fn labels_and_rules() {
    let config = json!({
        "must_follow": [["clnrm.cleanup", "clnrm.step:x"]],
        "must_precede": [["clnrm.service.start", "clnrm.step:x"]],
    });
    let parsed = parse_order(&config).unwrap();
    assert_eq!(
        parsed.rules,
        vec![
            OrderRule {
                label: "expect.order.must_precede[0] clnrm.service.start before clnrm.step:x"
                    .into(),
                first: "clnrm.service.start".into(),
                then: "clnrm.step:x".into(),
            },
            OrderRule {
                label: "expect.order.must_follow[0] clnrm.cleanup after clnrm.step:x".into(),
                first: "clnrm.step:x".into(),
                then: "clnrm.cleanup".into(),
            },
        ]
    );
    let arr = check_order(
        &json!([{ "must_precede": [["a", "b"]] }, { "must_follow": [["c", "d"]] }]),
        &Trace::default(),
    )
    .unwrap();
    let labels: Vec<String> = arr.into_iter().map(|f| f.expectation).collect();
    assert_eq!(
        labels,
        [
            "expect.order[0].must_precede[0] a before b",
            "expect.order[1].must_follow[0] c after d"
        ]
    );
}

#[test]
fn config_errors() {
    for (config, want) in [
        (
            json!({ "must_preceed": [["a", "b"]] }),
            "expect.order: unknown key \"must_preceed\"; did you mean \"must_precede\"? (valid: must_precede, must_follow)",
        ),
        (json!({ "must_folow": [] }), "expect.order: unknown key \"must_folow\"; did you mean \"must_follow\"?"),
        (json!({}), "expect.order: checks nothing; give must_precede or must_follow"),
        (json!({ "must_precede": [] }), "expect.order: checks nothing"),
        (json!({ "must_precede": "a" }), "expect.order.must_precede: expected an array of [\"A\", \"B\" (A first)] pairs, found string \"a\""),
        (json!({ "must_follow": [["a"]] }), "expect.order.must_follow[0]: expected a pair [\"A\", \"B\" (B first)], found an array of 1 item(s)"),
        (json!({ "must_precede": [["a", "b"], ["c", true]] }), "expect.order.must_precede[1][1]: expected a string, found boolean true"),
        (json!({ "must_precede": [["a", "a"]] }), "expect.order.must_precede[0]: both names are \"a\"; a span cannot come after itself"),
        (json!([{ "must_precede": [["a", "b"]] }, { "must_follow": [["", "b"]] }]), "expect.order[1].must_follow[0][0]: must not be empty"),
        (json!(null), "expect.order: expected a table or an array of tables, found nothing (null)"),
    ] {
        let err = check_order(&config, &Trace::default()).expect_err(&config.to_string())
            .at("expect.order")
            .to_string();
        assert!(err.contains(want), "{config}:\n  error {err:?}\n  lacks {want:?}");
    }
}
