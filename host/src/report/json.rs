//! `<name>.report.json`: the suite's outcome with its spans. Schema in
//! docs/reports.md.

use super::{report_path, rfc3339, write_file};
use crate::engine::SuiteOutcome;
use serde::Serialize;
use std::path::{Path, PathBuf};

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

pub fn write_json(dir: &Path, outcome: &SuiteOutcome) -> std::io::Result<PathBuf> {
    let path = report_path(dir, outcome, "report.json");
    let report = Report {
        schema: "clnrm.report/1",
        clnrm_version: env!("CARGO_PKG_VERSION"),
        trace_id: hex::encode(crate::trace::ids::trace_id(outcome.seed, &outcome.name)),
        started_at: rfc3339(outcome.epoch_unix_ns),
        outcome,
        spans: &outcome.spans,
    };
    let text = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
    write_file(&path, text)?;
    Ok(path)
}
