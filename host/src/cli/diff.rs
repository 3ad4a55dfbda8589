//! `clnrm diff A B`: where two runs differ; exit 0 when the digests match.

use super::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS};
use crate::trace_view::{diff, load, Run};
use std::path::{Path, PathBuf};

/// Compare two runs (two `<name>.report.json`, two recordings, or one of
/// each): the first scenario, span and attribute where they differ, then a
/// summary. Exit 0 when the digests match, 1 when they differ, 2 on bad input.
///
/// Recordings with several suites are compared suite by suite (by name).
///
/// Example:
///   clnrm diff before/chaos_container_failures.report.json after/chaos_container_failures.report.json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    a: PathBuf,
    b: PathBuf,
}

impl Args {
    pub async fn exec(self) -> i32 {
        let (ra, rb) = match (load(&self.a), load(&self.b)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        let pairs = match pair(ra, rb, &self.a, &self.b) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        let mut code = EXIT_PASS;
        for (i, (a, b)) in pairs.iter().enumerate() {
            if i > 0 {
                println!();
            }
            let out = diff::diff(a, b);
            print!("{}", out.text);
            if !out.digests_match {
                code = EXIT_FAIL;
            }
        }
        code
    }
}

/// One run each: compared, whatever their names. Several (recordings):
/// paired by suite name; a suite on one side only is an error.
fn pair(a: Vec<Run>, b: Vec<Run>, pa: &Path, pb: &Path) -> Result<Vec<(Run, Run)>, String> {
    if a.len() == 1 && b.len() == 1 {
        return Ok(a.into_iter().zip(b).collect());
    }
    let names = |v: &[Run]| v.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let (na, nb) = (names(&a), names(&b));
    if na.iter().any(|n| !nb.contains(n)) || nb.iter().any(|n| !na.contains(n)) {
        return Err(format!(
            "the two hold different suites: {} has {}; {} has {}",
            pa.display(),
            na.join(", "),
            pb.display(),
            nb.join(", ")
        ));
    }
    let mut b = b;
    Ok(a.into_iter()
        .map(|ra| {
            let i = b
                .iter()
                .position(|rb| rb.name == ra.name)
                .expect("checked above");
            let rb = b.remove(i);
            (ra, rb)
        })
        .collect())
}
