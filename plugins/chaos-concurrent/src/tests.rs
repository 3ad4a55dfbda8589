//! Composition faults on the SDK's fake host: the cascade walked through `depends_on`, the
//! monkey's seeded strikes, concurrent faults. Composed faults run on the fake (a
//! `kill_container` stops its target), or as a test's hook says.

use super::ChaosConcurrent;
use clnrm_sdk::chaos::clnrm::chaos::compose::{Composed, Fault};
use clnrm_sdk::chaos::clnrm::chaos::types::AttrValue;
use clnrm_sdk::fake::{self, injection, FakeHost};
use clnrm_sdk::prelude::*;

const SERVICES: [&str; 4] = ["db", "api", "web", "cache"];

/// db <- api <- web (web depends on api, api on db); cache stands alone.
fn setup(seed: u64) {
    fake::reset(seed);
    fake::with(|h| {
        h.services(&SERVICES)
            .depends("api", "db")
            .depends("web", "api");
    });
}

fn inject(json: &str) -> Result<Outcome, String> {
    ChaosConcurrent::inject(injection(json, &SERVICES))
}

#[test]
fn cascade_follows_dependents_that_fail_to_its_depth() {
    setup(1);
    fake::with(|h| {
        h.at(200, |h| h.exit("api", 1));
        h.at(450, |h| h.exit("web", 1));
    });
    let out = inject(r#"{"type":"cascade_failure","root":"db"}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        assert_eq!(
            h.calls_to("compose.run"),
            [r#"compose.run kill_container {"target":"db","type":"kill_container"}"#]
        );
        let s = h.span("clnrm.failure.cascade").unwrap();
        assert!(s.ok());
        assert_eq!(s.attr("cascade.depth").as_deref(), Some("3"));
        assert_eq!(s.attr("cascade.path").as_deref(), Some("db -> api -> web"));
        assert_eq!(s.attr("cascade.detected").as_deref(), Some("true"));
        let failed = s
            .events
            .iter()
            .filter(|(n, _)| n == "cascade.failed")
            .count();
        assert_eq!(failed, 3);
    });
}

/// A step of `service` that ended at `ms` (run clock), passed or not.
fn step_ends(ms: u64, index: u32, service: &str, passed: bool, code: i64) {
    fake::with(|h| {
        h.finished_steps.push(scenario::FinishedStep {
            index,
            name: format!("s/{service}"),
            service: service.into(),
            passed,
            exit_code: Some(code),
            ended_ms: ms,
        })
    });
}

/// The `cascade.failed` events' attributes, by service, in order.
fn failures(h: &FakeHost) -> Vec<(String, Vec<(String, String)>)> {
    let s = h.span("clnrm.failure.cascade").unwrap();
    s.events
        .iter()
        .filter(|(n, _)| n == "cascade.failed")
        .map(|(_, attrs)| {
            let kv: Vec<(String, String)> = attrs
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        AttrValue::Str(s) => s.clone(),
                        AttrValue::Int(i) => i.to_string(),
                        other => format!("{other:?}"),
                    };
                    (k.clone(), v)
                })
                .collect();
            let svc = kv.iter().find(|(k, _)| k == "service").unwrap().1.clone();
            (svc, kv)
        })
        .collect()
}

fn has(kv: &[(String, String)], k: &str, v: &str) -> bool {
    kv.iter().any(|(a, b)| a == k && b == v)
}

#[test]
fn a_dependent_whose_step_fails_after_its_cause_is_in_the_cascade() {
    setup(1);
    // api's container lives on, but its step exits 1 once db is gone; web's
    // container then stops.
    step_ends(300, 0, "api", false, 1);
    fake::with(|h| {
        h.at(600, |h| h.exit("web", 3));
    });
    let out = inject(r#"{"type":"cascade_failure","root":"db"}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        let s = h.span("clnrm.failure.cascade").unwrap();
        assert_eq!(s.attr("cascade.depth").as_deref(), Some("3"));
        assert_eq!(s.attr("cascade.path").as_deref(), Some("db -> api -> web"));
        let f = failures(h);
        assert_eq!(f.len(), 3);
        let (api, web) = (&f[1].1, &f[2].1);
        assert!(has(api, "failed.by", "step"), "{api:?}");
        assert!(has(api, "step.name", "s/api"), "{api:?}");
        assert!(has(api, "exit.code", "1"), "{api:?}");
        assert!(has(api, "cascade.depth", "2"), "{api:?}");
        assert!(has(web, "failed.by", "stopped"), "{web:?}");
        assert!(has(web, "exit.code", "3"), "{web:?}");
    });
}

#[test]
fn a_step_that_failed_before_the_root_did_or_passed_is_not_the_cascade() {
    setup(1);
    // Failed before anything was struck (the fault waits 500 ms), or passed.
    step_ends(200, 0, "api", false, 1);
    step_ends(900, 1, "api", true, 0);
    let err = inject(
        r#"{"type":"cascade_failure","root":"db","delay_ms":500,"observe_timeout_ms":1000}"#,
    )
    .unwrap_err();
    assert!(err.contains("none of its dependents"), "{err}");
    fake::with(|h| {
        let s = h.span("clnrm.failure.cascade").unwrap();
        assert_eq!(s.attr("cascade.contained").as_deref(), Some("api"));
    });
}

#[test]
fn a_dependent_that_stays_up_contains_the_cascade() {
    setup(1);
    let err =
        inject(r#"{"type":"cascade_failure","root":"db","observe_timeout_ms":1000}"#).unwrap_err();
    assert!(
        err.contains("none of its dependents (api, web) failed within 1000 ms"),
        "{err}"
    );
    fake::with(|h| {
        let s = h.span("clnrm.failure.cascade").unwrap();
        assert_eq!(s.attr("cascade.contained").as_deref(), Some("api"));
        assert_eq!(s.attr("cascade.depth").as_deref(), Some("1"));
        assert!(!s.ok());
        assert!(
            (1000..1200).contains(&h.now_ms),
            "watched for the timeout: {}",
            h.now_ms
        );
    });
}

#[test]
fn cascade_stops_where_a_dependent_holds() {
    setup(1);
    fake::with(|h| {
        h.at(100, |h| h.exit("api", 1));
    });
    inject(r#"{"type":"cascade_failure","root":"db","observe_timeout_ms":800}"#).unwrap();
    fake::with(|h| {
        let s = h.span("clnrm.failure.cascade").unwrap();
        assert_eq!(s.attr("cascade.path").as_deref(), Some("db -> api"));
        assert_eq!(s.attr("cascade.contained").as_deref(), Some("web"));
    });
}

#[test]
fn cascade_needs_dependents_and_a_root_that_fails() {
    setup(1);
    let err = inject(r#"{"type":"cascade_failure","root":"cache"}"#).unwrap_err();
    assert!(err.contains("nothing to cascade to"), "{err}");
    fake::with(|h| assert!(h.calls_to("compose.run").is_empty()));

    setup(1);
    fake::with(|h| {
        h.on_compose = Some(Box::new(|_: &mut FakeHost, f: &Fault, _| {
            Ok(Composed {
                observed: false,
                summary: format!("{} missed", f.fault_type),
                plugin: "x".into(),
            })
        }))
    });
    let err = inject(r#"{"type":"cascade_failure","root":"db"}"#).unwrap_err();
    assert!(
        err.contains("the root did not fail") && err.contains("kill_container missed"),
        "{err}"
    );
}

fn monkey(seed: u64, rate: u32) -> (Result<Outcome, String>, Vec<String>) {
    setup(seed);
    let r = inject(&format!(
        r#"{{"type":"chaos_monkey","faults":["pause_container","kill_container"],"failure_rate_percent":{rate},"rounds":8,"interval_ms":100}}"#
    ));
    let calls = fake::with(|h| {
        h.calls_to("compose.run")
            .iter()
            .map(|c| c.to_string())
            .collect()
    });
    (r, calls)
}

#[test]
fn the_monkey_is_reproducible_from_the_seed() {
    let (a, calls_a) = monkey(11, 60);
    let (b, calls_b) = monkey(11, 60);
    assert_eq!(a.unwrap().summary, b.unwrap().summary);
    assert_eq!(calls_a, calls_b);
    let distinct: std::collections::BTreeSet<Vec<String>> =
        (0..6).map(|s| monkey(s, 60).1).collect();
    assert!(distinct.len() > 1, "the seed changes the strikes");
}

#[test]
fn the_monkey_never_strikes_a_service_it_killed() {
    for seed in 0..10 {
        let (r, calls) = monkey(seed, 100);
        let out = r.unwrap();
        let mut dead = Vec::new();
        for c in &calls {
            let target = c
                .split("\"target\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            assert!(
                !dead.contains(&target.to_string()),
                "seed {seed}: {target} struck after its kill: {calls:?}"
            );
            if c.contains("kill_container") {
                dead.push(target.to_string());
            }
        }
        fake::with(|h| {
            let s = h.span("clnrm.chaos.monkey").unwrap();
            assert_eq!(
                s.attr("monkey.strikes")
                    .map(|n| n.parse::<usize>().unwrap()),
                Some(calls.len())
            );
            assert_eq!(
                s.attr("monkey.down").map(|n| n.parse::<usize>().unwrap()),
                Some(dead.len())
            );
        });
        assert!(out.observed);
    }
}

#[test]
fn a_monkey_that_draws_no_strike_says_so() {
    let (r, calls) = monkey(3, 0);
    assert!(r.unwrap_err().contains("drew no strike in 8 rounds at 0 %"));
    assert!(calls.is_empty());
}

#[test]
fn a_strike_not_observed_fails_the_monkey() {
    setup(2);
    fake::with(|h| {
        h.on_compose = Some(Box::new(|_: &mut FakeHost, _: &Fault, _| {
            Err("docker: no such container".into())
        }))
    });
    let err = inject(r#"{"type":"chaos_monkey","faults":["pause_container"],"failure_rate_percent":100,"rounds":3,"interval_ms":10}"#).unwrap_err();
    assert!(
        err.contains("3 of 3 strikes not observed") && err.contains("no such container"),
        "{err}"
    );
}

#[test]
fn check_refuses_a_bad_composition() {
    let bad = |j: &str| ChaosConcurrent::check("chaos_monkey", j).is_err();
    assert!(bad(
        r#"{"type":"chaos_monkey","faults":[],"failure_rate_percent":50}"#
    ));
    assert!(bad(
        r#"{"type":"chaos_monkey","faults":["pause_container"],"failure_rate_percent":150}"#
    ));
    assert!(!bad(
        r#"{"type":"chaos_monkey","faults":["pause_container"],"failure_rate_percent":50}"#
    ));
    assert!(
        ChaosConcurrent::check("cascade_failure", r#"{"type":"cascade_failure"}"#).is_err(),
        "root is required"
    );
}

#[test]
fn concurrent_faults_run_together_and_each_must_be_observed() {
    setup(1);
    let json = r#"{"type":"concurrent_faults","delay_ms":100,"faults":[{"type":"kill_container","target":"db"},{"type":"pause_container","target":"web"}]}"#;
    let out = inject(json).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        let runs = h.calls_to("compose.run");
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert_eq!(h.first_call_at("compose.run"), Some(100));
        let s = h.span("clnrm.chaos.concurrent").unwrap();
        assert_eq!(s.attr("chaos.observed_count").as_deref(), Some("2"));
        assert_eq!(
            s.attr("chaos.types").as_deref(),
            Some("kill_container,pause_container")
        );
        assert!(!h.containers["db"].running);
    });

    // One of them fails: the whole injection says which.
    setup(1);
    fake::with(|h| h.exit("db", 0));
    let err = inject(json).unwrap_err();
    assert!(
        err.contains("1 of 2 concurrent faults failed") && err.contains("db"),
        "{err}"
    );
}

#[test]
fn stress_fails_every_target_at_once() {
    setup(1);
    let out = inject(r#"{"type":"concurrent_stress","targets":["db","web","cache"]}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        assert_eq!(h.calls_to("compose.run").len(), 3);
        assert!(["db", "web", "cache"]
            .iter()
            .all(|s| !h.containers[*s].running));
        assert!(h.containers["api"].running, "only the targets");
        let s = h.span("clnrm.stress.concurrent").unwrap();
        assert_eq!(s.attr("failures.total").as_deref(), Some("3"));
        assert_eq!(s.attr("containers.concurrent").as_deref(), Some("3"));
    });
    // A target already down is refused before anything is injected.
    setup(1);
    fake::with(|h| h.exit("web", 1));
    let err = inject(r#"{"type":"concurrent_stress","targets":["db","web"]}"#).unwrap_err();
    assert!(err.contains("`web` was already exited"), "{err}");
    fake::with(|h| assert!(h.calls_to("compose.run").is_empty()));
}
