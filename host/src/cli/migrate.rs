//! `clnrm migrate FILE... [--out DIR]`: old-dialect suites rewritten into
//! this one (host/src/migrate), comments kept, every key not carried listed.

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::migrate::migrate;
use std::path::{Path, PathBuf};

/// Rewrite suites written for the original clnrm's older dialects
/// (`[services.x]`, `[[steps]]` with `command = [...]`, `[test.metadata]` with
/// `timeout = "90s"`, `[otel_validation]`, `hermetic = true`) into this
/// dialect, in place or into --out, keeping comments; list every key that
/// could not be carried, with the reason. Then check with `clnrm validate`.
///
/// Examples:
///   clnrm migrate tests/old.clnrm.toml
///   clnrm migrate legacy/*.clnrm.toml --out migrated/ && clnrm validate migrated/*.clnrm.toml
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the migrated files into DIR (same file names) instead of in place.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        if let Some(dir) = &self.out {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("error: cannot create {}: {e}", dir.display());
                return EXIT_BAD_INPUT;
            }
        }
        let mut code = EXIT_PASS;
        for f in &self.files {
            if let Err(e) = one(f, self.out.as_deref()) {
                eprintln!("{e}");
                code = EXIT_BAD_INPUT;
            }
        }
        code
    }
}

fn one(file: &Path, out: Option<&Path>) -> Result<(), String> {
    let source = std::fs::read_to_string(file)
        .map_err(|e| format!("error: cannot read {}: {e}", file.display()))?;
    if crate::suite::template::is_template(file, &source) {
        return Err(format!(
            "error: {}: a template: migrate what `clnrm render` prints (clnrm render {} > x.clnrm.toml)",
            file.display(),
            file.display()
        ));
    }
    let m = migrate(&source).map_err(|e| {
        let (l, c) = crate::suite::line_col(&source, e.span.map(|s| s.start).unwrap_or(0));
        format!(
            "error: {}:{l}:{c}: not TOML: {}",
            file.display(),
            e.message.trim()
        )
    })?;
    let target = match out {
        Some(dir) => dir.join(file.file_name().unwrap_or_default()),
        None => file.to_path_buf(),
    };
    if m.changed || out.is_some() {
        std::fs::write(&target, &m.text)
            .map_err(|e| format!("error: cannot write {}: {e}", target.display()))?;
    }
    let what = if m.changed { "migrated" } else { "unchanged" };
    println!(
        "{what} {} -> {} ({} key(s) not carried)",
        file.display(),
        target.display(),
        m.notes.len()
    );
    for n in &m.notes {
        println!("  not carried: {n}");
    }
    Ok(())
}
