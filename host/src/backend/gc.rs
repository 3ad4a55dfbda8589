//! Garbage collection of dead runs: whatever a run left behind when its
//! process died (SIGKILL, OOM, power loss) is found by label and removed.
//! A run is dead when its owner process (PID + start time labels) is gone.
//! Live runs and anything not labelled `clnrm` are never touched.

use super::docker::{Owned, ResourceKind};
use super::labels;
use super::liveness;
use super::{BackendError, Docker};
use super::{ContainerBackend, NetworkBackend};
use std::collections::BTreeSet;

#[derive(Debug, Default, serde::Serialize)]
pub struct GcReport {
    /// Run ids whose leftovers were removed.
    pub dead_runs: BTreeSet<String>,
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
    /// Resources of runs still alive, left alone.
    pub live_skipped: usize,
    pub errors: Vec<String>,
}

impl GcReport {
    pub fn removed(&self) -> usize {
        self.containers + self.networks + self.volumes
    }
}

/// Whether the run owning this resource is over. A resource without owner
/// labels is left alone: we cannot prove it is ours to take.
fn owner_dead(o: &Owned) -> Option<bool> {
    let pid: u32 = o.labels.get(labels::PID)?.parse().ok()?;
    let started = o.labels.get(labels::STARTED).and_then(|s| s.parse().ok());
    Some(!liveness::is_alive(pid, started))
}

/// How many times gc looks again after a pass that removed something.
const SETTLE_PASSES: usize = 5;
/// How long it waits before looking again.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(300);

/// Remove everything of dead runs, then look again until a pass finds
/// nothing: a request the dead process had already sent (a container being
/// created when it was killed) completes inside the daemon after the owner
/// is gone, so one listing can miss it.
pub async fn collect(docker: &Docker) -> Result<GcReport, BackendError> {
    let mut report = collect_once(docker).await?;
    for _ in 0..SETTLE_PASSES {
        if report.removed() == 0 && report.errors.is_empty() {
            break;
        }
        tokio::time::sleep(SETTLE).await;
        let again = collect_once(docker).await?;
        if again.removed() == 0 {
            // Errors of an earlier pass that a later one fixed are history.
            report.errors = again.errors;
            break;
        }
        report.dead_runs.extend(again.dead_runs);
        report.containers += again.containers;
        report.networks += again.networks;
        report.volumes += again.volumes;
        report.live_skipped = again.live_skipped;
        report.errors = again.errors;
    }
    Ok(report)
}

/// One pass: containers first, then networks (Docker refuses to remove a
/// network with endpoints), then volumes.
async fn collect_once(docker: &Docker) -> Result<GcReport, BackendError> {
    let mut owned = docker.list_owned().await?;
    owned.sort_by_key(|o| o.kind);
    let mut report = GcReport::default();
    for o in owned {
        match owner_dead(&o) {
            Some(true) => {}
            Some(false) => {
                report.live_skipped += 1;
                continue;
            }
            None => continue,
        }
        let r = match o.kind {
            ResourceKind::Container => docker
                .remove(&o.id)
                .await
                .map(|r| report.containers += r as usize),
            ResourceKind::Network => remove_network_patiently(docker, &o.id)
                .await
                .map(|r| report.networks += r as usize),
            ResourceKind::Volume => docker
                .remove_volume(&o.id)
                .await
                .map(|r| report.volumes += r as usize),
        };
        match r {
            Ok(()) => {
                if let Some(run) = o.labels.get(labels::RUN) {
                    report.dead_runs.insert(run.clone());
                }
            }
            Err(e) if e.is_unreachable() => return Err(e),
            Err(e) => report.errors.push(format!("{:?} {}: {e}", o.kind, o.id)),
        }
    }
    Ok(report)
}

/// A network's last endpoint may still be going away with its container:
/// retry briefly before calling it an error.
async fn remove_network_patiently(docker: &Docker, id: &str) -> Result<bool, BackendError> {
    let mut attempt = 0;
    loop {
        match docker.remove_network(id).await {
            Err(BackendError::Api(bollard::errors::Error::DockerResponseServerError {
                status_code: 403 | 409,
                ..
            })) if attempt < 10 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            r => return r,
        }
    }
}
