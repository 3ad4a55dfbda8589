//! What a scenario's steps make of its verdict.

use super::*;
use crate::backend::fake::{Effect, Script};
use crate::engine::{CleanupTrigger, ErrorType, StepResult};
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn a_passing_step_passes_and_everything_is_removed() {
    let fake = Arc::new(Fake::new());
    fake.script("echo hi", Script::exit(0).stdout("hi\n"));
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "ok"
service = "app"
run = "echo hi"
network = "own"   # the test is about the scenario network too
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let sc = &out.scenarios[0];
    assert_eq!(sc.steps[0].result, StepResult::Pass);
    assert_eq!(sc.steps[0].stdout, "hi\n");
    assert_eq!(sc.cleanup.triggered, CleanupTrigger::Success);
    assert_eq!(
        names(&out),
        [
            "clnrm.run",
            "clnrm.scenario",
            "clnrm.service.start",
            "clnrm.step:ok",
            "clnrm.cleanup",
            "clnrm.cleanup.verification",
            "clnrm.recovery",
        ]
    );
    let step = span(&out, "clnrm.step:ok");
    assert_eq!(parent(&out, step), "clnrm.scenario");
    assert_eq!(str_attr(step, "result"), "pass");
    assert_eq!(int_attr(step, "exit.code"), 0);
    assert!(!bool_attr(step, "degraded"));
    assert_ok(step);
    // No step failed: cleanup hangs under the scenario.
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(parent(&out, cleanup), "clnrm.scenario");
    assert_eq!(str_attr(cleanup, "cleanup.triggered"), "success");
    assert_eq!(int_attr(cleanup, "containers.removed"), 1);
    assert_eq!(int_attr(cleanup, "networks.removed"), 1);
    assert_ok(cleanup);
    let verification = span(&out, "clnrm.cleanup.verification");
    assert!(bool_attr(verification, "verification.clean"));
    let recovery = span(&out, "clnrm.recovery");
    assert_eq!(parent(&out, recovery), "clnrm.cleanup");
    assert!(bool_attr(recovery, "recovery.verified"));
    assert_after(cleanup, recovery);
    assert_eq!(
        str_attr(span(&out, "clnrm.scenario"), "scenario.result"),
        "pass"
    );
    assert_eq!(
        fake.calls(),
        [
            "create_network ok",
            "start_service app",
            "exec app: echo hi",
            "kill app SIGKILL",
            "remove app",
            "remove_network",
            "leftovers",
        ]
    );
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn expect_failure_passes_when_a_step_fails() {
    let fake = Arc::new(Fake::new());
    fake.script(
        "exit 42",
        Script::exit(42).after(Duration::from_millis(300)),
    );
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "fails"
service = "app"
run = "exit 42"
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let st = &out.scenarios[0].steps[0];
    assert_eq!(
        (st.result, st.error_type, st.exit_code),
        (StepResult::Error, Some(ErrorType::NonzeroExit), Some(42))
    );
    let step = span(&out, "clnrm.step:fails");
    assert_eq!(str_attr(step, "error.type"), "nonzero_exit");
    assert_eq!(str_attr(step, "result"), "error");
    assert_error(step, "nonzero_exit (exit code 42)");
    // Cleanup reacts to the failed step: its child, started after it.
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(parent(&out, cleanup), "clnrm.step:fails");
    assert_eq!(str_attr(cleanup, "cleanup.triggered"), "failure");
    assert_after(step, cleanup);
    assert_eq!(parent(&out, span(&out, "clnrm.recovery")), "clnrm.cleanup");
    assert_ok(span(&out, "clnrm.scenario"));
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn expect_failure_fails_when_every_step_passes() {
    let fake = Arc::new(Fake::new());
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "too_healthy"
service = "app"
run = "true"
expect_failure = true
"#,
    )
    .await;
    assert!(!out.passed);
    let reason = "expected a failure (expect_failure = true) but every step passed";
    assert_eq!(out.scenarios[0].reason.as_deref(), Some(reason));
    assert_error(span(&out, "clnrm.scenario"), reason);
    assert_eq!(
        str_attr(span(&out, "clnrm.scenario"), "scenario.result"),
        "fail"
    );
    // Cleanup does not care about the verdict: it ran, under the scenario.
    assert_eq!(out.scenarios[0].cleanup.triggered, CleanupTrigger::Success);
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn an_unexpected_failure_fails_with_the_step_and_its_error_type() {
    let fake = Arc::new(Fake::new());
    fake.script("exit 3", Script::exit(3));
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "broken"
service = "app"
steps = [
  { name = "first", run = "exit 3" },
  { name = "never", run = "true" },
]
"#,
    )
    .await;
    assert!(!out.passed);
    let sc = &out.scenarios[0];
    assert_eq!(
        sc.reason.as_deref(),
        Some("step `first` failed: nonzero_exit (exit code 3)")
    );
    // The chain stops at the first failure.
    assert_eq!(sc.steps.len(), 1);
    assert!(!has_span(&out, "clnrm.step:never"));
    assert_eq!(sc.cleanup.triggered, CleanupTrigger::Failure);
    assert_eq!(
        parent(&out, span(&out, "clnrm.cleanup")),
        "clnrm.step:first"
    );
}

const PARTIAL: &str = r#"
[service.db]
image = "clnrm-base:latest"

[[scenario]]
name = "partial"
service = "app"
expect_partial_failure = true
run = [
  { service = "app", command = "first" },
  { service = "db", command = "second" },
]
"#;

#[tokio::test(start_paused = true)]
async fn expect_partial_failure_passes_when_some_steps_fail() {
    let fake = Arc::new(Fake::new());
    fake.script("second", Script::exit(1).after(Duration::from_millis(50)));
    let out = run(&fake, PARTIAL).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let failed: Vec<bool> = out.scenarios[0].steps.iter().map(|s| s.failed()).collect();
    assert_eq!(failed, [false, true]);
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn expect_partial_failure_fails_when_all_or_none_fail() {
    for (first, second, failed) in [(0, 0, 0), (1, 2, 2)] {
        let fake = Arc::new(Fake::new());
        fake.script("first", Script::exit(first));
        fake.script("second", Script::exit(second));
        let out = run(&fake, PARTIAL).await;
        assert!(!out.passed);
        assert_eq!(
            out.scenarios[0].reason,
            Some(format!("expected a partial failure (expect_partial_failure = true): {failed} of 2 steps failed"))
        );
        assert_nothing_left(&fake);
    }
}

#[tokio::test(start_paused = true)]
async fn a_container_killed_under_a_step_is_container_killed() {
    let fake = Arc::new(Fake::new());
    fake.script(
        "sleep 30",
        Script::then(Duration::from_millis(500), Effect::KillContainer),
    );
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "killed"
service = "app"
run = "sleep 30"
expect_failure = true
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let st = &out.scenarios[0].steps[0];
    assert_eq!(
        (st.error_type, st.exit_code),
        (Some(ErrorType::ContainerKilled), Some(137))
    );
    assert_eq!(
        str_attr(span(&out, "clnrm.step:killed"), "error.type"),
        "container_killed"
    );
    // The container was already stopped: cleanup removes it without a kill.
    let calls = fake.calls();
    assert!(
        !calls.contains(&"kill app SIGKILL".to_string()),
        "{calls:?}"
    );
    assert!(at(&calls, "killed app") < at(&calls, "remove app"));
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn an_oom_kill_in_a_container_that_lives_on_is_oom_killed() {
    let fake = Arc::new(Fake::new());
    fake.script(
        "hog",
        Script::then(Duration::from_millis(200), Effect::OomKill),
    );
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "oom"
service = "app"
run = "hog"
expect_failure = true
"#,
    )
    .await;
    let st = &out.scenarios[0].steps[0];
    assert_eq!(
        (st.error_type, st.exit_code),
        (Some(ErrorType::OomKilled), Some(137))
    );
    let step = span(&out, "clnrm.step:oom");
    assert_eq!(int_attr(step, "oom.kills"), 1);
    assert_eq!(str_attr(step, "error.type"), "oom_killed");
    assert!(out.passed);
}
