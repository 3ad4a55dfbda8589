//! `[report] resource_metrics`, `timeout_metrics`, `stress_metrics`: the values the
//! resource, timeout and stress spans measured, per scenario, as JSON (schema
//! `clnrm.metrics/1`, docs/reports.md). Nothing here measures anything: every value
//! is copied from a span of the trace, or counted from the trace's spans.

use crate::confined::ConfinedDir;
use crate::engine::SuiteOutcome;
use crate::trace::{SpanData, SpanStatus};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Which metrics report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsKind {
    Resource,
    Timeout,
    Stress,
}

impl MetricsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricsKind::Resource => "resource",
            MetricsKind::Timeout => "timeout",
            MetricsKind::Stress => "stress",
        }
    }

    /// Whether span `s` is one this report lists.
    fn selects(self, s: &SpanData) -> bool {
        let n = s.name.as_str();
        match self {
            MetricsKind::Resource => n.starts_with("clnrm.resource."),
            MetricsKind::Timeout => {
                n.starts_with("clnrm.timeout.")
                    || n == "clnrm.deadline.enforced"
                    || n.starts_with("clnrm.retry.")
                    || (is_step(s) && attr_str(s, "error.type").as_deref() == Some("timeout"))
            }
            MetricsKind::Stress => {
                n.starts_with("clnrm.stress.")
                    || matches!(
                        n,
                        "clnrm.chaos.concurrent"
                            | "clnrm.chaos.monkey"
                            | "clnrm.failure.cascade"
                            | "clnrm.cleanup.concurrent"
                            | "clnrm.recovery.success"
                    )
            }
        }
    }
}

pub fn write(
    dir: &ConfinedDir,
    outcome: &SuiteOutcome,
    file: &str,
    kind: MetricsKind,
) -> std::io::Result<PathBuf> {
    let text = serde_json::to_string_pretty(&metrics_report(outcome, kind))
        .map_err(std::io::Error::other)?;
    dir.write(file, text)
}

/// The report as JSON.
pub fn metrics_report(outcome: &SuiteOutcome, kind: MetricsKind) -> Value {
    let spans = &outcome.spans;
    let mut scenarios = Vec::new();
    let mut total = 0;
    for sc in spans.iter().filter(|s| s.name == "clnrm.scenario") {
        let name = attr_str(sc, "scenario.name").unwrap_or_default();
        let mine: Vec<&SpanData> = spans
            .iter()
            .filter(|s| scenario_of(spans, s).map(|x| x.id) == Some(sc.id))
            .collect();
        let measurements: Vec<Value> = mine
            .iter()
            .filter(|s| kind.selects(s))
            .map(|s| measurement(spans, s, kind))
            .collect();
        total += measurements.len();
        let steps: Vec<&&SpanData> = mine.iter().filter(|s| is_step(s)).collect();
        let failed = steps
            .iter()
            .filter(|s| attr_str(s, "result").as_deref() == Some("error"))
            .count();
        let mut summary = json!({
            "steps": steps.len(),
            "steps_failed": failed,
            "measurements": measurements.len(),
        });
        match kind {
            MetricsKind::Stress => {
                summary["peak_concurrent_steps"] = json!(peak_concurrent(&steps));
            }
            MetricsKind::Timeout => {
                let timed_out = steps
                    .iter()
                    .filter(|s| attr_str(s, "error.type").as_deref() == Some("timeout"))
                    .count();
                summary["steps_timed_out"] = json!(timed_out);
            }
            MetricsKind::Resource => {
                let degraded = steps
                    .iter()
                    .filter(|s| attr_str(s, "degraded").as_deref() == Some("true"))
                    .count();
                summary["steps_degraded"] = json!(degraded);
            }
        }
        scenarios.push(json!({
            "name": name,
            "summary": summary,
            "measurements": measurements,
        }));
    }
    json!({
        "schema": "clnrm.metrics/1",
        "kind": kind.as_str(),
        "suite": outcome.name,
        "run_id": outcome.run_id,
        "seed": outcome.seed,
        "measurements_total": total,
        "scenarios": scenarios,
    })
}

fn measurement(spans: &[SpanData], s: &SpanData, kind: MetricsKind) -> Value {
    let mut values = Map::new();
    for (k, v) in &s.attrs {
        values.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
    }
    let duration_ms = duration_ms_of(s);
    let mut m = json!({
        "span": s.name,
        "span_id": s.id.0,
        "status": status(s.status),
        "start_ms": s.start_ns as f64 / 1e6,
        "duration_ms": duration_ms,
        "service": attr_str(s, "target.service").or_else(|| attr_str(s, "service.id")),
        "values": values,
    });
    // How far past its bound the enforced step ran: the one derived figure.
    if kind == MetricsKind::Timeout
        && (s.name == "clnrm.timeout.enforced" || s.name == "clnrm.deadline.enforced")
    {
        let bound = s
            .attr("timeout.ms")
            .or_else(|| s.attr("deadline.left_ms"))
            .and_then(|v| v.to_string().parse::<f64>().ok());
        let step = s.parent.and_then(|p| spans.iter().find(|x| x.id == p));
        if let (Some(bound), Some(step)) = (bound, step) {
            m["step_duration_ms"] = json!(duration_ms_of(step));
            m["overshoot_ms"] = json!(duration_ms_of(step) - bound);
        }
    }
    m
}

fn duration_ms_of(s: &SpanData) -> f64 {
    s.end_ns.unwrap_or(s.start_ns).saturating_sub(s.start_ns) as f64 / 1e6
}

fn status(s: SpanStatus) -> &'static str {
    match s {
        SpanStatus::Unset => "UNSET",
        SpanStatus::Ok => "OK",
        SpanStatus::Error => "ERROR",
    }
}

fn is_step(s: &SpanData) -> bool {
    s.name.starts_with("clnrm.step:")
}

fn attr_str(s: &SpanData, key: &str) -> Option<String> {
    s.attr(key).map(|v| v.to_string())
}

/// The nearest `clnrm.scenario` at or above `s` (bounded: a malformed parent chain stops).
fn scenario_of<'a>(spans: &'a [SpanData], s: &'a SpanData) -> Option<&'a SpanData> {
    let mut cur = Some(s);
    for _ in 0..=spans.len() {
        let c = cur?;
        if c.name == "clnrm.scenario" {
            return Some(c);
        }
        cur = c.parent.and_then(|p| spans.iter().find(|x| x.id == p));
    }
    None
}

/// The most steps open at one instant.
fn peak_concurrent(steps: &[&&SpanData]) -> usize {
    steps
        .iter()
        .map(|s| {
            steps
                .iter()
                .filter(|o| {
                    o.start_ns <= s.start_ns
                        && (s.start_ns < o.end_ns.unwrap_or(o.start_ns) || o.id == s.id)
                })
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{RunClock, Trace};

    /// A scenario with a memory pressure, a timed-out step with its enforcement, and two
    /// steps at once.
    fn outcome() -> SuiteOutcome {
        let mut o = crate::report::fixture::outcome();
        let t = Trace::new(RunClock::new(Some(1_700_000_000_000_000_000)));
        let root = t.start("clnrm.run", None);
        let sc = t.start("clnrm.scenario", Some(root));
        t.set_attr(sc, "scenario.name", "m");
        let p = t.start("clnrm.resource.memory_pressure", Some(sc));
        t.set_attr(p, "target.service", "app");
        t.set_attr(p, "limit.mb", 64);
        t.set_attr(p, "usage.peak_mb", 63);
        t.end(p, SpanStatus::Ok, None);
        let a = t.start("clnrm.step:a", Some(sc));
        let b = t.start("clnrm.step:b", Some(sc));
        t.set_attr(b, "result", "error");
        t.set_attr(b, "error.type", "timeout");
        let e = t.start("clnrm.timeout.enforced", Some(b));
        t.set_attr(e, "timeout.ms", 0);
        t.end(e, SpanStatus::Ok, None);
        t.end_error(b, "timeout");
        t.set_attr(a, "result", "pass");
        t.end(a, SpanStatus::Ok, None);
        let c = t.start("clnrm.cleanup.concurrent", Some(sc));
        t.set_attr(c, "containers.cleaned", 2);
        t.end(c, SpanStatus::Ok, None);
        t.end(sc, SpanStatus::Ok, None);
        t.end(root, SpanStatus::Ok, None);
        o.spans = t.snapshot();
        o
    }

    #[test]
    fn each_report_copies_its_spans_values() {
        let o = outcome();
        let r = metrics_report(&o, MetricsKind::Resource);
        assert_eq!(r["schema"], "clnrm.metrics/1");
        assert_eq!(r["kind"], "resource");
        assert_eq!(r["measurements_total"], 1);
        let m = &r["scenarios"][0]["measurements"][0];
        assert_eq!(m["span"], "clnrm.resource.memory_pressure");
        assert_eq!(m["service"], "app");
        assert_eq!(m["values"]["limit.mb"], 64);
        assert_eq!(m["values"]["usage.peak_mb"], 63);

        let r = metrics_report(&o, MetricsKind::Timeout);
        let names: Vec<&str> = r["scenarios"][0]["measurements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["span"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["clnrm.step:b", "clnrm.timeout.enforced"]);
        assert_eq!(r["scenarios"][0]["summary"]["steps_timed_out"], 1);
        let enf = &r["scenarios"][0]["measurements"][1];
        assert!(enf["overshoot_ms"].as_f64().unwrap() >= 0.0, "{enf}");

        let r = metrics_report(&o, MetricsKind::Stress);
        assert_eq!(r["scenarios"][0]["summary"]["peak_concurrent_steps"], 2);
        assert_eq!(
            r["scenarios"][0]["measurements"][0]["values"]["containers.cleaned"],
            2
        );
        assert_eq!(r["scenarios"].as_array().unwrap().len(), 1);
        assert_eq!(r["measurements_total"], 1);
    }
}
