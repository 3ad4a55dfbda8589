//! `artifacts.collect`: what a scenario leaves for a person to read, under
//! `<report-dir>/artifacts/<scenario>/`. Names come from the suite, so they are
//! written through the report directory's capability: nothing can land outside it.
//!
//! - an absolute path: copied out of the main container (running or stopped, so a
//!   killed one's files too) before cleanup removes it, as `<path>.tar`;
//! - `logs:all` / `logs:<service>`: each service's output, `logs-<service>.txt`: the
//!   container's own stdout/stderr (Docker's logs) and every step's, before cleanup;
//! - `spans:<name>`: the scenario's spans (its `clnrm.scenario` and everything below,
//!   cleanup included) as JSON, `spans-<name>.json`, once the scenario ended.

use super::outcome::StepOutcome;
use crate::backend::ContainerBackend;
use crate::confined::ConfinedDir;
use crate::suite::Artifact;
use crate::trace::{SpanId, Trace};
use std::collections::HashMap;

/// What the collection before cleanup needs.
pub struct Before<'a> {
    pub docker: &'a dyn ContainerBackend,
    pub trace: &'a Trace,
    pub parent: SpanId,
    pub reports: &'a ConfinedDir,
    pub scenario: &'a str,
    /// The scenario's services in order (the first is the main one).
    pub services: &'a [String],
    /// Service id -> container id.
    pub containers: &'a HashMap<String, String>,
    pub steps: &'a [StepOutcome],
}

/// Paths and logs, before cleanup, under one `clnrm.artifacts.collect` span.
/// Returns what could not be collected.
pub async fn collect(b: Before<'_>, wanted: &[Artifact]) -> Vec<String> {
    let wanted: Vec<&Artifact> = wanted
        .iter()
        .filter(|a| !matches!(a, Artifact::Spans(_)))
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let trace = b.trace;
    let span = trace.start("clnrm.artifacts.collect", Some(b.parent));
    trace.set_attr(span, "artifacts.requested", wanted.len());
    let (mut collected, mut bytes, mut errors) = (0usize, 0usize, Vec::new());
    let dest = format!("artifacts/{}", sanitize(b.scenario));
    let main = b.services.first().and_then(|s| b.containers.get(s));
    for a in wanted {
        let r = match a {
            Artifact::Path(p) => match main {
                Some(main) => {
                    let file = format!("{}.tar", sanitize(p.trim_start_matches('/')));
                    match b.docker.archive(main, p).await {
                        Ok(tar) => {
                            write(b.reports, &dest, &file, &tar).map_err(|e| format!("{p}: {e}"))
                        }
                        Err(e) => Err(format!("{p}: {e}")),
                    }
                }
                None => Err(format!("{p}: the main container was never created")),
            },
            Artifact::Logs(which) => {
                let services: Vec<&String> = match which {
                    Some(s) => vec![s],
                    None => b.services.iter().collect(),
                };
                let mut total = Ok(0);
                for s in services {
                    let text = logs_of(&b, s).await;
                    let file = format!("logs-{}.txt", sanitize(s));
                    match write(b.reports, &dest, &file, text.as_bytes()) {
                        Ok(n) => total = total.map(|t| t + n),
                        Err(e) => total = Err(format!("logs of {s}: {e}")),
                    }
                }
                total
            }
            Artifact::Spans(_) => continue,
        };
        match r {
            Ok(n) => {
                collected += 1;
                bytes += n;
            }
            Err(e) => errors.push(e),
        }
    }
    trace.set_attr(span, "artifacts.collected", collected);
    trace.set_attr(span, "artifacts.bytes", bytes);
    if errors.is_empty() {
        trace.end_ok(span);
    } else {
        trace.end_error(span, errors.join("; "));
    }
    errors
}

/// `spans:<name>`, once the scenario span `scenario_span` ended. Returns what could
/// not be written.
pub fn write_spans(
    trace: &Trace,
    scenario_span: SpanId,
    reports: &ConfinedDir,
    scenario: &str,
    wanted: &[Artifact],
) -> Vec<String> {
    let names: Vec<&String> = wanted
        .iter()
        .filter_map(|a| match a {
            Artifact::Spans(n) => Some(n),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let all = trace.snapshot();
    // The scenario span and its descendants, in trace order.
    let mut inside = std::collections::HashSet::from([scenario_span]);
    let mut mine = Vec::new();
    for s in &all {
        if s.id == scenario_span || s.parent.is_some_and(|p| inside.contains(&p)) {
            inside.insert(s.id);
            mine.push(s);
        }
    }
    let dest = format!("artifacts/{}", sanitize(scenario));
    let mut errors = Vec::new();
    for n in names {
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "scenario": scenario,
            "spans": mine,
        }))
        .map_err(|e| e.to_string());
        let r = text.and_then(|t| {
            write(reports, &dest, &format!("spans-{n}.json"), t.as_bytes())
                .map_err(|e| e.to_string())
        });
        if let Err(e) = r {
            errors.push(format!("spans:{n}: {e}"));
        }
    }
    errors
}

/// The container's own output, then each step's that ran in it.
async fn logs_of(b: &Before<'_>, service: &str) -> String {
    let mut out = format!("== {service}: container output (docker logs) ==\n");
    match b.containers.get(service) {
        Some(id) => match b.docker.logs(id).await {
            Ok(bytes) => out.push_str(&String::from_utf8_lossy(&bytes)),
            Err(e) => out.push_str(&format!("(not available: {e})\n")),
        },
        None => out.push_str("(the container was never created)\n"),
    }
    for st in b.steps.iter().filter(|s| s.service == service) {
        let code = st
            .exit_code
            .map(|c| format!("exit {c}"))
            .unwrap_or_else(|| "no exit code".into());
        out.push_str(&format!(
            "== step {} ({code}): stdout ==\n{}",
            st.name, st.stdout
        ));
        if !st.stdout.is_empty() && !st.stdout.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("== step {}: stderr ==\n{}", st.name, st.stderr));
        if !st.stderr.is_empty() && !st.stderr.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn write(reports: &ConfinedDir, dest: &str, file: &str, bytes: &[u8]) -> Result<usize, String> {
    reports
        .subdir(dest)
        .and_then(|d| d.write(file, bytes))
        .map(|_| bytes.len())
        .map_err(|e| format!("cannot write it: {e}"))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .replace("..", "_")
}
