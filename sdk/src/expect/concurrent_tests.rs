//! `[expect.concurrent]` over synthetic traces (today's engine spans, and issue 11's
//! `clnrm.recovery.success`).

use serde_json::json;

use super::*;
use crate::expect::model::Status;
use crate::expect::rules::fixture::{self, b, i, run_cases, run_config_errors, s, span, Case};

/// Three steps at once (2, 3, 4; 4 starts after 2 ended), a cleanup (5) with a parallel
/// removal (6) of `remaining` leftovers and its verification (7), and a recovery.success (8).
fn concurrent(remaining: i64, stable: bool) -> Trace {
    Trace::new(vec![
        span(0, None, "clnrm.run", Status::Ok, (0, 9000), &[]),
        span(1, Some(0), "clnrm.scenario", Status::Ok, (0, 8000), &[]),
        span(
            2,
            Some(1),
            "clnrm.step:a",
            Status::Error,
            (100, 1000),
            &[("result", s("error"))],
        ),
        span(
            3,
            Some(1),
            "clnrm.step:b",
            Status::Ok,
            (100, 2000),
            &[("result", s("pass"))],
        ),
        span(
            4,
            Some(1),
            "clnrm.step:c",
            Status::Ok,
            (1500, 2500),
            &[("result", s("pass"))],
        ),
        span(
            5,
            Some(2),
            "clnrm.cleanup",
            Status::Ok,
            (2600, 3000),
            &[("cleanup.success", b(true))],
        ),
        span(
            6,
            Some(5),
            CLEANUP_CONCURRENT,
            Status::Ok,
            (2600, 2900),
            &[("cleanup.parallel", b(true)), ("containers.cleaned", i(3))],
        ),
        span(
            7,
            Some(5),
            "clnrm.cleanup.verification",
            Status::Ok,
            (2900, 2950),
            &[
                ("containers.remaining", i(remaining)),
                ("processes.remaining", i(0)),
            ],
        ),
        span(
            8,
            Some(1),
            RECOVERY_SUCCESS,
            Status::Ok,
            (3000, 3100),
            &[("recovery.complete", b(true)), ("system.stable", b(stable))],
        ),
    ])
}

#[test]
fn concurrent_table() {
    let cases: Vec<Case> = vec![
        (json!({ "cleanup_complete": true }), concurrent(0, true),
            vec![("expect.concurrent.cleanup_complete", true, vec!["1 clnrm.cleanup.concurrent span(s) removed everything"])]),
        (json!({ "cleanup_complete": true }), concurrent(2, true),
            vec![("expect.concurrent.cleanup_complete", false, vec!["verification #7: containers.remaining = 2, expected 0"])]),
        (json!({ "cleanup_complete": true }), fixture::trace(),
            vec![("expect.concurrent.cleanup_complete", false, vec!["no \"clnrm.cleanup.concurrent\" span in the trace"])]),
        (json!({ "system_responsive": true }), concurrent(0, true),
            vec![("expect.concurrent.system_responsive", true, vec!["show the system answering"])]),
        (json!({ "system_responsive": true }), concurrent(0, false),
            vec![("expect.concurrent.system_responsive", false, vec!["system.stable = false, expected true"])]),
        (json!({ "system_responsive": true }), fixture::trace(),
            vec![("expect.concurrent.system_responsive", false, vec!["nothing shows the system answering"])]),
        (json!({ "max_concurrent": { "gte": 2 } }), concurrent(0, true),
            vec![("expect.concurrent.max_concurrent", true, vec!["at most 2 step(s) ran at once (\"clnrm.step:a\", \"clnrm.step:b\"); gte 2 holds"])]),
        (json!({ "max_concurrent": { "gte": 5 } }), concurrent(0, true),
            vec![("expect.concurrent.max_concurrent", false, vec!["at most 2 step(s) ran at once", "expected gte 5"])]),
        (json!({ "max_concurrent": 1 }), fixture::trace(),
            vec![("expect.concurrent.max_concurrent", true, vec!["eq 1 holds"])]),
        (json!({ "no_deadlocks": true }), concurrent(0, true),
            vec![("expect.concurrent.no_deadlocks", true, vec!["3 step span(s); none ran until a safety bound"])]),
        (json!({ "no_deadlocks": true }), {
            let mut spans = concurrent(0, true).spans().to_vec();
            spans.push(span(9, Some(2), "clnrm.timeout.enforced", Status::Ok, (900, 910), &[("timeout.source", s("max_duration_seconds"))]));
            Trace::new(spans)
        }, vec![("expect.concurrent.no_deadlocks", false, vec!["a step ran until [limits] max_duration_seconds"])]),
        (json!({ "no_deadlocks": true }), {
            let mut spans = concurrent(0, true).spans().to_vec();
            spans[6].status = Status::Error;
            spans[6].status_message = Some("plugin `chaos-x` did not finish within its deadline of 5000 ms and was stopped".into());
            Trace::new(spans)
        }, vec![("expect.concurrent.no_deadlocks", false, vec!["did not finish within its deadline"])]),
    ];
    run_cases(check_concurrent, cases);
}

#[test]
fn concurrent_config_errors() {
    run_config_errors(
        "expect.concurrent",
        check_concurrent,
        vec![
            (
                json!({}),
                vec!["expect.concurrent: an empty table checks nothing"],
            ),
            (
                json!({ "no_deadlock": true }),
                vec!["did you mean \"no_deadlocks\"?"],
            ),
            (
                json!({ "max_concurrent": { "gte": "5" } }),
                vec!["expect.concurrent.max_concurrent.gte: expected a non-negative integer"],
            ),
            (
                json!({ "max_concurrent": { "gt": 5, "lt": 3 } }),
                vec!["can never hold"],
            ),
        ],
    );
}
