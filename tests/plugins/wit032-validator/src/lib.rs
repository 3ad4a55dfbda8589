//! A validator built with wit-bindgen directly against `clnrm:chaos@0.3.2` (`wit/` here
//! holds that release's validator interfaces), as every validator built before 0.3.3 is:
//! it exports `validator@0.3.2` and no `packed-validator`, and imports 0.3.2's
//! `trace-resource`. `[expect.old] name = "<span>"` counts the spans of that name and
//! reports what the records carried (kinds, statuses, parents, attributes, events) and the
//! run's `service.name`, so a test can check the host's records against its packed trace.
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({
    world: "validator-plugin",
    path: "wit",
});

use clnrm::chaos::trace_resource;
use clnrm::chaos::types::{AttrValue, ConfigError, PluginInfo};
use exports::clnrm::chaos::validator::{Finding, Guest, SpanRecord};

struct OldValidator;

/// The span name to look for.
fn name(table: &str, config_json: &str) -> Result<String, String> {
    if table != "old" {
        return Err(format!(
            "wit032-validator handles [expect.old], not [expect.{table}]"
        ));
    }
    let v: serde_json::Value =
        serde_json::from_str(config_json).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("name") {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        _ => Err("expect.old needs `name = \"<span name>\"`".into()),
    }
}

fn show(v: &AttrValue) -> String {
    match v {
        AttrValue::Str(s) => format!("{s:?}"),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Float(f) => f.to_string(),
        AttrValue::Boolean(b) => b.to_string(),
    }
}

/// One span as a line: everything a record carries.
fn describe(s: &SpanRecord) -> String {
    let attrs: Vec<String> = s
        .attributes
        .iter()
        .map(|a| format!("{}={}", a.key, show(&a.value)))
        .collect();
    let events: Vec<String> = s
        .events
        .iter()
        .map(|e| format!("{}@{}({})", e.name, e.time_ns, e.attributes.len()))
        .collect();
    format!(
        "#{} parent {:?} {:?} {:?} {:?} {}..{} [{}] [{}]",
        s.id,
        s.parent,
        s.kind,
        s.status,
        s.status_message,
        s.start_ns,
        s.end_ns,
        attrs.join(", "),
        events.join(", ")
    )
}

impl Guest for OldValidator {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "wit032-validator".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: "0.3.2".into(),
            handles: vec!["old".into()],
            capabilities: vec![],
        }
    }

    fn check(table: String, config_json: String) -> Result<(), ConfigError> {
        name(&table, &config_json)
            .map(|_| ())
            .map_err(ConfigError::Other)
    }

    fn validate(
        table: String,
        config_json: String,
        trace: Vec<SpanRecord>,
    ) -> Result<Vec<Finding>, String> {
        let want = name(&table, &config_json)?;
        let service = trace_resource::attributes()
            .into_iter()
            .find(|a| a.key == "service.name")
            .map(|a| show(&a.value))
            .unwrap_or_default();
        let found: Vec<String> = trace
            .iter()
            .filter(|s| s.name == want)
            .map(describe)
            .collect();
        Ok(vec![Finding {
            expectation: format!("expect.old {want}"),
            passed: !found.is_empty(),
            message: format!(
                "{} of {} spans, service.name={service}: {}",
                found.len(),
                trace.len(),
                found.join("; ")
            ),
        }])
    }
}

export!(OldValidator);
