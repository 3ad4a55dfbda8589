//! The container faults on the SDK's fake host: what they call, when, and what their
//! spans claim, for the cases Docker would make slow or hard to arrange.

use super::ChaosContainer;
use clnrm_sdk::fake::{self, injection};
use clnrm_sdk::prelude::*;

fn inject(json: &str) -> Result<Outcome, String> {
    ChaosContainer::inject(injection(json, &["app", "db"]))
}

fn setup(seed: u64) {
    fake::reset(seed);
    fake::with(|h| {
        h.services(&["app", "db"]);
    });
}

#[test]
fn kill_waits_its_delay_then_observes_exit_137() {
    setup(1);
    let out = inject(r#"{"type":"kill_container","delay_ms":500}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        assert_eq!(h.calls_to("container.kill"), ["container.kill app SIGKILL"]);
        assert_eq!(h.first_call_at("container.kill"), Some(500));
        let s = h.span("clnrm.chaos.kill").unwrap();
        assert!(s.ok(), "{s:?}");
        assert_eq!(s.attr("container.exit_code").as_deref(), Some("137"));
        assert_eq!(s.attr("chaos.observed").as_deref(), Some("true"));
        assert!(s.has_event("signal.sent"));
        assert!(!h.containers["app"].running);
        assert!(h.containers["db"].running, "only the target is killed");
    });
}

#[test]
fn kill_of_a_service_that_survives_the_signal_is_not_observed() {
    setup(1);
    fake::with(|h| {
        h.containers
            .get_mut("db")
            .unwrap()
            .ignores
            .push("SIGTERM".into())
    });
    let err = inject(
        r#"{"type":"kill_container","signal":"SIGTERM","target":"db","observe_timeout_ms":300}"#,
    )
    .unwrap_err();
    assert!(err.contains("still running 300 ms after SIGTERM"), "{err}");
    fake::with(|h| {
        let s = h.span("clnrm.chaos.kill").unwrap();
        assert!(!s.ok());
        assert_eq!(s.attr("chaos.observed").as_deref(), Some("false"));
        // It polled until the timeout, no longer.
        assert!((300..400).contains(&h.now_ms), "{}", h.now_ms);
    });
}

#[test]
fn kill_refuses_a_target_already_stopped() {
    setup(1);
    fake::with(|h| h.exit("app", 0));
    let err = inject(r#"{"type":"kill_container"}"#).unwrap_err();
    assert!(err.contains("already exited"), "{err}");
    fake::with(|h| assert!(h.calls_to("container.kill").is_empty()));
}

#[test]
fn sigkill_with_another_exit_code_is_not_claimed() {
    setup(1);
    // The process survives the signal but then exits 0 on its own: not a SIGKILL death.
    fake::with(|h| {
        h.containers
            .get_mut("app")
            .unwrap()
            .ignores
            .push("SIGKILL".into());
        h.at(100, |h| h.exit("app", 0));
    });
    let err = inject(r#"{"type":"kill_container"}"#).unwrap_err();
    assert!(err.contains("exit code 0, not 137"), "{err}");
}

#[test]
fn kill_jitter_is_drawn_from_the_seed() {
    let jitter = |seed| {
        setup(seed);
        inject(r#"{"type":"kill_container","delay_ms":100,"jitter_ms":1000}"#).unwrap();
        fake::with(|h| {
            let j: u64 = h
                .span("clnrm.chaos.kill")
                .unwrap()
                .attr("delay.jitter_ms")
                .unwrap()
                .parse()
                .unwrap();
            assert!(j <= 1000);
            assert_eq!(h.first_call_at("container.kill"), Some(100 + j));
            j
        })
    };
    assert_eq!(jitter(7), jitter(7), "same seed, same jitter");
    let draws: std::collections::BTreeSet<u64> = (0..8).map(jitter).collect();
    assert!(draws.len() > 1, "the seed matters: {draws:?}");
}

#[test]
fn random_target_is_a_seeded_pick_among_the_services() {
    let pick = |seed| {
        setup(seed);
        inject(r#"{"type":"kill_container","target":"random"}"#).unwrap();
        fake::with(|h| h.calls_to("container.kill")[0].to_string())
    };
    assert_eq!(pick(3), pick(3));
    let picks: std::collections::BTreeSet<String> = (0..16).map(pick).collect();
    assert_eq!(picks.len(), 2, "both services get picked: {picks:?}");
}

#[test]
fn stop_is_graceful_when_the_signal_works() {
    setup(1);
    let out = inject(r#"{"type":"stop_container","grace_period_ms":1000}"#).unwrap();
    assert!(
        out.summary.contains("within the grace period"),
        "{}",
        out.summary
    );
    fake::with(|h| {
        assert_eq!(h.calls_to("container.kill"), ["container.kill app SIGTERM"]);
        let s = h.span("clnrm.chaos.stop").unwrap();
        assert_eq!(s.attr("stop.graceful").as_deref(), Some("true"));
        assert_eq!(s.attr("container.exit_code").as_deref(), Some("143"));
    });
}

#[test]
fn stop_escalates_to_sigkill_after_the_grace_period() {
    setup(1);
    fake::with(|h| {
        h.containers
            .get_mut("app")
            .unwrap()
            .ignores
            .push("SIGTERM".into())
    });
    let out = inject(r#"{"type":"stop_container","grace_period_ms":1000}"#).unwrap();
    assert!(out.summary.contains("was SIGKILLed"), "{}", out.summary);
    fake::with(|h| {
        assert_eq!(
            h.calls_to("container.kill"),
            ["container.kill app SIGTERM", "container.kill app SIGKILL"]
        );
        let t = h.first_call_at("container.kill app SIGKILL").unwrap();
        assert!((1000..1100).contains(&t), "SIGKILL at {t}");
        let s = h.span("clnrm.chaos.stop").unwrap();
        assert!(s.has_event("grace.expired"));
        assert_eq!(s.attr("stop.graceful").as_deref(), Some("false"));
        assert_eq!(s.attr("container.exit_code").as_deref(), Some("137"));
    });
}

#[test]
fn pause_holds_for_its_duration_then_resumes() {
    setup(1);
    let out = inject(r#"{"type":"pause_container","delay_ms":200,"duration_ms":1500}"#).unwrap();
    assert!(out.observed);
    fake::with(|h| {
        assert_eq!(h.first_call_at("container.pause"), Some(200));
        assert_eq!(h.first_call_at("container.unpause"), Some(1700));
        let s = h.span("clnrm.chaos.pause").unwrap();
        assert!(s.ok());
        assert!(s.has_event("container.paused") && s.has_event("container.resumed"));
        assert!(h.containers["app"].running);
        assert_eq!(h.containers["app"].status, "running");
    });
}

#[test]
fn check_judges_each_table_and_refuses_other_types() {
    assert!(ChaosContainer::check(
        "kill_container",
        r#"{"type":"kill_container","signal":"SIGTERM"}"#
    )
    .is_ok());
    let e = ChaosContainer::check(
        "kill_container",
        r#"{"type":"kill_container","signal":"SIGNOPE"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("signal"), "{e}");
    let e = ChaosContainer::check(
        "stop_container",
        r#"{"type":"stop_container","grace_ms":5}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("grace_period_ms"),
        "did you mean: {e}"
    );
    assert!(ChaosContainer::check("clock_skew", r#"{"type":"clock_skew"}"#).is_err());
    let info = ChaosContainer::describe();
    assert_eq!(
        info.handles,
        ["kill_container", "stop_container", "pause_container"]
    );
}
