//! One step under its span: one attempt of its command ([`super::attempt`]),
//! or several (`retry`), then what the span says of it (result, degraded,
//! concurrent pressure).

use super::limit_watch::LimitWatch;
use super::outcome::StepOutcome;
use super::timeout::Bound;
use crate::suite::StepSpec;
use crate::trace::SpanId;
use std::time::Duration;
// tokio's clock: a paused test clock measures steps exactly.
use tokio::time::Instant;

pub use super::attempt::{attempt, StepEnv, DEATH_SETTLE};

/// A finished step: its outcome and the span cleanup reacts to (the step's
/// own, or the timeout enforcement that ended it).
pub struct StepRun {
    pub outcome: StepOutcome,
    pub cause: SpanId,
}

/// Run one step under its span: one attempt, or several (`retry`) within the
/// one bound. `jitter`: the seed of the step's retry stream.
pub async fn run(
    env: &StepEnv<'_>,
    parent: SpanId,
    step: &StepSpec,
    bound: Bound,
    jitter: [u8; 32],
) -> StepRun {
    let trace = env.trace;
    let span = trace.start(format!("clnrm.step:{}", step.name), Some(parent));
    trace.set_attr(span, "step.name", &step.name);
    trace.set_attr(span, "service.id", &step.service);
    trace.set_attr(span, "container.id", env.container);
    let started = Instant::now();
    let started_ns = trace.clock().elapsed_ns();
    let watch = LimitWatch {
        backend: env.docker,
        trace,
        faults: env.faults,
        service: &step.service,
        container: env.container,
        watched: env.limits,
        index: env.index,
    };
    let (mut out, cause) = watch
        .around(span, async {
            match &step.retry {
                None => attempt(env, span, step, &bound, Duration::ZERO).await,
                Some(policy) => super::retry::run(env, span, step, &bound, policy, jitter).await,
            }
        })
        .await;
    out.duration_ms = started.elapsed().as_millis() as u64;
    trace.set_attr(span, "result", out.result.as_str());
    // Graceful degradation: the step passed although a fault hit its service
    // while it ran (resource pressure a plugin observed counts).
    let ended_ns = trace.clock().elapsed_ns();
    let faults = env.faults;
    let degraded = !out.failed() && faults.any_during(&step.service, started_ns, ended_ns);
    trace.set_attr(span, "degraded", degraded);
    let pressure = faults.pressure_during(&step.service, started_ns, ended_ns);
    if pressure.len() >= 2 {
        let c = trace.start("clnrm.resource.concurrent_pressure", Some(span));
        trace.set_attr(c, "service.id", &step.service);
        let list = pressure.into_iter().collect::<Vec<_>>();
        trace.set_attr(c, "count", list.len() as i64);
        trace.set_attr(c, "resources", list.join(","));
        trace.end_ok(c);
    }
    if let Some(code) = out.exit_code {
        trace.set_attr(span, "exit.code", code);
    }
    match &out.error_type {
        Some(et) => {
            trace.set_attr(span, "error.type", et.as_str());
            trace.end_error(span, describe(&out));
        }
        None => trace.end_ok(span),
    }
    StepRun {
        outcome: out,
        cause,
    }
}

fn describe(out: &StepOutcome) -> String {
    match (out.error_type, out.exit_code) {
        (Some(t), Some(c)) => format!("{t} (exit code {c})"),
        (Some(t), None) => t.to_string(),
        (None, _) => String::new(),
    }
}
