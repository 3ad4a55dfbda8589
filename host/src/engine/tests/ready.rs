//! Readiness on the fake backend (exec probes: the fake has no network
//! namespaces): services start in `depends_on` order, each after what it
//! depends on is ready; steps start once all are ready; a service that never
//! gets ready fails the scenario with `not_ready` and is cleaned up.

use super::*;
use crate::backend::fake::Script;

const TWO: &str = r#"
[service.db]
image = "clnrm-base:latest"
ready = { exec = "db-ready" }
ready_timeout_ms = 2000

[service.api]
image = "clnrm-base:latest"
depends_on = ["db"]

[[scenario]]
name = "s"
run = [{ service = "api", command = "work" }, { service = "db", command = "work" }]
"#;

#[tokio::test(start_paused = true)]
async fn dependents_and_steps_wait_for_ready() {
    let fake = Arc::new(Fake::new());
    // Ready on the third attempt.
    fake.script_seq(
        "db-ready",
        vec![Script::exit(1), Script::exit(1), Script::exit(0)],
    );
    let out = run(&fake, TWO).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let calls = fake.calls();
    let at = |c: &str| {
        calls
            .iter()
            .position(|x| x == c)
            .unwrap_or_else(|| panic!("no `{c}` in {calls:?}"))
    };
    let last_probe = calls
        .iter()
        .rposition(|x| x == "exec db: db-ready")
        .unwrap();
    // db first although the scenario names api first: api depends on it.
    assert!(
        at("start_service db") < at("start_service api"),
        "{calls:?}"
    );
    assert!(last_probe < at("start_service api"), "{calls:?}");
    assert!(last_probe < at("exec api: work"), "{calls:?}");
    let r = span(&out, "clnrm.service.ready");
    assert_eq!(parent(&out, r), "clnrm.scenario");
    assert_eq!(str_attr(r, "service.id"), "db");
    assert_eq!(str_attr(r, "ready.probe"), "exec");
    assert_eq!(int_attr(r, "ready.attempts"), 3);
    assert_eq!(int_attr(r, "ready.ms"), 200);
    assert_ok(r);
}

#[tokio::test(start_paused = true)]
async fn never_ready_is_not_ready_no_step_and_cleaned_up() {
    let fake = Arc::new(Fake::new());
    fake.script("db-ready", Script::exit(1));
    let out = run(&fake, TWO).await;
    assert!(!out.passed);
    let reason = out.scenarios[0].reason.clone().unwrap_or_default();
    assert!(!reason.contains("`db` service `db`"), "{reason}");
    assert!(
        reason.contains("service `db` not ready after 2000 ms (exec probe, 21 attempts)"),
        "{reason}"
    );
    assert!(reason.contains("`db-ready` exited with 1"), "{reason}");
    let r = span(&out, "clnrm.service.ready");
    assert_eq!(r.status, SpanStatus::Error);
    assert_eq!(str_attr(r, "error.type"), "not_ready");
    let calls = fake.calls();
    // Neither api nor any step started; db's container was removed.
    assert!(
        !calls
            .iter()
            .any(|c| c == "start_service api" || c.ends_with(": work")),
        "{calls:?}"
    );
    assert!(calls.iter().any(|c| c == "remove db"), "{calls:?}");
    assert!(out.scenarios[0].steps.is_empty());
}

#[tokio::test(start_paused = true)]
async fn without_ready_nothing_changes() {
    let fake = Arc::new(Fake::new());
    let out = run(
        &fake,
        "[[scenario]]\nname = \"s\"\nservice = \"app\"\nrun = \"work\"\n",
    )
    .await;
    assert!(out.passed);
    assert!(!has_span(&out, "clnrm.service.ready"));
}

#[tokio::test(start_paused = true)]
async fn recovery_probe_ready_runs_the_probe_again() {
    let fake = Arc::new(Fake::new());
    let body = TWO.replace(
        "name = \"s\"\n",
        "name = \"s\"\nservice = \"db\"\nrecovery_probe = \"ready\"\n",
    );
    let out = run(&fake, &body).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let r = span(&out, "clnrm.resource.recovery");
    assert_eq!(str_attr(r, "recovery.check"), "ready");
    assert_eq!(str_attr(r, "ready.probe"), "exec");
    let calls = fake.calls();
    let probes = calls.iter().filter(|c| *c == "exec db: db-ready").count();
    assert_eq!(probes, 2, "{calls:?}");
    // Fails when the probe no longer passes.
    let fake = Arc::new(Fake::new());
    fake.script_seq("db-ready", vec![Script::exit(0), Script::exit(1)]);
    let fake2 = fake.clone();
    let out = run(
        &fake2,
        &body.replace("ready_timeout_ms = 2000", "ready_timeout_ms = 300"),
    )
    .await;
    assert!(!out.passed);
    let reason = out.scenarios[0].reason.clone().unwrap_or_default();
    assert!(reason.contains("not ready again within 300 ms"), "{reason}");
}

/// Ctrl-C while a service is not ready yet: the wait stops at once (not at
/// `ready_timeout_ms`), its span ends as interrupted, the container goes.
#[tokio::test(start_paused = true)]
async fn an_interrupt_cuts_the_wait_short() {
    use std::time::Duration;
    let fake = Arc::new(Fake::new());
    fake.script("db-ready", Script::exit(1));
    let suite = suite(&TWO.replace("ready_timeout_ms = 2000", "ready_timeout_ms = 60000"));
    let (interrupt, raise) = Interrupt::manual();
    let ctx = ctx(&fake, interrupt);
    let plugins = ResolvedPlugins::default();
    let t0 = tokio::time::Instant::now();
    let (out, ()) = tokio::join!(super::run_suite(&ctx, &suite, &plugins, 7), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        raise();
    });
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(out.interrupted);
    assert_eq!(out.scenarios[0].reason.as_deref(), Some("interrupted"));
    let r = span(&out, "clnrm.service.ready");
    assert_eq!(r.status, SpanStatus::Error);
    let calls = fake.calls();
    assert!(calls.iter().any(|c| c == "remove db"), "{calls:?}");
    assert!(!calls.iter().any(|c| c == "start_service api"), "{calls:?}");
}
