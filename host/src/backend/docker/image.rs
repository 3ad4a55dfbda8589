//! Images through the engine's API: inspect, pull with the user's registry
//! credentials (X-Registry-Auth), build from a context tar (intermediate
//! containers always force-removed), remove what clnrm built.

use super::{BackendError, Docker};
use crate::backend::image_backend::{
    ImageBackend, ImageCommand, ImageError, ImageInfo, ImageProgress, Pulled, BUILD_HASH_LABEL,
};
use crate::backend::registry_auth;
use crate::suite::{BuildContext, BuildSpec};
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, ListImagesOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};

/// Lines of build output kept for a failing build's error.
const BUILD_TAIL: usize = 12;

#[async_trait::async_trait]
impl ImageBackend for Docker {
    async fn image_info(&self, reference: &str) -> Result<Option<ImageInfo>, BackendError> {
        match self.client.inspect_image(reference).await {
            Ok(i) => {
                let config = i.config.unwrap_or_default();
                let info = ImageInfo {
                    id: i.id.unwrap_or_default(),
                    command: ImageCommand {
                        entrypoint: config.entrypoint.unwrap_or_default(),
                        cmd: config.cmd.unwrap_or_default(),
                    },
                    build_hash: config.labels.and_then(|mut l| l.remove(BUILD_HASH_LABEL)),
                };
                self.remember_command(reference, info.command.clone());
                Ok(Some(info))
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn pull(
        &self,
        reference: &str,
        progress: &dyn ImageProgress,
    ) -> Result<Pulled, ImageError> {
        let registry = registry_auth::registry_of(reference);
        let creds =
            registry_auth::for_registry(&registry).map_err(|detail| ImageError::Credentials {
                registry: registry.clone(),
                detail,
            })?;
        let source = creds.as_ref().map(|c| c.source.clone());
        if self.is_podman() && is_loopback(&registry) {
            // Docker pulls from a loopback registry over plain HTTP; Podman
            // only through libpod's pull with TLS verification off.
            return self
                .libpod_pull(reference, &registry, source.as_deref(), creds, progress)
                .await;
        }
        let docker_creds = creds.map(|c| DockerCredentials {
            username: c.username,
            password: c.password,
            identitytoken: c.identity_token,
            serveraddress: Some(c.server),
            ..Default::default()
        });
        // Without a tag, the engine would pull every tag of the repository.
        let (name, tag) = split_tag(reference);
        let opts = CreateImageOptionsBuilder::default()
            .from_image(name)
            .tag(tag)
            .build();
        let mut stream = self.client.create_image(Some(opts), None, docker_creds);
        let mut layers: HashMap<String, u64> = HashMap::new();
        let mut up_to_date = false;
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(i) => i,
                Err(e) => return Err(classify(reference, &registry, source.as_deref(), e)),
            };
            if let Some(err) = info.error_detail.and_then(|d| d.message).or(info.error) {
                return Err(classify_text(reference, &registry, source.as_deref(), err));
            }
            let status = info.status.unwrap_or_default();
            if status.starts_with("Status: Image is up to date") {
                up_to_date = true;
            }
            match (info.id, info.progress_detail) {
                (Some(layer), Some(d)) if status == "Downloading" => {
                    let total = d.total.unwrap_or(0).max(0) as u64;
                    let current = d.current.unwrap_or(0).max(0) as u64;
                    layers.insert(layer.clone(), total.max(current));
                    progress.layer(reference, &layer, current, total);
                }
                (layer, _) if !status.is_empty() => {
                    let line = match layer {
                        Some(l) => format!("{l}: {status}"),
                        None => status,
                    };
                    progress.line(reference, &line);
                }
                _ => {}
            }
        }
        let id = self.pulled_id(reference).await?;
        Ok(Pulled {
            id,
            bytes: layers.values().sum(),
            up_to_date,
        })
    }

    async fn build(
        &self,
        tag: &str,
        spec: &BuildSpec,
        hash: &str,
        progress: &dyn ImageProgress,
    ) -> Result<String, ImageError> {
        let context = spec.context.display().to_string();
        let tar = BuildContext::read(spec)
            .and_then(|c| c.tar())
            .map_err(|e| ImageError::Context {
                context: context.clone(),
                detail: e.to_string(),
            })?;
        let labels = HashMap::from([(BUILD_HASH_LABEL.to_string(), hash.to_string())]);
        let args: HashMap<String, String> = spec.args.clone().into_iter().collect();
        let mut opts = BuildImageOptionsBuilder::default()
            .dockerfile(&spec.dockerfile)
            .t(tag)
            .rm(true)
            // Intermediate containers go even when a step fails (or we die:
            // the engine removes them when the connection drops).
            .forcerm(true)
            .labels(&labels)
            .buildargs(&args);
        if let Some(t) = &spec.target {
            opts = opts.target(t);
        }
        let mut stream =
            self.client
                .build_image(opts.build(), None, Some(bollard::body_full(tar.into())));
        let mut step = String::from("the start");
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut id = None;
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(i) => i,
                Err(bollard::errors::Error::DockerStreamError { error }) => {
                    return Err(build_error(&step, error, &tail))
                }
                Err(e) => return Err(ImageError::Backend(e.into())),
            };
            if let Some(err) = info.error_detail.and_then(|d| d.message).or(info.error) {
                return Err(build_error(&step, err, &tail));
            }
            if let Some(aux) = info.aux {
                id = aux.id;
            }
            for line in info.stream.unwrap_or_default().lines() {
                let line = line.trim_end();
                if line.is_empty() {
                    continue;
                }
                if line.starts_with("Step ") {
                    step = line.to_string();
                } else if let Some(rest) = line.strip_prefix("STEP ") {
                    // Podman (buildah): `STEP 3/4: RUN ...`, said as Docker says it.
                    step = match rest.split_once(": ") {
                        Some((n, what)) => format!("Step {n} : {what}"),
                        None => line.to_string(),
                    };
                }
                progress.line(tag, line);
                tail.push_back(line.to_string());
                if tail.len() > BUILD_TAIL {
                    tail.pop_front();
                }
            }
        }
        match id {
            Some(id) => Ok(id),
            None => Ok(self
                .image_info(tag)
                .await?
                .map(|i| i.id)
                .unwrap_or_default()),
        }
    }

    async fn remove_built(&self) -> Result<(Vec<String>, Vec<String>), BackendError> {
        let filters = HashMap::from([("label".to_string(), vec![BUILD_HASH_LABEL.to_string()])]);
        let images = self
            .client
            .list_images(Some(
                ListImagesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?;
        let (mut removed, mut errors) = (Vec::new(), Vec::new());
        for img in images {
            let names = if img.repo_tags.is_empty() {
                vec![img.id.clone()]
            } else {
                img.repo_tags.clone()
            };
            for name in names {
                let opts = RemoveImageOptionsBuilder::default().build();
                match self.client.remove_image(&name, Some(opts), None).await {
                    Ok(_) => removed.push(name),
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => {}
                    Err(e) => errors.push(format!("{name}: {e}")),
                }
            }
        }
        Ok((removed, errors))
    }
}

impl Docker {
    /// The id of the image a pull or build just made; its absence after the
    /// engine reported no error is an error too.
    async fn pulled_id(&self, reference: &str) -> Result<String, ImageError> {
        match self.image_info(reference).await? {
            Some(i) => Ok(i.id),
            None => Err(ImageError::Pull {
                image: reference.to_string(),
                detail: "the engine reported no error, yet the image is not there".into(),
            }),
        }
    }

    /// The image's HEALTHCHECK on Podman, read from a container created from it:
    /// Podman 4.3's image inspect, compat (`Config.Healthcheck`) and libpod
    /// (`HealthCheck`) alike, leaves it out, though the image has it (the podman
    /// CLI shows it) and the container's `Config.Healthcheck` carries it.
    pub(super) async fn podman_image_healthcheck(
        &self,
        container: &str,
    ) -> Result<Option<crate::suite::Healthcheck>, BackendError> {
        let path = format!("/v1.41/containers/{}/json", url_escape(container));
        let a = super::raw::request(&self.engine().endpoint, "GET", &path, None).await?;
        match a.status {
            200..=299 => Ok(container_healthcheck(&a.json()?)),
            404 => Err(BackendError::NotFound(format!(
                "{container}: {}",
                a.message()
            ))),
            s => Err(BackendError::Conflict(format!(
                "inspect of {container}: {s} {}",
                a.message()
            ))),
        }
    }
}

/// A container inspect answer → the HEALTHCHECK in its `Config` (None: none).
fn container_healthcheck(inspect: &serde_json::Value) -> Option<crate::suite::Healthcheck> {
    let h = inspect
        .get("Config")?
        .get("Healthcheck")
        .filter(|h| !h.is_null())?;
    let h: bollard::models::HealthConfig = serde_json::from_value(h.clone()).ok()?;
    super::options::healthcheck_of(h)
}

/// A registry on this machine (`localhost`, 127.0.0.0/8, `[::1]`), any port.
fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Docker {
    /// A pull through libpod's `/libpod/images/pull` with `tlsVerify=false`
    /// (a loopback registry, which Docker reaches over HTTP by default).
    async fn libpod_pull(
        &self,
        reference: &str,
        registry: &str,
        source: Option<&str>,
        creds: Option<registry_auth::Credentials>,
        progress: &dyn ImageProgress,
    ) -> Result<Pulled, ImageError> {
        use base64::Engine as _;
        let mut headers = Vec::new();
        if let Some(c) = creds {
            let auth = serde_json::json!({
                "username": c.username.unwrap_or_default(),
                "password": c.password.unwrap_or_default(),
                "identitytoken": c.identity_token.unwrap_or_default(),
                "serveraddress": c.server,
            });
            headers.push((
                "X-Registry-Auth",
                base64::engine::general_purpose::URL_SAFE.encode(auth.to_string()),
            ));
        }
        let path = format!(
            "/v4.0.0/libpod/images/pull?reference={}&tlsVerify=false&policy=always",
            url_escape(reference)
        );
        let answer = super::raw::request_with(
            &self.engine().endpoint,
            "POST",
            &path,
            headers,
            None,
            std::time::Duration::from_secs(600),
        )
        .await
        .map_err(ImageError::Backend)?;
        if answer.status >= 400 {
            return Err(classify_text(reference, registry, source, answer.message()));
        }
        // One JSON object per line: `stream` (progress), `error`, or `id`.
        for line in String::from_utf8_lossy(&answer.body).lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if let Some(err) = v["error"].as_str().filter(|e| !e.is_empty()) {
                return Err(classify_text(reference, registry, source, err.to_string()));
            }
            if let Some(s) = v["stream"].as_str() {
                for l in s.lines().filter(|l| !l.trim().is_empty()) {
                    progress.line(reference, l.trim_end());
                }
            }
        }
        let id = self.pulled_id(reference).await?;
        Ok(Pulled {
            id,
            bytes: 0,
            up_to_date: false,
        })
    }
}

/// A query parameter's value, percent-encoded where a reference needs it.
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `name[:tag]` → (name, tag); a digest reference keeps its digest as the tag
/// the engine accepts (`name`, `sha256:...`).
fn split_tag(reference: &str) -> (&str, &str) {
    if let Some((name, digest)) = reference.split_once('@') {
        return (name, digest);
    }
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (&reference[..slash + i], &reference[slash + i + 1..]),
        None => (reference, "latest"),
    }
}

fn classify(
    reference: &str,
    registry: &str,
    source: Option<&str>,
    e: bollard::errors::Error,
) -> ImageError {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. }
        | bollard::errors::Error::DockerStreamError { error: message } => {
            classify_text(reference, registry, source, message)
        }
        other => ImageError::Backend(other.into()),
    }
}

/// The engine's error text, sorted into what the user must fix.
fn classify_text(reference: &str, registry: &str, source: Option<&str>, msg: String) -> ImageError {
    let m = msg.to_ascii_lowercase();
    if m.contains("unauthorized")
        || m.contains("authentication required")
        || m.contains("no basic auth credentials")
        || m.contains("denied")
    {
        let hint = match source {
            Some(s) => format!("the credentials from {s} were refused"),
            None => format!(
                "no credentials for it were found in {}: `docker login {registry}` / `podman login {registry}`, or point DOCKER_CONFIG / REGISTRY_AUTH_FILE at a file with them",
                registry_auth::config_paths()
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return ImageError::Denied {
            registry: registry.to_string(),
            detail: msg,
            hint,
        };
    }
    if m.contains("connection refused")
        || m.contains("no such host")
        || m.contains("i/o timeout")
        || m.contains("network is unreachable")
        || m.contains("dial tcp")
        || m.contains("server gave http response to https client")
    {
        return ImageError::Unreachable {
            registry: registry.to_string(),
            detail: msg,
        };
    }
    if m.contains("manifest unknown") || m.contains("not found") || m.contains("does not exist") {
        return ImageError::NotFound {
            image: reference.to_string(),
            detail: msg,
        };
    }
    ImageError::Pull {
        image: reference.to_string(),
        detail: msg,
    }
}

fn build_error(step: &str, message: String, tail: &VecDeque<String>) -> ImageError {
    ImageError::Build {
        step: step.to_string(),
        message: message.trim().to_string(),
        last_lines: tail.iter().cloned().collect::<Vec<_>>().join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(split_tag("busybox"), ("busybox", "latest"));
        assert_eq!(
            split_tag("127.0.0.1:5000/a/b:v1"),
            ("127.0.0.1:5000/a/b", "v1")
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/a"),
            ("127.0.0.1:5000/a", "latest")
        );
        assert_eq!(split_tag("a@sha256:00"), ("a", "sha256:00"));
    }

    #[test]
    fn a_containers_healthcheck_is_read() {
        // As Podman 4.3's /containers/{id}/json answers for a container of a
        // `--format docker` image with a HEALTHCHECK.
        let answer = serde_json::json!({
            "Id": "9fd8e929",
            "Config": {"Cmd": ["sleep", "1"], "Healthcheck": {
                "Test": ["CMD-SHELL", "test -f /tmp/healthy"], "Interval": 1000000000u64,
                "Timeout": 2000000000u64, "Retries": 3}}
        });
        let h = container_healthcheck(&answer).expect("a healthcheck");
        assert_eq!(h.interval, std::time::Duration::from_secs(1));
        assert_eq!(h.timeout, std::time::Duration::from_secs(2));
        assert_eq!(h.retries, 3);
        assert!(container_healthcheck(&serde_json::json!({"Id": "x", "Config": {}})).is_none());
        assert!(
            container_healthcheck(&serde_json::json!({"Config": {"Healthcheck": null}})).is_none()
        );
    }

    #[test]
    fn loopback_registries_and_escaped_references() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("ghcr.io"));
        assert!(!is_loopback("10.0.0.1:5000"));
        assert_eq!(
            url_escape("127.0.0.1:5000/a/b:v1"),
            "127.0.0.1%3A5000%2Fa%2Fb%3Av1"
        );
    }

    #[test]
    fn engine_errors_are_sorted() {
        let c = |m: &str| classify_text("r:1/x:v", "r:1", None, m.to_string());
        assert!(matches!(
            c("Head \"http://r:1/v2/x/manifests/v\": no basic auth credentials"),
            ImageError::Denied { .. }
        ));
        assert!(matches!(
            c("Get \"http://r:1/v2/\": dial tcp r:1: connect: connection refused"),
            ImageError::Unreachable { .. }
        ));
        assert!(matches!(
            c("manifest for r:1/x:v not found: manifest unknown"),
            ImageError::NotFound { .. }
        ));
        assert!(matches!(c("something else"), ImageError::Pull { .. }));
        let e = c("unauthorized: authentication required").to_string();
        assert!(e.contains("docker login r:1"), "{e}");
    }
}
