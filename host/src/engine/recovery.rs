//! `recovery_probe`: once a scenario's steps and injections are over (the
//! pressure gone, limits restored), a command in its main service proves the
//! application works again. Its span, `clnrm.resource.recovery` with
//! `recovery.check = "probe"`, says so from the probe's exit code.

use crate::backend::ContainerBackend;
use crate::trace::{SpanId, Trace};
use std::time::{Duration, Instant};

/// How long a probe may take.
const PROBE_BOUND: Duration = Duration::from_secs(30);

/// Run `command` in `service`'s container; None when it succeeded, else why not.
pub async fn probe(
    backend: &dyn ContainerBackend,
    trace: &Trace,
    parent: SpanId,
    service: &str,
    container: &str,
    command: &str,
) -> Option<String> {
    let span = trace.start("clnrm.resource.recovery", Some(parent));
    trace.set_attr(span, "recovery.check", "probe");
    trace.set_attr(span, "target.service", service);
    trace.set_attr(span, "recovery.probe", command);
    let t0 = Instant::now();
    let failure = match backend.exec(container, command, Some(PROBE_BOUND)).await {
        Err(e) => Some(format!("recovery probe could not run: {e}")),
        Ok(out) if out.timed_out => Some(format!(
            "recovery probe did not end within {} s",
            PROBE_BOUND.as_secs()
        )),
        Ok(out) if out.exit_code == Some(0) => None,
        Ok(out) => {
            if let Some(c) = out.exit_code {
                trace.set_attr(span, "exit.code", c);
            }
            Some(format!(
                "recovery probe `{command}` failed (exit code {:?}): {}",
                out.exit_code,
                out.stderr.trim()
            ))
        }
    };
    close(trace, span, t0, failure)
}

/// `recovery_probe = "ready"`: the main service's `ready` probe passes again
/// (within its `ready_timeout_ms`). Same span as [`probe`], with
/// `recovery.check = "ready"` and the probe's kind.
pub async fn ready(
    target: &crate::engine::ready::Target<'_>,
    trace: &Trace,
    parent: SpanId,
    spec: &crate::suite::ReadySpec,
) -> Option<String> {
    let span = trace.start("clnrm.resource.recovery", Some(parent));
    trace.set_attr(span, "recovery.check", "ready");
    trace.set_attr(span, "target.service", target.service);
    trace.set_attr(span, "ready.probe", spec.probe.kind());
    let t0 = Instant::now();
    let (attempts, r) = crate::engine::ready::again(target, spec).await;
    trace.set_attr(span, "ready.attempts", attempts as i64);
    let failure = r.err().map(|why| {
        format!(
            "recovery probe: service `{}` not ready again within {} ms: {why}",
            target.service,
            spec.timeout.as_millis()
        )
    });
    close(trace, span, t0, failure)
}

/// End a recovery span: whether it succeeded, how long it took, and why not.
fn close(trace: &Trace, span: SpanId, t0: Instant, failure: Option<String>) -> Option<String> {
    trace.set_attr(span, "recovery.success", failure.is_none());
    trace.set_attr(span, "recovery.ms", t0.elapsed().as_millis() as i64);
    match &failure {
        None => trace.end_ok(span),
        Some(why) => trace.end_error(span, why.clone()),
    }
    failure
}
