//! `<name>.report.json`: the suite's outcome with its spans. Schema in
//! docs/reports.md.

use super::rfc3339;
use crate::confined::ConfinedDir;
use crate::engine::SuiteOutcome;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    clnrm_version: &'static str,
    /// The OTEL trace id the spans are exported under (hex).
    trace_id: String,
    /// `epoch_unix_ns` as RFC 3339.
    started_at: String,
    #[serde(flatten)]
    outcome: &'a SuiteOutcome,
    spans: &'a [crate::trace::SpanData],
}

pub fn write_json(
    dir: &ConfinedDir,
    outcome: &SuiteOutcome,
    file: &str,
) -> std::io::Result<PathBuf> {
    let report = Report {
        schema: "clnrm.report/1",
        clnrm_version: env!("CARGO_PKG_VERSION"),
        trace_id: hex::encode(crate::trace::ids::trace_id(outcome.seed, &outcome.name)),
        started_at: rfc3339(outcome.epoch_unix_ns),
        outcome,
        spans: &outcome.spans,
    };
    let text = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
    dir.write(file, text)
}
