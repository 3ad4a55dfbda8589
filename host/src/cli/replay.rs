//! `clnrm replay FILE`: re-run a recording's plugins without Docker.

use super::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS};
use crate::confined::ConfinedDir;
use crate::runtime::Registry;
use std::path::PathBuf;

/// Re-run a recording's plugins without Docker: every host call answered
/// from the recording; prints the digest and the first divergence.
#[derive(clap::Args, Debug)]
pub struct Args {
    file: PathBuf,
    /// Replay with another seed (a plugin drawing random numbers diverges).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the replayed run's HTML page (`<name>.report.html`) here.
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        replay(&self.file, self.seed, self.report_dir.as_deref()).await
    }
}

async fn replay(
    file: &std::path::Path,
    seed: Option<u64>,
    report_dir: Option<&std::path::Path>,
) -> i32 {
    let rec = match crate::replay::Recording::read(file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let pages = match report_dir.map(ConfinedDir::create).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot create the report directory: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut output_failed = false;
    let registry = match Registry::new() {
        Ok(r) => std::sync::Arc::new(r),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut all_match = true;
    for s in &rec.suites {
        let r = match crate::replay::replay(&registry, s, seed).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: cannot replay {}: {e}", s.name);
                return EXIT_BAD_INPUT;
            }
        };
        for c in &r.changed_plugins {
            println!(
                "replay {}: note: plugin changed since the recording: {c}",
                r.name
            );
        }
        match &r.divergence {
            Some(d) => println!("replay {}: DIVERGED: {d}", r.name),
            None => println!(
                "replay {}: {} host calls in {} injections replayed, no divergence",
                r.name, r.calls, r.injections
            ),
        }
        for v in &r.verdict_changes {
            println!("replay {}: verdict changed: {v}", r.name);
        }
        println!(
            "replay {}: expectations {}/{} passed",
            r.name, r.expectations_passed, r.expectations
        );
        println!(
            "replay {}: digest {} ({})",
            r.name,
            r.digest,
            if r.digest == r.recorded_digest {
                "same as recorded".to_string()
            } else {
                format!("recorded {}", r.recorded_digest)
            }
        );
        if let Some(dir) = &pages {
            let data = crate::replay::report_json(file, s, &r).to_string();
            match crate::report::html::render(&data)
                .map_err(std::io::Error::other)
                .and_then(|page| dir.write(&format!("{}.report.html", r.name), page))
            {
                Ok(p) => println!("report: {}", p.display()),
                Err(e) => {
                    eprintln!("error: cannot write the replay's page: {e}");
                    output_failed = true;
                }
            }
        }
        all_match &= r.matches();
    }
    if output_failed {
        EXIT_BAD_INPUT
    } else if all_match {
        EXIT_PASS
    } else {
        EXIT_FAIL
    }
}
