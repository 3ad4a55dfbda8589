//! What `clnrm run` writes once a suite is done: its report files and its
//! spans' export.

use crate::confined::ConfinedDir;
use crate::engine;
use crate::suite::{Exporter, Suite};
use std::sync::Arc;

/// Write the suite's report files and export its spans. Prints one line per
/// file (`report: <path>`) and one for the export (`otel: ...`); false when
/// something could not be written or sent (the run then exits 2).
pub(super) async fn report_and_export(
    out: &mut impl std::io::Write,
    s: &Suite,
    outcome: &engine::SuiteOutcome,
    report_dir: &Arc<ConfinedDir>,
    exporter_override: Option<Exporter>,
) -> bool {
    use crate::trace::export::{self as otel, RunIdentity, Sink};
    let mut ok = true;
    match crate::report::write_all(report_dir, outcome, &s.report) {
        Ok(paths) => {
            for p in paths {
                let _ = writeln_flush(out, &format!("report: {}", p.display()));
            }
        }
        Err(e) => {
            eprintln!(
                "error: cannot write the reports into {}: {e}",
                report_dir.path().display()
            );
            ok = false;
        }
    }
    let sink = match (exporter_override, s.otel.exporter) {
        (Some(Exporter::Stdout), _) => Some(Sink::Stdout),
        (Some(Exporter::Otlp), _) | (None, Exporter::Otlp) => {
            Some(Sink::Otlp(s.otel.endpoint.clone()))
        }
        (Some(Exporter::None), _) | (None, Exporter::None) => None,
        (None, Exporter::Stdout) => Some(Sink::JsonFile {
            dir: report_dir.clone(),
            name: format!("{}.otlp.jsonl", outcome.name),
        }),
    };
    if let Some(sink) = sink {
        let run = RunIdentity {
            suite: &outcome.name,
            seed: outcome.seed,
            epoch_unix_ns: outcome.epoch_unix_ns,
        };
        match otel::export(
            &outcome.spans,
            &run,
            &s.otel.resources,
            s.otel.sample_ratio,
            &sink,
        )
        .await
        {
            Ok(x) if x.sampled => {
                let _ = writeln_flush(
                    out,
                    &format!(
                        "otel: {} span(s) of trace {} exported to {}",
                        x.spans, x.trace_id, x.destination
                    ),
                );
            }
            Ok(x) => {
                let _ = writeln_flush(
                    out,
                    &format!(
                        "otel: trace {} not sampled (sample_ratio {}), nothing exported",
                        x.trace_id, s.otel.sample_ratio
                    ),
                );
            }
            Err(e) => {
                eprintln!("error: OTEL export failed: {e}");
                ok = false;
            }
        }
    }
    ok
}

fn writeln_flush(out: &mut impl std::io::Write, line: &str) -> std::io::Result<()> {
    writeln!(out, "{line}")?;
    out.flush()
}
