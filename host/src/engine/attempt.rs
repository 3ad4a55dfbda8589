//! One attempt of a step's command: exec'd in its service container under
//! what is left of the step's bound, and classified from what Docker reports
//! (exit code, container state, OOMKilled). [`super::step`] runs one or,
//! through [`super::retry`], several.

use super::limit_watch::Watched;
use super::outcome::{ErrorType, StepOutcome, StepResult};
use super::timeout::{self, Bound, Ended};
use crate::backend::Backend;
use crate::runtime::{FaultKind, FaultLog};
use crate::suite::StepSpec;
use crate::trace::{SpanId, Trace};
use std::time::Duration;
// tokio's clock: a paused test clock measures steps exactly.
use tokio::time::Instant;

/// How long to wait for Docker to report a container dead after a step's
/// exec ended abnormally (a kill lands in the exec before the container state).
pub const DEATH_SETTLE: Duration = Duration::from_secs(2);

/// Everything a step's command is run against.
pub struct StepEnv<'a> {
    pub docker: &'a dyn Backend,
    pub trace: &'a Trace,
    pub container: &'a str,
    pub faults: &'a FaultLog,
    /// What the service's `limits` bound: read around the step.
    pub limits: &'a [Watched],
    /// The step's index in its scenario.
    pub index: usize,
    /// With the OTLP receiver: the suite's seed and name, from which the
    /// exec's `TRACEPARENT` (its span's exported ids) is derived.
    pub trace_context: Option<(u64, &'a str)>,
}

/// One run of the step's command under what is left of its bound (`spent`:
/// the bound's time already used by earlier attempts and waits). A timeout is
/// enforced on the step's span (`span`), once: it ends the step.
pub async fn attempt(
    env: &StepEnv<'_>,
    span: SpanId,
    step: &StepSpec,
    bound: &Bound,
    spent: Duration,
) -> (StepOutcome, SpanId) {
    let (docker, trace, container) = (env.docker, env.trace, env.container);
    let started = Instant::now();
    let mut out = StepOutcome {
        name: step.name.clone(),
        service: step.service.clone(),
        result: StepResult::Pass,
        exit_code: None,
        error_type: None,
        stdout: String::new(),
        stderr: String::new(),
        duration_ms: 0,
    };
    // The cgroup's OOM-kill counter before the step: the only evidence of an
    // OOM kill inside a container that survives it.
    let oom_before = docker.oom_kills(container).await;
    let mut cause = span;
    let left = bound.after.saturating_sub(spent);
    let exec_env: Vec<String> = env
        .trace_context
        .map(|(seed, suite)| {
            crate::otel_receiver::env::trace_context(
                &crate::trace::ids::trace_id(seed, suite),
                &crate::trace::ids::span_id(seed, suite, span.0),
            )
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
        })
        .unwrap_or_default();
    match timeout::race(
        docker,
        container,
        &step.command,
        step.argv.as_deref(),
        &exec_env,
        left,
    )
    .await
    {
        Ended::Command(Err(e), _) => {
            out.error_type = Some(if e.is_unreachable() {
                ErrorType::DockerUnreachable
            } else {
                ErrorType::ExecFailed
            });
            out.stderr = e.to_string();
        }
        Ended::Bound(partial) => {
            out.stdout = partial.stdout;
            out.stderr = partial.stderr;
            out.error_type = Some(ErrorType::Timeout);
            bound.set_attrs(trace, span);
            let (enforced, code) = timeout::enforce(docker, trace, span, container, bound).await;
            cause = enforced;
            out.exit_code = code;
        }
        Ended::Command(Ok(exec), tie) => {
            if tie {
                // Recorded with the trace, so a replay shows the same side.
                trace.set_attr(span, "timeout.race", "container_stopped_first");
            }
            out.stdout = exec.stdout;
            out.stderr = exec.stderr;
            out.exit_code = exec.exit_code;
            let oom_after = docker.oom_kills(container).await;
            let oom = matches!((oom_before, oom_after), (Some(a), Some(b)) if b > a);
            if oom {
                trace.set_attr(
                    span,
                    "oom.kills",
                    oom_after.unwrap_or(0) - oom_before.unwrap_or(0),
                );
            }
            classify(docker, container, &mut out, oom).await;
            // A step that failed on its own terms after its network was
            // cut or impaired failed because of that.
            if out.error_type == Some(ErrorType::NonzeroExit) {
                match env
                    .faults
                    .last_network(&step.service, trace.clock().elapsed_ns())
                {
                    Some(FaultKind::ConnectionRefused) => {
                        out.error_type = Some(ErrorType::ConnectionRefused)
                    }
                    Some(FaultKind::ConnectionTimeout) => {
                        out.error_type = Some(ErrorType::ConnectionTimeout)
                    }
                    Some(_) => out.error_type = Some(ErrorType::NetworkFailure),
                    None => {}
                }
            }
        }
    }
    out.duration_ms = started.elapsed().as_millis() as u64;
    if out.error_type.is_some() {
        out.result = StepResult::Error;
    }
    (out, cause)
}

/// Decide what happened from Docker's own account, never from assumptions.
async fn classify(
    docker: &dyn Backend,
    container: &str,
    out: &mut StepOutcome,
    oom_in_cgroup: bool,
) {
    let abnormal = out.exit_code.is_none_or(|c| c >= 128) && !oom_in_cgroup;
    let state = if abnormal {
        docker.wait_stopped(container, DEATH_SETTLE).await
    } else {
        docker.inspect(container).await
    };
    let Ok(state) = state else {
        // The container is gone entirely: something removed it under us.
        out.error_type = Some(ErrorType::ContainerKilled);
        return;
    };
    if !state.running {
        out.exit_code = state.exit_code.or(out.exit_code);
        // Killed by a signal (128 + n) or stopped in an orderly way (trap, exit 0).
        let killed = state.exit_code.is_none_or(|c| c >= 128);
        out.error_type = Some(if state.oom_killed {
            ErrorType::OomKilled
        } else if killed {
            ErrorType::ContainerKilled
        } else {
            ErrorType::ContainerStopped
        });
    } else if (state.oom_killed || oom_in_cgroup) && out.exit_code == Some(137) {
        // The step's process was OOM-killed inside a container that lives on.
        out.error_type = Some(ErrorType::OomKilled);
    } else {
        match out.exit_code {
            Some(0) => {}
            Some(_) => out.error_type = Some(ErrorType::NonzeroExit),
            None => out.error_type = Some(ErrorType::ExitUnknown),
        }
    }
}
