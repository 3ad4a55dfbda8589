//! The container options beyond image and command (`files`, `mounts`,
//! `workdir`, `user`, `hostname`, `network_aliases`), and what readiness asks
//! of Docker (the image's HEALTHCHECK, following a container's output).

use super::BackendError;
use crate::backend::LogStream;
use crate::suite::{ContainerOptions, Healthcheck};
use bollard::models::{ContainerCreateBody, Mount, MountTypeEnum};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Put the options into the create request (before Docker sees it).
pub(super) fn apply(
    opts: &ContainerOptions,
    body: &mut ContainerCreateBody,
    network: Option<&str>,
) {
    if let Some(w) = &opts.workdir {
        body.working_dir = Some(w.clone());
    }
    if let Some(u) = &opts.user {
        body.user = Some(u.clone());
    }
    if let Some(h) = &opts.hostname {
        body.hostname = Some(h.clone());
    }
    if !opts.mounts.is_empty() {
        let host = body.host_config.get_or_insert_with(Default::default);
        let mounts = host.mounts.get_or_insert_with(Vec::new);
        mounts.extend(opts.mounts.iter().map(|m| Mount {
            source: Some(m.source.to_string_lossy().into_owned()),
            target: Some(m.target.clone()),
            typ: Some(MountTypeEnum::BIND),
            read_only: Some(m.read_only),
            ..Default::default()
        }));
    }
    if !opts.extra_hosts.is_empty() {
        let host = body.host_config.get_or_insert_with(Default::default);
        host.extra_hosts
            .get_or_insert_with(Vec::new)
            .extend(opts.extra_hosts.iter().cloned());
    }
    // Aliases exist only on a network; without one the service has none.
    if let (Some(n), false) = (network, opts.network_aliases.is_empty()) {
        if let Some(ep) = body
            .networking_config
            .as_mut()
            .and_then(|c| c.endpoints_config.as_mut())
            .and_then(|e| e.get_mut(n))
        {
            ep.aliases
                .get_or_insert_with(Vec::new)
                .extend(opts.network_aliases.iter().cloned());
        }
    }
}

/// `files`: one tar archive extracted at `/` of the created (not yet
/// started) container; parent folders are created as the archive says.
pub(super) async fn upload_files(
    client: &bollard::Docker,
    id: &str,
    files: &BTreeMap<String, PathBuf>,
) -> Result<(), BackendError> {
    if files.is_empty() {
        return Ok(());
    }
    let files = files.clone();
    let tar = tokio::task::spawn_blocking(move || archive(&files))
        .await
        .map_err(|e| BackendError::Kernel(e.to_string()))?
        .map_err(|e| BackendError::Kernel(format!("packing `files`: {e}")))?;
    let opts = bollard::query_parameters::UploadToContainerOptionsBuilder::default()
        .path("/")
        .build();
    client
        .upload_to_container(id, Some(opts), bollard::body_full(tar.into()))
        .await?;
    Ok(())
}

/// The tar of every `files` entry, each under its container path.
fn archive(files: &BTreeMap<String, PathBuf>) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    // The files' own modes, not the host's ownership: the image decides users.
    b.mode(tar::HeaderMode::Deterministic);
    b.follow_symlinks(true);
    for (target, source) in files {
        let name = target.trim_start_matches('/');
        if source.is_dir() {
            b.append_dir_all(name, source)?;
        } else {
            b.append_path_with_name(source, name)?;
        }
    }
    b.into_inner()
}

/// The image's `HEALTHCHECK`, Docker's zero values replaced by clnrm's defaults.
pub(super) async fn image_healthcheck(
    client: &bollard::Docker,
    image: &str,
) -> Result<Option<Healthcheck>, BackendError> {
    let info = client.inspect_image(image).await?;
    Ok(info
        .config
        .and_then(|c| c.healthcheck)
        .and_then(healthcheck_of))
}

/// A HEALTHCHECK as images carry it (Docker's `Config.Healthcheck`, libpod's
/// `HealthCheck`: the same fields), Docker's zero values replaced by clnrm's defaults.
pub(super) fn healthcheck_of(h: bollard::models::HealthConfig) -> Option<Healthcheck> {
    let command = h.test.as_deref().and_then(Healthcheck::command_of)?;
    let ns = |v: Option<i64>, default: Duration| match v {
        Some(n) if n > 0 => Duration::from_nanos(n as u64),
        _ => default,
    };
    Some(Healthcheck {
        command,
        interval: ns(h.interval, Healthcheck::INTERVAL),
        timeout: ns(h.timeout, Healthcheck::TIMEOUT),
        retries: h
            .retries
            .filter(|r| *r > 0)
            .map_or(Healthcheck::RETRIES, |r| r as u32),
        start_period: ns(h.start_period, Duration::ZERO),
    })
}

/// `logs --follow` from the start: stdout and stderr as Docker keeps them.
pub(super) fn follow_logs(client: &bollard::Docker, id: &str) -> LogStream {
    let opts = bollard::query_parameters::LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(true)
        .build();
    client
        .logs(id, Some(opts))
        .map(|c| {
            c.map(|o| o.into_bytes().to_vec())
                .map_err(BackendError::from)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_places_files_and_folders_at_their_container_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "x = 1").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/b"), "b").unwrap();
        let files = BTreeMap::from([
            (
                "/etc/app/config.toml".to_string(),
                dir.path().join("a.toml"),
            ),
            ("/srv/data".to_string(), dir.path().join("d")),
        ]);
        let bytes = archive(&files).unwrap();
        let mut names: Vec<String> = tar::Archive::new(&bytes[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["etc/app/config.toml", "srv/data/", "srv/data/b"]);
    }
}
