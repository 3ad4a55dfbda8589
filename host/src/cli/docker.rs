//! Docker made ready for a run: connected, every image prepared (pulled or
//! built) before anything starts, and what dead runs left behind removed.

use super::image_progress;
use super::EXIT_BAD_INPUT;
use crate::backend::{Docker, ImageProgress, Quiet};
use crate::engine::images::{self, PreparedImages};
use crate::suite::Suite;

/// Connect to Docker and prepare every image (see [`prepare_images`]), while
/// removing what dead runs left behind.
pub(super) async fn prepare_docker(suites: &[Suite]) -> Result<(Docker, PreparedImages), i32> {
    let docker = connect().await?;
    let gc = crate::backend::gc::collect(&docker);
    let (prepared, gc) = tokio::join!(prepare_images(&docker, suites, false), gc);
    let prepared = prepared?;
    match gc {
        Ok(r) if r.removed() > 0 => eprintln!(
            "clnrm: removed {} resource(s) left by {} dead run(s)",
            r.removed(),
            r.dead_runs.len()
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("gc of dead runs failed: {e}"),
    }
    Ok((docker, prepared))
}

pub(super) async fn connect() -> Result<Docker, i32> {
    Docker::connect().await.map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })
}

/// Pull or build what the suites need; progress on a terminal, one line per
/// image pulled or built otherwise (`all`: per image, even those present).
/// A failure is printed and is exit code 2.
pub(super) async fn prepare_images(
    docker: &Docker,
    suites: &[Suite],
    all: bool,
) -> Result<PreparedImages, i32> {
    let bars = image_progress::bars();
    let progress: &dyn ImageProgress = match &bars {
        Some(b) => b,
        None => &Quiet,
    };
    let prepared = images::prepare(docker, suites, progress).await;
    if let Some(b) = &bars {
        b.finish();
    }
    match prepared {
        Ok(p) => {
            for line in image_progress::summary(&p, all) {
                eprintln!("clnrm: {line}");
            }
            Ok(p)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_BAD_INPUT)
        }
    }
}
