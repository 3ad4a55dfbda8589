//! One scenario: create its network, start its services, run its steps with
//! its injections running at the same time, then always clean up and verify.
//! `setup` creates, `steps` and `inject` run side by side, this file decides.

mod inject;
mod order;
pub mod receive;
mod setup;
mod steps;

pub use inject::outcome_of;

use super::cleanup::{self, CleanupRequest};
use super::outcome::{
    CleanupTrigger, ErrorType, InjectionOutcome, InjectionRecording, ScenarioOutcome, StepOutcome,
};
use super::{step, RunCtx};
use crate::runtime::{FaultLog, Limits, ResolvedPlugins, ScenarioCtx};
use crate::suite::{ScenarioSpec, Suite};
use crate::trace::{SpanId, Trace};
use std::sync::Arc;
use std::time::Duration;
// tokio's clock: the deadline arithmetic follows a paused test clock too.
use tokio::time::Instant;

/// Steps and plugins are bounded by max_duration themselves; the outer bound
/// is a safety net that still leaves room to report them.
const OUTER_SLACK: Duration = Duration::from_secs(10);

/// The safety net around a scenario's work. It must never race a step's own
/// bound: a step may run for `max_duration` and then spend up to the grace
/// period, the SIGKILL wait and the death settle on enforcement and
/// classification. Cut off in the middle of that, the trace would keep an
/// enforcement without the cleanup that reacts to it.
fn outer_bound(sc: &ScenarioSpec) -> Duration {
    let grace = sc.grace_period.unwrap_or(Duration::from_secs(5));
    sc.max_duration + grace + super::timeout::HARD_WAIT + step::DEATH_SETTLE + OUTER_SLACK
}

#[allow(clippy::too_many_arguments)] // the scenario, where it runs, and its `-j` permit
pub async fn run(
    ctx: &RunCtx,
    trace: &Trace,
    root: SpanId,
    sc: &ScenarioSpec,
    suite: &Suite,
    plugins: &ResolvedPlugins,
    (run_seed, receive): (u64, Option<&receive::SuiteReceive>),
    permit: tokio::sync::SemaphorePermit<'_>,
) -> ScenarioOutcome {
    let started = Instant::now();
    let span = trace.start("clnrm.scenario", Some(root));
    trace.set_attr(span, "scenario.name", &sc.name);
    trace.set_attr(span, "expect_failure", sc.expect_failure);

    let setup::Setup {
        created,
        mut setup_error,
        mut environment_error,
        receiver,
    } = setup::run(ctx, trace, span, sc, suite, plugins, (receive, run_seed)).await;

    let scenario_ctx = Arc::new(ScenarioCtx {
        backend: ctx.backend.clone(),
        containers: created.containers.clone(),
        network: created.network.clone(),
        trace: trace.clone(),
        faults: FaultLog::default(),
        slots: Default::default(),
        steps_done: Default::default(),
        schedule: crate::runtime::schedule::Schedule::new(sc.injections.len()),
        compose: ctx.registry.composer(
            plugins,
            suite,
            sc,
            Limits::chaos(sc.max_duration),
            trace.clock().epoch_unix_ns(),
        ),
        finished: Default::default(),
    });
    let mut interrupted = ctx.interrupt.is_set();
    let (steps, injected) = if setup_error.is_none() && !interrupted {
        let work = tokio::time::timeout(outer_bound(sc), async {
            let steps = async {
                let r = async {
                    steps::wait_for_spans(trace, span, sc, suite).await?;
                    // Injections get going first, so a hold on a first step
                    // is in place before that step starts.
                    scenario_ctx.schedule.settled().await;
                    Ok::<_, String>(
                        steps::run_steps(
                            ctx,
                            trace,
                            span,
                            (sc, suite),
                            &scenario_ctx,
                            started,
                            run_seed,
                        )
                        .await,
                    )
                }
                .await;
                scenario_ctx.schedule.close();
                // Faults held "until the steps end" let go now.
                scenario_ctx
                    .steps_done
                    .store(true, std::sync::atomic::Ordering::Release);
                r
            };
            tokio::join!(
                steps,
                inject::run_injections(ctx, span, sc, plugins, run_seed, &scenario_ctx)
            )
        });
        tokio::select! {
            r = work => match r {
                Ok((Ok(steps), injected)) => (steps, injected),
                Ok((Err(e), injected)) => {
                    setup_error = Some(e);
                    (Vec::new(), injected)
                }
                Err(_) => {
                    setup_error = Some(format!("scenario exceeded [limits] max_duration_seconds ({} s)", sc.max_duration.as_secs()));
                    (Vec::new(), Vec::new())
                }
            },
            // Dropping the work stops the steps' streams and the plugins' calls.
            _ = ctx.interrupt.wait() => {
                interrupted = true;
                (Vec::new(), Vec::new())
            }
        }
    } else {
        (Vec::new(), Vec::new())
    };
    if interrupted || setup_error.is_some() {
        // Spans of work that was cut off end as errors, not as UNSET.
        trace.close_open_after(
            span,
            if interrupted {
                "interrupted"
            } else {
                "cut off"
            },
        );
    }

    // Cleanup reacts to the event that ended the scenario: a failed step (its
    // child), else the scenario itself.
    let (injections, recordings): (Vec<InjectionOutcome>, Vec<InjectionRecording>) =
        injected.into_iter().unzip();
    // Artifacts come out before cleanup removes the containers.
    if !sc.artifacts.is_empty() {
        let outcomes: Vec<StepOutcome> = steps.iter().map(|s| s.outcome.clone()).collect();
        let before = super::artifacts::Before {
            docker: ctx.backend.as_ref(),
            trace,
            parent: span,
            reports: &ctx.reports,
            scenario: &sc.name,
            services: &sc.services,
            containers: &created.containers,
            steps: &outcomes,
        };
        for e in super::artifacts::collect(before, &sc.artifacts).await {
            tracing::warn!(scenario = %sc.name, "artifact not collected: {e}");
        }
    }
    // A timeout first: steps run at once may fail because another one's
    // enforcement stopped their shared container, and cleanup reacts to the
    // enforcement, not to its side effects.
    let failed_step = steps
        .iter()
        .find(|s| s.outcome.error_type == Some(ErrorType::Timeout))
        .or_else(|| steps.iter().find(|s| s.outcome.failed()));
    if !interrupted {
        super::cascade::detect(trace, span, sc, &steps);
    }
    // The recovery probe runs once the pressure is over, and only when
    // everything before it went as planned.
    let probe_error = match (&sc.recovery_probe, sc.services.first()) {
        (Some(probe), Some(main))
            if !interrupted
                && setup_error.is_none()
                && !steps.is_empty()
                && failed_step.is_none() =>
        {
            let id = created.containers.get(main).cloned().unwrap_or_default();
            // `recovery_probe = "ready"`: the main service's own probe (the
            // loader made sure it has one).
            let ready = suite
                .services
                .get(main)
                .and_then(|s| Some((s, s.ready.as_ref()?)));
            match ready {
                Some((spec, ready)) if probe == "ready" => {
                    let target = super::ready::Target {
                        backend: ctx.backend.as_ref(),
                        service: main,
                        image: &spec.image,
                        container: &id,
                    };
                    super::recovery::ready(&target, trace, span, ready).await
                }
                _ => {
                    super::recovery::probe(ctx.backend.as_ref(), trace, span, main, &id, probe)
                        .await
                }
            }
        }
        _ => None,
    };
    let injection_error = injections
        .iter()
        .find_map(|i| {
            i.error.clone().or_else(|| {
                (!i.observed)
                    .then(|| format!("{}: fault not observed: {}", i.fault_type, i.summary))
            })
        })
        .or(probe_error);
    let triggered = if interrupted {
        CleanupTrigger::Interrupt
    } else {
        match (&setup_error, failed_step, &injection_error) {
            (Some(_), _, _) => CleanupTrigger::Error,
            (_, Some(s), _) if s.outcome.error_type == Some(ErrorType::Timeout) => {
                CleanupTrigger::Timeout
            }
            (_, Some(_), _) => CleanupTrigger::Failure,
            (_, None, Some(_)) => CleanupTrigger::Error,
            _ => CleanupTrigger::Success,
        }
    };
    let outcomes: Vec<StepOutcome> = steps.iter().map(|s| s.outcome.clone()).collect();
    let verdict_before_cleanup =
        verdict(sc, interrupted, &setup_error, &injection_error, &outcomes);
    let cleanup_parent = failed_step.map(|s| s.cause).unwrap_or(span);
    // The applications flush before their containers go.
    if let Some(r) = receiver {
        r.finish(ctx, trace, span, &created, suite, run_seed).await;
    }
    // The next scenario may start while this one's Docker calls run.
    drop(permit);
    let cleanup = cleanup::run(CleanupRequest {
        backend: ctx.backend.as_ref(),
        trace,
        parent: cleanup_parent,
        run_id: &ctx.run_id,
        scenario: &sc.name,
        created: &created,
        triggered,
        policy: &suite.cleanup,
        passed: verdict_before_cleanup.is_none(),
    })
    .await;

    // Failures that are really Docker going away are environment errors (exit 2).
    let docker_trouble =
        !cleanup.success || outcomes.iter().any(StepOutcome::failed) || setup_error.is_some();
    if environment_error.is_none() && docker_trouble {
        if let Err(e) = ctx.backend.ping().await {
            environment_error = Some(e.to_string());
        }
    }
    let reason = verdict_before_cleanup.or_else(|| {
        (!cleanup.success).then(|| format!("cleanup failed: {}", cleanup.errors.join("; ")))
    });
    trace.set_attr(
        span,
        "scenario.result",
        if reason.is_none() { "pass" } else { "fail" },
    );
    match &reason {
        None => trace.end_ok(span),
        Some(r) => trace.end_error(span, r.clone()),
    }
    // `spans:<name>`: the whole scenario, cleanup included, once it ended.
    for e in super::artifacts::write_spans(trace, span, &ctx.reports, &sc.name, &sc.artifacts) {
        tracing::warn!(scenario = %sc.name, "artifact not written: {e}");
    }
    ScenarioOutcome {
        name: sc.name.clone(),
        passed: reason.is_none(),
        expect_failure: sc.expect_failure,
        reason,
        duration_ms: started.elapsed().as_millis() as u64,
        environment_error,
        steps: outcomes,
        injections,
        cleanup,
        recordings: if ctx.record { recordings } else { Vec::new() },
    }
}

/// Why the scenario failed before cleanup is looked at; None when it passed.
fn verdict(
    sc: &ScenarioSpec,
    interrupted: bool,
    setup_error: &Option<String>,
    injection_error: &Option<String>,
    steps: &[StepOutcome],
) -> Option<String> {
    let failed = steps.iter().filter(|s| s.failed()).count();
    let any_step_failed = failed > 0;
    if interrupted {
        return Some("interrupted".into());
    }
    if let Some(e) = setup_error {
        return Some(e.clone());
    }
    if let Some(e) = injection_error {
        return Some(e.clone());
    }
    if sc.expect_partial_failure {
        let total = steps.len();
        return (failed == 0 || failed == total).then(|| format!("expected a partial failure (expect_partial_failure = true): {failed} of {total} steps failed"));
    }
    if sc.expect_failure && !any_step_failed {
        return Some("expected a failure (expect_failure = true) but every step passed".into());
    }
    if !sc.expect_failure && any_step_failed {
        return steps.iter().find(|s| s.failed()).map(|s| {
            format!(
                "step `{}` failed: {}{}",
                s.name,
                s.error_type.map_or("error", ErrorType::as_str),
                s.exit_code
                    .map(|c| format!(" (exit code {c})"))
                    .unwrap_or_default()
            )
        });
    }
    None
}
