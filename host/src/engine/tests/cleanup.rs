//! Cleanup: its trigger, its place in the trace, its order (containers, then
//! the network, then verification, then recovery) and its policy.

use super::*;
use crate::backend::fake::Script;
use crate::engine::CleanupTrigger;
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn containers_go_first_at_once_then_the_network_then_verification() {
    let fake = Arc::new(Fake::new());
    let out = run(
        &fake,
        r#"
[service.db]
image = "clnrm-base:latest"

[[scenario]]
name = "two"
run = [
  { service = "app", command = "a" },
  { service = "db", command = "b" },
]
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let c = &out.scenarios[0].cleanup;
    assert_eq!(
        (c.containers_removed, c.networks_removed, c.created.len()),
        (2, 1, 3)
    );
    let group = span(&out, "clnrm.cleanup.concurrent");
    assert_eq!(parent(&out, group), "clnrm.cleanup");
    assert_eq!(int_attr(group, "containers.cleaned"), 2);
    let calls = fake.calls();
    let net = at(&calls, "remove_network");
    assert!(at(&calls, "remove app") < net && at(&calls, "remove db") < net);
    assert!(net < at(&calls, "leftovers"));
    let cleanup = span(&out, "clnrm.cleanup");
    let events: Vec<&str> = cleanup.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(events.last(), Some(&"cleanup.complete"));
    assert!(events.contains(&"network.remove"));
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_service_that_does_not_start_is_an_error_trigger_and_nothing_is_left() {
    let fake = Arc::new(Fake::new());
    fake.missing_image("clnrm-missing:latest");
    let out = run(
        &fake,
        r#"
[service.ghost]
image = "clnrm-missing:latest"

[[scenario]]
name = "no_image"
run = [
  { service = "app", command = "true" },
  { service = "ghost", command = "true" },
]
"#,
    )
    .await;
    assert!(!out.passed);
    assert!(
        out.environment_error.is_none(),
        "a missing image is no outage"
    );
    let sc = &out.scenarios[0];
    assert!(
        sc.reason
            .as_deref()
            .is_some_and(|r| r.starts_with("service `ghost` did not start")),
        "{:?}",
        sc.reason
    );
    assert_eq!(sc.cleanup.triggered, CleanupTrigger::Error);
    assert!(sc.steps.is_empty());
    let starts: Vec<&SpanData> = out
        .spans
        .iter()
        .filter(|s| s.name == "clnrm.service.start")
        .collect();
    assert_eq!(starts.len(), 2);
    assert_ok(starts[0]);
    assert_eq!(starts[1].status, SpanStatus::Error);
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(parent(&out, cleanup), "clnrm.scenario");
    assert_eq!(str_attr(cleanup, "cleanup.triggered"), "error");
    // What did start is removed.
    assert!(fake.calls().contains(&"remove app".to_string()));
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn an_injection_no_plugin_handles_is_an_error_trigger() {
    let fake = Arc::new(Fake::new());
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "chaos"
service = "app"
run = "true"
chaos_injection = { type = "kill_container", delay_ms = 10 }
"#,
    )
    .await;
    let sc = &out.scenarios[0];
    assert_eq!(
        sc.injections[0].error.as_deref(),
        Some("no plugin handles `kill_container`")
    );
    assert_eq!(
        sc.reason.as_deref(),
        Some("no plugin handles `kill_container`")
    );
    assert_eq!(sc.cleanup.triggered, CleanupTrigger::Error);
    assert_eq!(
        str_attr(span(&out, "clnrm.cleanup"), "cleanup.triggered"),
        "error"
    );
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn on_success_keeps_a_failed_scenarios_containers_and_says_so() {
    let fake = Arc::new(Fake::new());
    fake.script("exit 1", Script::exit(1).after(Duration::from_millis(10)));
    let out = run(
        &fake,
        r#"
[cleanup]
containers = "on_success"
networks = "on_success"

[[scenario]]
name = "kept"
service = "app"
run = "exit 1"
network = "own"   # the test is about the scenario network too
"#,
    )
    .await;
    let c = &out.scenarios[0].cleanup;
    assert_eq!(c.kept.len(), 2);
    assert_eq!((c.containers_removed, c.networks_removed), (0, 0));
    // Kept on purpose: no cleanup error, the scenario fails for its step.
    assert!(c.success, "{:?}", c.errors);
    let v = span(&out, "clnrm.cleanup.verification");
    assert!(bool_attr(v, "verification.kept_by_policy"));
    assert_eq!(int_attr(v, "containers.remaining"), 1);
    assert_eq!(int_attr(v, "processes.remaining"), 1);
    assert_eq!(int_attr(span(&out, "clnrm.cleanup"), "cleanup.kept"), 2);
    let held = fake.held();
    assert_eq!((held.containers.len(), held.networks.len()), (1, 1));
}

/// `[cleanup] parallel_cleanup = false` removes one container after the other (no
/// `clnrm.cleanup.concurrent`); `kill_timeout_ms` asks politely first: the keep-alive
/// command stops on SIGTERM, so no SIGKILL follows.
#[tokio::test(start_paused = true)]
async fn one_by_one_and_sigterm_first_when_asked() {
    let fake = Arc::new(Fake::new());
    let out = run(
        &fake,
        r#"
[cleanup]
parallel_cleanup = false
kill_timeout_ms = 2000

[service.db]
image = "clnrm-base:latest"

[[scenario]]
name = "two"
run = [
  { service = "app", command = "a" },
  { service = "db", command = "b" },
]
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert!(!out
        .spans
        .iter()
        .any(|s| s.name == "clnrm.cleanup.concurrent"));
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(
        cleanup.attr("cleanup.parallel").map(|v| v.to_string()),
        Some("false".into())
    );
    let calls = fake.calls();
    assert!(
        at(&calls, "remove app") < at(&calls, "kill db SIGTERM"),
        "{calls:?}"
    );
    assert!(!calls.iter().any(|c| c.contains("SIGKILL")), "{calls:?}");
    let stops: Vec<_> = cleanup
        .events
        .iter()
        .filter(|e| e.name == "container.stop")
        .collect();
    assert_eq!(stops.len(), 2);
    assert!(stops.iter().all(|e| e
        .attrs
        .iter()
        .any(|(k, v)| k == "stopped_by_sigterm" && v.to_string() == "true")));
    assert_nothing_left(&fake);
}
