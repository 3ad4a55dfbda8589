//! `<name>.trace.sha256`: the canonical trace digest (trace::digest), as hex
//! and a newline. Same suite + same seed on the same machine → same file.

use super::write_report;
use crate::confined::ConfinedDir;
use crate::engine::SuiteOutcome;
use std::path::PathBuf;

pub fn write_digest(dir: &ConfinedDir, outcome: &SuiteOutcome) -> std::io::Result<PathBuf> {
    write_report(
        dir,
        outcome,
        "trace.sha256",
        format!("{}\n", outcome.digest),
    )
}
