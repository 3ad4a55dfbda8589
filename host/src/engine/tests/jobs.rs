//! `-j N`: scenarios of a suite at once, each in its own network with its own
//! containers; outcomes in file order; the digest as with `-j 1`.

use super::*;
use crate::backend::fake::Script;
use std::time::Duration;
use tokio::time::Instant;

/// Four scenarios of 1 s each; the third fails.
const FOUR: &str = r#"
[[scenario]]
name = "a"
service = "app"
run = "work"
network = "own"

[[scenario]]
name = "b"
service = "app"
run = "work"
network = "own"

[[scenario]]
name = "c"
service = "app"
run = "fail"
network = "own"

[[scenario]]
name = "d"
service = "app"
run = "work"
network = "own"
"#;

async fn run_with_jobs(jobs: usize) -> (SuiteOutcome, Duration, Arc<Fake>) {
    let fake = Arc::new(Fake::new());
    fake.script("work", Script::exit(0).after(Duration::from_secs(1)));
    fake.script("fail", Script::exit(3).after(Duration::from_secs(1)));
    let mut ctx = ctx(&fake, Interrupt::never());
    ctx.jobs = RunCtx::jobs(jobs);
    let t0 = Instant::now();
    let out = run_suite(&ctx, &suite(FOUR), &ResolvedPlugins::default(), 7).await;
    (out, t0.elapsed(), fake)
}

#[tokio::test(start_paused = true)]
async fn scenarios_run_at_once_in_order_with_the_same_digest() {
    let (one, t1, _) = run_with_jobs(1).await;
    let (four, t4, fake) = run_with_jobs(4).await;
    assert!(
        t1 >= Duration::from_secs(4),
        "-j 1 runs one after another: {t1:?}"
    );
    assert!(
        t4 < Duration::from_secs(2),
        "-j 4 overlaps the four: {t4:?}"
    );
    // File order, whatever finished first.
    let names = |o: &SuiteOutcome| {
        o.scenarios
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&four), ["a", "b", "c", "d"]);
    assert_eq!(names(&one), names(&four));
    assert_eq!(
        four.scenarios.iter().map(|s| s.passed).collect::<Vec<_>>(),
        [true, true, false, true]
    );
    // Four networks and four containers, each removed and verified.
    let calls = fake.calls();
    let nets = calls
        .iter()
        .filter(|c| c.starts_with("create_network"))
        .count();
    assert_eq!(nets, 4, "{calls:?}");
    assert!(four.scenarios.iter().all(|s| s.cleanup.success));
    assert!(fake.held().is_empty(), "nothing left: {:?}", fake.held());
    assert_eq!(one.digest, four.digest, "the digest does not depend on -j");
    assert_eq!(one.spans.len(), four.spans.len());
}

#[tokio::test(start_paused = true)]
async fn two_jobs_never_run_three_scenarios_at_once() {
    let (out, t2, _) = run_with_jobs(2).await;
    assert_eq!(out.scenarios.len(), 4);
    // Two waves of two 1 s scenarios.
    assert!(t2 >= Duration::from_secs(2), "{t2:?}");
    assert!(t2 < Duration::from_secs(3), "{t2:?}");
}
