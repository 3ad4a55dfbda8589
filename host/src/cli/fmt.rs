//! `clnrm fmt [FILES] [--check]`: rewrite suite files in the canonical
//! layout (host/src/fmt): table and key order, short maps inline, comments
//! kept.

use super::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS};
use std::path::{Path, PathBuf};

/// Format suite files: one canonical table and key order, short maps as
/// inline tables, every comment kept where it was.
///
/// Without FILES, every `*.clnrm.toml` under the current directory (not in
/// `target/` or hidden directories). Templates (`.tera`, or text with `{%`)
/// are left alone. `--check` changes nothing: it lists the files that would
/// change and exits 1 if there are any.
///
/// Examples:
///   clnrm fmt                                   # every suite under .
///   clnrm fmt tests/chaos/*.clnrm.toml --check  # in CI
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    files: Vec<String>,
    /// Change nothing; list the files that are not formatted (exit 1 if any).
    #[arg(long)]
    check: bool,
}

impl Args {
    pub async fn exec(self) -> i32 {
        let files = if self.files.is_empty() {
            let mut v = Vec::new();
            find_suites(Path::new("."), &mut v);
            v.sort();
            v
        } else {
            match super::suites::expand(&self.files) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_BAD_INPUT;
                }
            }
        };
        let (mut bad, mut unformatted) = (false, Vec::new());
        for f in &files {
            let name = f.display();
            let text = match std::fs::read_to_string(f) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {name}: {e}");
                    bad = true;
                    continue;
                }
            };
            if f.to_string_lossy().ends_with(".tera") || text.contains("{%") {
                eprintln!("skipped {name}: a template (render it first)");
                continue;
            }
            let out = match crate::fmt::format(&text) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {name}:{}:{}: {}", e.line, e.col, e.message);
                    bad = true;
                    continue;
                }
            };
            if out == text {
                continue;
            }
            if self.check {
                println!("would reformat {name}");
                unformatted.push(f);
                continue;
            }
            // A temp file and a rename: an interrupted fmt leaves the old text.
            let tmp = f.with_extension("toml.fmt-tmp");
            match std::fs::write(&tmp, &out).and_then(|()| std::fs::rename(&tmp, f)) {
                Ok(()) => println!("formatted {name}"),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    eprintln!("error: cannot write {name}: {e}");
                    bad = true;
                }
            }
        }
        if bad {
            EXIT_BAD_INPUT
        } else if !unformatted.is_empty() {
            eprintln!(
                "{} file(s) not formatted: run `clnrm fmt` on them",
                unformatted.len()
            );
            EXIT_FAIL
        } else {
            EXIT_PASS
        }
    }
}

/// `*.clnrm.toml` under `dir`, skipping `target/` and hidden directories.
fn find_suites(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !name.starts_with('.') && name != "target" {
                find_suites(&p, out);
            }
        } else if name.ends_with(".clnrm.toml") {
            out.push(p);
        }
    }
}
