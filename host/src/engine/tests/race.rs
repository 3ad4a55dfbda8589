//! Timeout races: a step whose command ends (or whose container dies) at the
//! very moment its bound fires has exactly one outcome, and a trace that
//! agrees with it.

use super::*;
use crate::backend::fake::{Effect, Script};
use crate::engine::ErrorType;
use crate::trace::SpanStatus;
use std::time::Duration;

/// Every invariant a timeout trace must keep; Err names the first broken one.
pub(super) fn check_consistent(out: &SuiteOutcome) -> Result<(), String> {
    let spans = &out.spans;
    if let Some(s) = spans.iter().find(|s| s.end_ns.is_none()) {
        return Err(format!("`{}` never ended", s.name));
    }
    let children = |id, name: &str| -> Vec<&SpanData> {
        spans
            .iter()
            .filter(|s| s.parent == Some(id) && s.name == name)
            .collect()
    };
    for sc in spans.iter().filter(|s| s.name == "clnrm.scenario") {
        let outcome = out
            .scenarios
            .iter()
            .find(|o| Some(&AttrValue::Str(o.name.clone())) == sc.attr("scenario.name"))
            .ok_or("a scenario span without its outcome")?;
        let in_scenario = |s: &SpanData| {
            let mut p = s.parent;
            while let Some(id) = p {
                if id == sc.id {
                    return true;
                }
                p = spans.iter().find(|x| x.id == id).and_then(|x| x.parent);
            }
            false
        };
        let cleanups: Vec<_> = spans
            .iter()
            .filter(|s| s.name == "clnrm.cleanup" && in_scenario(s))
            .collect();
        let [cleanup] = cleanups.as_slice() else {
            return Err(format!("{} cleanup spans, expected 1", cleanups.len()));
        };
        if cleanup.status != SpanStatus::Ok {
            return Err("cleanup did not succeed".into());
        }
        let mut timed_out = None;
        for step in spans
            .iter()
            .filter(|s| s.name.starts_with("clnrm.step:") && s.parent == Some(sc.id))
        {
            let enforced = children(step.id, "clnrm.timeout.enforced");
            let is_timeout = step.attr("error.type") == Some(&AttrValue::Str("timeout".into()));
            match (is_timeout, enforced.as_slice()) {
                (true, [e]) => {
                    if e.status != SpanStatus::Ok
                        || e.attr("timeout.observed") != Some(&AttrValue::Bool(true))
                    {
                        return Err(format!("`{}`: enforcement not observed", step.name));
                    }
                    timed_out = Some(e.id);
                }
                (false, []) => {}
                (t, e) => {
                    return Err(format!(
                        "`{}`: timeout = {t} with {} enforcement spans",
                        step.name,
                        e.len()
                    ))
                }
            }
            let passed = step.attr("result") == Some(&AttrValue::Str("pass".into()));
            if passed != (step.status == SpanStatus::Ok) {
                return Err(format!("`{}`: result and status disagree", step.name));
            }
            let reported = outcome.steps.iter().find(|o| step.name.ends_with(&o.name));
            if reported.map(|o| o.error_type == Some(ErrorType::Timeout)) != Some(is_timeout) {
                return Err(format!("`{}`: outcome and trace disagree", step.name));
            }
        }
        let triggered = cleanup.attr("cleanup.triggered").map(|v| v.to_string());
        match timed_out {
            Some(e) if cleanup.parent != Some(e) || triggered.as_deref() != Some("timeout") => {
                return Err("a timeout whose cleanup is not under its enforcement".into())
            }
            None if triggered.as_deref() == Some("timeout") => {
                return Err("cleanup triggered by a timeout nobody enforced".into())
            }
            _ => {}
        }
    }
    Ok(())
}

/// The step's container is SIGKILLed at 1000 ms (a chaos kill landing on the
/// deadline) and Docker reports it on the exec's stream `lag` later.
async fn kill_at_the_bound(timeout_ms: u64, lag_ms: u64) -> SuiteOutcome {
    let fake = Arc::new(Fake::new());
    fake.script(
        "work",
        Script::then(Duration::from_millis(1000), Effect::KillContainer)
            .reported_after(Duration::from_millis(lag_ms)),
    );
    let out = run(
        &fake,
        &format!(
            r#"
[[scenario]]
name = "race"
service = "app"
run = "work"
timeout_ms = {timeout_ms}
expect_failure = true
"#
        ),
    )
    .await;
    assert_nothing_left(&fake);
    out
}

#[tokio::test(start_paused = true)]
async fn fifty_races_each_have_one_outcome_and_a_consistent_trace() {
    let (mut timeouts, mut kills, mut ties) = (0, 0, 0);
    // Bounds from 25 ms before the kill to 25 ms after it, which Docker
    // reports 10 ms late: both sides of the race, and the tie in between.
    for i in 0..50u64 {
        let bound = 975 + i;
        let out = kill_at_the_bound(bound, 10).await;
        assert!(out.passed, "bound {bound}: {:?}", out.scenarios[0].reason);
        if let Err(e) = check_consistent(&out) {
            panic!("bound {bound}: inconsistent trace: {e}\n{:#?}", names(&out));
        }
        let step = span(&out, "clnrm.step:race");
        match out.scenarios[0].steps[0].error_type {
            Some(ErrorType::Timeout) => {
                assert!(
                    bound < 1000,
                    "bound {bound}: the container was already dead"
                );
                timeouts += 1;
            }
            Some(ErrorType::ContainerKilled) => {
                assert!(bound >= 1000, "bound {bound}: killed before the kill");
                assert_eq!(int_attr(step, "exit.code"), 137);
                // The timer fired but found the container dead: recorded.
                let tie = bound < 1010;
                assert_eq!(step.attr("timeout.race").is_some(), tie, "bound {bound}");
                if tie {
                    assert_eq!(str_attr(step, "timeout.race"), "container_stopped_first");
                    ties += 1;
                }
                kills += 1;
            }
            other => panic!("bound {bound}: {other:?}"),
        }
    }
    assert_eq!((timeouts, kills, ties), (25, 25, 10));
}

#[tokio::test(start_paused = true)]
async fn a_command_ending_exactly_at_its_bound_passes_without_enforcement() {
    let fake = Arc::new(Fake::new());
    fake.script("work", Script::exit(0).after(Duration::from_millis(1000)));
    let body = r#"
[[scenario]]
name = "tie"
service = "app"
run = "work"
timeout_ms = 1000
"#;
    for _ in 0..50 {
        let out = run(&fake, body).await;
        assert!(out.passed, "{:?}", out.scenarios[0].reason);
        check_consistent(&out).unwrap();
        assert!(!has_span(&out, "clnrm.timeout.enforced"));
    }
}

#[tokio::test(start_paused = true)]
async fn enforcement_that_outlasts_max_duration_is_not_cut_off_by_the_safety_net() {
    // A stubborn PID 1, a grace period as long as the safety slack: the
    // enforcement ends after max_duration + 10 s. It must still finish, and
    // cleanup must react to it.
    let fake = Arc::new(Fake::new());
    fake.script("sleep 30", Script::hang());
    let out = run(
        &fake,
        r#"
[service.stubborn]
image = "clnrm-base:latest"
args = ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"]

[[scenario]]
name = "long_grace"
service = "stubborn"
run = "sleep 30"
timeout_strategy = "graceful"
grace_period_ms = 12000
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    check_consistent(&out).unwrap();
    let enforced = span(&out, "clnrm.timeout.enforced");
    assert_eq!(str_attr(enforced, "timeout.source"), "max_duration_seconds");
    assert_eq!(
        parent(&out, span(&out, "clnrm.cleanup")),
        "clnrm.timeout.enforced"
    );
}
