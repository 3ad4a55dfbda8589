//! Cleanup, always: stop and remove every container the scenario started (in
//! parallel), then ask Docker what is left for this scenario and put the
//! answer in the trace, then record recovery.

use super::outcome::CleanupOutcome;
use crate::backend::{labels, Docker, Leftovers};
use crate::trace::{AttrValue, SpanId, Trace};
use futures_util::future::join_all;
use std::collections::HashMap;
use std::time::Instant;

pub async fn run(docker: &Docker, trace: &Trace, parent: SpanId, run_id: &str, scenario: &str, containers: &HashMap<String, String>, triggered: &str) -> CleanupOutcome {
    let started = Instant::now();
    let span = trace.start("clnrm.cleanup", Some(parent));
    trace.set_attr(span, "cleanup.triggered", triggered);
    trace.set_attr(span, "scenario.name", scenario);
    let mut errors = Vec::new();

    // Parallel removal; one span groups it when there is more than one.
    let group = (containers.len() > 1).then(|| {
        let g = trace.start("clnrm.cleanup.concurrent", Some(span));
        trace.set_attr(g, "cleanup.parallel", true);
        g
    });
    let mut sorted: Vec<(&String, &String)> = containers.iter().collect();
    sorted.sort();
    let results = join_all(sorted.iter().map(|(service, id)| remove_one(docker, trace, span, service, id))).await;
    let mut removed = 0;
    for r in results {
        match r {
            Ok(true) => removed += 1,
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
    }
    if let Some(g) = group {
        trace.set_attr(g, "containers.cleaned", removed);
        if errors.is_empty() { trace.end_ok(g) } else { trace.end_error(g, errors.join("; ")) }
    }

    let remaining = verify(docker, trace, span, run_id, scenario, &mut errors).await;
    let success = errors.is_empty() && remaining.is_empty();
    trace.add_event(span, "cleanup.complete", vec![("containers.removed".into(), AttrValue::from(removed))]);
    trace.set_attr(span, "cleanup.success", success);
    trace.set_attr(span, "containers.removed", removed);
    if success { trace.end_ok(span) } else { trace.end_error(span, errors.join("; ")) }

    // Recovery: the environment is back to its state before the scenario.
    let rec = trace.start("clnrm.recovery", Some(span));
    trace.set_attr(rec, "recovery.success", success);
    trace.set_attr(rec, "recovery.verified", remaining.is_empty());
    if success { trace.end_ok(rec) } else { trace.end_error(rec, "resources remain after cleanup") }

    CleanupOutcome { triggered: triggered.to_string(), containers_removed: removed, success, remaining, duration_ms: started.elapsed().as_millis() as u64, errors }
}

async fn remove_one(docker: &Docker, trace: &Trace, span: SpanId, service: &str, id: &str) -> Result<bool, String> {
    let ev = |name: &str, extra: Vec<(String, AttrValue)>| {
        let mut attrs = vec![("service.id".to_string(), AttrValue::from(service)), ("container.id".to_string(), AttrValue::from(id))];
        attrs.extend(extra);
        trace.add_event(span, name, attrs);
    };
    // Stop first when it still runs, so the stop is its own observed event.
    if let Ok(st) = docker.inspect(id).await {
        if st.running {
            docker.kill(id, "SIGKILL").await.map_err(|e| format!("stop {service}: {e}"))?;
        }
        ev("container.stop", vec![("was_running".into(), st.running.into())]);
    }
    let removed = docker.remove(id).await.map_err(|e| format!("remove {service}: {e}"))?;
    ev("container.remove", vec![("removed".into(), removed.into())]);
    Ok(removed)
}

/// Count what Docker still holds for this scenario; the count is a span.
async fn verify(docker: &Docker, trace: &Trace, parent: SpanId, run_id: &str, scenario: &str, errors: &mut Vec<String>) -> Leftovers {
    let span = trace.start("clnrm.cleanup.verification", Some(parent));
    trace.set_attr(span, "scenario.name", scenario);
    match docker.leftovers(labels::scenario_filter(run_id, scenario)).await {
        Ok(left) => {
            trace.set_attr(span, "containers.remaining", left.containers.len());
            trace.set_attr(span, "networks.remaining", left.networks.len());
            trace.set_attr(span, "volumes.remaining", left.volumes.len());
            trace.set_attr(span, "verification.clean", left.is_empty());
            if left.is_empty() {
                trace.end_ok(span);
            } else {
                let msg = format!("left behind: {} container(s), {} network(s), {} volume(s)", left.containers.len(), left.networks.len(), left.volumes.len());
                errors.push(msg.clone());
                trace.end_error(span, msg);
            }
            left
        }
        Err(e) => {
            let msg = format!("cannot verify cleanup: {e}");
            errors.push(msg.clone());
            trace.set_attr(span, "verification.clean", false);
            trace.end_error(span, msg);
            Leftovers::default()
        }
    }
}
