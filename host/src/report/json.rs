//! `<name>.report.json`: the suite's outcome with its spans. Schema in
//! docs/reports.md.

use crate::engine::SuiteOutcome;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    clnrm_version: &'static str,
    #[serde(flatten)]
    outcome: &'a SuiteOutcome,
    spans: &'a [crate::trace::SpanData],
}

pub fn write_json(dir: &Path, outcome: &SuiteOutcome) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}.report.json", outcome.name));
    let report = Report { schema: "clnrm.report/1", clnrm_version: env!("CARGO_PKG_VERSION"), outcome, spans: &outcome.spans };
    let text = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
    std::fs::write(&path, text)?;
    Ok(path)
}
