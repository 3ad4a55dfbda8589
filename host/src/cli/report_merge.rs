//! `clnrm report merge DIR... -o DIR`: the reports of the shards of a run
//! (`clnrm run --shard I/N --report-dir DIR`) joined into one set, with the
//! unsharded run's verdicts, digest and exit code.

use super::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS};
use crate::confined::ConfinedDir;
use crate::runtime::Registry;
use crate::shard::merge;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    Merge(MergeArgs),
}

/// Join the reports of a sharded run into the reports of the whole run.
///
/// Reads every `*.report.json` in each DIR (the `--report-dir` of each
/// `clnrm run --shard I/N`), joins each suite's traces, runs the suite's
/// `[expect.*]` over the joined trace and writes the five report files into
/// OUT, as the unsharded run would, with its verdicts and digest. Exits as
/// that run would: 0 passed, 1 failed, 2 bad input.
///
/// Example:
///   clnrm run tests/chaos/*.clnrm.toml --shard 1/2 --report-dir r1   # machine 1
///   clnrm run tests/chaos/*.clnrm.toml --shard 2/2 --report-dir r2   # machine 2
///   clnrm report merge r1 r2 -o reports
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct MergeArgs {
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Where the joined reports are written.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

impl MergeArgs {
    pub async fn exec(self) -> i32 {
        let groups = match merge::read_reports(&self.dirs).and_then(merge::group) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        let out = match ConfinedDir::create(&self.output) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: cannot create {}: {e}", self.output.display());
                return EXIT_BAD_INPUT;
            }
        };
        let registry = match Registry::new() {
            Ok(r) => Arc::new(r),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        let (mut passed, mut bad, mut interrupted) = (true, false, false);
        for (name, shards) in groups {
            // The suite file the shards ran, as they named it.
            let path = shards[0].outcome.path.clone();
            let suite = match crate::suite::load(&path) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{:?}", miette::Report::new(e));
                    eprintln!("  help: run `clnrm report merge` where the shards ran (suite `{name}` names {})", path.display());
                    return EXIT_BAD_INPUT;
                }
            };
            let n = shards.len();
            let outcome = match merge::merge(&registry, &suite, shards).await {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_BAD_INPUT;
                }
            };
            println!("merged {n} shard report(s) of {name}");
            let _ = crate::report::print_summary(&mut std::io::stdout().lock(), &outcome);
            match crate::report::write_all(&out, &outcome, &suite.report) {
                Ok(paths) => {
                    for p in paths {
                        println!("report: {}", p.display());
                    }
                }
                Err(e) => {
                    eprintln!(
                        "error: cannot write the reports into {}: {e}",
                        self.output.display()
                    );
                    bad = true;
                }
            }
            passed &= outcome.passed;
            interrupted |= outcome.interrupted;
            bad |= outcome.invalid.is_some() || outcome.environment_error.is_some();
        }
        if interrupted {
            EXIT_INTERRUPTED
        } else if bad {
            EXIT_BAD_INPUT
        } else if passed {
            EXIT_PASS
        } else {
            EXIT_FAIL
        }
    }
}
