//! `<name>.trace.sha256`: the canonical trace digest (trace::digest), as hex
//! and a newline. Same suite + same seed on the same machine → same file.

use super::{report_path, write_file};
use crate::engine::SuiteOutcome;
use std::path::{Path, PathBuf};

pub fn write_digest(dir: &Path, outcome: &SuiteOutcome) -> std::io::Result<PathBuf> {
    let path = report_path(dir, outcome, "trace.sha256");
    write_file(&path, format!("{}\n", outcome.digest))?;
    Ok(path)
}
