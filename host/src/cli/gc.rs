//! `clnrm gc`: remove what dead runs left behind (and, with `--images`, the
//! images clnrm built).

use super::{EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS};
use crate::backend::{Docker, ImageBackend};

/// Remove what dead runs left behind (containers, networks, volumes
/// labelled `clnrm` whose owner process is gone). Live runs are untouched.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also remove the images clnrm built (`build` in a suite); pulled
    /// images are the user's and stay.
    #[arg(long)]
    images: bool,
    /// Sweep every engine that answers here (Docker and Podman, rootful and
    /// rootless), not only the one `--engine` / the environment chooses.
    #[arg(long)]
    all_engines: bool,
}

impl Args {
    pub async fn exec(self) -> i32 {
        if !self.all_engines {
            return match Docker::connect().await {
                Ok(d) => gc(&d, self.images).await,
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_BAD_INPUT
                }
            };
        }
        let (engines, unreachable) = Docker::connect_all().await;
        if engines.is_empty() {
            eprintln!(
                "error: no container engine answers: {}",
                unreachable.join("; ")
            );
            return EXIT_BAD_INPUT;
        }
        let mut code = EXIT_PASS;
        for d in &engines {
            let e = d.engine();
            println!("gc: {} {} at {}", e.kind.name(), e.version, e.endpoint);
            code = code.max(gc(d, self.images).await);
        }
        code
    }
}

/// Sweep one engine.
async fn gc(docker: &Docker, images: bool) -> i32 {
    let mut failed = match crate::backend::gc::collect(docker).await {
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
            !r.errors.is_empty()
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // After the containers: a dead run's container may still use a built image.
    if images {
        match docker.remove_built().await {
            Ok((removed, errors)) => {
                println!("gc: removed {} image(s) clnrm built", removed.len());
                for r in &removed {
                    println!("gc: image {r}");
                }
                for e in &errors {
                    eprintln!("gc: image {e}");
                }
                failed |= !errors.is_empty();
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    if failed {
        EXIT_FAIL
    } else {
        EXIT_PASS
    }
}
