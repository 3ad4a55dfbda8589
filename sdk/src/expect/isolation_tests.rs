//! Table-driven tests of `[expect.isolation]`.

use serde_json::json;

use super::*;
use crate::expect::model::Status;
use crate::expect::rules::fixture::{
    self, b, edited, i, run_cases, run_config_errors, s, set, span, unset, without, Case,
};

#[test]
fn isolation_table() {
    let all = json!({ "unique_container_ids": true, "no_persistent_state": true, "cleanup_verified": true });
    let cases: Vec<Case> = vec![
        (
            all.clone(),
            fixture::trace(),
            vec![
                ("expect.isolation.unique_container_ids", true, vec!["2 clnrm.service.start span(s) carry distinct container.id values (span ids 2, 8)"]),
                ("expect.isolation.no_persistent_state", true, vec!["2 clnrm.cleanup.verification span(s) report volumes.remaining = 0 and containers.remaining = 0 (span ids 5, 12)"]),
                ("expect.isolation.cleanup_verified", true, vec!["2 clnrm.scenario span(s) have a clnrm.cleanup.verification descendant with verification.clean = true (span ids 1, 7)"]),
            ],
        ),
        // unique_container_ids
        (
            json!({ "unique_container_ids": true }),
            edited(8, |s8| set(s8, "container.id", s("c1"))),
            vec![("expect.isolation.unique_container_ids", false, vec!["1 duplicate container.id value(s) among 2 clnrm.service.start span(s): span #8 \"clnrm.service.start\" (parent \"clnrm.scenario\"): container.id \"c1\" is also on span #2 \"clnrm.service.start\" (parent \"clnrm.scenario\")"])],
        ),
        (
            // a service that never started is not compared
            json!({ "unique_container_ids": true }),
            edited(8, |s8| unset(s8, "container.id")),
            vec![("expect.isolation.unique_container_ids", true, vec!["1 clnrm.service.start span(s) carry distinct container.id values (span ids 2)"])],
        ),
        (
            json!({ "unique_container_ids": true }),
            edited(8, |s8| set(s8, "container.id", s(""))),
            vec![("expect.isolation.unique_container_ids", true, vec!["span ids 2)"])],
        ),
        (
            json!({ "unique_container_ids": true }),
            without(&[2, 8]),
            vec![("expect.isolation.unique_container_ids", false, vec!["no \"clnrm.service.start\" span carries a container.id: no container started"])],
        ),
        (
            // a step's container.id does not count: only service starts are compared
            json!({ "unique_container_ids": true }),
            edited(9, |st| set(st, "container.id", s("c1"))),
            vec![("expect.isolation.unique_container_ids", true, vec![])],
        ),
        // no_persistent_state
        (
            json!({ "no_persistent_state": true }),
            edited(12, |v| {
                set(v, "volumes.remaining", i(2));
                set(v, "containers.remaining", i(1));
            }),
            vec![("expect.isolation.no_persistent_state", false, vec!["1 of 2 clnrm.cleanup.verification span(s) fail: span #12 \"clnrm.cleanup.verification\" (parent \"clnrm.cleanup\"): volumes.remaining = 2, expected 0 and containers.remaining = 1, expected 0 (scenario \"killed\")"])],
        ),
        (
            json!({ "no_persistent_state": true }),
            edited(5, |v| unset(v, "volumes.remaining")),
            vec![("expect.isolation.no_persistent_state", false, vec!["span #5", "volumes.remaining missing (unknown counts as a leak), expected 0 (scenario \"ok\")"])],
        ),
        (
            // networks and processes are hermeticity's business
            json!({ "no_persistent_state": true }),
            edited(5, |v| set(v, "networks.remaining", i(3))),
            vec![("expect.isolation.no_persistent_state", true, vec![])],
        ),
        (
            json!({ "no_persistent_state": true }),
            without(&[5, 12]),
            vec![("expect.isolation.no_persistent_state", false, vec!["no \"clnrm.cleanup.verification\" span in the trace"])],
        ),
        // cleanup_verified
        (
            json!({ "cleanup_verified": true }),
            edited(12, |v| set(v, "verification.clean", b(false))),
            vec![("expect.isolation.cleanup_verified", false, vec!["1 of 2 clnrm.scenario span(s) fail: span #7 \"clnrm.scenario\" (parent \"clnrm.run\"): its verification span #12 \"clnrm.cleanup.verification\" (parent \"clnrm.cleanup\") has verification.clean = false, expected true (scenario \"killed\")"])],
        ),
        (
            json!({ "cleanup_verified": true }),
            edited(5, |v| unset(v, "verification.clean")),
            vec![("expect.isolation.cleanup_verified", false, vec!["span #1", "has verification.clean missing, expected true (scenario \"ok\")"])],
        ),
        (
            json!({ "cleanup_verified": true }),
            edited(5, |v| set(v, "verification.clean", s("true"))),
            vec![("expect.isolation.cleanup_verified", true, vec![])],
        ),
        (
            json!({ "cleanup_verified": true }),
            without(&[5]),
            vec![("expect.isolation.cleanup_verified", false, vec!["1 of 2 clnrm.scenario span(s) fail: span #1 \"clnrm.scenario\" (parent \"clnrm.run\"): no clnrm.cleanup.verification descendant (scenario \"ok\")"])],
        ),
        (
            // one scenario's verification does not vouch for another
            json!({ "cleanup_verified": true }),
            edited(12, |v| v.parent = Some(4)),
            vec![("expect.isolation.cleanup_verified", false, vec!["span #7", "no clnrm.cleanup.verification descendant (scenario \"killed\")"])],
        ),
        (
            json!({ "cleanup_verified": true }),
            without(&[1, 7]),
            vec![("expect.isolation.cleanup_verified", false, vec!["no \"clnrm.scenario\" span in the trace"])],
        ),
    ];
    run_cases(check_isolation, cases);
}

#[test]
fn cleanup_verified_survives_parent_cycles() {
    // 1 -> 2 -> 1: a malformed trace must not hang the check.
    let spans = vec![
        span(1, Some(2), "clnrm.scenario", Status::Ok, (0, 1), &[]),
        span(
            2,
            Some(1),
            "clnrm.cleanup.verification",
            Status::Ok,
            (0, 1),
            &[("verification.clean", b(true))],
        ),
        span(3, Some(4), "clnrm.scenario", Status::Ok, (0, 1), &[]),
        span(4, Some(3), "x", Status::Ok, (0, 1), &[]),
    ];
    let f = check_isolation(&json!({ "cleanup_verified": true }), &Trace::new(spans)).unwrap();
    assert!(!f[0].passed);
    assert!(f[0].message.contains("span #3"), "{}", f[0].message);
}

#[test]
fn isolation_config_errors() {
    run_config_errors(
        "expect.isolation",
        check_isolation,
        vec![
            (json!({ "unique_container_id": true }), vec!["expect.isolation: unknown key \"unique_container_id\"; did you mean \"unique_container_ids\"?", "(valid: unique_container_ids, no_persistent_state, cleanup_verified)"]),
            (json!({}), vec!["expect.isolation: an empty table checks nothing; give at least one of unique_container_ids, no_persistent_state, cleanup_verified"]),
            (json!(true), vec!["expect.isolation: expected a table ([expect.isolation]), found boolean true"]),
            (json!({ "cleanup_verified": "true" }), vec!["expect.isolation.cleanup_verified: expected a boolean, found string \"true\""]),
            (json!({ "no_persistent_state": 0 }), vec!["expect.isolation.no_persistent_state: expected a boolean, found integer 0"]),
        ],
    );
    assert_eq!(
        parse_isolation(&json!({ "unique_container_ids": true, "cleanup_verified": false }))
            .unwrap(),
        IsolationExpectation {
            unique_container_ids: true,
            no_persistent_state: false,
            cleanup_verified: false
        }
    );
}
