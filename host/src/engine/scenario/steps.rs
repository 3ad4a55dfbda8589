//! The steps: in order or all at once, each bounded, after the services'
//! `wait_for_span` holds.

use crate::engine::step::{self, StepRun};
use crate::engine::timeout::Bound;
use crate::engine::{limit_watch, seed, RunCtx};
use crate::runtime::ScenarioCtx;
use crate::suite::{ScenarioSpec, StepSpec, Suite};
use crate::trace::{SpanId, Trace};
use futures_util::future::join_all;
use std::sync::Arc;
use std::time::Duration;
// tokio's clock: the deadline arithmetic follows a paused test clock too.
use tokio::time::Instant;

/// Steps in order, or all at once for `run = [{ service, command }, ...]`.
/// `started`: the scenario's start, which `deadline_ms` counts from.
pub(super) async fn run_steps(
    ctx: &RunCtx,
    trace: &Trace,
    span: SpanId,
    (sc, suite): (&ScenarioSpec, &Suite),
    sctx: &Arc<ScenarioCtx>,
    started: Instant,
    run_seed: u64,
) -> Vec<StepRun> {
    // With the OTLP receiver, each exec carries its span's trace context.
    let receiving = crate::otel_receiver::receiver_needed(suite);
    let one = |(i, st): (usize, &StepSpec)| {
        let container = sctx
            .containers
            .get(&st.service)
            .cloned()
            .unwrap_or_default();
        // Its service's static limits are observed around it.
        let limits = suite
            .services
            .get(&st.service)
            .map(limit_watch::watched)
            .unwrap_or_default();
        let st = st.clone();
        // The step's own stream (its retry jitter): independent of the
        // plugins' streams and of the other steps'.
        let jitter = seed::stream_seed(run_seed, &sc.name, "clnrm.retry", i);
        async move {
            // A slow start (a plugin's hold) passes before the step begins.
            sctx.schedule.first_step(&st.service).await;
            let deadline = sc
                .deadline
                .map(|d| (d, d.saturating_sub(started.elapsed())));
            let bound = Bound::tightest(
                st.timeout,
                deadline,
                sc.max_duration,
                sc.timeout_strategy,
                sc.grace_period,
            );
            let env = step::StepEnv {
                docker: ctx.backend.as_ref(),
                trace,
                container: &container,
                faults: &sctx.faults,
                limits: &limits,
                index: i,
                trace_context: receiving.then_some((run_seed, suite.name.as_str())),
            };
            let r = step::run(&env, span, &st, bound, jitter).await;
            // Plugins following the steps (a cascade) learn it now.
            sctx.step_finished(crate::runtime::FinishedStep {
                index: i as u32,
                name: st.name.clone(),
                service: st.service.clone(),
                passed: !r.outcome.failed(),
                exit_code: r.outcome.exit_code,
                ended_ms: trace.clock().now_unix_ms(),
            });
            r
        }
    };
    if sc.parallel {
        return join_all(sc.steps.iter().enumerate().map(one)).await;
    }
    let mut out = Vec::new();
    for st in sc.steps.iter().enumerate() {
        let r = one(st).await;
        let failed = r.outcome.failed();
        out.push(r);
        if failed {
            break;
        }
    }
    out
}

/// `wait_for_span`: hold the steps until a span of that name is in the trace
/// (e.g. a chaos plugin's), bounded by the scenario's max duration.
pub(super) async fn wait_for_spans(
    trace: &Trace,
    span: SpanId,
    sc: &ScenarioSpec,
    suite: &Suite,
) -> Result<(), String> {
    for sid in &sc.services {
        let Some(name) = suite
            .services
            .get(sid)
            .and_then(|s| s.wait_for_span.as_ref())
        else {
            continue;
        };
        let w = trace.start("clnrm.service.wait", Some(span));
        trace.set_attr(w, "service.id", sid.as_str());
        trace.set_attr(w, "wait_for_span", name.as_str());
        let until = Instant::now() + sc.max_duration;
        while !trace.has_span_named_after(name, span) {
            if Instant::now() >= until {
                let msg = format!(
                    "service `{sid}`: span `{name}` (wait_for_span) did not appear within {} s",
                    sc.max_duration.as_secs()
                );
                trace.end_error(w, msg.clone());
                return Err(msg);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        trace.end_ok(w);
    }
    Ok(())
}
