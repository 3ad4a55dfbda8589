//! `<name>.trace.sha256`: the canonical trace digest (trace::digest), as hex
//! and a newline. Same suite + same seed on the same machine → same file.

use crate::confined::ConfinedDir;
use crate::engine::SuiteOutcome;
use std::path::PathBuf;

pub fn write_digest(
    dir: &ConfinedDir,
    outcome: &SuiteOutcome,
    file: &str,
) -> std::io::Result<PathBuf> {
    dir.write(file, format!("{}\n", outcome.digest))
}
