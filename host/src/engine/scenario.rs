//! One scenario: create its network, start its services, run its steps with
//! its injections running at the same time, then always clean up and verify.

use super::cleanup::{self, CleanupRequest, Created};
use super::outcome::{
    CleanupTrigger, ErrorType, InjectionOutcome, InjectionRecording, ScenarioOutcome, StepOutcome,
};
use super::step::StepRun;
use super::timeout::Bound;
use super::{seed, step, RunCtx};
use crate::runtime::journal::Journal;
use crate::runtime::{ChaosCall, FaultLog, Limits, ResolvedPlugins, ScenarioCtx};
use crate::suite::{InjectionSpec, NetworkMode, ScenarioSpec, StepSpec, Suite};
use crate::trace::{SpanId, Trace};
use futures_util::future::join_all;
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
    run_seed: u64,
    permit: tokio::sync::SemaphorePermit<'_>,
) -> ScenarioOutcome {
    let started = Instant::now();
    let span = trace.start("clnrm.scenario", Some(root));
    trace.set_attr(span, "scenario.name", &sc.name);
    trace.set_attr(span, "expect_failure", sc.expect_failure);

    // Everything created is recorded before anything can fail, so cleanup
    // always knows it.
    let mut created = Created::default();
    let mut setup_error = None;
    let mut environment_error = None;
    if needs_own_network(sc, plugins) {
        match ctx.backend.create_network(&ctx.run_id, &sc.name).await {
            Ok(net) => created.network = Some(net),
            Err(e) => {
                if e.is_unreachable() {
                    environment_error = Some(e.to_string());
                }
                setup_error = Some(format!("cannot create the scenario's network: {e}"));
            }
        }
    } else {
        // Said only when there is none, so the traces of scenarios with a
        // network of their own read as they always did.
        trace.set_attr(span, "network.mode", "none");
    }
    if setup_error.is_none() {
        // Not raced with Ctrl-C: a start cut off halfway would leave a
        // container nobody knows about. Starting is short; the interrupt is
        // honoured right after.
        let starts = start_services(
            ctx,
            trace,
            span,
            sc,
            suite,
            created.network.as_ref().map(|n| n.name.as_str()),
        )
        .await;
        for (sid, r) in starts {
            match r {
                Ok(id) => {
                    created.containers.insert(sid, id);
                }
                Err(e) => {
                    if let StartError::Docker(d) = &e {
                        if d.is_unreachable() {
                            environment_error.get_or_insert(d.to_string());
                        }
                    }
                    setup_error.get_or_insert(format!("service `{sid}` {e}"));
                }
            }
        }
    }

    let scenario_ctx = Arc::new(ScenarioCtx {
        backend: ctx.backend.clone(),
        containers: created.containers.clone(),
        network: created.network.clone(),
        trace: trace.clone(),
        faults: FaultLog::default(),
        net: Default::default(),
        steps_done: Default::default(),
        schedule: crate::runtime::schedule::Schedule::new(sc.injections.len()),
        compose: ctx.registry.composer(
            plugins,
            suite,
            sc,
            Limits::chaos(sc.max_duration),
            trace.clock().epoch_unix_ns(),
        ),
    });
    let mut interrupted = ctx.interrupt.is_set();
    let (steps, injected) = if setup_error.is_none() && !interrupted {
        let work = tokio::time::timeout(outer_bound(sc), async {
            let steps = async {
                let r = async {
                    wait_for_spans(trace, span, sc, suite).await?;
                    // Injections get going first, so a hold on a first step
                    // is in place before that step starts.
                    scenario_ctx.schedule.settled().await;
                    Ok::<_, String>(
                        run_steps(ctx, trace, span, sc, &scenario_ctx, started, run_seed).await,
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
                run_injections(ctx, span, sc, plugins, run_seed, &scenario_ctx)
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
            super::recovery::probe(ctx.backend.as_ref(), trace, span, main, &id, probe).await
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

/// Whether the scenario gets a bridge network of its own. Isolation does not
/// need one: a container without any network (Docker's `none` mode, only
/// loopback) is as isolated as it gets, and it starts, dies and goes faster
/// (no veth pair, no iptables rules, no network to create and remove).
fn needs_own_network(sc: &ScenarioSpec, plugins: &ResolvedPlugins) -> bool {
    match sc.network {
        NetworkMode::Own => true,
        NetworkMode::None => false,
        NetworkMode::Auto => {
            sc.services.len() > 1
                || sc.injections.iter().any(|inj| {
                    plugins
                        .chaos
                        .get(&inj.fault_type)
                        .is_none_or(|p| p.uses_network())
                })
        }
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

/// Why a service did not start; shown after "service `<id>` ".
#[derive(Debug, thiserror::Error)]
enum StartError {
    /// The suite does not define it (bad input, never an environment error).
    #[error("is not defined in the suite")]
    Unknown,
    /// Started without a network, but the kernel shows more than `lo`.
    #[error("has network interfaces {0} although the scenario has no network")]
    NotIsolated(String),
    #[error("did not start: {0}")]
    Docker(crate::backend::DockerError),
}

type StartResult = (String, Result<String, StartError>);

/// Start the scenario's services, one after another or all at once.
async fn start_services(
    ctx: &RunCtx,
    trace: &Trace,
    span: SpanId,
    sc: &ScenarioSpec,
    suite: &Suite,
    network: Option<&str>,
) -> Vec<StartResult> {
    let one = |sid: String| async move {
        let s = trace.start("clnrm.service.start", Some(span));
        trace.set_attr(s, "service.id", sid.as_str());
        let Some(spec) = suite.services.get(&sid) else {
            trace.end_error(s, "unknown service");
            return (sid, Err(StartError::Unknown));
        };
        trace.set_attr(s, "service.image", spec.image.as_str());
        let r = ctx
            .backend
            .start_service(&ctx.run_id, &sc.name, spec, network)
            .await
            .map_err(StartError::Docker);
        let r = match r {
            // Isolation is read back from the kernel, not assumed.
            Ok(id) if network.is_none() => match ctx.backend.interfaces(&id).await {
                Ok(Some(names)) if names != ["lo"] => {
                    let _ = ctx.backend.remove(&id).await;
                    Err(StartError::NotIsolated(names.join(",")))
                }
                Ok(Some(names)) => {
                    trace.set_attr(s, "network.interfaces", names.join(","));
                    Ok(id)
                }
                Ok(None) => Ok(id),
                Err(e) => {
                    let _ = ctx.backend.remove(&id).await;
                    Err(StartError::Docker(e))
                }
            },
            r => r,
        };
        match &r {
            Ok(id) => {
                trace.set_attr(s, "container.id", id.as_str());
                trace.end_ok(s);
            }
            Err(e @ StartError::NotIsolated(_)) => trace.end_error(s, e.to_string()),
            Err(StartError::Docker(e)) => trace.end_error(s, e.to_string()),
            Err(StartError::Unknown) => {}
        }
        (sid, r)
    };
    if sc.parallel_services {
        return join_all(sc.services.iter().cloned().map(one)).await;
    }
    let mut out = Vec::new();
    for sid in sc.services.iter().cloned() {
        let r = one(sid).await;
        let failed = r.1.is_err();
        out.push(r);
        if failed {
            break;
        }
    }
    out
}

/// Steps in order, or all at once for `run = [{ service, command }, ...]`.
/// `started`: the scenario's start, which `deadline_ms` counts from.
async fn run_steps(
    ctx: &RunCtx,
    trace: &Trace,
    span: SpanId,
    sc: &ScenarioSpec,
    sctx: &Arc<ScenarioCtx>,
    started: Instant,
    run_seed: u64,
) -> Vec<StepRun> {
    let one = |(i, st): (usize, &StepSpec)| {
        let container = sctx
            .containers
            .get(&st.service)
            .cloned()
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
            };
            step::run(&env, span, &st, bound, jitter).await
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
async fn wait_for_spans(
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

async fn run_injections(
    ctx: &RunCtx,
    span: SpanId,
    sc: &ScenarioSpec,
    plugins: &ResolvedPlugins,
    run_seed: u64,
    sctx: &Arc<ScenarioCtx>,
) -> Vec<(InjectionOutcome, InjectionRecording)> {
    join_all(
        sc.injections
            .iter()
            .enumerate()
            .map(|(i, inj)| inject_one(ctx, span, sc, plugins, run_seed, sctx, i, inj)),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn inject_one(
    ctx: &RunCtx,
    span: SpanId,
    sc: &ScenarioSpec,
    plugins: &ResolvedPlugins,
    run_seed: u64,
    sctx: &Arc<ScenarioCtx>,
    index: usize,
    inj: &InjectionSpec,
) -> (InjectionOutcome, InjectionRecording) {
    let injection = crate::runtime::Injection {
        fault_type: inj.fault_type.clone(),
        config_json: inj.config_json.clone(),
        scenario: sc.name.clone(),
        services: sc.services.clone(),
        parent: span.0 as u64,
    };
    let mut recording = InjectionRecording {
        scenario: sc.name.clone(),
        index,
        fault_type: inj.fault_type.clone(),
        plugin: String::new(),
        config_json: inj.config_json.clone(),
        services: sc.services.clone(),
        parent: injection.parent,
        calls: Vec::new(),
        outcome: InjectionOutcome {
            fault_type: inj.fault_type.clone(),
            plugin: String::new(),
            observed: false,
            summary: String::new(),
            error: None,
        },
    };
    let ready = sctx.schedule.ready();
    let Some(plugin) = plugins.chaos.get(&inj.fault_type) else {
        ready.settle();
        recording.outcome.error = Some(format!("no plugin handles `{}`", inj.fault_type));
        return (recording.outcome.clone(), recording);
    };
    let call = ChaosCall {
        stream_seed: seed::stream_seed(run_seed, &sc.name, &plugin.info.name, index),
        epoch_ns: sctx.trace.clock().epoch_unix_ns(),
        limits: Limits::chaos(sc.max_duration),
        scenario: sctx.clone(),
        journal: if ctx.record {
            Journal::Record(Vec::new())
        } else {
            Journal::Live
        },
        ready: Some(ready),
        depth: 0,
    };
    let ret = ctx.registry.inject(plugin, &injection, call).await;
    recording.plugin = plugin.info.name.clone();
    recording.outcome = outcome_of(&inj.fault_type, &plugin.info.name, ret.result);
    recording.calls = ret.journal.into_calls();
    (recording.outcome.clone(), recording)
}

/// The engine's view of what an injection did.
pub fn outcome_of(
    fault_type: &str,
    plugin: &str,
    result: Result<crate::runtime::Outcome, crate::runtime::PluginError>,
) -> InjectionOutcome {
    match result {
        Ok(o) => InjectionOutcome {
            fault_type: fault_type.to_string(),
            plugin: plugin.to_string(),
            observed: o.observed,
            summary: o.summary,
            error: None,
        },
        Err(e) => InjectionOutcome {
            fault_type: fault_type.to_string(),
            plugin: plugin.to_string(),
            observed: false,
            summary: String::new(),
            error: Some(e.to_string()),
        },
    }
}
