//! Step timeouts (hard, graceful, graceful then SIGKILL), cascading bounds
//! and the absolute deadline: enforced on the container, observed in spans.

use super::*;
use crate::backend::fake::{Effect, Script};
use crate::engine::{CleanupTrigger, ErrorType};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn a_hard_timeout_kills_the_container_and_cleanup_follows_the_enforcement() {
    let fake = Arc::new(Fake::new());
    fake.script("sleep 30", Script::hang());
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "hard"
service = "app"
run = "sleep 30"
timeout_ms = 1000
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let st = &out.scenarios[0].steps[0];
    assert_eq!(
        (st.error_type, st.exit_code),
        (Some(ErrorType::Timeout), Some(137))
    );
    let step = span(&out, "clnrm.step:hard");
    assert_eq!(int_attr(step, "timeout.ms"), 1000);
    assert_eq!(str_attr(step, "timeout.source"), "timeout_ms");
    assert_error(step, "timeout (exit code 137)");
    let enforced = span(&out, "clnrm.timeout.enforced");
    assert_eq!(parent(&out, enforced), "clnrm.step:hard");
    assert_eq!(str_attr(enforced, "timeout.strategy"), "hard");
    assert!(bool_attr(enforced, "timeout.observed"));
    assert_eq!(int_attr(enforced, "container.exit_code"), 137);
    assert_ok(enforced);
    let hard = span(&out, "clnrm.timeout.hard");
    assert_eq!(parent(&out, hard), "clnrm.timeout.enforced");
    assert_eq!(str_attr(hard, "signal"), "SIGKILL");
    assert!(bool_attr(hard, "stopped"));
    assert!(!has_span(&out, "clnrm.timeout.graceful"));
    // Cleanup reacts to the enforcement that ended the step.
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(parent(&out, cleanup), "clnrm.timeout.enforced");
    assert_eq!(str_attr(cleanup, "cleanup.triggered"), "timeout");
    assert_eq!(out.scenarios[0].cleanup.triggered, CleanupTrigger::Timeout);
    assert_after(enforced, cleanup);
    let calls = fake.calls();
    assert!(at(&calls, "kill app SIGKILL") < at(&calls, "remove app"));
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_graceful_timeout_stops_with_sigterm_within_the_grace_period() {
    let fake = Arc::new(Fake::new());
    fake.script("sleep 30", Script::hang());
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "graceful"
service = "app"
run = "sleep 30"
timeout_ms = 1000
timeout_strategy = "graceful"
grace_period_ms = 2000
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    // The keep-alive traps SIGTERM and exits 0.
    assert_eq!(out.scenarios[0].steps[0].exit_code, Some(0));
    let enforced = span(&out, "clnrm.timeout.enforced");
    assert_eq!(str_attr(enforced, "timeout.strategy"), "graceful");
    assert_eq!(int_attr(enforced, "container.exit_code"), 0);
    let graceful = span(&out, "clnrm.timeout.graceful");
    assert_eq!(parent(&out, graceful), "clnrm.timeout.enforced");
    assert_eq!(str_attr(graceful, "signal"), "SIGTERM");
    assert_eq!(int_attr(graceful, "grace_period_ms"), 2000);
    assert!(bool_attr(graceful, "stopped"));
    assert_ok(graceful);
    assert!(!has_span(&out, "clnrm.timeout.hard"));
    let calls = fake.calls();
    assert!(calls.contains(&"kill app SIGTERM".to_string()));
    assert!(
        !calls.contains(&"kill app SIGKILL".to_string()),
        "{calls:?}"
    );
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn sigterm_ignored_falls_back_to_sigkill_after_the_grace_period() {
    let fake = Arc::new(Fake::new());
    fake.script("sleep 30", Script::hang());
    let out = run(
        &fake,
        r#"
# PID 1 with its own command and no TERM handler ignores SIGTERM.
[service.stubborn]
image = "clnrm-base:latest"
args = ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"]

[[scenario]]
name = "stubborn"
service = "stubborn"
run = "sleep 30"
timeout_ms = 1000
timeout_strategy = "graceful"
grace_period_ms = 500
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert_eq!(out.scenarios[0].steps[0].exit_code, Some(137));
    let graceful = span(&out, "clnrm.timeout.graceful");
    assert!(!bool_attr(graceful, "stopped"));
    assert_error(graceful, "still running after the grace period");
    let hard = span(&out, "clnrm.timeout.hard");
    assert_eq!(parent(&out, hard), "clnrm.timeout.enforced");
    assert!(bool_attr(hard, "stopped"));
    assert_after(graceful, hard);
    // The grace period was waited out in full before SIGKILL.
    assert!(hard.start_ns >= graceful.start_ns);
    let calls = fake.calls();
    assert!(at(&calls, "kill stubborn SIGTERM") < at(&calls, "kill stubborn SIGKILL"));
    assert_ok(span(&out, "clnrm.timeout.enforced"));
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn cascading_timeouts_stop_the_chain_at_the_first_breach() {
    let fake = Arc::new(Fake::new());
    fake.script("fast", Script::exit(0).after(Duration::from_millis(200)));
    fake.script("slow", Script::hang());
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "cascade"
service = "app"
steps = [
  { name = "cascade_fast", run = "fast", timeout_ms = 1000 },
  { name = "cascade_slow", run = "slow", timeout_ms = 800 },
  { name = "cascade_never", run = "true", timeout_ms = 1000 },
]
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let steps = &out.scenarios[0].steps;
    assert_eq!(steps.len(), 2);
    assert!(!steps[0].failed());
    assert_eq!(steps[1].error_type, Some(ErrorType::Timeout));
    assert_eq!(
        int_attr(span(&out, "clnrm.step:cascade_slow"), "timeout.ms"),
        800
    );
    assert!(!has_span(&out, "clnrm.step:cascade_never"));
    assert_eq!(
        parent(&out, span(&out, "clnrm.cleanup")),
        "clnrm.timeout.enforced"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_counts_from_the_scenario_start_across_steps() {
    let fake = Arc::new(Fake::new());
    fake.script("first", Script::exit(0).after(Duration::from_secs(1)));
    fake.script("second", Script::hang());
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "deadline"
service = "app"
deadline_ms = 2500
steps = [
  { name = "deadline_first", run = "first" },
  { name = "deadline_second", run = "second" },
]
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let second = span(&out, "clnrm.step:deadline_second");
    // 2.5 s from the start, 1 s spent on the first step: 1.5 s left. The
    // configured deadline is the stable attribute; what was left is volatile.
    assert_eq!(int_attr(second, "deadline.ms"), 2500);
    assert_eq!(int_attr(second, "deadline.left_ms"), 1500);
    assert!(second.attr("timeout.ms").is_none());
    assert_eq!(str_attr(second, "timeout.source"), "deadline_ms");
    assert!(!has_span(&out, "clnrm.timeout.enforced"));
    let enforced = span(&out, "clnrm.deadline.enforced");
    assert_eq!(parent(&out, enforced), "clnrm.step:deadline_second");
    assert_eq!(int_attr(enforced, "deadline.ms"), 2500);
    assert_eq!(int_attr(enforced, "deadline.left_ms"), 1500);
    assert_eq!(str_attr(enforced, "timeout.source"), "deadline_ms");
    assert_eq!(
        parent(&out, span(&out, "clnrm.cleanup")),
        "clnrm.deadline.enforced"
    );
    assert_eq!(out.scenarios[0].cleanup.triggered, CleanupTrigger::Timeout);
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_step_timeout_tighter_than_the_deadline_wins() {
    let fake = Arc::new(Fake::new());
    fake.script("slow", Script::then(Duration::from_secs(5), Effect::Exit));
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "tight"
service = "app"
deadline_ms = 3000
steps = [{ name = "tight", run = "slow", timeout_ms = 700 }]
expect_failure = true
"#,
    )
    .await;
    let step = span(&out, "clnrm.step:tight");
    assert_eq!(int_attr(step, "timeout.ms"), 700);
    assert_eq!(str_attr(step, "timeout.source"), "timeout_ms");
    assert!(has_span(&out, "clnrm.timeout.enforced"));
    assert!(out.passed);
}
