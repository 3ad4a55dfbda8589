//! hang and slow_start on the SDK's fake host.

use super::ChaosTimeout;
use clnrm_sdk::fake::{self, injection};
use clnrm_sdk::prelude::*;

fn setup() {
    fake::reset(5);
    fake::with(|h| {
        h.services(&["app", "db"]);
    });
}

fn inject(json: &str) -> Result<Outcome, String> {
    ChaosTimeout::inject(injection(json, &["app", "db"]))
}

#[test]
fn hang_freezes_for_its_duration_then_thaws() {
    setup();
    let out = inject(r#"{"type":"hang","delay_ms":300,"duration_ms":2000}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        assert_eq!(h.first_call_at("container.pause app"), Some(300));
        let thaw = h.first_call_at("container.unpause app").unwrap();
        assert!((2300..2400).contains(&thaw), "thawed at {thaw}");
        let s = h.span("clnrm.timeout.hang").unwrap();
        assert!(s.ok());
        assert!(s.has_event("processes.frozen"));
        let held: u64 = s.attr("hang.frozen.observed_ms").unwrap().parse().unwrap();
        assert!(held >= 2000, "{held}");
        assert_eq!(h.containers["app"].status, "running");
    });
}

#[test]
fn hang_stopped_while_frozen_is_reported_not_thawed() {
    setup();
    // A step's timeout kills the frozen container 500 ms into the hang.
    fake::with(|h| {
        h.at(500, |h| h.exit("app", 137));
    });
    let out = inject(r#"{"type":"hang","duration_ms":5000}"#).unwrap();
    assert!(
        out.summary.contains("stopped while frozen"),
        "{}",
        out.summary
    );
    fake::with(|h| {
        assert!(
            h.calls_to("container.unpause").is_empty(),
            "nothing to thaw"
        );
        let s = h.span("clnrm.timeout.hang").unwrap();
        assert!(s.has_event("container.stopped_while_frozen"));
        assert_eq!(s.attr("hang.thawed").as_deref(), Some("false"));
        assert_eq!(s.attr("container.exit_code").as_deref(), Some("137"));
        // Noticed within one 100 ms slice.
        assert!(h.now_ms < 700, "{}", h.now_ms);
    });
}

#[test]
fn hang_of_a_stopped_target_is_not_attempted() {
    setup();
    fake::with(|h| h.exit("db", 1));
    let err = inject(r#"{"type":"hang","target":"db"}"#).unwrap_err();
    assert!(err.contains("already exited"), "{err}");
    fake::with(|h| assert!(h.calls_to("container.pause").is_empty()));
}

#[test]
fn slow_start_holds_the_first_step_before_anything_else() {
    setup();
    let out = inject(r#"{"type":"slow_start","delay_ms":1500,"target":"db"}"#).unwrap();
    assert!(out.observed);
    fake::with(|h| {
        assert_eq!(
            h.calls[0], "scenario.hold_first_step db 1500",
            "the first call"
        );
        let s = h.span("clnrm.timeout.slow_start").unwrap();
        assert_eq!(s.attr("slow_start.measured_ms").as_deref(), Some("1500"));
        assert!(s.has_event("step.released"));
    });
}

#[test]
fn slow_start_held_too_briefly_is_not_claimed() {
    setup();
    fake::with(|h| h.held_ms = Some(200));
    let err = inject(r#"{"type":"slow_start","delay_ms":1000}"#).unwrap_err();
    assert!(err.contains("held 200 ms, less than 1000 ms"), "{err}");
    fake::with(|h| assert!(!h.span("clnrm.timeout.slow_start").unwrap().ok()));
}

#[test]
fn slow_start_of_an_unknown_service_fails_with_the_hosts_reason() {
    setup();
    let err = inject(r#"{"type":"slow_start","delay_ms":10,"target":"nope"}"#).unwrap_err();
    assert!(err.contains("not a service of scenario"), "{err}");
}

#[test]
fn only_working_fault_types_are_declared() {
    let info = ChaosTimeout::describe();
    assert_eq!(info.handles, ["hang", "slow_start"]);
    assert!(ChaosTimeout::check("clock_skew", r#"{"type":"clock_skew"}"#).is_err());
    let e = ChaosTimeout::check("hang", r#"{"type":"hang","duraton_ms":5}"#).unwrap_err();
    assert!(e.to_string().contains("duration_ms"), "{e}");
    let e = ChaosTimeout::check("slow_start", r#"{"type":"slow_start"}"#).unwrap_err();
    assert!(e.to_string().contains("delay_ms"), "{e}");
}
