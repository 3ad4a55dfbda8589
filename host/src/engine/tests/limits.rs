//! Static limits observed around a step on the fake backend: the readings
//! decide the level, a high one degrades the step, no limits no spans.

use super::*;
use crate::backend::fake::Script;
use crate::backend::ContainerBackend;
use crate::engine::limit_watch::{self, Watched};
use crate::engine::step;
use crate::engine::timeout::Bound;
use crate::engine::StepResult;
use crate::runtime::FaultLog;
use crate::suite::{ServiceSpec, StepSpec, TimeoutStrategy};
use crate::trace::{RunClock, SpanData, Trace};
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

/// `app` under 64 MB and half a CPU; its step `work` takes a second, and
/// from 400 ms on the service uses `mb` MB.
async fn run_work(mb: u64, limited: bool) -> (step::StepRun, Vec<SpanData>) {
    let spec = ServiceSpec {
        id: "app".into(),
        image: "clnrm-base:latest".into(),
        memory_mb: Some(64),
        cpu_millicores: Some(500),
        ..Default::default()
    };
    let fake = Fake::new();
    let id = fake
        .start_service("0123456789ab", "sc", &spec, None)
        .await
        .expect("the fake starts it");
    fake.script("work", Script::exit(0).after(Duration::from_secs(1)));
    let trace = Trace::new(RunClock::new(Some(0)));
    let root = trace.start("clnrm.scenario", None);
    let faults = FaultLog::default();
    let limits: Vec<Watched> = if limited {
        limit_watch::watched(&spec)
    } else {
        Vec::new()
    };
    let env = step::StepEnv {
        docker: &fake,
        trace: &trace,
        container: &id,
        faults: &faults,
        limits: &limits,
        index: 2,
        trace_context: None,
    };
    let st = StepSpec {
        name: "s".into(),
        service: "app".into(),
        command: "work".into(),
        argv: None,
        timeout: None,
        retry: None,
    };
    let bound = Bound::tightest(
        None,
        None,
        Duration::from_secs(60),
        TimeoutStrategy::Hard,
        None,
    );
    let (run, ()) = tokio::join!(step::run(&env, root, &st, bound, [0; 32]), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        fake.cgroup("app", |u| u.memory_usage = mb * MIB);
    });
    (run, trace.snapshot())
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

#[tokio::test(start_paused = true)]
async fn memory_near_the_limit_is_high_and_degrades_the_step() {
    let (run, spans) = run_work(62, true).await;
    assert_eq!(run.outcome.result, StepResult::Pass);
    let step = named(&spans, "clnrm.step:s")[0];
    assert!(bool_attr(step, "degraded"), "{step:?}");
    let mem = named(&spans, "clnrm.resource.memory_pressure");
    assert_eq!(mem.len(), 1);
    let m = mem[0];
    assert_eq!(m.parent, Some(step.id));
    assert_ok(m);
    assert_eq!(str_attr(m, "pressure.source"), "limits");
    assert_eq!(str_attr(m, "pressure.level"), "high");
    assert_eq!(int_attr(m, "usage.peak_mb"), 62);
    assert_eq!(int_attr(m, "limit.mb"), 64);
    assert_eq!(int_attr(m, "step.index"), 2);
    // Within the step.
    assert!(m.start_ns >= step.start_ns && m.end_ns <= step.end_ns);
    // The CPU quota is watched too, and was never used up.
    let cpu = named(&spans, "clnrm.resource.cpu_throttle");
    assert_eq!(cpu.len(), 1);
    assert_eq!(str_attr(cpu[0], "pressure.level"), "low");
    assert_eq!(int_attr(cpu[0], "limit.millicores"), 500);
}

#[tokio::test(start_paused = true)]
async fn medium_pressure_is_reported_but_does_not_degrade() {
    let (run, spans) = run_work(50, true).await;
    assert_eq!(run.outcome.result, StepResult::Pass);
    let step = named(&spans, "clnrm.step:s")[0];
    assert!(!bool_attr(step, "degraded"));
    let mem = named(&spans, "clnrm.resource.memory_pressure");
    assert_eq!(str_attr(mem[0], "pressure.level"), "medium");
}

#[tokio::test(start_paused = true)]
async fn a_service_without_limits_gets_no_observation() {
    let (_, spans) = run_work(62, false).await;
    assert!(spans.iter().all(|s| !s.name.starts_with("clnrm.resource.")));
    let step = named(&spans, "clnrm.step:s")[0];
    assert!(!bool_attr(step, "degraded"));
}
