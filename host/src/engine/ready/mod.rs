//! Readiness: after a service's container started, wait until its `ready`
//! probe passes (bounded by `ready_timeout_ms`) before what depends on it
//! starts, and before the scenario's steps and faults. One
//! `clnrm.service.ready` span per service that declares `ready`; a service
//! without it is ready when started, as before (no span).

mod health;
mod net;

use crate::backend::ContainerBackend;
use crate::capability::net::netns::Netns;
use crate::suite::{Probe, ProbeCommand, ReadySpec};
use crate::trace::{SpanId, Trace};
use std::time::Duration;
use tokio::time::Instant;

/// How often a cheap probe (tcp, http, log) is tried again: the benchmark's
/// 50 ms from "port open" to "ready" leaves room for one missed attempt.
const FAST_POLL: Duration = Duration::from_millis(10);
/// Exec probes cost a Docker exec each (tens of ms): tried less often.
const EXEC_POLL: Duration = Duration::from_millis(100);
/// How many of the service's last output lines a `not_ready` error shows.
const LOG_TAIL: usize = 10;

/// What a probe run needs.
pub struct Target<'a> {
    pub backend: &'a dyn ContainerBackend,
    pub service: &'a str,
    pub image: &'a str,
    pub container: &'a str,
}

/// Wait for `ready` under a `clnrm.service.ready` span (child of `parent`).
/// Err: why not, with the service's last output lines (the report shows it).
pub async fn wait(
    t: &Target<'_>,
    trace: &Trace,
    parent: SpanId,
    ready: &ReadySpec,
) -> Result<(), String> {
    let span = trace.start("clnrm.service.ready", Some(parent));
    trace.set_attr(span, "service.id", t.service);
    trace.set_attr(span, "ready.probe", ready.probe.kind());
    let t0 = Instant::now();
    let mut attempts = 0u32;
    let r = until_ready(t, ready, t0 + ready.timeout, &mut attempts).await;
    trace.set_attr(span, "ready.ms", t0.elapsed().as_millis() as i64);
    trace.set_attr(span, "ready.attempts", attempts as i64);
    match r {
        Ok(()) => {
            trace.end_ok(span);
            Ok(())
        }
        Err(why) => {
            // Said after "service `<id>` " by the span and by the scenario's reason.
            let msg = format!(
                "not ready after {} ms ({} probe, {attempts} attempt{}): {why}",
                t0.elapsed().as_millis(),
                ready.probe.kind(),
                if attempts == 1 { "" } else { "s" }
            );
            trace.set_attr(span, "error.type", "not_ready");
            trace.end_error(span, format!("service `{}` {msg}", t.service));
            Err(format!("{msg}{}", last_lines(t).await))
        }
    }
}

/// The probe again, bounded by `ready_timeout_ms`, without a span of its own
/// (`recovery_probe = "ready"`): the attempts it took, or why it never passed.
pub async fn again(t: &Target<'_>, ready: &ReadySpec) -> (u32, Result<(), String>) {
    let mut attempts = 0;
    let r = until_ready(t, ready, Instant::now() + ready.timeout, &mut attempts).await;
    (attempts, r)
}

async fn until_ready(
    t: &Target<'_>,
    ready: &ReadySpec,
    deadline: Instant,
    attempts: &mut u32,
) -> Result<(), String> {
    match &ready.probe {
        Probe::Healthcheck(own) => {
            let check = match own {
                Some(h) => h.clone(),
                None => t
                    .backend
                    .image_healthcheck(t.image, t.container)
                    .await
                    .map_err(|e| format!("reading the image's HEALTHCHECK: {e}"))?
                    .ok_or_else(|| {
                        format!(
                            "image `{}` has no HEALTHCHECK and the service no `healthcheck`",
                            t.image
                        )
                    })?,
            };
            health::wait(t, &check, deadline, attempts).await
        }
        Probe::Log(re) => {
            let re = regex::Regex::new(re).map_err(|e| e.to_string())?;
            log_wait(t, &re, deadline, attempts).await
        }
        probe => poll(t, probe, deadline, attempts).await,
    }
}

/// tcp, http, exec: try, and again every poll interval, until it passes, the
/// deadline passes or the container is gone.
async fn poll(
    t: &Target<'_>,
    probe: &Probe,
    deadline: Instant,
    attempts: &mut u32,
) -> Result<(), String> {
    let ns = match probe {
        Probe::Tcp(_) | Probe::Http { .. } => Some(namespace(t).await?),
        _ => None,
    };
    let interval = if ns.is_some() { FAST_POLL } else { EXEC_POLL };
    loop {
        *attempts += 1;
        let r = match (probe, ns) {
            (Probe::Tcp(port), Some(ns)) => net::tcp(ns, *port).await,
            (
                Probe::Http {
                    port, path, status, ..
                },
                Some(ns),
            ) => net::http(ns, *port, path.clone(), *status).await,
            (Probe::Exec(cmd), _) => {
                // What is left of the deadline, but a single attempt gets a fair chance.
                let left = deadline.saturating_duration_since(Instant::now());
                exec(t, cmd, left.max(Duration::from_secs(1))).await
            }
            _ => Err("no namespace to probe in".into()),
        };
        let why = match r {
            Ok(()) => return Ok(()),
            Err(why) => why,
        };
        // The namespace check is free; the exec probe asks Docker.
        let gone = match ns {
            Some(ns) => !ns.alive(),
            None => !running(t).await,
        };
        if gone {
            return Err(format!("the container stopped{}", exit_of(t).await));
        }
        if Instant::now() + interval > deadline {
            return Err(format!("last attempt: {why}"));
        }
        tokio::time::sleep(interval).await;
    }
}

/// The probe's command in the container (`sh -c`, or its argv without a
/// shell), exit 0, within `left`.
pub(super) async fn exec(t: &Target<'_>, cmd: &ProbeCommand, left: Duration) -> Result<(), String> {
    let ran = match &cmd.argv {
        Some(argv) => t.backend.exec_argv(t.container, argv, Some(left)).await,
        None => t.backend.exec(t.container, &cmd.line, Some(left)).await,
    };
    let cmd = &cmd.line;
    match ran {
        Err(e) => Err(e.to_string()),
        Ok(o) if o.timed_out => Err(format!("`{cmd}` did not end in {} ms", left.as_millis())),
        Ok(o) if o.exit_code == Some(0) => Ok(()),
        Ok(o) => {
            let err = o.stderr.trim();
            Err(format!(
                "`{cmd}` exited with {}{}",
                o.exit_code.map_or("no code".into(), |c| c.to_string()),
                if err.is_empty() {
                    String::new()
                } else {
                    format!(": {}", tail(err, 200))
                }
            ))
        }
    }
}

/// The log probe: follow the container's output until the regex matches a
/// line; polls the whole log where the backend cannot follow.
async fn log_wait(
    t: &Target<'_>,
    re: &regex::Regex,
    deadline: Instant,
    attempts: &mut u32,
) -> Result<(), String> {
    use futures_util::StreamExt;
    let matches = |text: &str| text.lines().any(|l| re.is_match(l));
    if let Some(mut stream) = t.backend.follow_logs(t.container) {
        let mut pending = String::new();
        loop {
            let next = tokio::time::timeout_at(deadline, stream.next()).await;
            *attempts += 1;
            match next {
                Err(_) => return Err(format!("no output line matched `{re}`")),
                Ok(None) => {
                    // The stream ends with the container.
                    if matches(&pending) {
                        return Ok(());
                    }
                    return Err(format!(
                        "the container stopped{} before a line matched `{re}`",
                        exit_of(t).await
                    ));
                }
                Ok(Some(Err(e))) => return Err(format!("following the output: {e}")),
                Ok(Some(Ok(chunk))) => {
                    pending.push_str(&String::from_utf8_lossy(&chunk));
                    // Whole lines are decided; the last, partial one waits.
                    let cut = pending.rfind('\n').map_or(0, |i| i + 1);
                    if matches(&pending[..cut]) {
                        return Ok(());
                    }
                    pending.drain(..cut);
                }
            }
        }
    }
    loop {
        *attempts += 1;
        let out = t
            .backend
            .logs(t.container)
            .await
            .map_err(|e| e.to_string())?;
        if matches(&String::from_utf8_lossy(&out)) {
            return Ok(());
        }
        if !running(t).await {
            return Err(format!(
                "the container stopped{} before a line matched `{re}`",
                exit_of(t).await
            ));
        }
        if Instant::now() + FAST_POLL > deadline {
            return Err(format!("no output line matched `{re}`"));
        }
        tokio::time::sleep(FAST_POLL).await;
    }
}

/// The container's network namespace, entered from this host.
async fn namespace(t: &Target<'_>) -> Result<Netns, String> {
    let st = t
        .backend
        .inspect(t.container)
        .await
        .map_err(|e| e.to_string())?;
    let pid = st.pid.ok_or_else(|| {
        format!(
            "the container is not running{}",
            st.exit_code
                .map(|c| format!(" (exit code {c})"))
                .unwrap_or_default()
        )
    })?;
    Netns::of(pid).map_err(|e| format!("{e} (tcp and http probes enter the container's network namespace: clnrm must run on the Docker host, as root)"))
}

pub(super) async fn running(t: &Target<'_>) -> bool {
    t.backend
        .inspect(t.container)
        .await
        .is_ok_and(|s| s.running)
}

async fn exit_of(t: &Target<'_>) -> String {
    match t.backend.inspect(t.container).await {
        Ok(s) => s
            .exit_code
            .map(|c| format!(" (exit code {c})"))
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// "\nlast output lines of <service>:\n..." or nothing.
async fn last_lines(t: &Target<'_>) -> String {
    let Ok(out) = t.backend.logs(t.container).await else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return format!("\n(service `{}` wrote no output)", t.service);
    }
    let from = lines.len().saturating_sub(LOG_TAIL);
    format!(
        "\nlast output lines of `{}`:\n  {}",
        t.service,
        lines[from..].join("\n  ")
    )
}

fn tail(s: &str, n: usize) -> &str {
    let mut cut = s.len().saturating_sub(n);
    while !s.is_char_boundary(cut) {
        cut += 1;
    }
    &s[cut..]
}
