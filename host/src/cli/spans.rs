//! `clnrm spans REPORT [--grep RE] [--tree] [--attrs]`: a run's trace in the
//! terminal, faults marked.

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::trace_view::{load_one, view};
use std::path::PathBuf;

/// Print the spans of a run (a `<name>.report.json` or a recording), with
/// the observed faults marked (⚡) as in the HTML report.
///
/// Each line: span id, start, duration, status, name, fault mark.
///
/// Examples:
///   clnrm spans reports/chaos_container_failures.report.json --tree
///   clnrm spans reports/x.report.json --grep 'clnrm.step|chaos' --attrs
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A `<name>.report.json`, or a recording (`clnrm run --record`).
    report: PathBuf,
    /// Only spans whose name matches this regex (with --tree, their ancestors too).
    #[arg(long, value_name = "RE")]
    grep: Option<String>,
    /// Draw the parent/child tree instead of a list in start order.
    #[arg(long)]
    tree: bool,
    /// Print each span's attributes and events under it.
    #[arg(long)]
    attrs: bool,
    /// The suite, when a recording holds several.
    #[arg(long)]
    suite: Option<String>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        let re = match self.grep.as_deref().map(regex::Regex::new).transpose() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: --grep: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        match load_one(&self.report, self.suite.as_deref()) {
            Ok(run) => {
                print!("{}", view::spans(&run, re.as_ref(), self.tree, self.attrs));
                EXIT_PASS
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_BAD_INPUT
            }
        }
    }
}
