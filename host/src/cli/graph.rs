//! `clnrm graph REPORT --format ascii|dot|mermaid`: a run's span graph.

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::trace_view::{load_one, view};
use std::path::PathBuf;

/// Print the parent/child graph of a run's spans (a `<name>.report.json` or
/// a recording), observed faults marked as in the HTML report.
///
/// Examples:
///   clnrm graph reports/x.report.json                      # ascii tree
///   clnrm graph reports/x.report.json --format dot | dot -Tsvg > trace.svg
///   clnrm graph reports/x.report.json --format mermaid > trace.mmd
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A `<name>.report.json`, or a recording (`clnrm run --record`).
    report: PathBuf,
    #[arg(long, value_enum, default_value = "ascii")]
    format: view::Format,
    /// The suite, when a recording holds several.
    #[arg(long)]
    suite: Option<String>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        match load_one(&self.report, self.suite.as_deref()) {
            Ok(run) => {
                print!("{}", view::graph(&run, self.format));
                EXIT_PASS
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_BAD_INPUT
            }
        }
    }
}
