//! Step failures that follow one another are a cascade the engine reports;
//! simultaneous ones are not. Real time here (not paused): the detector
//! reads when the step spans ended on the run clock, which is real time.

use super::*;
use crate::backend::fake::Script;
use std::time::Duration;

const SERVICES: &str = r#"
[service.primary]
image = "clnrm-base:latest"
[service.secondary]
image = "clnrm-base:latest"
[service.tertiary]
image = "clnrm-base:latest"
"#;

fn chain(fake: &Fake, gaps_ms: [u64; 3]) {
    for (i, (cmd, ms)) in ["fail-1", "fail-2", "fail-3"]
        .iter()
        .zip(gaps_ms)
        .enumerate()
    {
        fake.script(
            cmd,
            Script {
                duration: Duration::from_millis(ms),
                ..Script::exit(i as i64 + 1)
            },
        );
    }
}

const SCENARIO: &str = r#"
[[scenario]]
name = "domino"
parallel_services = true
run = [
  { service = "primary", command = "fail-1" },
  { service = "secondary", command = "fail-2" },
  { service = "tertiary", command = "fail-3" },
]
expect_failure = true
"#;

#[tokio::test]
async fn steps_failing_one_after_another_are_a_cascade() {
    let fake = Arc::new(Fake::new());
    chain(&fake, [0, 300, 600]);
    let out = run(&fake, &format!("{SERVICES}{SCENARIO}")).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let c = span(&out, "clnrm.failure.cascade");
    assert_eq!(parent(&out, c), "clnrm.scenario");
    assert_eq!(str_attr(c, "cascade.source"), "steps");
    assert!(bool_attr(c, "cascade.detected"));
    assert_eq!(int_attr(c, "cascade.depth"), 3);
    assert_eq!(
        str_attr(c, "cascade.path"),
        "primary -> secondary -> tertiary"
    );
    assert_eq!(str_attr(c, "cascade.exit_codes"), "1,2,3");
    assert_ok(c);
    // It reads finished steps: it starts after the last of them ended.
    assert_after(span(&out, "clnrm.step:domino/tertiary"), c);
}

#[tokio::test]
async fn simultaneous_failures_are_not_a_cascade() {
    let fake = Arc::new(Fake::new());
    chain(&fake, [0, 20, 40]);
    let out = run(&fake, &format!("{SERVICES}{SCENARIO}")).await;
    assert!(out.passed);
    assert!(
        !has_span(&out, "clnrm.failure.cascade"),
        "{:?}",
        names(&out)
    );
}
