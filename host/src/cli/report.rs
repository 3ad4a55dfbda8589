//! `clnrm report FILE.report.json [-o OUT]`: the HTML page of an existing JSON
//! report, the same bytes the run wrote next to it. It never opens a browser.

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::report::html;
use std::path::{Path, PathBuf};

/// Render a JSON report (`<name>.report.json`) as the HTML page a run
/// writes next to it. Never opens a browser. `report merge` joins the
/// reports of a sharded run.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[arg(required = true)]
    file: Option<PathBuf>,
    /// Where to write the page (default: `<name>.report.html` next to FILE).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    #[command(subcommand)]
    merge: Option<super::report_merge::Sub>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        match (self.merge, self.file) {
            (Some(super::report_merge::Sub::Merge(m)), _) => m.exec().await,
            (None, Some(file)) => report(&file, self.output.as_deref()),
            (None, None) => EXIT_BAD_INPUT,
        }
    }
}

fn report(file: &Path, output: Option<&Path>) -> i32 {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return EXIT_BAD_INPUT;
        }
    };
    let page = match html::render(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}:{e}", file.display());
            eprintln!(
                "  help: give the `<name>.report.json` that `clnrm run --report-dir` wrote (schema `{}`)",
                html::SCHEMA
            );
            return EXIT_BAD_INPUT;
        }
    };
    let out = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_output(file));
    if same_file(&out, file) {
        eprintln!(
            "error: {}: the page would overwrite the JSON report it is rendered from",
            out.display()
        );
        eprintln!("  help: choose another file with -o");
        return EXIT_BAD_INPUT;
    }
    match std::fs::write(&out, page) {
        Ok(()) => {
            println!("report: {}", out.display());
            EXIT_PASS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", out.display());
            EXIT_BAD_INPUT
        }
    }
}

/// `x.report.json` → `x.report.html` (where the run puts it); else `x.html`.
fn default_output(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(".report.json") {
        Some(stem) => file.with_file_name(format!("{stem}.report.html")),
        None => file.with_extension("html"),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_goes_next_to_the_json_by_default() {
        assert_eq!(
            default_output(Path::new("d/x.report.json")),
            Path::new("d/x.report.html")
        );
        assert_eq!(default_output(Path::new("old.json")), Path::new("old.html"));
    }
}
