//! One scenario: start its services, run its steps with its injections
//! running at the same time, then always clean up and verify.

use super::outcome::{InjectionOutcome, ScenarioOutcome, StepOutcome};
use super::{cleanup, seed, step, RunCtx};
use crate::runtime::{ChaosCall, Limits, ResolvedPlugins, ScenarioCtx};
use crate::suite::{InjectionSpec, ScenarioSpec, Suite};
use crate::trace::{SpanId, Trace};
use futures_util::future::join_all;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

const OUTER_SLACK: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn run(ctx: &RunCtx, trace: &Trace, root: SpanId, sc: &ScenarioSpec, suite: &Suite, plugins: &ResolvedPlugins, run_seed: u64) -> ScenarioOutcome {
    let started = Instant::now();
    let span = trace.start("clnrm.scenario", Some(root));
    trace.set_attr(span, "scenario.name", &sc.name);
    trace.set_attr(span, "expect_failure", sc.expect_failure);

    // Services. Whatever started is recorded before anything can fail, so
    // cleanup always knows it.
    let mut containers: HashMap<String, String> = HashMap::new();
    let mut service_error = None;
    for sid in &sc.services {
        let s = trace.start("clnrm.service.start", Some(span));
        trace.set_attr(s, "service.id", sid.as_str());
        let Some(spec) = suite.services.get(sid) else { continue };
        trace.set_attr(s, "service.image", spec.image.as_str());
        match ctx.docker.start_service(&ctx.run_id, &sc.name, spec).await {
            Ok(id) => {
                trace.set_attr(s, "container.id", id.as_str());
                trace.end_ok(s);
                containers.insert(sid.clone(), id);
            }
            Err(e) => {
                trace.end_error(s, e.to_string());
                service_error = Some(format!("service `{sid}` did not start: {e}"));
                break;
            }
        }
    }

    let scenario_ctx = Arc::new(ScenarioCtx { docker: ctx.docker.clone(), containers: containers.clone(), trace: trace.clone() });
    let (steps, injections) = if service_error.is_none() {
        // Steps and plugins are bounded by max_duration themselves; this outer
        // bound is a safety net that still leaves room to report them.
        let bounded = tokio::time::timeout(sc.max_duration + OUTER_SLACK, async {
            tokio::join!(run_steps(ctx, trace, span, sc, &containers), run_injections(ctx, span, sc, plugins, run_seed, &scenario_ctx))
        })
        .await;
        match bounded {
            Ok(r) => r,
            Err(_) => {
                service_error = Some(format!("scenario exceeded [limits] max_duration_seconds ({} s)", sc.max_duration.as_secs()));
                (Vec::new(), Vec::new())
            }
        }
    } else {
        (Vec::new(), Vec::new())
    };

    // Cleanup reacts to the event that ended the scenario: a failed step (its
    // child), else the scenario itself.
    let failed_step = steps.iter().find(|(o, _)| o.failed());
    let injection_error = injections.iter().find_map(|i| i.error.clone().or_else(|| (!i.observed).then(|| format!("{}: fault not observed: {}", i.fault_type, i.summary))));
    let triggered = match (&service_error, failed_step, &injection_error) {
        (Some(_), _, _) => "error",
        (_, Some((o, _)), _) if o.error_type.as_deref() == Some("timeout") => "timeout",
        (_, Some(_), _) => "failure",
        (_, None, Some(_)) => "error",
        _ => "success",
    };
    let cleanup_parent = failed_step.map(|(_, s)| *s).unwrap_or(span);
    let cleanup = cleanup::run(&ctx.docker, trace, cleanup_parent, &ctx.run_id, &sc.name, &containers, triggered).await;

    let steps: Vec<StepOutcome> = steps.into_iter().map(|(o, _)| o).collect();
    let any_step_failed = steps.iter().any(StepOutcome::failed);
    let reason = if let Some(e) = service_error {
        Some(e)
    } else if let Some(e) = injection_error {
        Some(e)
    } else if !cleanup.success {
        Some(format!("cleanup failed: {}", cleanup.errors.join("; ")))
    } else if sc.expect_failure && !any_step_failed {
        Some("expected a failure (expect_failure = true) but every step passed".into())
    } else if !sc.expect_failure && any_step_failed {
        steps.iter().find(|s| s.failed()).map(|s| format!("step `{}` failed: {}{}", s.name, s.error_type.as_deref().unwrap_or("error"), s.exit_code.map(|c| format!(" (exit code {c})")).unwrap_or_default()))
    } else {
        None
    };
    trace.set_attr(span, "scenario.result", if reason.is_none() { "pass" } else { "fail" });
    match &reason {
        None => trace.end_ok(span),
        Some(r) => trace.end_error(span, r.clone()),
    }
    ScenarioOutcome {
        name: sc.name.clone(),
        passed: reason.is_none(),
        expect_failure: sc.expect_failure,
        reason,
        duration_ms: started.elapsed().as_millis() as u64,
        steps,
        injections,
        cleanup,
    }
}

/// Steps in order, or all at once for `run = [{ service, command }, ...]`.
async fn run_steps(ctx: &RunCtx, trace: &Trace, span: SpanId, sc: &ScenarioSpec, containers: &HashMap<String, String>) -> Vec<(StepOutcome, SpanId)> {
    let one = |st: &crate::suite::StepSpec| {
        let container = containers.get(&st.service).cloned().unwrap_or_default();
        let mut st = st.clone();
        st.timeout = Some(st.timeout.map_or(sc.max_duration, |t| t.min(sc.max_duration)));
        async move { step::run(&ctx.docker, trace, span, &st, &container).await }
    };
    if sc.parallel {
        return join_all(sc.steps.iter().map(one)).await;
    }
    let mut out = Vec::new();
    for st in &sc.steps {
        let r = one(st).await;
        let failed = r.0.failed();
        out.push(r);
        if failed {
            break;
        }
    }
    out
}

async fn run_injections(ctx: &RunCtx, span: SpanId, sc: &ScenarioSpec, plugins: &ResolvedPlugins, run_seed: u64, scenario_ctx: &Arc<ScenarioCtx>) -> Vec<InjectionOutcome> {
    join_all(sc.injections.iter().enumerate().map(|(i, inj)| inject_one(ctx, span, sc, plugins, run_seed, scenario_ctx, i, inj))).await
}

#[allow(clippy::too_many_arguments)]
async fn inject_one(ctx: &RunCtx, span: SpanId, sc: &ScenarioSpec, plugins: &ResolvedPlugins, run_seed: u64, scenario_ctx: &Arc<ScenarioCtx>, index: usize, inj: &InjectionSpec) -> InjectionOutcome {
    let Some(plugin) = plugins.chaos.get(&inj.fault_type) else {
        return InjectionOutcome { fault_type: inj.fault_type.clone(), plugin: String::new(), observed: false, summary: String::new(), error: Some(format!("no plugin handles `{}`", inj.fault_type)) };
    };
    let injection = crate::runtime::Injection {
        fault_type: inj.fault_type.clone(),
        config_json: inj.config_json.clone(),
        scenario: sc.name.clone(),
        services: sc.services.clone(),
        parent: span.0 as u64,
    };
    let call = ChaosCall {
        stream_seed: seed::stream_seed(run_seed, &sc.name, &plugin.info.name, index),
        epoch_ns: scenario_ctx.trace.clock().epoch_unix_ns(),
        limits: Limits::chaos(sc.max_duration),
        scenario: scenario_ctx.clone(),
    };
    let name = plugin.info.name.clone();
    match ctx.registry.inject(plugin, &injection, call).await {
        Ok(o) => InjectionOutcome { fault_type: inj.fault_type.clone(), plugin: name, observed: o.observed, summary: o.summary, error: None },
        Err(e) => {
            // The plugin died mid-injection: close whatever spans it left open
            // under the scenario, so the trace stays well-formed.
            InjectionOutcome { fault_type: inj.fault_type.clone(), plugin: name, observed: false, summary: String::new(), error: Some(e.to_string()) }
        }
    }
}
