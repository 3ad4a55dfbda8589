//! Docker going away is an environment error (exit 2); a suite naming a
//! service it does not define is bad input (exit 2), never "Docker is
//! unreachable".

use super::*;
use crate::backend::fake::{Effect, Script};
use crate::backend::ContainerBackend;
use crate::engine::ErrorType;
use std::time::Duration;

const TWO: &str = r#"
[[scenario]]
name = "first"
service = "app"
run = "work"
network = "own"   # the test is about the scenario network too

[[scenario]]
name = "second"
service = "app"
run = "true"
network = "own"
"#;

#[tokio::test(start_paused = true)]
async fn docker_vanishing_mid_step_is_an_environment_error_and_stops_the_run() {
    let fake = Arc::new(Fake::new());
    fake.script(
        "work",
        Script::then(Duration::from_millis(300), Effect::DockerVanishes),
    );
    let out = run(&fake, TWO).await;
    assert!(!out.passed);
    assert_eq!(
        out.environment_error.as_deref(),
        Some("Docker is unreachable (the fake daemon went away); is the daemon running and DOCKER_HOST right?")
    );
    assert_eq!(out.scenarios.len(), 1, "no scenario starts without Docker");
    let sc = &out.scenarios[0];
    assert!(sc.environment_error.is_some());
    // The exec's stream broke and the container could no longer be looked at.
    assert_eq!(sc.steps[0].error_type, Some(ErrorType::ContainerKilled));
    assert!(!sc.cleanup.success);
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(cleanup.status, SpanStatus::Error);
    assert_eq!(
        span(&out, "clnrm.recovery").status_message.as_deref(),
        Some("resources remain after cleanup")
    );
    assert!(
        out.expectations.is_empty(),
        "a run without Docker is not judged"
    );
    // What Docker still holds is for `clnrm gc` once it is back.
    fake.set_unreachable(false);
    let left = fake
        .leftovers(crate::backend::labels::scenario_filter(
            "0123456789abcdef0123",
            "first",
        ))
        .await
        .expect("the fake is back");
    assert_eq!((left.containers.len(), left.networks.len()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn docker_gone_before_the_run_creates_nothing() {
    let fake = Arc::new(Fake::new());
    fake.set_unreachable(true);
    let out = run(&fake, TWO).await;
    assert!(out.environment_error.is_some());
    assert_eq!(out.scenarios.len(), 1);
    let sc = &out.scenarios[0];
    assert!(sc
        .reason
        .as_deref()
        .is_some_and(|r| r.starts_with("cannot create the scenario's network")));
    assert!(!has_span(&out, "clnrm.service.start"));
    assert!(fake.calls().is_empty());
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_service_is_a_suite_error_not_an_outage() {
    let fake = Arc::new(Fake::new());
    let mut suite = suite(
        r#"
[[scenario]]
name = "s"
service = "app"
run = "true"
"#,
    );
    // The loader rejects this; a suite built another way must not reach Docker.
    suite.scenarios[0].services.push("ghost".into());
    let out = run_loaded(&fake, &suite).await;
    assert!(!out.passed);
    assert!(out.environment_error.is_none());
    let invalid = out.invalid.as_deref().unwrap_or_default();
    assert!(
        invalid.contains("scenario `s`: unknown service `ghost` (defined: app)"),
        "{invalid}"
    );
    assert!(out.scenarios.is_empty());
    assert!(fake.calls().is_empty(), "nothing was created");
}

#[tokio::test(start_paused = true)]
async fn a_step_on_a_service_its_scenario_does_not_start_is_a_suite_error() {
    let fake = Arc::new(Fake::new());
    let mut suite = suite(
        r#"
[[scenario]]
name = "s"
service = "app"
run = "true"
"#,
    );
    suite.scenarios[0].steps[0].service = "db".into();
    let out = run_loaded(&fake, &suite).await;
    assert!(out.environment_error.is_none());
    assert!(out
        .invalid
        .as_deref()
        .is_some_and(|m| m.contains("runs on service `db`")));
    assert!(fake.calls().is_empty());
}
