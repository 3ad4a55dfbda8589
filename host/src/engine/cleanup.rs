//! Cleanup, always: remove what the scenario created (containers in
//! parallel, then its network), as the `[cleanup]` policy says; then ask
//! Docker what is left for this scenario and put the answer in the trace;
//! then record recovery.

use super::outcome::{CleanupOutcome, CleanupTrigger};
use crate::backend::{labels, Backend, Leftovers, Network};
use crate::suite::CleanupSpec;
use crate::trace::{AttrValue, SpanId, Trace};
use futures_util::future::join_all;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a scenario created.
#[derive(Default, Debug, Clone)]
pub struct Created {
    /// Service id -> container id.
    pub containers: HashMap<String, String>,
    pub network: Option<Network>,
}

/// One scenario's cleanup: what to remove, why, and under which policy.
pub struct CleanupRequest<'a> {
    pub backend: &'a dyn Backend,
    pub trace: &'a Trace,
    /// The span cleanup reacts to: the failed step (or the timeout
    /// enforcement that ended it), else the scenario.
    pub parent: SpanId,
    pub run_id: &'a str,
    pub scenario: &'a str,
    pub created: &'a Created,
    pub triggered: CleanupTrigger,
    pub policy: &'a CleanupSpec,
    /// Whether the scenario passed so far (`on_success` policies).
    pub passed: bool,
}

pub async fn run(req: CleanupRequest<'_>) -> CleanupOutcome {
    let CleanupRequest {
        backend: docker,
        trace,
        parent,
        run_id,
        scenario,
        created,
        triggered,
        policy,
        passed,
    } = req;
    let started = Instant::now();
    let span = trace.start("clnrm.cleanup", Some(parent));
    trace.set_attr(span, "cleanup.triggered", triggered.as_str());
    trace.set_attr(span, "scenario.name", scenario);
    let mut out = CleanupOutcome {
        triggered,
        created: Vec::new(),
        containers_removed: 0,
        networks_removed: 0,
        kept: Vec::new(),
        success: false,
        remaining: Leftovers::default(),
        duration_ms: 0,
        errors: Vec::new(),
    };
    out.created = created
        .containers
        .values()
        .cloned()
        .chain(created.network.as_ref().map(|n| n.id.clone()))
        .collect();

    let remove_containers = CleanupSpec::removes(policy.containers, passed);
    let remove_network = CleanupSpec::removes(policy.networks, passed);
    let removal = async {
        let mut errors = Vec::new();
        let (mut removed, mut nets) = (0, 0);
        if remove_containers {
            (removed, errors) = if policy.parallel {
                remove_containers_parallel(docker, trace, span, &created.containers, policy).await
            } else {
                remove_containers_one_by_one(docker, trace, span, &created.containers, policy).await
            };
        }
        // The network goes last: Docker refuses to remove one with endpoints.
        if let (true, Some(net)) = (remove_network, &created.network) {
            match docker.remove_network(&net.id).await {
                Ok(r) => {
                    nets += r as usize;
                    trace.add_event(
                        span,
                        "network.remove",
                        vec![("network.name".into(), net.name.as_str().into())],
                    );
                }
                Err(e) => errors.push(format!("remove network {}: {e}", net.name)),
            }
        }
        (removed, nets, errors)
    };
    match tokio::time::timeout(policy.timeout, removal).await {
        Ok((removed, nets, errors)) => {
            out.containers_removed = removed;
            out.networks_removed = nets;
            out.errors = errors;
        }
        Err(_) => out.errors.push(format!(
            "cleanup exceeded cleanup_timeout_ms ({} ms)",
            policy.timeout.as_millis()
        )),
    }
    if !remove_containers {
        out.kept.extend(created.containers.values().cloned());
    }
    if !remove_network {
        out.kept
            .extend(created.network.as_ref().map(|n| n.id.clone()));
    }
    if !out.kept.is_empty() {
        trace.set_attr(span, "cleanup.kept", out.kept.len());
    }

    if policy.verify_resources_freed {
        resources_freed(trace, span, scenario, &mut out.errors);
    }
    if policy.verify {
        out.remaining = verify(
            docker,
            trace,
            span,
            run_id,
            scenario,
            &out.kept,
            &mut out.errors,
        )
        .await;
    }
    out.success = out.errors.is_empty();
    trace.add_event(
        span,
        "cleanup.complete",
        vec![(
            "containers.removed".into(),
            AttrValue::from(out.containers_removed),
        )],
    );
    trace.set_attr(span, "cleanup.success", out.success);
    trace.set_attr(span, "containers.removed", out.containers_removed);
    trace.set_attr(span, "networks.removed", out.networks_removed);
    if out.success {
        trace.end_ok(span)
    } else {
        trace.end_error(span, out.errors.join("; "))
    }

    // Recovery: the environment is back to its state before the scenario
    // (less what the policy kept on purpose).
    let rec = trace.start("clnrm.recovery", Some(span));
    trace.set_attr(rec, "recovery.success", out.success);
    // Verified = verification ran and found nothing unexpected.
    trace.set_attr(rec, "recovery.verified", policy.verify && out.success);
    if out.success {
        trace.end_ok(rec)
    } else {
        trace.end_error(rec, "resources remain after cleanup")
    }
    out.duration_ms = started.elapsed().as_millis() as u64;
    out
}

/// Remove every container at once; one span groups them when there are several.
async fn remove_containers_parallel(
    docker: &dyn Backend,
    trace: &Trace,
    span: SpanId,
    containers: &HashMap<String, String>,
    policy: &CleanupSpec,
) -> (usize, Vec<String>) {
    let group = (containers.len() > 1).then(|| {
        let g = trace.start("clnrm.cleanup.concurrent", Some(span));
        trace.set_attr(g, "cleanup.parallel", true);
        g
    });
    let mut sorted: Vec<(&String, &String)> = containers.iter().collect();
    sorted.sort();
    let results = join_all(
        sorted
            .iter()
            .map(|(service, id)| remove_one(docker, trace, span, service, id, policy)),
    )
    .await;
    let (mut removed, mut errors) = (0, Vec::new());
    for r in results {
        match r {
            Ok(true) => removed += 1,
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    if let Some(g) = group {
        trace.set_attr(g, "containers.cleaned", removed);
        if errors.is_empty() {
            trace.end_ok(g)
        } else {
            trace.end_error(g, errors.join("; "))
        }
    }
    (removed, errors)
}

/// `parallel_cleanup = false`: one container after the other, in service order.
async fn remove_containers_one_by_one(
    docker: &dyn Backend,
    trace: &Trace,
    span: SpanId,
    containers: &HashMap<String, String>,
    policy: &CleanupSpec,
) -> (usize, Vec<String>) {
    trace.set_attr(span, "cleanup.parallel", false);
    let mut sorted: Vec<(&String, &String)> = containers.iter().collect();
    sorted.sort();
    let (mut removed, mut errors) = (0, Vec::new());
    for (service, id) in sorted {
        match remove_one(docker, trace, span, service, id, policy).await {
            Ok(true) => removed += 1,
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    (removed, errors)
}

/// `verify_resources_freed`: every resource a `chaos-resource` fault pressed on in
/// this scenario (a span with `resource.type`) was given back, as a successful
/// `clnrm.resource.recovery` on the same service after it says. Anything else is a
/// cleanup error: the scenario leaves a limit lowered or a filler behind.
fn resources_freed(trace: &Trace, span: SpanId, scenario: &str, errors: &mut Vec<String>) {
    let spans = trace.snapshot();
    let Some(sc) = spans.iter().find(|s| {
        s.name == "clnrm.scenario"
            && s.attr("scenario.name")
                .is_some_and(|v| v.to_string() == scenario)
    }) else {
        return;
    };
    let target = |s: &crate::trace::SpanData| s.attr("target.service").map(|v| v.to_string());
    let mut held = Vec::new();
    for p in spans
        .iter()
        .filter(|s| s.parent == Some(sc.id) && s.attr("resource.type").is_some())
    {
        let released = spans.iter().any(|r| {
            r.name == "clnrm.resource.recovery"
                && r.parent == Some(sc.id)
                && target(r) == target(p)
                // Emitted at the end of the window, inside the pressure span.
                && r.start_ns >= p.start_ns
                && r.attr("recovery.success")
                    .is_some_and(|v| v.to_string() == "true")
        });
        if !released {
            held.push(format!(
                "{} on `{}` was not released (no successful clnrm.resource.recovery after it)",
                p.name,
                target(p).unwrap_or_default()
            ));
        }
    }
    trace.set_attr(span, "resources.freed", held.is_empty());
    errors.extend(held);
}

async fn remove_one(
    docker: &dyn Backend,
    trace: &Trace,
    span: SpanId,
    service: &str,
    id: &str,
    policy: &CleanupSpec,
) -> Result<bool, String> {
    let ev = |name: &str, extra: Vec<(String, AttrValue)>| {
        let mut attrs = vec![
            ("service.id".to_string(), AttrValue::from(service)),
            ("container.id".to_string(), AttrValue::from(id)),
        ];
        attrs.extend(extra);
        trace.add_event(span, name, attrs);
    };
    // Stop first when it still runs (thawing a paused one), so the stop is
    // its own observed event.
    if let Ok(st) = docker.inspect(id).await {
        if st.is_paused() {
            docker
                .unpause(id)
                .await
                .map_err(|e| format!("unpause {service}: {e}"))?;
        }
        let mut graceful = None;
        if st.running {
            if let Some(grace) = policy.kill_timeout {
                graceful = Some(stop_gracefully(docker, id, grace).await);
            }
            if graceful != Some(true) {
                docker
                    .kill(id, "SIGKILL")
                    .await
                    .map_err(|e| format!("stop {service}: {e}"))?;
            }
        }
        let mut attrs = vec![("was_running".into(), st.running.into())];
        // Only with `kill_timeout_ms`: whether SIGTERM alone stopped it.
        if let Some(g) = graceful {
            attrs.push(("stopped_by_sigterm".into(), g.into()));
        }
        ev("container.stop", attrs);
    }
    let removed = docker
        .remove(id)
        .await
        .map_err(|e| format!("remove {service}: {e}"))?;
    ev("container.remove", vec![("removed".into(), removed.into())]);
    Ok(removed)
}

/// SIGTERM, then poll Docker every 50 ms for up to `grace`: whether the
/// container stopped by itself (the caller sends SIGKILL when not).
async fn stop_gracefully(docker: &dyn Backend, id: &str, grace: Duration) -> bool {
    if docker.kill(id, "SIGTERM").await.is_err() {
        return false;
    }
    let deadline = Instant::now() + grace;
    loop {
        match docker.inspect(id).await {
            Ok(st) if !st.running => return true,
            Err(_) => return false,
            Ok(_) => {}
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Count what Docker still holds for this scenario; the count is a span.
/// Resources the policy kept on purpose are counted but are no error.
async fn verify(
    docker: &dyn Backend,
    trace: &Trace,
    parent: SpanId,
    run_id: &str,
    scenario: &str,
    kept: &[String],
    errors: &mut Vec<String>,
) -> Leftovers {
    let span = trace.start("clnrm.cleanup.verification", Some(parent));
    trace.set_attr(span, "scenario.name", scenario);
    let left = match docker
        .leftovers(labels::scenario_filter(run_id, scenario))
        .await
    {
        Ok(left) => left,
        Err(e) => {
            let msg = format!("cannot verify cleanup: {e}");
            errors.push(msg.clone());
            trace.set_attr(span, "verification.clean", false);
            trace.end_error(span, msg);
            return Leftovers::default();
        }
    };
    let mut processes = 0;
    for c in &left.containers {
        processes += docker.process_count(c).await.unwrap_or(1);
    }
    trace.set_attr(span, "containers.remaining", left.containers.len());
    trace.set_attr(span, "networks.remaining", left.networks.len());
    trace.set_attr(span, "volumes.remaining", left.volumes.len());
    trace.set_attr(span, "processes.remaining", processes);
    trace.set_attr(span, "verification.clean", left.is_empty());
    let is_kept = |id: &String| {
        kept.iter()
            .any(|k| k == id || k.starts_with(id.as_str()) || id.starts_with(k.as_str()))
    };
    let unexpected = left
        .containers
        .iter()
        .chain(&left.networks)
        .chain(&left.volumes)
        .filter(|id| !is_kept(id))
        .count();
    if left.is_empty() {
        trace.end_ok(span);
    } else if unexpected == 0 {
        trace.set_attr(span, "verification.kept_by_policy", true);
        trace.end_ok(span);
    } else {
        let msg = format!(
            "left behind: {} container(s), {} network(s), {} volume(s)",
            left.containers.len(),
            left.networks.len(),
            left.volumes.len()
        );
        errors.push(msg.clone());
        trace.end_error(span, msg);
    }
    left
}
