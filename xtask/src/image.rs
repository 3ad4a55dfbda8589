//! The local base image `clnrm-base:latest`: busybox-static in an otherwise empty rootfs,
//! `docker import`ed (there is no registry to pull from).

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::busybox::{self, Busybox, BUSYBOX};
use crate::proc::{exit_code, spawn_failure, step, wait_timeout, Cmd, Failure};
use crate::workspace::Workspace;

pub const IMAGE: &str = "clnrm-base:latest";
const LABEL_BUSYBOX: &str = "clnrm.busybox";
const LABEL_RECIPE: &str = "clnrm.base.recipe";
/// Bump when the rootfs layout below changes, so existing images are rebuilt.
const RECIPE: &str = "1";
const PATH_ENV: &str = "/bin:/sbin:/usr/bin:/usr/sbin";

const DOCKER_TIMEOUT: Duration = Duration::from_secs(30);

fn docker() -> Cmd {
    Cmd::new("docker", "docker")
}

/// One line and exit 2 when the Docker daemon cannot be reached.
pub fn check_docker() -> Result<(), Failure> {
    let probe = docker()
        .args(["version", "--format", "{{.Server.Version}}"])
        .capture(DOCKER_TIMEOUT)
        .map_err(|f| Failure::new(2, format!("Docker is unreachable: {}", f.message)))?;
    let version = probe.stdout.trim();
    if probe.code != 0 || version.is_empty() {
        return Err(Failure::new(
            2,
            format!("Docker is unreachable: {}", probe.first_error_line()),
        ));
    }
    step(format_args!("docker {version} is reachable"));
    Ok(())
}

pub fn ensure(ws: &Workspace) -> Result<(), Failure> {
    step(format_args!("checking base image {IMAGE} ..."));
    let bb = busybox::ensure()?;
    let existing = inspect();
    if let Some(img) = &existing {
        if img.busybox == bb.version && img.recipe == RECIPE {
            step(format_args!(
                "{IMAGE} is up to date (busybox {})",
                bb.version
            ));
            return Ok(());
        }
    }
    step(format_args!(
        "building {IMAGE} (busybox {}, {} applets) ...",
        bb.version,
        bb.applets.len()
    ));
    let started = Instant::now();
    let rootfs = TempDir::new(ws)?;
    build_rootfs(rootfs.path(), &bb).map_err(|e| {
        Failure::step(format!(
            "cannot build the rootfs in {}: {e}",
            rootfs.path().display()
        ))
    })?;
    let new_id = import(rootfs.path(), &bb)?;
    drop(rootfs);

    // The replaced image would be left dangling; remove it (best effort: it may be in use).
    if let Some(old) = existing.filter(|old| old.id != new_id) {
        let _ = docker()
            .args(["image", "rm", &old.id])
            .capture(DOCKER_TIMEOUT);
    }
    verify()?;
    step(format_args!(
        "{IMAGE} built in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

struct Existing {
    id: String,
    busybox: String,
    recipe: String,
}

/// The image's id and our labels, or None when it does not exist.
fn inspect() -> Option<Existing> {
    // `index` fails on a nil map (an image without labels), hence the `with`s.
    let format = format!(
        "{{{{.Id}}}}|{{{{with .Config}}}}{{{{with .Labels}}}}{{{{index . \"{LABEL_BUSYBOX}\"}}}}|{{{{index . \"{LABEL_RECIPE}\"}}}}{{{{end}}}}{{{{end}}}}"
    );
    let out = docker()
        .args(["image", "inspect", "--format", &format, IMAGE])
        .capture(DOCKER_TIMEOUT)
        .ok()?;
    if out.code != 0 {
        return None;
    }
    let mut parts = out.stdout.trim().splitn(3, '|').map(str::to_string);
    Some(Existing {
        id: parts.next()?,
        busybox: parts.next().unwrap_or_default(),
        recipe: parts.next().unwrap_or_default(),
    })
}

/// `bin/busybox`, one symlink per applet in `bin/`, merged `/usr` and `/sbin`, and the few
/// files and mount points a container expects.
fn build_rootfs(root: &Path, bb: &Busybox) -> io::Result<()> {
    let bin = root.join("bin");
    fs::create_dir_all(&bin)?;
    fs::copy(BUSYBOX, bin.join("busybox"))?;
    set_mode(&bin.join("busybox"), 0o755)?;
    for applet in &bb.applets {
        symlink("busybox", bin.join(applet))?;
    }
    fs::create_dir_all(root.join("usr"))?;
    symlink("bin", root.join("sbin"))?;
    symlink("../bin", root.join("usr/bin"))?;
    symlink("../bin", root.join("usr/sbin"))?;

    for (dir, mode) in [
        ("tmp", 0o1777),
        ("var/tmp", 0o1777),
        ("root", 0o700),
        ("proc", 0o555),
        ("sys", 0o555),
        ("dev", 0o755),
        ("etc", 0o755),
        ("run", 0o755),
        ("home", 0o755),
    ] {
        let dir = root.join(dir);
        fs::create_dir_all(&dir)?;
        set_mode(&dir, mode)?;
    }
    for (file, text) in [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        (
            "etc/shadow",
            "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
        ),
        (
            "etc/hosts",
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
        ),
        ("etc/hostname", "clnrm\n"),
        ("etc/resolv.conf", ""),
        ("etc/shells", "/bin/sh\n/bin/ash\n"),
    ] {
        fs::write(root.join(file), text)?;
    }
    set_mode(&root.join("etc/shadow"), 0o600)?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// `tar -C rootfs -c . | docker import ... - clnrm-base:latest`; returns the new image id.
fn import(rootfs: &Path, bb: &Busybox) -> Result<String, Failure> {
    let tar = Cmd::new("tar", "tar")
        .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(rootfs)
        .args(["-cf", "-", "."]);
    let import = docker()
        .args([
            "import",
            "--message",
            "clnrm base image (busybox-static), built by cargo xtask image",
        ])
        .args(["--change", "CMD [\"/bin/sh\"]"])
        .args(["--change", &format!("ENV PATH={PATH_ENV}")])
        .args([
            "--change",
            &format!(
                "LABEL {LABEL_BUSYBOX}=\"{}\" {LABEL_RECIPE}=\"{RECIPE}\"",
                bb.version
            ),
        ])
        .args(["-", IMAGE]);
    let shown = format!("{} | {}", tar.shown(), import.shown());
    step(format_args!("$ {shown}"));

    let mut tar_child = tar
        .into_command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_failure("tar", &e))?;
    let tar_out = tar_child
        .stdout
        .take()
        .ok_or_else(|| Failure::step("tar has no stdout"))?;
    let imported = import
        .into_command()
        .stdin(Stdio::from(tar_out))
        .stderr(Stdio::inherit())
        .output();
    let tar_status = wait_timeout(&mut tar_child, DOCKER_TIMEOUT);
    let imported = imported.map_err(|e| spawn_failure("docker", &e))?;
    match tar_status {
        Some(status) if status.success() => {}
        Some(status) => {
            return Err(Failure::step(format!(
                "tar failed (exit code {})",
                exit_code(status)
            )))
        }
        None => return Err(Failure::step("tar did not finish")),
    }
    if !imported.status.success() {
        return Err(Failure::step(format!(
            "`docker import` failed (exit code {})",
            exit_code(imported.status)
        )));
    }
    Ok(String::from_utf8_lossy(&imported.stdout).trim().to_string())
}

/// The image runs a shell with no network; --rm leaves no container behind.
fn verify() -> Result<(), Failure> {
    let out = docker()
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "echo ok",
        ])
        .capture(Duration::from_secs(60))?;
    if out.code == 0 && out.stdout.trim() == "ok" {
        step(format_args!("{IMAGE} runs `sh -c 'echo ok'`"));
        return Ok(());
    }
    // Do not leave a broken image that the next run would take for a good one.
    let _ = docker()
        .args(["image", "rm", "-f", IMAGE])
        .capture(DOCKER_TIMEOUT);
    Err(Failure::step(format!(
        "{IMAGE} failed its smoke test (exit code {}): {}",
        out.code,
        out.first_error_line()
    )))
}

/// A scratch directory under the target dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(ws: &Workspace) -> Result<Self, Failure> {
        let path = ws
            .target_dir
            .join("tmp")
            .join(format!("clnrm-base-rootfs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)
            .map_err(|e| Failure::step(format!("cannot create {}: {e}", path.display())))?;
        Ok(TempDir(path))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
