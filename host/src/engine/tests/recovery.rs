//! `recovery_probe`: a command after the steps and injections that must succeed.

use super::*;
use crate::backend::fake::Script;
use crate::engine::CleanupTrigger;

const PROBED: &str = r#"
[[scenario]]
name = "probed"
service = "app"
run = "work"
recovery_probe = "probe"
"#;

#[tokio::test(start_paused = true)]
async fn a_succeeding_probe_proves_recovery_after_the_steps() {
    let fake = Arc::new(Fake::new());
    let out = run(&fake, PROBED).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let r = span(&out, "clnrm.resource.recovery");
    assert_eq!(parent(&out, r), "clnrm.scenario");
    assert_eq!(str_attr(r, "recovery.check"), "probe");
    assert_eq!(str_attr(r, "recovery.probe"), "probe");
    assert!(bool_attr(r, "recovery.success"));
    assert_ok(r);
    assert_after(span(&out, "clnrm.step:probed"), r);
    let calls = fake.calls();
    let exec = |c: &str| calls.iter().position(|x| x.ends_with(&format!(": {c}")));
    assert!(exec("work") < exec("probe"), "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn a_failing_probe_fails_the_scenario() {
    let fake = Arc::new(Fake::new());
    fake.script("probe", Script::exit(3));
    let out = run(&fake, PROBED).await;
    assert!(!out.passed);
    let reason = out.scenarios[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("recovery probe `probe` failed (exit code Some(3))"),
        "{reason}"
    );
    assert_eq!(out.scenarios[0].cleanup.triggered, CleanupTrigger::Error);
    let r = span(&out, "clnrm.resource.recovery");
    assert!(!bool_attr(r, "recovery.success"));
    assert_eq!(int_attr(r, "exit.code"), 3);
    assert_eq!(r.status, SpanStatus::Error);
}

#[tokio::test(start_paused = true)]
async fn no_probe_after_a_failed_step() {
    let fake = Arc::new(Fake::new());
    fake.script("work", Script::exit(1));
    let out = run(
        &fake,
        &PROBED.replace("recovery_probe", "expect_failure = true\nrecovery_probe"),
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert!(!has_span(&out, "clnrm.resource.recovery"));
}
