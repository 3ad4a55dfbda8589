//! `retry` on a step: attempts in the same container, exponential waits from
//! the seeded stream, the step's bound over all of them.

use super::*;
use crate::backend::fake::{Effect, Script};
use crate::engine::{CleanupTrigger, ErrorType, StepResult};
use std::time::Duration;

fn attempts(out: &SuiteOutcome) -> Vec<&SpanData> {
    let mut a: Vec<_> = out
        .spans
        .iter()
        .filter(|s| s.name == "clnrm.retry.attempt")
        .collect();
    a.sort_by_key(|s| int_attr(s, "attempt.number"));
    a
}

fn event_names(s: &SpanData) -> Vec<&str> {
    s.events.iter().map(|e| e.name.as_str()).collect()
}

const FLAKY: &str = r#"
[[scenario]]
name = "flaky"
service = "app"
steps = [{ name = "flaky", run = "flaky", retry = { attempts = 4, backoff_ms = 100, factor = 2.0, max_backoff_ms = 2000 } }]
"#;

#[tokio::test(start_paused = true)]
async fn a_step_passes_at_its_first_passing_attempt_after_exponential_waits() {
    let fake = Arc::new(Fake::new());
    fake.script_seq(
        "flaky",
        vec![Script::exit(1), Script::exit(1), Script::exit(0)],
    );
    let out = run(&fake, FLAKY).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert_eq!(out.scenarios[0].steps[0].result, StepResult::Pass);
    let step = span(&out, "clnrm.step:flaky");
    assert_ok(step);
    let b = span(&out, "clnrm.retry.backoff");
    assert_eq!(parent(&out, b), "clnrm.step:flaky");
    assert_eq!(str_attr(b, "backoff.strategy"), "exponential");
    assert_eq!(int_attr(b, "attempts.total"), 3, "stops at the first pass");
    assert_eq!(int_attr(b, "attempts.failed"), 2);
    assert_eq!(int_attr(b, "attempts.max"), 4);
    assert_eq!(event_names(b), ["retry.1", "retry.2"]);
    assert_ok(b);
    let a = attempts(&out);
    let got: Vec<_> = a
        .iter()
        .map(|s| {
            (
                int_attr(s, "attempt.number"),
                int_attr(s, "backoff.ms"),
                str_attr(s, "result"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, 0, "error".to_string()),
            (2, 100, "error".to_string()),
            (3, 200, "pass".to_string())
        ]
    );
    for s in &a {
        assert_eq!(parent(&out, s), "clnrm.retry.backoff");
    }
    // Paused time: the waits really took what was configured.
    assert_eq!(int_attr(a[1], "backoff.measured_ms"), 100);
    assert_eq!(int_attr(a[2], "backoff.measured_ms"), 200);
    // Same container, one attempt after another.
    let execs = fake
        .calls()
        .into_iter()
        .filter(|c| c == "exec app: flaky")
        .count();
    assert_eq!(execs, 3);
    assert_nothing_left(&fake);
}

#[tokio::test(start_paused = true)]
async fn a_step_whose_attempts_all_fail_fails_with_the_last_one() {
    let fake = Arc::new(Fake::new());
    fake.script("flaky", Script::exit(3));
    let out = run(
        &fake,
        &FLAKY.replace("\n[[scenario]]", "\n[[scenario]]\nexpect_failure = true"),
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let st = &out.scenarios[0].steps[0];
    assert_eq!(
        (st.error_type, st.exit_code),
        (Some(ErrorType::NonzeroExit), Some(3))
    );
    let b = span(&out, "clnrm.retry.backoff");
    assert_eq!(int_attr(b, "attempts.total"), 4);
    assert_eq!(int_attr(b, "attempts.failed"), 4);
    assert_eq!(event_names(b), ["retry.1", "retry.2", "retry.3"]);
    assert_error(b, "4 of 4 attempts failed");
    let waits: Vec<_> = attempts(&out)
        .iter()
        .map(|s| int_attr(s, "backoff.ms"))
        .collect();
    assert_eq!(waits, [0, 100, 200, 400]);
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(parent(&out, cleanup), "clnrm.step:flaky");
    assert_eq!(out.scenarios[0].cleanup.triggered, CleanupTrigger::Failure);
}

fn jittered_waits(out: &SuiteOutcome) -> Vec<i64> {
    attempts(out)
        .iter()
        .map(|s| int_attr(s, "backoff.ms"))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn jitter_comes_from_the_seed_and_the_same_seed_waits_the_same() {
    let body = FLAKY
        .replace(
            "max_backoff_ms = 2000",
            "max_backoff_ms = 2000, jitter = true",
        )
        .replace("\n[[scenario]]", "\n[[scenario]]\nexpect_failure = true");
    let suite = suite(&body);
    let go = |seed: u64| {
        let suite = &suite;
        async move {
            let fake = Arc::new(Fake::new());
            fake.script("flaky", Script::exit(1));
            let c = ctx(&fake, Interrupt::never());
            run_suite(&c, suite, &ResolvedPlugins::default(), seed).await
        }
    };
    let (a, b, c) = (go(7).await, go(7).await, go(8).await);
    let (wa, wb, wc) = (jittered_waits(&a), jittered_waits(&b), jittered_waits(&c));
    assert_eq!(wa, wb, "same seed, same waits");
    assert_eq!(a.digest, b.digest);
    assert_ne!(wa, wc, "another seed, other waits");
    assert_ne!(a.digest, c.digest, "the seeded waits are in the digest");
    for (w, base) in wa.iter().zip([0, 100, 200, 400]) {
        assert!(
            *w >= base / 2 && *w <= base,
            "{w} outside [{}, {base}]",
            base / 2
        );
    }
    // The measured waits equal the drawn ones (paused time) and stay out of
    // the digest, which the equal digests above already show.
    for s in attempts(&a).iter().skip(1) {
        assert_eq!(
            int_attr(s, "backoff.measured_ms"),
            int_attr(s, "backoff.ms")
        );
    }
}

/// A step `bounded` whose attempts fail after `attempt_ms`, retried up to 5
/// times (backoff 100 ms, doubling) under `timeout_ms`.
async fn bounded(attempt_ms: u64, timeout_ms: u64) -> SuiteOutcome {
    let fake = Arc::new(Fake::new());
    fake.script(
        "slowfail",
        Script::exit(1).after(Duration::from_millis(attempt_ms)),
    );
    run(
        &fake,
        &format!(
            r#"
[[scenario]]
name = "bounded"
service = "app"
expect_failure = true
steps = [{{ name = "bounded", run = "slowfail", timeout_ms = {timeout_ms}, retry = {{ attempts = 5, backoff_ms = 100 }} }}]
"#
        ),
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn the_step_timeout_bounds_all_attempts_and_waits_together() {
    // Attempts take 600 ms: the second one is cut at 1000 ms, enforced once
    // on the step, and cleanup reacts to that enforcement.
    let out = bounded(600, 1000).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert_eq!(
        out.scenarios[0].steps[0].error_type,
        Some(ErrorType::Timeout)
    );
    let step = span(&out, "clnrm.step:bounded");
    assert_eq!(int_attr(step, "timeout.ms"), 1000);
    let enforced = span(&out, "clnrm.timeout.enforced");
    assert_eq!(parent(&out, enforced), "clnrm.step:bounded");
    // 600 + 100 + 300 of the second attempt (span times are wall-clock,
    // the paused test clock shows in the step's duration).
    assert_eq!(out.scenarios[0].steps[0].duration_ms, 1000);
    let b = span(&out, "clnrm.retry.backoff");
    assert_eq!(int_attr(b, "attempts.total"), 2);
    assert_eq!(str_attr(b, "retry.stopped_by"), "timeout");
    let a = attempts(&out);
    assert_eq!(str_attr(a[1], "error.type"), "timeout");
    let cleanup = span(&out, "clnrm.cleanup");
    assert_eq!(parent(&out, cleanup), "clnrm.timeout.enforced");

    // Attempts of 400 ms: the third wait (400 ms, after 400+100+400+200)
    // would pass the bound, so it is not started and nothing is enforced.
    let out = bounded(400, 1600).await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    assert_eq!(
        out.scenarios[0].steps[0].error_type,
        Some(ErrorType::NonzeroExit)
    );
    let b = span(&out, "clnrm.retry.backoff");
    assert_eq!(int_attr(b, "attempts.total"), 3);
    assert_eq!(str_attr(b, "retry.stopped_by"), "timeout_ms");
    assert!(!has_span(&out, "clnrm.timeout.enforced"));
}

#[tokio::test(start_paused = true)]
async fn retries_stop_when_the_container_is_gone() {
    let fake = Arc::new(Fake::new());
    fake.script(
        "doomed",
        Script::then(Duration::from_millis(50), Effect::KillContainer),
    );
    let out = run(
        &fake,
        r#"
[[scenario]]
name = "doomed"
service = "app"
expect_failure = true
steps = [{ name = "doomed", run = "doomed", retry = { attempts = 3 } }]
"#,
    )
    .await;
    assert!(out.passed, "{:?}", out.scenarios[0].reason);
    let b = span(&out, "clnrm.retry.backoff");
    assert_eq!(int_attr(b, "attempts.total"), 1);
    assert_eq!(str_attr(b, "retry.stopped_by"), "container_killed");
}
