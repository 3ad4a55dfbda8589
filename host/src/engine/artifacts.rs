//! `artifacts.collect`: copy files out of the scenario's main container
//! (running or stopped, so a killed one's files too) before cleanup removes
//! it, as tar archives under `<report-dir>/artifacts/<scenario>/`. Names come
//! from the suite, so they are written through the report directory's
//! capability: nothing can land outside it.

use crate::backend::ContainerBackend;
use crate::confined::ConfinedDir;
use crate::trace::{SpanId, Trace};

pub async fn collect(
    docker: &dyn ContainerBackend,
    trace: &Trace,
    parent: SpanId,
    reports: &ConfinedDir,
    scenario: &str,
    container: &str,
    paths: &[String],
) -> Vec<String> {
    let span = trace.start("clnrm.artifacts.collect", Some(parent));
    trace.set_attr(span, "artifacts.requested", paths.len());
    let (mut collected, mut bytes, mut errors) = (0usize, 0usize, Vec::new());
    let dest = format!("artifacts/{}", sanitize(scenario));
    for p in paths {
        let file = format!("{}.tar", sanitize(p.trim_start_matches('/')));
        let r = match docker.archive(container, p).await {
            Ok(tar) => reports
                .subdir(&dest)
                .and_then(|d| d.write(&file, &tar))
                .map(|_| tar.len())
                .map_err(|e| format!("{p}: cannot write it: {e}")),
            Err(e) => Err(format!("{p}: {e}")),
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
