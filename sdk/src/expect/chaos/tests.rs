//! Table-driven tests of `[expect.chaos]`.

use serde_json::json;

use super::*;
use crate::expect::rules::fixture::{
    self, b, edited, i, run_cases, run_config_errors, s, set, span, unset, without, Case, MS,
};

fn with_spans(extra: Vec<Span>) -> Trace {
    let mut spans = fixture::spans();
    spans.extend(extra);
    Trace::new(spans)
}

/// The fixture with an observed resource fault on `app` within step 3
/// (100..200 ms), and step 3's `degraded` set to `degraded`.
fn with_pause(degraded: bool) -> Trace {
    let mut spans = fixture::spans();
    spans[3].attrs.push(("degraded".into(), b(degraded)));
    spans.push(span(
        14,
        Some(1),
        "clnrm.resource.cpu_throttle",
        Status::Ok,
        (120, 180),
        &[
            ("chaos.type", s("cpu_throttle")),
            ("target.service", s("app")),
            ("chaos.observed", b(true)),
        ],
    ));
    Trace::new(spans)
}

/// The fixture with step 3 (on `app`) degraded or not, and a child of it
/// observing `app`'s static limits at `level` (no injection at all).
fn with_limits(degraded: bool, level: &str) -> Trace {
    let mut spans = fixture::spans();
    spans[3].attrs.push(("degraded".into(), b(degraded)));
    spans.push(span(
        14,
        Some(3),
        "clnrm.resource.memory_pressure",
        Status::Ok,
        (120, 180),
        &[
            ("pressure.source", s("limits")),
            ("pressure.level", s(level)),
            ("target.service", s("app")),
        ],
    ));
    Trace::new(spans)
}

#[test]
fn chaos_table() {
    let all = json!({
        "cleanup_spans_match_failures": true, "zombie_processes": "none", "resource_cleanup": true,
        "recovery_verified": true, "graceful_degradation": true, "injections_observed": true,
        "min_injections": 1,
    });
    let cases: Vec<Case> = vec![
        (
            all.clone(),
            with_pause(true),
            vec![
                ("expect.chaos.cleanup_spans_match_failures", true, vec!["1 failed step span(s) each have a clnrm.cleanup child (span ids 9)"]),
                ("expect.chaos.zombie_processes", true, vec!["2 clnrm.cleanup.verification span(s) report processes.remaining = 0 (span ids 5, 12)"]),
                ("expect.chaos.resource_cleanup", true, vec!["2 clnrm.cleanup.verification span(s) report verification.clean = true (span ids 5, 12)"]),
                ("expect.chaos.recovery_verified", true, vec!["2 clnrm.cleanup span(s) have a successful clnrm.recovery child starting at or after them (span ids 4, 11)"]),
                ("expect.chaos.graceful_degradation", true, vec!["1 step span(s) with degraded = true have result = \"pass\" and a fault span on their service (span ids 3)"]),
                ("expect.chaos.injections_observed", true, vec!["2 span(s) with chaos.type were observed (chaos.observed = true, status OK) (span ids 10, 14)"]),
                ("expect.chaos.min_injections", true, vec!["2 span(s) with chaos.type, at least 1 required (span ids 10, 14)"]),
            ],
        ),
        // cleanup_spans_match_failures
        (
            json!({ "cleanup_spans_match_failures": true }),
            edited(11, |c| c.parent = Some(7)),
            vec![("expect.chaos.cleanup_spans_match_failures", false, vec!["1 mismatch(es) between failed steps and cleanups: span #9 \"clnrm.step:killed\" (parent \"clnrm.scenario\"): result = \"error\" but no clnrm.cleanup below it or below a step that failed with it"])],
        ),
        (
            json!({ "cleanup_spans_match_failures": true }),
            edited(4, |c| c.parent = Some(3)),
            vec![("expect.chaos.cleanup_spans_match_failures", false, vec!["span #4 \"clnrm.cleanup\" (parent \"clnrm.step:ok\"): cleanup under a step that did not fail (result = \"pass\")"])],
        ),
        (
            json!({ "cleanup_spans_match_failures": true }),
            fixture::without(&[7, 8, 9, 10, 11, 12, 13]),
            vec![("expect.chaos.cleanup_spans_match_failures", true, vec!["no step failed and no clnrm.cleanup hangs under a step; nothing to match"])],
        ),
        (
            // a cleanup under the scenario does not count for a failed step
            json!({ "cleanup_spans_match_failures": true }),
            with_spans(vec![span(20, Some(1), "clnrm.step:second", Status::Error, (1500, 1600), &[("result", s("error"))])]),
            vec![("expect.chaos.cleanup_spans_match_failures", false, vec!["span #20 \"clnrm.step:second\"", "no clnrm.cleanup below it"])],
        ),
        (
            // steps that failed together share the cleanup under the first of them
            json!({ "cleanup_spans_match_failures": true }),
            with_spans(vec![span(20, Some(7), "clnrm.step:second", Status::Error, (1500, 1600), &[("result", s("error"))])]),
            vec![("expect.chaos.cleanup_spans_match_failures", true, vec![])],
        ),
        // zombie_processes
        (
            json!({ "zombie_processes": false }),
            edited(12, |v| set(v, "processes.remaining", i(2))),
            vec![("expect.chaos.zombie_processes", false, vec!["1 of 2 clnrm.cleanup.verification span(s) fail: span #12 \"clnrm.cleanup.verification\" (parent \"clnrm.cleanup\"): processes.remaining = 2, expected 0"])],
        ),
        (
            json!({ "zombie_processes": "None" }),
            edited(5, |v| unset(v, "processes.remaining")),
            vec![("expect.chaos.zombie_processes", false, vec!["span #5", "processes.remaining missing (unknown counts as a leak), expected 0"])],
        ),
        (
            json!({ "zombie_processes": "none" }),
            without(&[5, 12]),
            vec![("expect.chaos.zombie_processes", false, vec!["no \"clnrm.cleanup.verification\" span in the trace"])],
        ),
        // resource_cleanup
        (
            json!({ "resource_cleanup": true }),
            edited(5, |v| set(v, "verification.clean", b(false))),
            vec![("expect.chaos.resource_cleanup", false, vec!["1 of 2 clnrm.cleanup.verification span(s) fail: span #5 \"clnrm.cleanup.verification\" (parent \"clnrm.cleanup\"): verification.clean = false, expected true"])],
        ),
        (
            json!({ "resource_cleanup": true }),
            without(&[5, 12]),
            vec![("expect.chaos.resource_cleanup", false, vec!["the run never verified its cleanup"])],
        ),
        // recovery_verified
        (
            json!({ "recovery_verified": true }),
            edited(13, |r| set(r, "recovery.success", b(false))),
            vec![("expect.chaos.recovery_verified", false, vec!["1 of 2 clnrm.cleanup span(s) fail: span #11 \"clnrm.cleanup\" (parent \"clnrm.step:killed\"): its recovery span #13 \"clnrm.recovery\" (parent \"clnrm.cleanup\") has recovery.success = false, expected true"])],
        ),
        (
            json!({ "recovery_verified": true }),
            edited(13, |r| r.start_ns = 1399 * MS + MS / 2),
            vec![("expect.chaos.recovery_verified", false, vec!["span #11", "its recovery span #13", "starts 0.5 ms before the cleanup"])],
        ),
        (
            json!({ "recovery_verified": true }),
            edited(13, |r| r.start_ns = 1400 * MS),
            vec![("expect.chaos.recovery_verified", true, vec![])],
        ),
        (
            json!({ "recovery_verified": true }),
            without(&[6]),
            vec![("expect.chaos.recovery_verified", false, vec!["span #4 \"clnrm.cleanup\" (parent \"clnrm.scenario\"): no clnrm.recovery child"])],
        ),
        (
            // a recovery elsewhere does not count
            json!({ "recovery_verified": true }),
            edited(6, |r| r.parent = Some(1)),
            vec![("expect.chaos.recovery_verified", false, vec!["span #4", "no clnrm.recovery child"])],
        ),
        (
            // one good recovery among several is enough
            json!({ "recovery_verified": true }),
            with_spans(vec![span(20, Some(4), "clnrm.recovery", Status::Error, (0, 1), &[("recovery.success", b(false))])]),
            vec![("expect.chaos.recovery_verified", true, vec![])],
        ),
        (
            json!({ "recovery_verified": true }),
            without(&[4, 5, 6, 11, 12, 13]),
            vec![("expect.chaos.recovery_verified", false, vec!["no \"clnrm.cleanup\" span in the trace"])],
        ),
        // graceful_degradation
        (
            json!({ "graceful_degradation": true }),
            with_pause(true),
            vec![("expect.chaos.graceful_degradation", true, vec!["1 step span(s) with degraded = true have result = \"pass\" and a fault span on their service (span ids 3)"])],
        ),
        (
            // degraded with no fault on its service: the rule can fail on the engine's spans
            json!({ "graceful_degradation": true }),
            edited(3, |st| set(st, "degraded", b(true))),
            vec![("expect.chaos.graceful_degradation", false, vec!["span #3 \"clnrm.step:ok\" (parent \"clnrm.scenario\"): degraded, but no span with chaos.type on its service (service.id = \"app\") overlaps it"])],
        ),
        (
            // degraded by its service's static limits, with no injection
            json!({ "graceful_degradation": true }),
            with_limits(true, "high"),
            vec![("expect.chaos.graceful_degradation", true, vec!["1 step span(s) with degraded = true have result = \"pass\" and a fault span on their service (span ids 3)"])],
        ),
        (
            // low pressure explains no degradation
            json!({ "graceful_degradation": true }),
            with_limits(true, "low"),
            vec![("expect.chaos.graceful_degradation", false, vec!["span #3 \"clnrm.step:ok\" (parent \"clnrm.scenario\"): degraded, but no span with chaos.type on its service (service.id = \"app\") overlaps it"])],
        ),
        (
            // high pressure from the limits, yet not degraded
            json!({ "graceful_degradation": true }),
            with_limits(false, "high"),
            vec![("expect.chaos.graceful_degradation", false, vec!["1 step span(s) not degraded under an observed fault: span #3 \"clnrm.step:ok\" (parent \"clnrm.scenario\"): passed while span #14 \"clnrm.resource.memory_pressure\" was observed on its service, but degraded is not true"])],
        ),
        (
            // an observed fault within a passed step that is not degraded
            json!({ "graceful_degradation": true }),
            with_pause(false),
            vec![("expect.chaos.graceful_degradation", false, vec!["1 step span(s) not degraded under an observed fault: span #3 \"clnrm.step:ok\" (parent \"clnrm.scenario\"): passed while span #14 \"clnrm.resource.cpu_throttle\" was observed on its service, but degraded is not true"])],
        ),
        (
            json!({ "graceful_degradation": true }),
            edited(9, |st| set(st, "degraded", s("true"))),
            vec![("expect.chaos.graceful_degradation", false, vec!["1 of 1 step span(s) with degraded = true fail: span #9 \"clnrm.step:killed\" (parent \"clnrm.scenario\"): degraded, but result = \"error\", expected \"pass\""])],
        ),
        (
            json!({ "graceful_degradation": true }),
            edited(9, |st| set(st, "degraded", b(false))),
            vec![("expect.chaos.graceful_degradation", false, vec!["no step ran degraded"])],
        ),
        (
            // degraded on a non-step span is not a step's degradation
            json!({ "graceful_degradation": true }),
            edited(10, |c| set(c, "degraded", b(true))),
            vec![("expect.chaos.graceful_degradation", false, vec!["no step ran degraded"])],
        ),
        // injections_observed
        (
            json!({ "injections_observed": true }),
            edited(10, |c| {
                set(c, "chaos.observed", b(false));
                c.status = Status::Error;
                c.status_message = Some("exit code 0, not 137".into());
            }),
            vec![("expect.chaos.injections_observed", false, vec!["1 of 1 span(s) with chaos.type fail: span #10 \"clnrm.chaos.kill\" (parent \"clnrm.scenario\"): chaos.type = \"kill_container\": chaos.observed = false, expected true and status is ERROR (\"exit code 0, not 137\"), expected OK"])],
        ),
        (
            json!({ "injections_observed": true }),
            edited(10, |c| unset(c, "chaos.observed")),
            vec![("expect.chaos.injections_observed", false, vec!["chaos.observed missing, expected true"])],
        ),
        (
            json!({ "injections_observed": true }),
            edited(10, |c| unset(c, "chaos.type")),
            vec![("expect.chaos.injections_observed", false, vec!["no span carries chaos.type: no injection was recorded"])],
        ),
        // min_injections
        (
            json!({ "min_injections": 2 }),
            fixture::trace(),
            vec![("expect.chaos.min_injections", false, vec!["1 span(s) with chaos.type, expected at least 2 (span ids 10)"])],
        ),
        (
            json!({ "min_injections": 2 }),
            with_spans(vec![span(20, Some(7), "clnrm.network.partition", Status::Ok, (0, 1), &[("chaos.type", s("network_partition"))])]),
            vec![("expect.chaos.min_injections", true, vec!["2 span(s) with chaos.type, at least 2 required (span ids 10, 20)"])],
        ),
        (
            json!({ "min_injections": 1 }),
            without(&[10]),
            vec![("expect.chaos.min_injections", false, vec!["0 span(s) with chaos.type, expected at least 1"])],
        ),
        (
            json!({ "min_injections": 0 }),
            without(&[10]),
            vec![("expect.chaos.min_injections", true, vec!["0 span(s) with chaos.type, at least 0 required"])],
        ),
    ];
    run_cases(check_chaos, cases);
}

#[test]
fn findings_follow_key_order_and_false_skips() {
    let config = json!({ "min_injections": 1, "recovery_verified": true, "zombie_processes": false, "resource_cleanup": false });
    let labels: Vec<String> = check_chaos(&config, &fixture::trace())
        .unwrap()
        .into_iter()
        .map(|f| f.expectation)
        .collect();
    assert_eq!(
        labels,
        [
            "expect.chaos.zombie_processes",
            "expect.chaos.recovery_verified",
            "expect.chaos.min_injections"
        ]
    );
}

#[test]
fn chaos_config_errors() {
    run_config_errors(
        "expect.chaos",
        check_chaos,
        vec![
            (json!({ "recovery_verifed": true }), vec!["expect.chaos: unknown key \"recovery_verifed\"; did you mean \"recovery_verified\"?", "(valid: cleanup_spans_match_failures, zombie_processes, resource_cleanup, recovery_verified, graceful_degradation, injections_observed, min_injections, no_crashes, "]),
            (json!({ "zombie_process": "none" }), vec!["did you mean \"zombie_processes\"?"]),
            (json!({}), vec!["expect.chaos: an empty table checks nothing"]),
            (json!([]), vec!["expect.chaos: expected a table ([expect.chaos]), found an array"]),
            (json!({ "zombie_processes": true }), vec!["expect.chaos.zombie_processes: true would allow zombie processes", "write false, \"none\" or a count such as { eq = 0 }"]),
            (json!({ "zombie_processes": "some" }), vec!["expect.chaos.zombie_processes: expected false, \"none\" or a count table such as { eq = 0 }, found string \"some\""]),
            (json!({ "zombie_processes": 0 }), vec!["expect.chaos.zombie_processes: expected false, \"none\" or a count table such as { eq = 0 }, found integer 0"]),
            (json!({ "zombie_processes": { "eqq": 0 } }), vec!["expect.chaos.zombie_processes: unknown key \"eqq\"; did you mean \"eq\"?"]),
            (json!({ "zombie_processes": { "gt": 3, "lt": 2 } }), vec!["expect.chaos.zombie_processes: gt 3 and lt 2 can never hold"]),
            (json!({ "no_crashes": "yes" }), vec!["expect.chaos.no_crashes: expected a boolean, found string \"yes\""]),
            (json!({ "enforcement_tolerance_ms": -5 }), vec!["expect.chaos.enforcement_tolerance_ms: expected a non-negative integer, found integer -5"]),
            (json!({ "resource_cleanup": "yes" }), vec!["expect.chaos.resource_cleanup: expected true, false or \"complete\", found string \"yes\""]),
            (json!({ "graceful_degradation": 1 }), vec!["expect.chaos.graceful_degradation: expected a boolean, found integer 1"]),
            (json!({ "min_injections": -1 }), vec!["expect.chaos.min_injections: expected a non-negative integer, found integer -1"]),
            (json!({ "min_injections": 1.5 }), vec!["expect.chaos.min_injections: expected a non-negative integer, found float 1.5"]),
            (json!({ "min_injections": "2" }), vec!["expect.chaos.min_injections: expected a non-negative integer, found string \"2\""]),
        ],
    );
    assert_eq!(
        parse_chaos(&json!({ "zombie_processes": "NONE", "min_injections": 3 })).unwrap(),
        ChaosExpectation {
            zombie_processes: Some(crate::expect::Bounds {
                eq: Some(0),
                ..Default::default()
            }),
            min_injections: Some(3),
            ..Default::default()
        }
    );
}

/// The keys the original clnrm chaos suites use (issue 14), each passing and failing.
#[test]
fn original_suite_keys() {
    use crate::expect::model::Status;
    use crate::expect::rules::fixture::span;
    // Two steps of one scenario failing at overlapping times (9 and an added 14).
    let concurrent = |clean: bool| {
        let mut spans = fixture::spans();
        spans.push(span(
            14,
            Some(7),
            "clnrm.step:killed2",
            Status::Error,
            (1200, 1500),
            &[("result", s("error")), ("error.type", s("exit_code"))],
        ));
        if !clean {
            set(&mut spans[12], "verification.clean", b(false));
        }
        crate::expect::Trace::new(spans)
    };
    let with = |extra: Vec<crate::expect::Span>| {
        let mut spans = fixture::spans();
        spans.extend(extra);
        crate::expect::Trace::new(spans)
    };
    let cases: Vec<Case> = vec![
        // no_crashes: the fixture's step 9 was killed
        (json!({ "no_crashes": true }), fixture::trace(),
            vec![("expect.chaos.no_crashes", false, vec!["span #9 \"clnrm.step:killed\" (parent \"clnrm.scenario\"): its container died: error.type = \"container_killed\""])]),
        (json!({ "no_crashes": true }), edited(9, |st| set(st, "error.type", s("exit_code"))),
            vec![("expect.chaos.no_crashes", true, vec!["2 step span(s) ran without their container dying"])]),
        // recovery_successful
        (json!({ "recovery_successful": true }), fixture::trace(),
            vec![("expect.chaos.recovery_successful", true, vec!["2 recovery span(s) succeeded"])]),
        (json!({ "recovery_successful": true }), with(vec![span(14, Some(7), "clnrm.recovery.success", Status::Ok, (1500, 1600), &[("recovery.complete", b(true)), ("system.stable", b(false))])]),
            vec![("expect.chaos.recovery_successful", false, vec!["span #14 \"clnrm.recovery.success\"", "system.stable = false, expected true"])]),
        (json!({ "recovery_successful": true }), without(&[6, 13]),
            vec![("expect.chaos.recovery_successful", false, vec!["no recovery span"])]),
        // concurrent_failures_handled
        (json!({ "concurrent_failures_handled": true }), concurrent(true),
            vec![("expect.chaos.concurrent_failures_handled", true, vec!["1 scenario(s) with concurrent step failures were cleaned up and verified clean"])]),
        (json!({ "concurrent_failures_handled": true }), concurrent(false),
            vec![("expect.chaos.concurrent_failures_handled", false, vec!["verification #12: verification.clean = false, expected true"])]),
        (json!({ "concurrent_failures_handled": true }), fixture::trace(),
            vec![("expect.chaos.concurrent_failures_handled", false, vec!["no scenario had two or more steps failing at the same time"])]),
        // cascading_failures_detected
        (json!({ "cascading_failures_detected": true }), with(vec![span(14, Some(7), "clnrm.failure.cascade", Status::Ok, (1500, 1600), &[("cascade.detected", b(true)), ("cascade.depth", i(3))])]),
            vec![("expect.chaos.cascading_failures_detected", true, vec!["1 clnrm.failure.cascade span(s) with cascade.detected = true and cascade.depth >= 2"])]),
        (json!({ "cascading_failures_detected": true }), with(vec![span(14, Some(7), "clnrm.failure.cascade", Status::Ok, (1500, 1600), &[("cascade.detected", b(true)), ("cascade.depth", i(1))])]),
            vec![("expect.chaos.cascading_failures_detected", false, vec!["cascade.depth = 1, expected true and >= 2"])]),
        (json!({ "cascading_failures_detected": true }), fixture::trace(),
            vec![("expect.chaos.cascading_failures_detected", false, vec!["no \"clnrm.failure.cascade\" span"])]),
        // no_zombie_processes and zombie_processes = { eq = 0 }
        (json!({ "no_zombie_processes": true, "zombie_processes": { "eq": 0 } }), fixture::trace(),
            vec![("expect.chaos.no_zombie_processes", true, vec!["report processes.remaining = 0"]), ("expect.chaos.zombie_processes", true, vec!["report processes.remaining = 0"])]),
        (json!({ "no_zombie_processes": true, "zombie_processes": { "eq": 0 } }), edited(12, |v| set(v, "processes.remaining", i(2))),
            vec![("expect.chaos.no_zombie_processes", false, vec!["processes.remaining = 2, expected 0"]), ("expect.chaos.zombie_processes", false, vec!["processes.remaining = 2, expected 0"])]),
        (json!({ "zombie_processes": { "lte": 2 } }), edited(12, |v| set(v, "processes.remaining", i(2))),
            vec![("expect.chaos.zombie_processes", true, vec!["report processes.remaining lte 2"])]),
        (json!({ "zombie_processes": { "lte": 1 } }), edited(12, |v| set(v, "processes.remaining", i(2))),
            vec![("expect.chaos.zombie_processes", false, vec!["processes.remaining = 2, expected lte 1"])]),
        // network_degradation_detected
        (json!({ "network_degradation_detected": true }), with(vec![span(14, Some(7), "clnrm.network.chaos", Status::Ok, (1100, 1300), &[("chaos.type", s("network_latency")), ("chaos.observed", b(true)), ("network.degraded", b(true))])]),
            vec![("expect.chaos.network_degradation_detected", true, vec!["1 span(s) observed the network degraded (span ids 14)"])]),
        (json!({ "network_degradation_detected": true }), with(vec![span(14, Some(7), "clnrm.network.chaos", Status::Error, (1100, 1300), &[("chaos.type", s("network_latency")), ("chaos.observed", b(false))])]),
            vec![("expect.chaos.network_degradation_detected", false, vec!["(1 clnrm.network.* span(s) in the trace): no network degradation was observed"])]),
    ];
    run_cases(check_chaos, cases);
}

#[test]
fn resource_cleanup_complete_is_true_and_other_strings_are_errors() {
    let cfg = |v: serde_json::Value| parse_chaos(&json!({ "resource_cleanup": v }));
    assert!(cfg(json!("complete")).unwrap().resource_cleanup);
    assert!(!cfg(json!(false)).unwrap().resource_cleanup);
    let e = cfg(json!("done")).unwrap_err();
    assert!(format!("{e:?}").contains("complete"), "{e:?}");
}
