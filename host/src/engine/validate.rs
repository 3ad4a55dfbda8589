//! Hand the finished trace to the validator plugin of each `[expect.X]` table.

use super::outcome::ExpectationOutcome;
use crate::runtime::{
    Limits, Registry, ResolvedPlugins, SpanEvent, SpanRecord, ValidateCall, WitAttribute,
};
use crate::suite::Suite;
use crate::trace::SpanData;

/// Findings for every expectation, and Some(message) when an expectation
/// itself is invalid (bad input: the suite cannot be judged).
pub async fn run(
    registry: &Registry,
    suite: &Suite,
    plugins: &ResolvedPlugins,
    spans: &[SpanData],
) -> (Vec<ExpectationOutcome>, Option<String>) {
    let records = to_records(spans);
    let resource = crate::trace::export::resource_attributes(&suite.otel.resources);
    let mut out = Vec::new();
    for exp in &suite.expectations {
        let Some(plugin) = plugins.validators.get(&exp.table) else {
            continue;
        };
        let call = ValidateCall {
            limits: Limits::VALIDATOR,
            resource: resource.clone(),
        };
        match registry
            .validate(plugin, &exp.table, &exp.config_json, &records, call)
            .await
        {
            Ok(findings) => out.extend(findings.into_iter().map(|f| ExpectationOutcome {
                expectation: f.expectation,
                table: exp.table.clone(),
                plugin: plugin.info.name.clone(),
                passed: f.passed,
                message: f.message,
            })),
            Err(crate::runtime::PluginError::Failed { message, .. }) => {
                let (line, col) = crate::suite::line_col(&suite.source, exp.span.start);
                return (
                    out,
                    Some(format!(
                        "{}:{line}:{col}: invalid [expect.{}]: {message}",
                        suite.path.display(),
                        exp.table
                    )),
                );
            }
            Err(e) => out.push(ExpectationOutcome {
                expectation: format!("expect.{}", exp.table),
                table: exp.table.clone(),
                plugin: plugin.info.name.clone(),
                passed: false,
                message: e.to_string(),
            }),
        }
    }
    (out, None)
}

/// The trace as validators see it (WIT records, parents by index).
pub fn to_records(spans: &[SpanData]) -> Vec<SpanRecord> {
    spans
        .iter()
        .map(|s| SpanRecord {
            id: s.id.0,
            parent: s.parent.map(|p| p.0),
            name: s.name.clone(),
            kind: s.kind.into(),
            status: s.status.into(),
            status_message: s.status_message.clone(),
            start_ns: s.start_ns,
            end_ns: s.end_ns.unwrap_or(s.start_ns),
            attributes: s
                .attrs
                .iter()
                .map(|(k, v)| WitAttribute {
                    key: k.clone(),
                    value: v.into(),
                })
                .collect(),
            events: s
                .events
                .iter()
                .map(|e| SpanEvent {
                    name: e.name.clone(),
                    time_ns: e.time_ns,
                    attributes: e
                        .attrs
                        .iter()
                        .map(|(k, v)| WitAttribute {
                            key: k.clone(),
                            value: v.into(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}
