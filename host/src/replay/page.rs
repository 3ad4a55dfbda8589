//! `clnrm replay FILE --report-dir DIR`: the HTML page of a replayed run,
//! drawn by the same renderer as a run's (report/html.rs). A replay has no
//! Docker and no step output, so its JSON is the report schema with the
//! scenario rows rebuilt from the replayed trace (scenario and step spans),
//! the injections' replayed outcomes, no cleanup record, and `replay` set to
//! the recording's path.

use super::file::SuiteRecording;
use super::run::ReplayReport;
use serde_json::{json, Value};
use std::path::Path;

pub fn report_json(recording: &Path, rec: &SuiteRecording, r: &ReplayReport) -> Value {
    let spans = serde_json::to_value(&r.spans).unwrap_or(Value::Null);
    let list = spans.as_array().cloned().unwrap_or_default();
    let attr = |s: &Value, key: &str| -> Value {
        s["attrs"]
            .as_array()
            .and_then(|a| a.iter().rev().find(|kv| kv[0] == key))
            .map(|kv| kv[1].clone())
            .unwrap_or(Value::Null)
    };
    let ms = |s: &Value| {
        let start = s["start_ns"].as_u64().unwrap_or(0);
        s["end_ns"].as_u64().unwrap_or(start).saturating_sub(start) / 1_000_000
    };
    let scenarios: Vec<Value> =
        list.iter()
            .filter(|s| s["name"] == "clnrm.scenario")
            .map(|sc| {
                let name = attr(sc, "scenario.name");
                let steps: Vec<Value> = list
                .iter()
                .filter(|s| {
                    s["parent"] == sc["id"]
                        && s["name"].as_str().is_some_and(|n| n.starts_with("clnrm.step:"))
                })
                .map(|st| {
                    json!({
                        "name": st["name"].as_str().unwrap_or("").trim_start_matches("clnrm.step:"),
                        "service": attr(st, "service.id"),
                        "result": attr(st, "result"),
                        "exit_code": attr(st, "exit.code"),
                        "error_type": attr(st, "error.type"),
                        "stdout": "", "stderr": "",
                        "duration_ms": ms(st),
                    })
                })
                .collect();
                let injections: Vec<Value> = rec
                    .injections
                    .iter()
                    .filter(|i| Some(i.scenario.as_str()) == name.as_str())
                    .map(|i| serde_json::to_value(&i.outcome).unwrap_or(Value::Null))
                    .collect();
                json!({
                    "name": name,
                    "passed": attr(sc, "scenario.result") == "pass",
                    "expect_failure": attr(sc, "expect_failure") == true,
                    "reason": sc["status_message"],
                    "duration_ms": ms(sc),
                    "environment_error": null,
                    "steps": steps,
                    "injections": injections,
                    "cleanup": null,
                })
            })
            .collect();
    let root = list.iter().find(|s| s["parent"].is_null());
    json!({
        "schema": crate::report::html::SCHEMA,
        "clnrm_version": env!("CARGO_PKG_VERSION"),
        "replay": recording.display().to_string(),
        "name": rec.name,
        "path": rec.path,
        "seed": r.seed,
        "digest": r.digest,
        "recorded_digest": r.recorded_digest,
        "epoch_unix_ns": rec.epoch_unix_ns,
        "passed": r.matches() && r.expectations_passed == r.expectations,
        "interrupted": false,
        "environment_error": null,
        "invalid": null,
        "duration_ms": root.map(ms).unwrap_or(0),
        "scenarios": scenarios,
        "expectations": r.findings,
        "plugins": rec.plugins,
        "spans": spans,
    })
}
