//! Images prepared before any scenario starts: each distinct image of every
//! suite is checked, pulled (`pull` policy) or built (`build`) once per run;
//! any failure stops the run before a container exists. Each suite's trace
//! then gets one `clnrm.image.pull` / `clnrm.image.build` span per image it
//! uses, at the times the work happened. These spans depend on the machine's
//! cache, not on the seed: the digest leaves them out.

use crate::backend::{ImageBackend, ImageError, ImageProgress};
use crate::suite::{BuildSpec, PullPolicy, ServiceSpec, Suite};
use crate::trace::{AttrValue, SpanId, SpanStatus, Trace};
use clnrm_sdk::vocab::{attr, span};
use std::path::PathBuf;
use std::time::Instant;

/// What was done for one image.
#[derive(Clone, Debug)]
pub struct ImageRecord {
    pub reference: String,
    pub id: String,
    pub built: bool,
    /// Bytes downloaded (pulls).
    pub bytes: u64,
    /// Nothing to do: present (pull), or an unchanged build.
    pub cached: bool,
    pub started: Instant,
    pub ended: Instant,
}

/// Every image of the run, prepared.
#[derive(Clone, Debug, Default)]
pub struct PreparedImages {
    pub records: Vec<ImageRecord>,
}

/// An image that could not be prepared, and the service that needs it.
#[derive(Debug)]
pub struct PrepareError {
    pub suite: PathBuf,
    pub service: String,
    pub image: String,
    pub error: ImageError,
    /// Pull policy `missing` and the image was not here either: say both.
    pub also_absent: bool,
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: service `{}`: ", self.suite.display(), self.service)?;
        if self.also_absent {
            write!(
                f,
                "image `{}` is not present locally, and pulling it failed: ",
                self.image
            )?;
        }
        write!(f, "{}", self.error)
    }
}

/// One image to prepare: the first service (in file order) that names it.
struct Need<'a> {
    suite: &'a Suite,
    service: &'a ServiceSpec,
}

/// Prepare every image the suites need, at most one pull or build at once
/// per image; the first failure (in file order) is returned.
pub async fn prepare(
    backend: &dyn ImageBackend,
    suites: &[Suite],
    progress: &dyn ImageProgress,
) -> Result<PreparedImages, PrepareError> {
    let mut needs: Vec<Need> = Vec::new();
    for suite in suites {
        // An `otel_collector` is served by the receiver: no image.
        for service in suite.services.values().filter(|s| !s.otel_collector) {
            if !needs.iter().any(|n| n.service.image == service.image) {
                needs.push(Need { suite, service });
            }
        }
    }
    let work = needs.iter().map(|n| async move {
        one(backend, n.service, progress)
            .await
            .map_err(|(error, also_absent)| PrepareError {
                suite: n.suite.path.clone(),
                service: n.service.id.clone(),
                image: n.service.image.clone(),
                error,
                also_absent,
            })
    });
    let mut records = Vec::new();
    for r in futures_util::future::join_all(work).await {
        records.push(r?);
    }
    Ok(PreparedImages { records })
}

async fn one(
    backend: &dyn ImageBackend,
    svc: &ServiceSpec,
    progress: &dyn ImageProgress,
) -> Result<ImageRecord, (ImageError, bool)> {
    let started = Instant::now();
    let image = svc.image.as_str();
    let record = |id: String, built: bool, bytes: u64, cached: bool| ImageRecord {
        reference: image.to_string(),
        id,
        built,
        bytes,
        cached,
        started,
        ended: Instant::now(),
    };
    // `always` pulls whatever is here: no need to look first (one round trip less).
    let local = if svc.pull == PullPolicy::Always && svc.build.is_none() {
        None
    } else {
        backend
            .image_info(image)
            .await
            .map_err(|e| (ImageError::Backend(e), false))?
    };
    if let Some(build) = &svc.build {
        return build_one(backend, image, build, local.as_ref(), progress)
            .await
            .map(|(id, cached)| record(id, true, 0, cached))
            .map_err(|e| (e, false));
    }
    match (svc.pull, local) {
        (PullPolicy::Missing | PullPolicy::Never, Some(info)) => {
            Ok(record(info.id, false, 0, true))
        }
        (PullPolicy::Never, None) => Err((
            ImageError::Pull {
                image: image.to_string(),
                detail: "it is not present locally and `pull = \"never\"` forbids pulling it"
                    .into(),
            },
            false,
        )),
        (policy, local) => {
            let p = backend
                .pull(image, progress)
                .await
                .map_err(|e| (e, policy == PullPolicy::Missing && local.is_none()))?;
            Ok(record(p.id, false, p.bytes, p.up_to_date))
        }
    }
}

/// Build unless the image is there with the same build hash.
async fn build_one(
    backend: &dyn ImageBackend,
    tag: &str,
    build: &BuildSpec,
    local: Option<&crate::backend::ImageInfo>,
    progress: &dyn ImageProgress,
) -> Result<(String, bool), ImageError> {
    let hash = crate::suite::build_hash(build).map_err(|e| ImageError::Context {
        context: build.context.display().to_string(),
        detail: e.to_string(),
    })?;
    if let Some(info) = local.filter(|i| i.build_hash.as_deref() == Some(hash.as_str())) {
        progress.line(tag, "unchanged since it was built: not rebuilt");
        return Ok((info.id.clone(), true));
    }
    let id = backend.build(tag, build, &hash, progress).await?;
    Ok((id, false))
}

impl PreparedImages {
    /// When the first of `suite`'s images started being prepared.
    pub fn started_for(&self, suite: &Suite) -> Option<Instant> {
        self.of(suite).map(|r| r.started).min()
    }

    fn of<'a>(&'a self, suite: &'a Suite) -> impl Iterator<Item = &'a ImageRecord> + 'a {
        self.records
            .iter()
            .filter(|r| suite.services.values().any(|s| s.image == r.reference))
    }

    /// One span per image `suite` uses, under `root`, at the times the work
    /// happened (`clock_start`: the instant the trace's clock counts from).
    pub fn emit(&self, trace: &Trace, root: SpanId, suite: &Suite, clock_start: Instant) {
        let ns = |t: Instant| t.saturating_duration_since(clock_start).as_nanos() as u64;
        if let Some(first) = self.started_for(suite) {
            trace.backdate(root, ns(first));
        }
        for r in self.of(suite) {
            let ms = r.ended.saturating_duration_since(r.started).as_millis() as i64;
            let (name, attrs): (&str, Vec<(&str, AttrValue)>) = if r.built {
                (
                    span::IMAGE_BUILD,
                    vec![
                        (attr::IMAGE_REF, r.reference.clone().into()),
                        (attr::IMAGE_ID, r.id.clone().into()),
                        (attr::BUILD_MS, ms.into()),
                        (attr::BUILD_CACHED, r.cached.into()),
                    ],
                )
            } else {
                (
                    span::IMAGE_PULL,
                    vec![
                        (attr::IMAGE_REF, r.reference.clone().into()),
                        (attr::IMAGE_ID, r.id.clone().into()),
                        (attr::PULL_BYTES, (r.bytes as i64).into()),
                        (attr::PULL_MS, ms.into()),
                        (attr::PULL_CACHED, r.cached.into()),
                    ],
                )
            };
            trace.push_finished(
                name,
                Some(root),
                ns(r.started),
                ns(r.ended),
                attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                SpanStatus::Ok,
            );
        }
    }
}
