//! End to end: the `validate-graph`, `validate-counts`, `validate-window` and
//! `validate-order` plugins load in the host and judge a real run. Each is given one
//! `[expect.<x>]` table that holds (exit 0) and one that does not (exit 1, the finding's
//! message in the summary); a bad key in any of them is bad input (`clnrm validate`,
//! exit 2, with a suggestion).
//!
//! A one-scenario run emits: clnrm.run > clnrm.scenario > clnrm.service.start,
//! clnrm.step:s, clnrm.cleanup > clnrm.cleanup.verification, clnrm.recovery.

mod support;

use support::*;

const BASE: &str = r#"[service.app]
image = "clnrm-base:latest"

[[scenario]]
name = "s"
service = "app"
run = "true"
"#;

const GRAPH_OK: &str = r#"
[expect.graph]
must_include = [["clnrm.scenario", "clnrm.step:s"], ["clnrm.cleanup", "clnrm.recovery"]]
must_not_cross = [["clnrm.step:s", "clnrm.cleanup"]]
acyclic = true
"#;

const COUNTS_OK: &str = r#"
[expect.counts]
spans_total = { gte = 7 }
errors_total = 0
events_total = { gte = 1 }
by_name = { "clnrm.scenario" = 1, "clnrm.step:s" = 1, "clnrm.leak" = 0 }
"#;

const WINDOW_OK: &str = r#"
[[expect.window]]
outer = "clnrm.scenario"
contains = ["clnrm.service.start", "clnrm.step:s", "clnrm.cleanup"]
max_duration_ms = 120000

[[expect.window]]
outer = "clnrm.cleanup"
contains = ["clnrm.cleanup.verification"]
"#;

const ORDER_OK: &str = r#"
[expect.order]
must_precede = [["clnrm.service.start", "clnrm.step:s"], ["clnrm.step:s", "clnrm.cleanup"]]
must_follow = [["clnrm.cleanup", "clnrm.service.start"]]
"#;

/// Runs `BASE` + `expectations` with Docker and returns the result.
fn run_suite(expectations: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml", &format!("{BASE}{expectations}"));
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert!(!r.stderr.contains("panicked"), "no panic");
    r
}

/// A failing variant: exit 1 and, in the summary, `✗ <label>: ...` with every `needles`.
fn assert_fails(expectations: &str, label: &str, needles: &[&str]) {
    let r = run_suite(expectations);
    assert_eq!(r.code, 1, "a failed expectation is exit 1");
    let line = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("✗ {label}: ")))
        .unwrap_or_else(|| panic!("no failed finding `{label}` in:\n{}", r.stdout));
    for n in needles {
        assert!(line.contains(n), "finding line {line:?}\n  lacks {n:?}");
    }
}

#[test]
fn all_four_pass_on_a_real_run() {
    let r = run_suite(&[GRAPH_OK, COUNTS_OK, WINDOW_OK, ORDER_OK].concat());
    assert_eq!(r.code, 0, "every expectation holds");
    for label in [
        "expect.graph.must_include[0] clnrm.scenario -> clnrm.step:s",
        "expect.graph.must_include[1] clnrm.cleanup -> clnrm.recovery",
        "expect.graph.must_not_cross[0] clnrm.step:s -> clnrm.cleanup",
        "expect.graph.acyclic",
        "expect.counts.spans_total",
        "expect.counts.errors_total",
        "expect.counts.events_total",
        "expect.counts.by_name.\"clnrm.leak\"",
        "expect.counts.by_name.\"clnrm.scenario\"",
        "expect.counts.by_name.\"clnrm.step:s\"",
        "expect.window[0].contains[0] clnrm.service.start in clnrm.scenario",
        "expect.window[0].contains[1] clnrm.step:s in clnrm.scenario",
        "expect.window[0].contains[2] clnrm.cleanup in clnrm.scenario",
        "expect.window[1].contains[0] clnrm.cleanup.verification in clnrm.cleanup",
        "expect.order.must_precede[0] clnrm.service.start before clnrm.step:s",
        "expect.order.must_precede[1] clnrm.step:s before clnrm.cleanup",
        "expect.order.must_follow[0] clnrm.cleanup after clnrm.service.start",
    ] {
        assert!(
            r.stdout.contains(&format!("✓ {label}: ")),
            "no passed finding `{label}` in:\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains("errors_total: eq 0 holds, found 0"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("17/17 expectations passed"),
        "{}",
        r.stdout
    );
}

#[test]
fn graph_failure_names_the_pair_and_the_actual_parent() {
    assert_fails(
        "\n[expect.graph]\nmust_include = [[\"clnrm.step:s\", \"clnrm.cleanup\"]]\n",
        "expect.graph.must_include[0] clnrm.step:s -> clnrm.cleanup",
        &[
            "no \"clnrm.cleanup\" span has a parent named \"clnrm.step:s\"",
            "\"clnrm.cleanup\" (parent \"clnrm.scenario\")",
        ],
    );
}

#[test]
fn counts_failure_says_expected_and_found() {
    assert_fails(
        "\n[expect.counts]\nspans_total = { gte = 1000 }\n",
        "expect.counts.spans_total",
        &["spans_total: expected gte 1000, found "],
    );
}

#[test]
fn window_failure_names_the_span_and_the_closest_outer() {
    assert_fails(
        "\n[[expect.window]]\nouter = \"clnrm.step:s\"\ncontains = [\"clnrm.cleanup\"]\n",
        "expect.window[0].contains[0] clnrm.cleanup in clnrm.step:s",
        &[
            "span(s) named \"clnrm.cleanup\" fail; first: span #",
            "not inside any \"clnrm.step:s\" span; closest is span #",
            "ends ",
        ],
    );
}

#[test]
fn order_failure_names_the_early_span() {
    assert_fails(
        "\n[expect.order]\nmust_precede = [[\"clnrm.cleanup\", \"clnrm.step:s\"]]\n",
        "expect.order.must_precede[0] clnrm.cleanup before clnrm.step:s",
        &[
            "span(s) named \"clnrm.step:s\" start before any \"clnrm.cleanup\" span has ended",
            "the earliest \"clnrm.cleanup\" to end",
        ],
    );
}

#[test]
fn unknown_keys_are_bad_input_with_a_suggestion() {
    for (table, typo, hint) in [
        (
            "\n[expect.graph]\nacyclc = true\n",
            "acyclc",
            "did you mean \"acyclic\"?",
        ),
        (
            "\n[expect.counts]\nspan_total = 3\n",
            "span_total",
            "did you mean \"spans_total\"?",
        ),
        (
            "\n[[expect.window]]\nouter = \"a\"\ncontain = [\"b\"]\n",
            "contain",
            "did you mean \"contains\"?",
        ),
        (
            "\n[expect.order]\nmust_preceed = [[\"a\", \"b\"]]\n",
            "must_preceed",
            "did you mean \"must_precede\"?",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = suite(dir.path(), "t.clnrm.toml", &format!("{BASE}{table}"));
        let r = run(clnrm()
            .arg("validate")
            .arg(&p)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
        assert_eq!(r.code, 2, "an unknown key is bad input: {table}");
        assert!(!r.stderr.contains("panicked"), "no panic");
        assert!(
            r.stderr.contains(&format!("unknown key \"{typo}\"")),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(hint), "{}", r.stderr);
    }
}
