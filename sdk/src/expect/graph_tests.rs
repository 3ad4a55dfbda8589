//! Table-driven tests of the `[expect.graph]` checker.

use serde_json::{json, Value};

use super::super::common::testing::{run_trace, sp};
use super::*;

/// A trace whose parent links loop: 1 -> 2 -> 3 -> 1, a self-loop on 5, a tail 4 -> 1
/// leading into the first loop, and 6 whose parent is not in the trace.
fn loops() -> Trace {
    Trace::new(vec![
        sp(0, None, "root", 0, 10),
        sp(1, Some(2), "a", 0, 10),
        sp(2, Some(3), "b", 0, 10),
        sp(3, Some(1), "c", 0, 10),
        sp(4, Some(1), "tail", 0, 10),
        sp(5, Some(5), "self", 0, 10),
        sp(6, Some(99), "orphan", 0, 10),
    ])
}

/// (trace, config, one (passed, substrings of the message) per expected finding).
#[allow(clippy::type_complexity)]
fn cases() -> Vec<(Trace, Value, Vec<(bool, Vec<&'static str>)>)> {
    let run = || Trace::new(run_trace());
    // the cleanup of a killed step hangs under the step, not under the scenario
    let killed = || {
        let mut s = run_trace();
        s[4].parent = Some(3);
        Trace::new(s)
    };
    vec![
        // must_include
        (
            run(),
            json!({ "must_include": [["clnrm.scenario", "clnrm.step:s"], ["clnrm.cleanup", "clnrm.recovery"]] }),
            vec![
                (true, vec!["1 span(s) named \"clnrm.step:s\" have a parent named \"clnrm.scenario\" (span ids 3)"]),
                (true, vec!["span ids 6"]),
            ],
        ),
        (
            run(),
            json!({ "must_include": [["clnrm.step:s", "clnrm.cleanup"]] }),
            vec![(false, vec!["no \"clnrm.cleanup\" span has a parent named \"clnrm.step:s\"; the 1 span(s) named \"clnrm.cleanup\": span #4 \"clnrm.cleanup\" (parent \"clnrm.scenario\")"])],
        ),
        (killed(), json!({ "must_include": [["clnrm.step:s", "clnrm.cleanup"]] }), vec![(true, vec!["span ids 4"])]),
        (
            run(),
            json!({ "must_include": [["clnrm.scenario", "clnrm.cleanp"]] }),
            vec![(false, vec!["no \"clnrm.cleanp\" span has a parent named \"clnrm.scenario\": no span named \"clnrm.cleanp\"; nearest names in the trace: \"clnrm.cleanup\""])],
        ),
        (
            run(),
            json!({ "must_include": [["clnrm.scenaro", "clnrm.step:s"]] }),
            vec![(false, vec![
                "span #3 \"clnrm.step:s\" (parent \"clnrm.scenario\")",
                "; and no span named \"clnrm.scenaro\"; nearest names in the trace: \"clnrm.scenario\"",
            ])],
        ),
        (
            Trace::default(),
            json!({ "must_include": [["a", "b"]] }),
            vec![(false, vec!["no span named \"b\"; the trace is empty"])],
        ),
        // candidates: parent names nearest the wanted one first, roots last, capped
        (
            Trace::new(vec![
                sp(0, None, "x", 0, 1),
                sp(1, None, "zzzzzz", 0, 1),
                sp(2, Some(1), "x", 0, 1),
                sp(3, None, "parent2", 0, 1),
                sp(4, Some(3), "x", 0, 1),
                sp(5, Some(77), "x", 0, 1),
            ]),
            json!({ "must_include": [["parent", "x"]] }),
            vec![(false, vec![
                "the 4 span(s) named \"x\": span #4 \"x\" (parent \"parent2\"), span #2 \"x\" (parent \"zzzzzz\"), span #0 \"x\" (root), span #5 \"x\" (parent #77, not in trace); and no span named \"parent\"",
            ])],
        ),
        (
            Trace::new((0..8).map(|i| sp(i, None, "x", 0, 1)).collect()),
            json!({ "must_include": [["p", "x"]] }),
            vec![(false, vec!["the 8 span(s) named \"x\": ", "span #4 \"x\" (root), ... (3 more)"])],
        ),
        // must_not_cross
        (
            run(),
            json!({ "must_not_cross": [["clnrm.step:s", "clnrm.cleanup"], ["clnrm.run", "clnrm.leak"]] }),
            vec![
                (true, vec!["none of the 1 span(s) named \"clnrm.cleanup\" has a parent named \"clnrm.step:s\""]),
                (true, vec!["no span named \"clnrm.leak\", so none has a parent named \"clnrm.run\""]),
            ],
        ),
        (
            killed(),
            json!({ "must_not_cross": [["clnrm.step:s", "clnrm.cleanup"]] }),
            vec![(false, vec!["1 span(s) named \"clnrm.cleanup\" have a parent named \"clnrm.step:s\" (span ids 4); first: span #4 \"clnrm.cleanup\" (parent \"clnrm.step:s\")"])],
        ),
        // acyclic
        (run(), json!({ "acyclic": true }), vec![(true, vec!["no cycle in the parent links of 7 span(s)"])]),
        (Trace::default(), json!({ "acyclic": true }), vec![(true, vec!["of 0 span(s)"])]),
        (
            loops(),
            json!({ "acyclic": true }),
            vec![(false, vec!["parent links loop: span #1 \"a\" -> #2 \"b\" -> #3 \"c\" -> #1 \"a\" (each arrow points to the parent); 2 cycles in all"])],
        ),
        (
            Trace::new(vec![sp(5, Some(5), "self", 0, 1)]),
            json!({ "acyclic": true }),
            vec![(false, vec!["span #5 \"self\" -> #5 \"self\" ("])],
        ),
        (
            Trace::new((0..15).map(|i| sp(i, Some((i + 1) % 15), "n", 0, 1)).collect()),
            json!({ "acyclic": true }),
            vec![(false, vec!["#9 \"n\" -> ... (5 more) -> #0 \"n\""])],
        ),
        // acyclic = false checks nothing, beside other rules
        (run(), json!({ "acyclic": false, "must_include": [["clnrm.run", "clnrm.scenario"]] }), vec![(true, vec![])]),
        // everything at once, in config order: must_include, must_not_cross, acyclic
        (
            loops(),
            json!({ "acyclic": true, "must_not_cross": [["b", "a"]], "must_include": [["c", "b"]] }),
            vec![(true, vec![]), (false, vec!["(span ids 1)"]), (false, vec!["loop"])],
        ),
        // an array of tables
        (
            run(),
            json!([{ "acyclic": true }, { "must_include": [["clnrm.run", "clnrm.step:s"]] }]),
            vec![(true, vec![]), (false, vec!["(parent \"clnrm.scenario\")"])],
        ),
    ]
}

#[test]
fn graph_table() {
    for (trace, config, want) in cases() {
        let findings = check_graph(&config, &trace).unwrap_or_else(|e| panic!("{config}: {e}"));
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
    let config = json!({
        "must_include": [["clnrm.step:x", "clnrm.cleanup"], ["a", "b"]],
        "must_not_cross": [["c", "d"]],
        "acyclic": true,
    });
    let labels: Vec<String> = check_graph(&config, &Trace::default())
        .unwrap()
        .into_iter()
        .map(|f| f.expectation)
        .collect();
    assert_eq!(
        labels,
        [
            "expect.graph.must_include[0] clnrm.step:x -> clnrm.cleanup",
            "expect.graph.must_include[1] a -> b",
            "expect.graph.must_not_cross[0] c -> d",
            "expect.graph.acyclic",
        ]
    );
    let arr = json!([{ "acyclic": true }, { "must_not_cross": [["c", "d"]] }]);
    let labels: Vec<String> = check_graph(&arr, &Trace::default())
        .unwrap()
        .into_iter()
        .map(|f| f.expectation)
        .collect();
    assert_eq!(
        labels,
        [
            "expect.graph[0].acyclic",
            "expect.graph[1].must_not_cross[0] c -> d"
        ]
    );
    let parsed = parse_graph(&json!({ "must_include": [["p", "c"]] })).unwrap();
    assert_eq!(
        parsed.checks[0].rule,
        GraphRule::MustInclude {
            parent: "p".into(),
            child: "c".into()
        }
    );
}

#[test]
fn config_errors() {
    for (config, want) in [
        (
            json!({ "must_inclde": [] }),
            "expect.graph: unknown key \"must_inclde\"; did you mean \"must_include\"? (valid: must_include, must_not_cross, acyclic)",
        ),
        (json!({ "acyclc": true }), "expect.graph: unknown key \"acyclc\"; did you mean \"acyclic\"?"),
        (json!([{ "acyclic": true }, { "mustnotcross": [] }]), "expect.graph[1]: unknown key \"mustnotcross\"; did you mean \"must_not_cross\"?"),
        (json!({}), "expect.graph: checks nothing; give must_include, must_not_cross or acyclic = true"),
        (json!({ "acyclic": false }), "expect.graph: checks nothing"),
        (json!({ "must_include": [] }), "expect.graph: checks nothing"),
        (json!({ "acyclic": "yes" }), "expect.graph.acyclic: expected a boolean, found string \"yes\""),
        (
            json!({ "must_include": ["a", "b"] }),
            "expect.graph.must_include[0]: expected a pair [\"parent\", \"child\"], found string \"a\"",
        ),
        (
            json!({ "must_include": [["a", "b", "c"]] }),
            "expect.graph.must_include[0]: expected a pair [\"parent\", \"child\"], found an array of 3 item(s)",
        ),
        (
            json!({ "must_not_cross": { "a": "b" } }),
            "expect.graph.must_not_cross: expected an array of [\"parent\", \"child\"] pairs, found a table",
        ),
        (json!({ "must_not_cross": [["a", 1]] }), "expect.graph.must_not_cross[0][1]: expected a string, found integer 1"),
        (json!({ "must_include": [["", "b"]] }), "expect.graph.must_include[0][0]: must not be empty"),
        (json!(true), "expect.graph: expected a table or an array of tables, found boolean true"),
        (json!([3]), "expect.graph[0]: expected a table, found integer 3"),
    ] {
        let err = check_graph(&config, &Trace::default()).expect_err(&config.to_string())
            .at("expect.graph")
            .to_string();
        assert!(err.contains(want), "{config}:\n  error {err:?}\n  lacks {want:?}");
    }
}

#[test]
fn cycles_are_found_once_each() {
    let t = loops();
    let c = cycles(&t);
    let ids: Vec<Vec<u32>> = c.iter().map(|c| c.iter().map(|s| s.id).collect()).collect();
    assert_eq!(ids, vec![vec![1, 2, 3], vec![5]]);
    assert!(cycles(&Trace::new(run_trace())).is_empty());
    // a long chain is walked without recursion
    let chain = Trace::new(
        (0..100_000)
            .map(|i| sp(i, i.checked_sub(1), "n", 0, 1))
            .collect(),
    );
    assert!(cycles(&chain).is_empty());
}
