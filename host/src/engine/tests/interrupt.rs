//! Ctrl-C half-way through a step: the work stops, cleanup still runs, the
//! run says interrupted, and no further scenario starts.

use super::*;
use crate::backend::fake::Script;
use crate::engine::CleanupTrigger;
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn an_interrupt_mid_step_cleans_up_and_stops_the_run() {
    let fake = Arc::new(Fake::new());
    fake.script("sleep 30", Script::hang());
    let suite = suite(
        r#"
[[scenario]]
name = "cut"
service = "app"
run = "sleep 30"
network = "own"   # the test is about the scenario network too

[[scenario]]
name = "never_started"
service = "app"
run = "true"
"#,
    );
    let (interrupt, raise) = Interrupt::manual();
    let ctx = ctx(&fake, interrupt);
    let at_ms = Duration::from_millis(500);
    let plugins = ResolvedPlugins::default();
    let (out, ()) = tokio::join!(run_suite(&ctx, &suite, &plugins, 7), async {
        tokio::time::sleep(at_ms).await;
        raise();
    });
    assert!(out.interrupted);
    assert!(!out.passed);
    assert_eq!(out.scenarios.len(), 1, "no scenario starts after Ctrl-C");
    let sc = &out.scenarios[0];
    assert_eq!(sc.reason.as_deref(), Some("interrupted"));
    assert!(sc.steps.is_empty(), "the cut-off step has no outcome");
    assert_eq!(sc.cleanup.triggered, CleanupTrigger::Interrupt);
    assert!(sc.cleanup.success);
    // The step's span was cut off: an error saying why, not left open.
    let step = span(&out, "clnrm.step:cut");
    assert_error(step, "interrupted");
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(parent(&out, cleanup), "clnrm.scenario");
    assert_eq!(str_attr(cleanup, "cleanup.triggered"), "interrupt");
    assert_after(step, cleanup);
    assert_ok(cleanup);
    assert_eq!(parent(&out, span(&out, "clnrm.recovery")), "clnrm.cleanup");
    let root = span(&out, "clnrm.run");
    assert!(bool_attr(root, "run.interrupted"));
    assert_error(root, "interrupted");
    assert_error(span(&out, "clnrm.scenario"), "interrupted");
    assert!(!has_span(&out, "clnrm.step:never_started"));
    // The running container was stopped and removed; nothing is left.
    let calls = fake.calls();
    assert!(at(&calls, "exec app: sleep 30") < at(&calls, "kill app SIGKILL"));
    assert!(at(&calls, "remove app") < at(&calls, "remove_network"));
    assert_nothing_left(&fake);
    assert!(
        out.expectations.is_empty(),
        "an interrupted run is not judged"
    );
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_before_the_run_starts_nothing() {
    let fake = Arc::new(Fake::new());
    let suite = suite(
        r#"
[[scenario]]
name = "s"
service = "app"
run = "true"
"#,
    );
    let (interrupt, raise) = Interrupt::manual();
    raise();
    let out = run_suite(
        &ctx(&fake, interrupt),
        &suite,
        &ResolvedPlugins::default(),
        7,
    )
    .await;
    assert!(out.interrupted && !out.passed);
    assert!(out.scenarios.is_empty());
    assert!(fake.calls().is_empty());
}
