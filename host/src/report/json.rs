//! `<name>.report.json`: the suite's outcome with its spans. Schema in
//! docs/reports.md.

use super::rfc3339;
use crate::engine::SuiteOutcome;
use serde::Serialize;

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

/// The text of `<name>.report.json` (`write_all` writes it; the HTML page is
/// rendered from it).
pub fn report_text(outcome: &SuiteOutcome) -> std::io::Result<String> {
    let report = Report {
        schema: "clnrm.report/1",
        clnrm_version: env!("CARGO_PKG_VERSION"),
        trace_id: hex::encode(crate::trace::ids::trace_id(outcome.seed, &outcome.name)),
        started_at: rfc3339(outcome.epoch_unix_ns),
        outcome,
        spans: &outcome.spans,
    };
    serde_json::to_string_pretty(&report).map_err(std::io::Error::other)
}
