//! What several subcommands share: suite files from the command line
//! (globs expanded), loaded and checked, their plugins resolved.

use super::EXIT_BAD_INPUT;
use crate::runtime::{Registry, RegistryError, ResolvedPlugins};
use crate::suite::{self, Suite};
use std::path::PathBuf;

/// Expand globs (for shells that did not) and keep plain paths as they are.
pub(super) fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in patterns {
        if p.contains(['*', '?', '[']) {
            let matches: Vec<PathBuf> = glob::glob(p)
                .map_err(|e| format!("bad pattern `{p}`: {e}"))?
                .filter_map(Result::ok)
                .collect();
            if matches.is_empty() {
                return Err(format!("no file matches `{p}`"));
            }
            out.extend(matches);
        } else {
            out.push(PathBuf::from(p));
        }
    }
    Ok(out)
}

fn report_diag(e: impl Into<miette::Report>) {
    eprintln!("{:?}", e.into());
}

/// Load every file; all errors are printed, not just the first.
pub(super) fn load_all(patterns: &[String]) -> Result<Vec<Suite>, i32> {
    let paths = expand(patterns).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    let mut suites = Vec::new();
    let mut failed = false;
    for p in paths {
        match suite::load(&p) {
            Ok(s) => suites.push(s),
            Err(e) => {
                report_diag(e);
                failed = true;
            }
        }
    }
    if failed {
        Err(EXIT_BAD_INPUT)
    } else {
        Ok(suites)
    }
}

/// Resolve every suite's plugins; the first failure is printed and ends it.
pub(super) async fn resolve_all(
    registry: &Registry,
    suites: &[Suite],
) -> Result<Vec<ResolvedPlugins>, i32> {
    let mut out = Vec::new();
    for s in suites {
        match registry.resolve(s).await {
            Ok(r) => out.push(r),
            Err(RegistryError::Suite(e)) => {
                report_diag(*e);
                return Err(EXIT_BAD_INPUT);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Err(EXIT_BAD_INPUT);
            }
        }
    }
    Ok(out)
}
