//! Docker made ready for a run.

use super::EXIT_BAD_INPUT;
use crate::backend::{ContainerBackend, Docker};
use crate::suite::Suite;

/// Connect to Docker, check every image is here (there is no registry to pull
/// from), and remove what dead runs left behind before we add anything.
pub(super) async fn prepare_docker(suites: &[Suite]) -> Result<Docker, i32> {
    let docker = match Docker::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_BAD_INPUT);
        }
    };
    let mut images: Vec<(&Suite, &crate::suite::ServiceSpec)> = Vec::new();
    for s in suites {
        for svc in s.services.values() {
            if !images.iter().any(|(_, seen)| seen.image == svc.image) {
                images.push((s, svc));
            }
        }
    }
    let checks = images.iter().map(|(s, svc)| {
        let docker = &docker;
        async move {
            docker
                .ensure_image(&svc.image)
                .await
                .map_err(|e| (s, svc, e))
        }
    });
    let gc = crate::backend::gc::collect(&docker);
    let (checks, gc) = tokio::join!(futures_util::future::join_all(checks), gc);
    if let Some(Err((s, svc, e))) = checks.into_iter().find(Result::is_err) {
        eprintln!("error: {}: service `{}`: {e}", s.path.display(), svc.id);
        return Err(EXIT_BAD_INPUT);
    }
    match gc {
        Ok(r) if r.removed() > 0 => eprintln!(
            "clnrm: removed {} resource(s) left by {} dead run(s)",
            r.removed(),
            r.dead_runs.len()
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("gc of dead runs failed: {e}"),
    }
    Ok(docker)
}
