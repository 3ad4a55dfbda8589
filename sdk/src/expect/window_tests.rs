//! Table-driven tests of the `[[expect.window]]` checker.

use serde_json::{json, Value};

use super::super::common::testing::{run_trace, sp, MS};
use super::*;

/// (trace, config, one (passed, substrings of the message) per expected finding).
#[allow(clippy::type_complexity)]
fn cases() -> Vec<(Trace, Value, Vec<(bool, Vec<&'static str>)>)> {
    let run = || Trace::new(run_trace());
    let window = |outer: &str, contains: &[&str]| json!([{ "outer": outer, "contains": contains }]);
    // two attempts: the step happens inside the second one only
    let attempts = || {
        Trace::new(vec![
            sp(0, None, "attempt", 0, 100),
            sp(1, None, "attempt", 200, 400),
            sp(2, Some(1), "step", 250, 300),
            sp(3, None, "late", 390, 450),
            sp(4, None, "early", 150, 210),
            sp(5, None, "wide", 180, 420),
        ])
    };
    vec![
        (
            run(),
            window("clnrm.scenario", &["clnrm.service.start", "clnrm.step:s", "clnrm.cleanup"]),
            vec![
                (true, vec!["all 1 span(s) named \"clnrm.service.start\" lie inside a \"clnrm.scenario\" span"]),
                (true, vec![]),
                (true, vec![]),
            ],
        ),
        // bounds are inclusive: the recovery ends exactly when the cleanup does
        (run(), window("clnrm.cleanup", &["clnrm.recovery"]), vec![(true, vec![])]),
        (
            run(),
            window("clnrm.step:s", &["clnrm.cleanup"]),
            vec![(false, vec!["1 of 1 span(s) named \"clnrm.cleanup\" fail; first: span #4 \"clnrm.cleanup\" (parent \"clnrm.scenario\") [500 ms, 800 ms]: not inside any \"clnrm.step:s\" span; closest is span #3 [200 ms, 500 ms] which ends 300 ms before it"])],
        ),
        (
            run(),
            window("clnrm.cleanup", &["clnrm.service.start"]),
            vec![(false, vec!["[20 ms, 200 ms]: not inside any \"clnrm.cleanup\" span; closest is span #4 [500 ms, 800 ms] which starts 480 ms after it"])],
        ),
        (attempts(), window("attempt", &["step"]), vec![(true, vec![])]),
        (attempts(), window("attempt", &["late"]), vec![(false, vec!["[390 ms, 450 ms]: not inside any \"attempt\" span; closest is span #1 [200 ms, 400 ms] which ends 50 ms before it"])]),
        (attempts(), window("attempt", &["early"]), vec![(false, vec!["closest is span #1 [200 ms, 400 ms] which starts 50 ms after it"])]),
        (attempts(), window("attempt", &["wide"]), vec![(false, vec!["closest is span #1 [200 ms, 400 ms] which starts 20 ms after it and ends 20 ms before it"])]),
        // max_duration_ms
        (
            run(),
            json!([{ "outer": "clnrm.scenario", "contains": ["clnrm.step:s", "clnrm.service.start"], "max_duration_ms": 250 }]),
            vec![
                (false, vec!["1 of 1 span(s) named \"clnrm.step:s\" fail; first: span #3 \"clnrm.step:s\" (parent \"clnrm.scenario\") [200 ms, 500 ms]: lasted 300 ms, more than max_duration_ms 250"]),
                (true, vec!["all 1 span(s) named \"clnrm.service.start\" lie inside a \"clnrm.scenario\" span and last at most 250 ms (longest 180 ms)"]),
            ],
        ),
        (run(), json!({ "outer": "clnrm.run", "contains": ["clnrm.step:s"], "max_duration_ms": 300 }), vec![(true, vec![])]),
        (run(), json!({ "outer": "clnrm.run", "contains": ["clnrm.step:s"], "max_duration_ms": 299.5 }), vec![(false, vec!["lasted 300 ms, more than max_duration_ms 299.5"])]),
        // both conditions failing on one span, several offenders counted
        (
            Trace::new(vec![
                sp(0, None, "o", 0, 100),
                sp(1, None, "i", 10, 20),
                sp(2, None, "i", 50, 300),
                sp(3, None, "i", 90, 120),
            ]),
            json!({ "outer": "o", "contains": ["i"], "max_duration_ms": 100 }),
            vec![(false, vec!["2 of 3 span(s) named \"i\" fail; first: span #2 \"i\" (root) [50 ms, 300 ms]: not inside any \"o\" span; closest is span #0 [0 ms, 100 ms] which ends 200 ms before it; lasted 250 ms, more than max_duration_ms 100"])],
        ),
        // sub-millisecond intervals are shown to the microsecond
        (
            Trace::new(vec![
                sp(0, None, "o", 0, 1),
                Span { start_ns: MS / 2, end_ns: MS + 1600, ..sp(1, None, "i", 0, 0) },
            ]),
            window("o", &["i"]),
            vec![(false, vec!["[0.5 ms, 1.002 ms]", "ends 0.002 ms before it"])],
        ),
        // missing spans
        (
            run(),
            window("clnrm.scenario", &["clnrm.cleanp"]),
            vec![(false, vec!["no span named \"clnrm.cleanp\"; nearest names in the trace: \"clnrm.cleanup\""])],
        ),
        (
            run(),
            window("clnrm.scenaro", &["clnrm.cleanup"]),
            vec![(false, vec!["the 1 span(s) named \"clnrm.cleanup\" have no \"clnrm.scenaro\" span to lie inside: no span named \"clnrm.scenaro\"; nearest names in the trace: \"clnrm.scenario\""])],
        ),
        (Trace::default(), window("o", &["i"]), vec![(false, vec!["no span named \"i\"; the trace is empty"])]),
        // several tables
        (
            run(),
            json!([{ "outer": "clnrm.run", "contains": ["clnrm.scenario"] }, { "outer": "clnrm.service.start", "contains": ["clnrm.step:s"] }]),
            vec![(true, vec![]), (false, vec!["ends 300 ms before it"])],
        ),
    ]
}

#[test]
fn window_table() {
    for (trace, config, want) in cases() {
        let findings = check_window(&config, &trace).unwrap_or_else(|e| panic!("{config}: {e}"));
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
fn labels() {
    let config = json!([
        { "outer": "clnrm.scenario", "contains": ["clnrm.step:x", "clnrm.cleanup"] },
        { "outer": "a", "contains": ["b"] },
    ]);
    let labels: Vec<String> = check_window(&config, &Trace::default())
        .unwrap()
        .into_iter()
        .map(|f| f.expectation)
        .collect();
    assert_eq!(
        labels,
        [
            "expect.window[0].contains[0] clnrm.step:x in clnrm.scenario",
            "expect.window[0].contains[1] clnrm.cleanup in clnrm.scenario",
            "expect.window[1].contains[0] b in a",
        ]
    );
    let single = check_window(
        &json!({ "outer": "a", "contains": ["b"] }),
        &Trace::default(),
    )
    .unwrap();
    assert_eq!(single[0].expectation, "expect.window.contains[0] b in a");
    assert!(check_window(&json!([]), &Trace::default())
        .unwrap()
        .is_empty());
    let parsed =
        parse_window(&json!({ "outer": "a", "contains": ["b"], "max_duration_ms": 2 })).unwrap();
    assert_eq!(parsed.windows[0].max_duration_ms, Some(2.0));
}

#[test]
fn config_errors() {
    for (config, want) in [
        (
            json!([{ "outer": "a", "contain": ["b"] }]),
            "expect.window[0]: unknown key \"contain\"; did you mean \"contains\"? (valid: outer, contains, max_duration_ms)",
        ),
        (json!([{ "outer": "a", "contains": ["b"], "max_duration": 3 }]), "expect.window[0]: unknown key \"max_duration\"; did you mean \"max_duration_ms\"?"),
        (json!([{ "contains": ["b"] }]), "expect.window[0]: missing required key \"outer\""),
        (json!([{ "outer": "a" }]), "expect.window[0]: missing required key \"contains\""),
        (json!([{ "outer": 1, "contains": ["b"] }]), "expect.window[0].outer: expected a string, found integer 1"),
        (json!([{ "outer": "", "contains": ["b"] }]), "expect.window[0].outer: must not be empty"),
        (json!([{ "outer": "a", "contains": "b" }]), "expect.window[0].contains: expected an array of strings, found string \"b\""),
        (json!([{ "outer": "a", "contains": [] }]), "expect.window[0].contains: give at least one span name"),
        (json!([{ "outer": "a", "contains": ["b", 2] }]), "expect.window[0].contains[1]: expected a string, found integer 2"),
        (json!([{ "outer": "a", "contains": ["b", ""] }]), "expect.window[0].contains[1]: must not be empty"),
        (json!([{ "outer": "a", "contains": ["a"] }]), "expect.window[0].contains[0]: \"a\" is the outer span itself"),
        (json!([{ "outer": "a", "contains": ["b"], "max_duration_ms": "5" }]), "expect.window[0].max_duration_ms: expected a number, found string \"5\""),
        (json!([{ "outer": "a", "contains": ["b"], "max_duration_ms": -5 }]), "expect.window[0].max_duration_ms: expected a non-negative number, found integer -5"),
        (json!([{ "outer": "a", "contains": ["b"] }, 7]), "expect.window[1]: expected a table, found integer 7"),
        (json!("a"), "expect.window: expected a table or an array of tables, found string \"a\""),
    ] {
        let err = check_window(&config, &Trace::default()).expect_err(&config.to_string())
            .at("expect.window")
            .to_string();
        assert!(err.contains(want), "{config}:\n  error {err:?}\n  lacks {want:?}");
    }
}

/// `Cover` (sorted starts, running latest end) answers exactly what trying every outer
/// with `lies_inside` answers, on many random intervals including shared bounds.
#[test]
fn cover_agrees_with_trying_every_outer() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for round in 0..200 {
        let interval = |next: &mut dyn FnMut(u64) -> u64, id| {
            let start = next(50);
            sp(id, None, "o", start, start + next(30))
        };
        let outers: Vec<Span> = (0..round % 9).map(|i| interval(&mut next, i)).collect();
        let refs: Vec<&Span> = outers.iter().collect();
        let cover = Cover::new(&refs);
        for i in 0..20 {
            let s = interval(&mut next, 100 + i);
            let brute = outers.iter().any(|o| lies_inside(&s, o));
            assert_eq!(cover.contains(&s), brute, "{s:?} in {outers:?}");
        }
    }
}
