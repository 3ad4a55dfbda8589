//! `<name>.cleanup.json`: per scenario, what it created, what cleanup removed,
//! what the `[cleanup]` policy kept on purpose, what Docker still held
//! afterwards (must be nothing beyond what was kept), and how long it took.
//! Counts come from the outcome; the removed ids and the verification counts
//! come from the scenario's `clnrm.cleanup` span (its `container.remove` /
//! `network.remove` events) and `clnrm.cleanup.verification` span, so the
//! file says exactly what the trace proves.

use crate::backend::Leftovers;
use crate::confined::ConfinedDir;
use crate::engine::{ScenarioOutcome, SuiteOutcome};
use crate::trace::{AttrValue, SpanData, SpanStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Serialize)]
pub struct CleanupReport<'a> {
    pub schema: &'static str,
    pub name: &'a str,
    pub run_id: &'a str,
    pub seed: u64,
    pub digest: &'a str,
    /// Every scenario was verified and nothing it created remains, except
    /// what the policy kept on purpose.
    pub hermetic: bool,
    pub scenarios: Vec<ScenarioCleanup<'a>>,
}

#[derive(Serialize)]
pub struct ScenarioCleanup<'a> {
    pub scenario: &'a str,
    /// `success`, `failure`, `timeout` or `error`.
    pub triggered: &'a str,
    pub success: bool,
    pub duration_ms: u64,
    /// Container and network ids the scenario created.
    pub created: &'a [String],
    pub removed: Removed,
    /// Ids kept on purpose by the `[cleanup]` policy.
    pub kept: &'a [String],
    /// What Docker still held with this scenario's labels after cleanup.
    pub remaining: &'a Leftovers,
    /// `remaining` less `kept`: must be empty.
    pub unexpected: Vec<String>,
    /// A `clnrm.cleanup.verification` span counted what remains.
    pub verified: bool,
    /// That span's counts (`containers.remaining`, `networks.remaining`,
    /// `volumes.remaining`, `processes.remaining`, ...) and its status.
    pub verification: Option<Verification>,
    pub errors: &'a [String],
}

#[derive(Serialize, Default)]
pub struct Removed {
    pub containers: usize,
    pub networks: usize,
    /// From the `container.remove` events with `removed = true`.
    pub container_ids: Vec<String>,
    /// From the `network.remove` events.
    pub network_names: Vec<String>,
}

#[derive(Serialize)]
pub struct Verification {
    pub status: SpanStatus,
    pub counts: BTreeMap<String, i64>,
}

fn attr_str(attrs: &[(String, AttrValue)], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.to_string())
}

fn for_scenario<'a>(
    spans: &'a [SpanData],
    name: &'a str,
    scenario: &'a str,
) -> impl Iterator<Item = &'a SpanData> {
    spans.iter().filter(move |s| {
        s.name == name
            && s.attr("scenario.name")
                .is_some_and(|v| v.to_string() == scenario)
    })
}

fn scenario_cleanup<'a>(outcome: &'a SuiteOutcome, sc: &'a ScenarioOutcome) -> ScenarioCleanup<'a> {
    let c = &sc.cleanup;
    let mut removed = Removed {
        containers: c.containers_removed,
        networks: c.networks_removed,
        ..Default::default()
    };
    for span in for_scenario(&outcome.spans, "clnrm.cleanup", &sc.name) {
        for ev in &span.events {
            match ev.name.as_str() {
                "container.remove" if attr_str(&ev.attrs, "removed").as_deref() == Some("true") => {
                    removed
                        .container_ids
                        .extend(attr_str(&ev.attrs, "container.id"))
                }
                "network.remove" => removed
                    .network_names
                    .extend(attr_str(&ev.attrs, "network.name")),
                _ => {}
            }
        }
    }
    let verification = for_scenario(&outcome.spans, "clnrm.cleanup.verification", &sc.name)
        .last()
        .map(|v| Verification {
            status: v.status,
            counts: v
                .attrs
                .iter()
                .filter(|(k, _)| k.ends_with(".remaining"))
                .filter_map(|(k, val)| {
                    if let AttrValue::Int(i) = val {
                        Some((k.clone(), *i))
                    } else {
                        None
                    }
                })
                .collect(),
        });
    let is_kept = |id: &String| {
        c.kept
            .iter()
            .any(|k| k == id || k.starts_with(id.as_str()) || id.starts_with(k.as_str()))
    };
    let r = &c.remaining;
    let unexpected: Vec<String> = r
        .containers
        .iter()
        .chain(&r.networks)
        .chain(&r.volumes)
        .filter(|id| !is_kept(id))
        .cloned()
        .collect();
    ScenarioCleanup {
        scenario: &sc.name,
        triggered: c.triggered.as_str(),
        success: c.success,
        duration_ms: c.duration_ms,
        created: &c.created,
        removed,
        kept: &c.kept,
        remaining: r,
        unexpected,
        verified: verification
            .as_ref()
            .is_some_and(|v| v.counts.contains_key("containers.remaining")),
        verification,
        errors: &c.errors,
    }
}

pub fn cleanup_report(outcome: &SuiteOutcome) -> CleanupReport<'_> {
    let scenarios: Vec<ScenarioCleanup<'_>> = outcome
        .scenarios
        .iter()
        .map(|sc| scenario_cleanup(outcome, sc))
        .collect();
    CleanupReport {
        schema: "clnrm.cleanup/1",
        name: &outcome.name,
        run_id: &outcome.run_id,
        seed: outcome.seed,
        digest: &outcome.digest,
        hermetic: scenarios
            .iter()
            .all(|s| s.verified && s.unexpected.is_empty()),
        scenarios,
    }
}

pub fn write_cleanup(
    dir: &ConfinedDir,
    outcome: &SuiteOutcome,
    file: &str,
) -> std::io::Result<PathBuf> {
    let text =
        serde_json::to_string_pretty(&cleanup_report(outcome)).map_err(std::io::Error::other)?;
    dir.write(file, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_ids_and_verification_come_from_the_trace() {
        let o = crate::report::fixture::outcome();
        let v = serde_json::to_value(cleanup_report(&o)).unwrap();
        assert_eq!(v["hermetic"], true);
        let sc = &v["scenarios"][1];
        assert_eq!(sc["scenario"], "exit_42");
        assert_eq!(sc["created"], serde_json::json!(["c-exit_42"]));
        assert_eq!(
            sc["removed"]["container_ids"],
            serde_json::json!(["c-exit_42"])
        );
        assert_eq!(sc["removed"]["containers"], 1);
        assert_eq!(sc["verification"]["counts"]["containers.remaining"], 0);
        assert_eq!(sc["verification"]["status"], "OK");
        assert_eq!(sc["unexpected"], serde_json::json!([]));
    }

    #[test]
    fn a_leftover_not_kept_by_policy_is_unexpected() {
        let mut o = crate::report::fixture::outcome();
        o.scenarios[0]
            .cleanup
            .remaining
            .containers
            .push("deadbeef".into());
        o.scenarios[0]
            .cleanup
            .remaining
            .networks
            .push("net1".into());
        o.scenarios[0].cleanup.kept.push("net1".into());
        let r = cleanup_report(&o);
        assert_eq!(r.scenarios[0].unexpected, ["deadbeef"]);
        assert!(!r.hermetic);
    }
}
