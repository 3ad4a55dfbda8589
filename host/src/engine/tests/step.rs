//! One step on its own, with a fault log the test fills: degraded steps,
//! network failures, Docker gone at exec time.

use super::*;
use crate::backend::fake::Script;
use crate::backend::{Backend, CgroupBackend, ContainerBackend, DiskBackend};
use crate::engine::step;
use crate::engine::timeout::Bound;
use crate::engine::{ErrorType, StepResult};
use crate::runtime::{FaultKind, FaultLog};
use crate::suite::{ServiceSpec, StepSpec, TimeoutStrategy};
use crate::trace::{RunClock, SpanData, SpanId, Trace};
use std::time::Duration;

fn service() -> ServiceSpec {
    ServiceSpec {
        id: "app".into(),
        image: "clnrm-base:latest".into(),
        args: Vec::new(),
        ..Default::default()
    }
}

fn step_spec(command: &str) -> StepSpec {
    StepSpec {
        name: "s".into(),
        service: "app".into(),
        command: command.into(),
        argv: None,
        timeout: None,
        retry: None,
    }
}

fn bound() -> Bound {
    Bound::tightest(
        None,
        None,
        Duration::from_secs(60),
        TimeoutStrategy::Hard,
        None,
    )
}

/// A fake with the `app` container running, a trace with a root span and
/// the fault log the test fills.
struct Rig {
    fake: Fake,
    id: String,
    trace: Trace,
    root: SpanId,
    faults: FaultLog,
}

impl Rig {
    async fn new() -> Rig {
        let fake = Fake::new();
        let id = fake
            .start_service("0123456789ab", "sc", &service(), None)
            .await
            .expect("the fake starts it");
        let trace = Trace::new(RunClock::new(Some(0)));
        let root = trace.start("clnrm.scenario", None);
        Rig {
            fake,
            id,
            trace,
            root,
            faults: FaultLog::default(),
        }
    }

    /// Run the step `s` (`command` in the fake's scripts) on `app`, without
    /// retries' seed.
    async fn step(&self, command: &str) -> step::StepRun {
        let env = step::StepEnv {
            docker: &self.fake as &dyn Backend,
            trace: &self.trace,
            container: &self.id,
            faults: &self.faults,
            limits: &[],
            index: 0,
            trace_context: None,
        };
        step::run(&env, self.root, &step_spec(command), bound(), [0; 32]).await
    }

    fn now(&self) -> u64 {
        self.trace.clock().elapsed_ns()
    }

    /// The step's span, and every span.
    fn step_span(&self) -> (SpanData, Vec<SpanData>) {
        let spans = self.trace.snapshot();
        let s = spans
            .iter()
            .find(|s| s.name == "clnrm.step:s")
            .expect("step span")
            .clone();
        (s, spans)
    }
}

#[tokio::test(start_paused = true)]
async fn a_step_that_passes_while_a_fault_hits_its_service_is_degraded() {
    let r = Rig::new().await;
    r.fake
        .script("work", Script::exit(0).after(Duration::from_secs(1)));
    let (run, ()) = tokio::join!(r.step("work"), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        r.faults.record("app", FaultKind::Pause, r.now());
    });
    assert_eq!(run.outcome.result, StepResult::Pass);
    let (s, _) = r.step_span();
    assert!(bool_attr(&s, "degraded"));
    assert_eq!(str_attr(&s, "result"), "pass");
    assert_ok(&s);
}

#[tokio::test(start_paused = true)]
async fn a_fault_on_another_service_or_a_non_fault_does_not_degrade() {
    let r = Rig::new().await;
    r.faults.record("db", FaultKind::Signal, r.now());
    r.faults.record("app", FaultKind::None, r.now());
    let run = r.step("true").await;
    assert_eq!(run.outcome.result, StepResult::Pass);
    assert!(!bool_attr(&r.step_span().0, "degraded"));
}

#[tokio::test(start_paused = true)]
async fn a_nonzero_exit_after_a_network_cut_is_a_network_failure() {
    let r = Rig::new().await;
    r.fake.script("curl", Script::exit(7));
    r.faults.record("app", FaultKind::NetworkCut, r.now());
    let run = r.step("curl").await;
    assert_eq!(run.outcome.error_type, Some(ErrorType::NetworkFailure));
    assert_eq!(run.outcome.exit_code, Some(7));
    let (s, _) = r.step_span();
    assert_eq!(run.cause, s.id, "no enforcement: cleanup follows the step");
    assert_eq!(str_attr(&s, "error.type"), "network_failure");
    assert_error(&s, "network_failure (exit code 7)");
}

/// A non-zero exit after a network impairment is classified by the last one
/// that hit the service (its peer's impairment counts too: both ends record it).
#[tokio::test(start_paused = true)]
async fn a_nonzero_exit_after_an_impairment_is_classified_by_the_last_one() {
    for (kinds, want) in [
        (
            vec![FaultKind::ConnectionRefused],
            ErrorType::ConnectionRefused,
        ),
        (
            vec![FaultKind::ConnectionTimeout],
            ErrorType::ConnectionTimeout,
        ),
        (vec![FaultKind::NetworkImpaired], ErrorType::NetworkFailure),
        (
            vec![FaultKind::ConnectionRefused, FaultKind::ConnectionTimeout],
            ErrorType::ConnectionTimeout,
        ),
        (vec![FaultKind::Pause], ErrorType::NonzeroExit),
    ] {
        let r = Rig::new().await;
        r.fake.script("nc", Script::exit(1));
        for k in &kinds {
            r.faults.record("app", *k, r.now());
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        let run = r.step("nc").await;
        assert_eq!(run.outcome.error_type, Some(want), "{kinds:?}");
        assert_eq!(str_attr(&r.step_span().0, "error.type"), want.as_str());
    }
}

#[tokio::test(start_paused = true)]
async fn docker_gone_at_exec_time_is_docker_unreachable() {
    let r = Rig::new().await;
    r.fake.set_unreachable(true);
    let run = r.step("true").await;
    assert_eq!(run.outcome.result, StepResult::Error);
    assert_eq!(run.outcome.error_type, Some(ErrorType::DockerUnreachable));
    assert_eq!(run.outcome.exit_code, None);
    assert!(run.outcome.stderr.contains("the fake daemon went away"));
}

#[tokio::test(start_paused = true)]
async fn a_container_stopped_in_an_orderly_way_is_container_stopped() {
    let r = Rig::new().await;
    r.fake.script("wait", Script::hang());
    let (run, ()) = tokio::join!(r.step("wait"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The keep-alive traps SIGTERM and exits 0: the running exec ends.
        r.fake.kill(&r.id, "SIGTERM").await.expect("running");
    });
    assert_eq!(run.outcome.error_type, Some(ErrorType::ContainerStopped));
    assert_eq!(run.outcome.exit_code, Some(0));
}

#[tokio::test(start_paused = true)]
async fn pressure_on_two_resources_degrades_the_step_and_is_reported_together() {
    let r = Rig::new().await;
    r.fake
        .script("work", Script::exit(0).after(Duration::from_secs(1)));
    let (run, ()) = tokio::join!(r.step("work"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t = r.now();
        r.faults.record_pressure("app", "memory", t);
        r.faults.record_pressure("app", "disk", t);
        r.faults.record_pressure("app", "memory", t);
        // Another service's pressure is not this step's.
        r.faults.record_pressure("db", "cpu", t);
    });
    assert_eq!(run.outcome.result, StepResult::Pass);
    let (s, spans) = r.step_span();
    assert!(bool_attr(&s, "degraded"));
    let c = spans
        .iter()
        .find(|c| c.name == "clnrm.resource.concurrent_pressure")
        .expect("concurrent pressure span");
    assert_eq!(c.parent, Some(s.id));
    assert_eq!(str_attr(c, "resources"), "disk,memory");
    assert_eq!(c.attr("count"), Some(&AttrValue::Int(2)));
}

#[tokio::test(start_paused = true)]
async fn pressure_on_one_resource_degrades_without_a_concurrent_span() {
    let r = Rig::new().await;
    r.fake
        .script("work", Script::exit(0).after(Duration::from_secs(1)));
    let (run, ()) = tokio::join!(r.step("work"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        r.faults.record_pressure("app", "cpu", r.now());
    });
    assert_eq!(run.outcome.result, StepResult::Pass);
    let (s, spans) = r.step_span();
    assert!(bool_attr(&s, "degraded"));
    assert!(!spans
        .iter()
        .any(|c| c.name == "clnrm.resource.concurrent_pressure"));
}

#[tokio::test(start_paused = true)]
async fn pressure_before_the_step_does_not_degrade_it() {
    let r = Rig::new().await;
    r.faults.record_pressure("app", "memory", r.now());
    tokio::time::sleep(Duration::from_millis(10)).await;
    let run = r.step("true").await;
    assert_eq!(run.outcome.result, StepResult::Pass);
    assert!(!bool_attr(&r.step_span().0, "degraded"));
}

#[tokio::test]
async fn the_fake_changes_and_restores_limits_and_fills_its_tmpfs() {
    use crate::backend::cgroup::LiveLimits;
    let fake = Fake::new();
    let spec = ServiceSpec {
        memory_mb: Some(128),
        cpu_millicores: Some(100),
        max_file_descriptors: Some(256),
        tmpfs: [("/data".to_string(), 16)].into(),
        ..service()
    };
    let id = fake
        .start_service("0123456789ab", "sc", &spec, None)
        .await
        .unwrap();
    let prev = fake
        .set_limits(
            &id,
            &LiveLimits {
                memory_mb: Some(64),
                cpu_millicores: Some(50),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (prev.memory_mb, prev.memory_swap_mb, prev.cpu_millicores),
        (Some(128), Some(128), Some(100))
    );
    assert_eq!(
        prev.max_file_descriptors, None,
        "only what was set is answered"
    );
    let u = fake.cgroup_read(&id).await.unwrap();
    assert_eq!(
        (u.memory_limit, u.cpu_limit_millicores, u.fd_limit),
        (Some(64 << 20), Some(50), Some(256))
    );
    fake.set_limits(&id, &prev).await.unwrap();
    assert_eq!(fake.limits_of("app").unwrap().memory_mb, Some(128));
    fake.cgroup("app", |u| u.cpu_nr_throttled = 9);
    assert_eq!(fake.cgroup_read(&id).await.unwrap().cpu_nr_throttled, 9);
    assert_eq!(fake.fill_disk(&id, "/data", 100).await.unwrap(), 16 << 20);
    assert_eq!(fake.disk_usage(&id, "/data").await.unwrap().free_bytes, 0);
    fake.unfill_disk(&id, "/data").await.unwrap();
    assert_eq!(
        fake.disk_usage(&id, "/data").await.unwrap().free_bytes,
        16 << 20
    );
    assert!(fake.disk_usage(&id, "/nope").await.is_err());
}
