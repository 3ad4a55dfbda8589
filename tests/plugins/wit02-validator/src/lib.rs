//! A validator built with wit-bindgen directly against the frozen
//! `wit/compat/0.2.0/clnrm.wit`: `[expect.legacy] name = "<span>"` passes when
//! a span of that name exists and ended OK, and names its attributes (so the
//! host's 0.3 -> 0.2 trace conversion is visible in the finding).
#![cfg(target_family = "wasm")]

wit_bindgen::generate!({
    world: "validator-plugin",
    path: "../../../wit/compat/0.2.0/clnrm.wit",
});

use clnrm::chaos::types::{AttrValue, PluginInfo, SpanStatus};
use exports::clnrm::chaos::validator::{Finding, Guest, SpanRecord};

struct LegacyValidator;

/// The span name to look for; errors in 0.2's form: a string.
fn name(table: &str, config_json: &str) -> Result<String, String> {
    if table != "legacy" {
        return Err(format!(
            "wit02-validator handles [expect.legacy], not [expect.{table}]"
        ));
    }
    let v: serde_json::Value =
        serde_json::from_str(config_json).map_err(|e| format!("not JSON: {e}"))?;
    match v.get("name") {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        _ => Err("expect.legacy needs `name = \"<span name>\"`".into()),
    }
}

fn show(v: &AttrValue) -> String {
    match v {
        AttrValue::Str(s) => s.clone(),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Float(f) => f.to_string(),
        AttrValue::Boolean(b) => b.to_string(),
    }
}

impl Guest for LegacyValidator {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "wit02-validator".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: "0.2.0".into(),
            handles: vec!["legacy".into()],
            capabilities: vec![],
        }
    }

    fn check(table: String, config_json: String) -> Result<(), String> {
        name(&table, &config_json).map(|_| ())
    }

    fn validate(
        table: String,
        config_json: String,
        trace: Vec<SpanRecord>,
    ) -> Result<Vec<Finding>, String> {
        let want = name(&table, &config_json)?;
        let found = trace
            .iter()
            .find(|s| s.name == want && s.status == SpanStatus::Ok);
        Ok(vec![Finding {
            expectation: format!("expect.legacy {want}"),
            passed: found.is_some(),
            message: match found {
                Some(s) => {
                    let attrs: Vec<String> = s
                        .attributes
                        .iter()
                        .map(|a| format!("{}={}", a.key, show(&a.value)))
                        .collect();
                    format!("span {} OK with {}", s.id, attrs.join(", "))
                }
                None => format!("no span `{want}` ended OK among {} spans", trace.len()),
            },
        }])
    }
}

export!(LegacyValidator);
