//! Hand the finished trace to the validator plugin of each `[expect.X]` table: packed once
//! for all of them (WIT 0.3.3), the calls run at once up to the machine's parallelism, the
//! findings kept in the suite's order. Validators only read the finished trace, so running
//! them together changes neither their findings nor the digest.

use super::outcome::ExpectationOutcome;
use crate::runtime::{PluginError, Registry, ResolvedPlugins, ValidatorJob, ValidatorTrace};
use crate::suite::Suite;
use crate::trace::SpanData;
use std::sync::Arc;

/// Findings for every expectation, and Some(message) when an expectation
/// itself is invalid (bad input: the suite cannot be judged).
pub async fn run(
    registry: &Arc<Registry>,
    suite: &Suite,
    plugins: &ResolvedPlugins,
    spans: &[SpanData],
) -> (Vec<ExpectationOutcome>, Option<String>) {
    let judged: Vec<_> = suite
        .expectations
        .iter()
        .filter_map(|exp| Some((exp, plugins.validators.get(&exp.table)?)))
        .collect();
    if judged.is_empty() {
        return (Vec::new(), None);
    }
    let trace = match ValidatorTrace::new(spans) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            return (
                Vec::new(),
                Some(format!(
                    "{}: the trace cannot be handed to the validators: {e}",
                    suite.path.display()
                )),
            )
        }
    };
    let jobs = judged
        .iter()
        .map(|(exp, plugin)| ValidatorJob {
            plugin: Arc::clone(plugin),
            table: exp.table.clone(),
            config_json: exp.config_json.clone(),
        })
        .collect();
    let resource = crate::trace::export::resource_attributes(&suite.otel.resources);
    let width = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = registry.validate_all(jobs, trace, resource, width).await;
    let mut out = Vec::new();
    for ((exp, plugin), result) in judged.into_iter().zip(results) {
        match result {
            Ok(findings) => out.extend(findings.into_iter().map(|f| ExpectationOutcome {
                expectation: f.expectation,
                table: exp.table.clone(),
                plugin: plugin.info.name.clone(),
                passed: f.passed,
                message: f.message,
            })),
            Err(PluginError::Failed { message, .. }) => {
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
