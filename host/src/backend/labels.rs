//! Labels on everything a run creates, so it can be found again: by the run
//! itself (verification), by `clnrm gc` after a crash, and by people
//! (`docker ps -a -f label=clnrm`).

use std::collections::HashMap;

/// `clnrm=<run-id>`: the run that owns the resource.
pub const RUN: &str = "clnrm";
/// The scenario that created it.
pub const SCENARIO: &str = "clnrm.scenario";
/// The `[service.<id>]` it was started for.
pub const SERVICE: &str = "clnrm.service";
/// PID of the owning `clnrm` process (lets `gc` tell dead runs from live ones).
pub const PID: &str = "clnrm.pid";

/// Start time of the owning process (clock ticks since boot, from
/// /proc/self/stat): with the PID it identifies the process even after the
/// PID is reused.
pub const STARTED: &str = "clnrm.started";

/// Labels every resource of a run carries.
pub fn for_run(run_id: &str) -> HashMap<String, String> {
    let mut l = HashMap::from([
        (RUN.to_string(), run_id.to_string()),
        (PID.to_string(), std::process::id().to_string()),
    ]);
    if let Some(t) = super::liveness::own_start_time() {
        l.insert(STARTED.to_string(), t.to_string());
    }
    l
}

pub fn for_service(run_id: &str, scenario: &str, service: &str) -> HashMap<String, String> {
    let mut l = for_run(run_id);
    l.insert(SCENARIO.to_string(), scenario.to_string());
    l.insert(SERVICE.to_string(), service.to_string());
    l
}

/// Docker `label` filter values selecting one scenario of one run.
pub fn scenario_filter(run_id: &str, scenario: &str) -> Vec<String> {
    vec![format!("{RUN}={run_id}"), format!("{SCENARIO}={scenario}")]
}
