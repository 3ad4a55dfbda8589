//! `artifacts.collect`: copy files out of the scenario's main container
//! (running or stopped, so a killed one's files too) before cleanup removes
//! it, as tar archives under `<report-dir>/artifacts/<scenario>/`.

use crate::backend::ContainerBackend;
use crate::trace::{SpanId, Trace};
use std::path::Path;

pub async fn collect(
    docker: &dyn ContainerBackend,
    trace: &Trace,
    parent: SpanId,
    dir: &Path,
    scenario: &str,
    container: &str,
    paths: &[String],
) -> Vec<String> {
    let span = trace.start("clnrm.artifacts.collect", Some(parent));
    trace.set_attr(span, "artifacts.requested", paths.len());
    let (mut collected, mut bytes, mut errors) = (0usize, 0usize, Vec::new());
    let dest = dir.join(sanitize(scenario));
    for p in paths {
        let file = dest.join(format!("{}.tar", sanitize(p.trim_start_matches('/'))));
        let r = match docker.archive(container, p).await {
            Ok(tar) => std::fs::create_dir_all(&dest)
                .and_then(|_| std::fs::write(&file, &tar))
                .map(|_| tar.len())
                .map_err(|e| format!("{p}: cannot write {}: {e}", file.display())),
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
