//! `clnrm gc`: remove what dead runs left behind.

use super::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS};
use crate::backend::Docker;

/// Remove what dead runs left behind (containers, networks, volumes
/// labelled `clnrm` whose owner process is gone). Live runs are untouched.
#[derive(clap::Args, Debug)]
pub struct Args {}

impl Args {
    pub async fn exec(self) -> i32 {
        gc().await
    }
}

async fn gc() -> i32 {
    let docker = match Docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    match crate::backend::gc::collect(&docker).await {
        Ok(r) => {
            println!(
                "gc: removed {} container(s), {} network(s), {} volume(s) of {} dead run(s); {} resource(s) of live runs left alone",
                r.containers,
                r.networks,
                r.volumes,
                r.dead_runs.len(),
                r.live_skipped
            );
            for e in &r.errors {
                eprintln!("gc: {e}");
            }
            if r.errors.is_empty() {
                EXIT_PASS
            } else {
                EXIT_FAIL
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}
