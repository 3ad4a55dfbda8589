//! `[expect.timeouts]` and the timeout rules of `[expect.chaos]`, over synthetic traces.

use serde_json::json;

use super::*;
use crate::expect::model::{Span, Status};
use crate::expect::rules::fixture::{self, b, i, run_cases, run_config_errors, s, span, Case};

/// A scenario (id 1) whose step (2) ran `step_ms` against a bound of 1000 ms, enforced by
/// span 3, with a cleanup (4) of `cleanup_ms` starting at the enforcement.
fn timed_out(step_ms: u64, cleanup_ms: u64, observed: bool) -> Trace {
    let spans: Vec<Span> = vec![
        span(0, None, "clnrm.run", Status::Ok, (0, 20_000), &[]),
        span(
            1,
            Some(0),
            "clnrm.scenario",
            Status::Ok,
            (0, 19_000),
            &[("scenario.name", s("slow"))],
        ),
        span(
            2,
            Some(1),
            "clnrm.step:slow",
            Status::Error,
            (100, 100 + step_ms),
            &[
                ("result", s("error")),
                ("error.type", s("timeout")),
                ("timeout.ms", i(1000)),
            ],
        ),
        span(
            3,
            Some(2),
            "clnrm.timeout.enforced",
            Status::Ok,
            (1100, 1100 + 5),
            &[
                ("timeout.ms", i(1000)),
                ("timeout.source", s("timeout_ms")),
                ("timeout.observed", b(observed)),
            ],
        ),
        span(
            4,
            Some(3),
            "clnrm.cleanup",
            Status::Ok,
            (1105, 1105 + cleanup_ms),
            &[
                ("cleanup.success", b(true)),
                ("cleanup.triggered", s("timeout")),
            ],
        ),
    ];
    Trace::new(spans)
}

#[test]
fn timeouts_table() {
    let cases: Vec<Case> = vec![
        // enforcement_tolerance_ms
        (json!({ "enforcement_tolerance_ms": 500 }), timed_out(1200, 100, true),
            vec![("expect.timeouts.enforcement_tolerance_ms", true, vec!["1 enforcement span(s) acted within 500 ms of their step's bound (span ids 3)"])]),
        // A long graceful stop after acting on time is not lateness.
        (json!({ "enforcement_tolerance_ms": 100 }), timed_out(3000, 100, true),
            vec![("expect.timeouts.enforcement_tolerance_ms", true, vec![])]),
        (json!({ "enforcement_tolerance_ms": 100 }), {
            let mut spans: Vec<Span> = timed_out(1500, 100, true).spans().to_vec();
            spans[3].start_ns = 1300 * fixture::MS;
            Trace::new(spans)
        }, vec![("expect.timeouts.enforcement_tolerance_ms", false, vec!["acted 1200 ms after step \"clnrm.step:slow\" started, for a bound of 1000 ms: 200 ms off, tolerance 100 ms"])]),
        (json!({ "enforcement_tolerance_ms": 100 }), {
            let mut spans: Vec<Span> = timed_out(1500, 100, true).spans().to_vec();
            spans[3].start_ns = 700 * fixture::MS;
            Trace::new(spans)
        }, vec![("expect.timeouts.enforcement_tolerance_ms", false, vec!["acted 600 ms after", "400 ms off"])]),
        (json!({ "enforcement_tolerance_ms": 100 }), fixture::trace(),
            vec![("expect.timeouts.enforcement_tolerance_ms", false, vec!["no clnrm.timeout.enforced or clnrm.deadline.enforced span in the trace"])]),
        // cleanup_max_duration_ms
        (json!({ "cleanup_max_duration_ms": 2000 }), timed_out(1200, 300, true),
            vec![("expect.timeouts.cleanup_max_duration_ms", true, vec!["1 clnrm.cleanup span(s) took at most 2000 ms"])]),
        (json!({ "cleanup_max_duration_ms": 2000 }), timed_out(1200, 2500, true),
            vec![("expect.timeouts.cleanup_max_duration_ms", false, vec!["span #4 \"clnrm.cleanup\" (parent \"clnrm.timeout.enforced\"): took 2500 ms, at most 2000 ms allowed"])]),
        // max_timeout_duration_ms
        (json!({ "max_timeout_duration_ms": 60000 }), timed_out(1200, 300, true),
            vec![("expect.timeouts.max_timeout_duration_ms", true, vec!["1 timed-out step span(s) lasted at most 60000 ms"])]),
        (json!({ "max_timeout_duration_ms": 1000 }), timed_out(1200, 300, true),
            vec![("expect.timeouts.max_timeout_duration_ms", false, vec!["\"clnrm.step:slow\" (parent \"clnrm.scenario\"): lasted 1200 ms, at most 1000 ms allowed"])]),
        (json!({ "max_timeout_duration_ms": 1000 }), fixture::trace(),
            vec![("expect.timeouts.max_timeout_duration_ms", false, vec!["no step timed out"])]),
    ];
    run_cases(check_timeouts, cases);
}

#[test]
fn chaos_timeout_rules() {
    let cases: Vec<Case> = vec![
        (json!({ "timeout_enforcement_verified": true, "cleanup_after_timeout": true, "enforcement_tolerance_ms": 500 }), timed_out(1200, 100, true),
            vec![
                ("expect.chaos.timeout_enforcement_verified", true, vec!["1 enforcement span(s) stopped their step's container"]),
                ("expect.chaos.cleanup_after_timeout", true, vec!["1 enforcement span(s) were followed by a successful clnrm.cleanup of their scenario"]),
                ("expect.chaos.enforcement_tolerance_ms", true, vec![]),
            ]),
        (json!({ "timeout_enforcement_verified": true }), timed_out(1200, 100, false),
            vec![("expect.chaos.timeout_enforcement_verified", false, vec!["timeout.observed = false, expected true"])]),
        (json!({ "timeout_enforcement_verified": true }), fixture::trace(),
            vec![("expect.chaos.timeout_enforcement_verified", false, vec!["no step bound was enforced"])]),
        (json!({ "cleanup_after_timeout": true }), {
            let mut spans: Vec<Span> = timed_out(1200, 100, true).spans().to_vec();
            spans.retain(|s| s.id != 4);
            Trace::new(spans)
        }, vec![("expect.chaos.cleanup_after_timeout", false, vec!["its scenario has no clnrm.cleanup"])]),
        (json!({ "cleanup_after_timeout": true }), {
            let mut spans: Vec<Span> = timed_out(1200, 100, true).spans().to_vec();
            fixture::set(&mut spans[4], "cleanup.success", b(false));
            Trace::new(spans)
        }, vec![("expect.chaos.cleanup_after_timeout", false, vec!["no clnrm.cleanup of its scenario both starts at or after it"])]),
    ];
    run_cases(crate::expect::check_chaos, cases);
}

#[test]
fn timeouts_config_errors() {
    run_config_errors(
        "expect.timeouts",
        check_timeouts,
        vec![
            (json!({}), vec!["expect.timeouts: an empty table checks nothing"]),
            (json!({ "enforcement_tolerence_ms": 1 }), vec!["did you mean \"enforcement_tolerance_ms\"?"]),
            (json!({ "cleanup_max_duration_ms": "2s" }), vec!["expect.timeouts.cleanup_max_duration_ms: expected a non-negative integer, found string \"2s\""]),
        ],
    );
}
