//! Images: present locally, pulled from a registry, or built from a
//! Dockerfile context. A narrow trait next to [`super::ContainerBackend`]:
//! the engine prepares every image before any scenario starts, and only the
//! CLI (a real engine) needs it; replay and the engine's tests never pull.

use super::BackendError;
use crate::suite::BuildSpec;
use thiserror::Error;

/// The label on images clnrm built: the hash of what the build read (an
/// unchanged build is not redone; `clnrm gc --images` removes them).
pub const BUILD_HASH_LABEL: &str = "clnrm.build.hash";

/// An image's own command, from inspecting it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageCommand {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

/// A local image, inspected.
#[derive(Clone, Debug, Default)]
pub struct ImageInfo {
    pub id: String,
    pub command: ImageCommand,
    /// `clnrm.build.hash` when clnrm built it.
    pub build_hash: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Pulled {
    pub id: String,
    /// Bytes of the layers downloaded (0 when every layer was present).
    pub bytes: u64,
    /// The registry had nothing newer than what was present.
    pub up_to_date: bool,
}

/// What the engine reports while pulling or building (the CLI draws it).
pub trait ImageProgress: Send + Sync {
    /// A layer's download: bytes so far of its total (total 0: unknown).
    fn layer(&self, image: &str, layer: &str, current: u64, total: u64);
    /// A line of status or build output.
    fn line(&self, image: &str, line: &str);
}

/// No progress shown.
pub struct Quiet;

impl ImageProgress for Quiet {
    fn layer(&self, _: &str, _: &str, _: u64, _: u64) {}
    fn line(&self, _: &str, _: &str) {}
}

#[derive(Debug, Error)]
pub enum ImageError {
    #[error("image `{image}` is not in its registry ({detail})")]
    NotFound { image: String, detail: String },
    #[error("registry `{registry}` is unreachable ({detail})")]
    Unreachable { registry: String, detail: String },
    /// `hint` says which credentials were used, or where none were found.
    #[error("registry `{registry}` denied access ({detail}); {hint}")]
    Denied {
        registry: String,
        detail: String,
        hint: String,
    },
    #[error("the registry credentials for `{registry}` cannot be read: {detail}")]
    Credentials { registry: String, detail: String },
    #[error("pulling `{image}` failed: {detail}")]
    Pull { image: String, detail: String },
    #[error(
        "the build failed at {step}: {message}\n--- last lines of the build ---\n{last_lines}"
    )]
    Build {
        step: String,
        message: String,
        last_lines: String,
    },
    #[error("cannot read the build context {context}: {detail}")]
    Context { context: String, detail: String },
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[async_trait::async_trait]
pub trait ImageBackend: Send + Sync {
    /// The local image `reference`; None when it is not present.
    async fn image_info(&self, reference: &str) -> Result<Option<ImageInfo>, BackendError>;

    /// Pull `reference` with the user's registry credentials.
    async fn pull(
        &self,
        reference: &str,
        progress: &dyn ImageProgress,
    ) -> Result<Pulled, ImageError>;

    /// Build `spec` and tag it `tag`, labelled with `hash`; the image id.
    async fn build(
        &self,
        tag: &str,
        spec: &BuildSpec,
        hash: &str,
        progress: &dyn ImageProgress,
    ) -> Result<String, ImageError>;

    /// Remove every image clnrm built (labelled [`BUILD_HASH_LABEL`]): the
    /// tags removed, and the errors of those that could not be (in use).
    async fn remove_built(&self) -> Result<(Vec<String>, Vec<String>), BackendError>;
}
