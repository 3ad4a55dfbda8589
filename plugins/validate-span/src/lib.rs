#![cfg(target_family = "wasm")]
//! The `[[expect.span]]` validator: converts the WIT trace into the sdk's span model and
//! runs `clnrm_sdk::expect::check_spans`, where all the logic (and its tests) lives.

use clnrm_sdk::expect::{self, AttrValue, Kind, Status, Trace};
use clnrm_sdk::validator::clnrm::chaos::types::{self as wit, PluginInfo, SpanKind, SpanStatus};
use clnrm_sdk::validator::exports::clnrm::chaos::validator::{
    Finding, Guest, SpanEvent, SpanRecord,
};

struct ValidateSpan;

impl Guest for ValidateSpan {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "validate-span".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: clnrm_sdk::WIT_VERSION.into(),
            handles: vec!["span".into()],
            capabilities: vec![],
        }
    }

    fn check(table: String, config_json: String) -> Result<(), String> {
        expect::parse_span_expectations(&config(&table, &config_json)?).map(|_| ())
    }

    fn validate(
        table: String,
        config_json: String,
        trace: Vec<SpanRecord>,
    ) -> Result<Vec<Finding>, String> {
        let config = config(&table, &config_json)?;
        let trace = Trace::new(trace.into_iter().map(span).collect());
        let findings = expect::check_spans(&config, &trace)?;
        Ok(findings
            .into_iter()
            .map(|f| Finding {
                expectation: f.expectation,
                passed: f.passed,
                message: f.message,
            })
            .collect())
    }
}

fn config(table: &str, config_json: &str) -> Result<serde_json::Value, String> {
    if table != "span" {
        return Err(format!(
            "validate-span handles [expect.span], not [expect.{table}]"
        ));
    }
    serde_json::from_str(config_json)
        .map_err(|e| format!("expect.span: config is not valid JSON: {e}"))
}

fn span(r: SpanRecord) -> expect::Span {
    expect::Span {
        id: r.id,
        parent: r.parent,
        name: r.name,
        kind: match r.kind {
            SpanKind::Internal => Kind::Internal,
            SpanKind::Server => Kind::Server,
            SpanKind::Client => Kind::Client,
            SpanKind::Producer => Kind::Producer,
            SpanKind::Consumer => Kind::Consumer,
        },
        status: match r.status {
            SpanStatus::Unset => Status::Unset,
            SpanStatus::Ok => Status::Ok,
            SpanStatus::Error => Status::Error,
        },
        status_message: r.status_message,
        start_ns: r.start_ns,
        end_ns: r.end_ns,
        attrs: attrs(r.attributes),
        events: r
            .events
            .into_iter()
            .map(|e: SpanEvent| expect::Event {
                name: e.name,
                time_ns: e.time_ns,
                attrs: attrs(e.attributes),
            })
            .collect(),
    }
}

fn attrs(list: Vec<wit::Attribute>) -> Vec<(String, AttrValue)> {
    list.into_iter()
        .map(|a| {
            let v = match a.value {
                wit::AttrValue::Str(s) => AttrValue::Str(s),
                wit::AttrValue::Int(i) => AttrValue::Int(i),
                wit::AttrValue::Float(x) => AttrValue::Float(x),
                wit::AttrValue::Boolean(b) => AttrValue::Bool(b),
            };
            (a.key, v)
        })
        .collect()
}

clnrm_sdk::export_validator_plugin!(ValidateSpan);
