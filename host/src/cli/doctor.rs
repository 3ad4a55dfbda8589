//! `clnrm doctor`: what this machine can do, one line per piece, ✓ or ✗ with
//! the fix. Exit 2 when something a run cannot do without is missing (the
//! engine, the rights to enter a container's network namespace, the
//! plugins); a missing optional piece is ✗ but leaves the exit code at 0.

use super::{EXIT_BAD_INPUT, EXIT_PASS};
use crate::backend::engine::Kind;
use crate::backend::{ContainerBackend, Docker};
use std::path::{Path, PathBuf};

/// The image the suites in tests/chaos run in.
const BASE_IMAGE: &str = "clnrm-base:latest";

/// Check the container engine, cgroups, network fault support, capabilities,
/// plugins, the base image and registry logins.
#[derive(clap::Args, Debug)]
pub struct Args {}

impl Args {
    pub async fn exec(self) -> i32 {
        let checks = run_checks().await;
        for c in &checks {
            println!("{}", c.line());
        }
        let missing: Vec<&str> = checks
            .iter()
            .filter(|c| !c.ok && c.essential)
            .map(|c| c.what)
            .collect();
        if missing.is_empty() {
            println!("\nready: clnrm can run here");
            EXIT_PASS
        } else {
            println!("\nnot ready: {} missing", missing.join(", "));
            EXIT_BAD_INPUT
        }
    }
}

/// One line of the report.
#[derive(Debug)]
struct Check {
    what: &'static str,
    ok: bool,
    detail: String,
    /// How to fix it (shown with ✗ only).
    fix: Option<String>,
    /// A run cannot do without it.
    essential: bool,
}

impl Check {
    fn ok(what: &'static str, detail: impl Into<String>) -> Check {
        Check {
            what,
            ok: true,
            detail: detail.into(),
            fix: None,
            essential: false,
        }
    }

    fn bad(what: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            what,
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
            essential: false,
        }
    }

    fn essential(mut self) -> Check {
        self.essential = true;
        self
    }

    fn line(&self) -> String {
        let mark = if self.ok { "✓" } else { "✗" };
        match (&self.fix, self.ok) {
            (Some(fix), false) => format!("{mark} {}: {}\n    fix: {fix}", self.what, self.detail),
            _ => format!("{mark} {}: {}", self.what, self.detail),
        }
    }
}

async fn run_checks() -> Vec<Check> {
    let mut out = Vec::new();
    let docker = match Docker::connect().await {
        Ok(d) => Some(d),
        Err(e) => {
            out.push(
                Check::bad(
                    "engine",
                    e.to_string(),
                    crate::backend::engine::no_engine_hint(),
                )
                .essential(),
            );
            None
        }
    };
    if let Some(d) = &docker {
        let e = d.engine();
        out.push(match d.engine_info().await {
            Ok(i) => Check::ok(
                "engine",
                format!(
                    "{} {} at {}{} (API {}, {}), storage {}, cgroup v{} (driver {}), kernel {}",
                    e.kind.name(), i.version, e.endpoint, if e.rootless { ", rootless" } else { "" }, i.api_version, i.platform, i.storage_driver, i.cgroup_version, i.cgroup_driver, i.kernel
                ),
            ),
            Err(e) => Check::bad("engine", format!("answers ping but not `info`: {e}"), "check the daemon's logs").essential(),
        });
    }
    out.push(cgroups(Path::new("/sys/fs/cgroup")));
    out.push(netem());
    out.push(nfqueue());
    out.push(tools());
    out.extend(capabilities(&std::fs::read_to_string("/proc/self/status").unwrap_or_default()));
    out.push(plugins().await);
    out.push(plugin_cache());
    if let Some(d) = &docker {
        out.push(match d.ensure_image(BASE_IMAGE).await {
            Ok(()) => Check::ok("base image", format!("{BASE_IMAGE} present")),
            Err(e) => Check::bad(
                "base image",
                format!("{BASE_IMAGE}: {e}"),
                "`cargo xtask setup` builds it (only the suites in tests/chaos use it; your services name their own images)",
            ),
        });
    }
    // The engine that answered (Docker when none did: its config is the common case).
    let kind = docker.as_ref().map(|d| d.engine().kind).unwrap_or_default();
    out.push(registry_login(&crate::backend::registry_auth::config_paths(), kind));
    out
}

/// cgroup v2 (one hierarchy, `cgroup.controllers`) or v1 (one folder per
/// controller); the resource faults need memory, cpu and pids.
fn cgroups(root: &Path) -> Check {
    let v2 = std::fs::read_to_string(root.join("cgroup.controllers")).ok();
    let (version, have): (&str, Vec<String>) = match &v2 {
        Some(list) => ("v2", list.split_whitespace().map(String::from).collect()),
        None => (
            "v1",
            std::fs::read_dir(root)
                .map(|d| {
                    let mut v: Vec<String> = d
                        .filter_map(|e| e.ok())
                        .filter(|e| e.path().is_dir())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect();
                    v.sort();
                    v
                })
                .unwrap_or_default(),
        ),
    };
    let has = |c: &str| have.iter().any(|h| h == c || h.split(',').any(|p| p == c));
    let missing: Vec<&str> = ["memory", "cpu", "pids"]
        .into_iter()
        .filter(|c| !has(c))
        .collect();
    let listed = have.join(" ");
    if missing.is_empty() {
        Check::ok("cgroups", format!("{version}, controllers: {listed}"))
    } else {
        Check::bad(
            "cgroups",
            format!("{version}, missing {} (found: {listed})", missing.join(", ")),
            "the resource faults (memory, CPU, pids) read and set these controllers: mount them (cgroup v1) or enable them in cgroup.subtree_control (v2)",
        )
    }
}

fn netem() -> Check {
    if crate::capability::net::netns::has_netem() {
        Check::ok("netem", "present (tc qdisc netem)")
    } else {
        Check::ok(
            "netem",
            "absent (no sch_netem in this kernel): clnrm does not need it, latency and loss go through NFQUEUE and iptables/nft (next line)",
        )
    }
}

fn nfqueue() -> Check {
    let loaded = Path::new("/proc/net/netfilter/nfnetlink_queue").exists()
        || Path::new("/sys/module/nfnetlink_queue").exists();
    let available = loaded
        || std::process::Command::new("modinfo")
            .arg("nfnetlink_queue")
            .output()
            .is_ok_and(|o| o.status.success());
    match (loaded, available) {
        (true, _) => Check::ok("NFQUEUE", "nfnetlink_queue loaded (latency, jitter, seeded loss)"),
        (false, true) => Check::ok("NFQUEUE", "nfnetlink_queue available as a module (loaded on first use)"),
        (false, false) => Check::bad(
            "NFQUEUE",
            "nfnetlink_queue neither loaded nor available",
            "`modprobe nfnetlink_queue`, or a kernel with CONFIG_NETFILTER_NETLINK_QUEUE; without it network_latency and packet_loss fail",
        ),
    }
}

/// The programs the network faults run inside a container's namespace.
fn tools() -> Check {
    let found = |p: &str| {
        std::process::Command::new(p)
            .arg(if p == "tc" || p == "ip" { "-V" } else { "--version" })
            .output()
            .is_ok()
    };
    let missing: Vec<&str> = ["ip", "tc", "nft", "iptables"]
        .into_iter()
        .filter(|p| !found(p))
        .collect();
    if missing.is_empty() {
        Check::ok("network tools", "ip, tc, nft, iptables")
    } else {
        Check::bad(
            "network tools",
            format!("missing: {}", missing.join(", ")),
            "`apt-get install iproute2 nftables iptables` (or `cargo xtask setup`)",
        )
    }
}

/// (bit, name, essential, why) of the capabilities clnrm uses.
const CAPS: [(u32, &str, bool, &str); 4] = [
    (12, "CAP_NET_ADMIN", true, "network faults (rules, qdiscs, links)"),
    (21, "CAP_SYS_ADMIN", true, "setns into a container's network namespace (network faults, tcp/http ready probes)"),
    (19, "CAP_SYS_PTRACE", false, "reading a container process's /proc/<pid>/ns and fds when it runs as another user"),
    (1, "CAP_DAC_OVERRIDE", false, "reading and writing a container's cgroup files (resource faults)"),
];

/// From `CapEff` of /proc/self/status.
fn capabilities(status: &str) -> Vec<Check> {
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok());
    let Some(eff) = eff else {
        return vec![Check::bad(
            "capabilities",
            "cannot read CapEff from /proc/self/status",
            "run clnrm on Linux, on the Docker host",
        )
        .essential()];
    };
    type Cap = (u32, &'static str, bool, &'static str);
    let (have, lack): (Vec<&Cap>, Vec<&Cap>) =
        CAPS.iter().partition(|(bit, ..)| eff & (1 << bit) != 0);
    let mut out = vec![Check::ok(
        "capabilities",
        if have.is_empty() {
            "none of those clnrm uses".to_string()
        } else {
            have.iter().map(|c| c.1).collect::<Vec<_>>().join(", ")
        },
    )];
    for (_, name, essential, why) in lack {
        let c = Check::bad(
            "capabilities",
            format!("{name} missing: {why}"),
            "run clnrm as root on the Docker host (in a container: --privileged, or --cap-add the capability and --pid host)",
        );
        out.push(if *essential { c.essential() } else { c });
    }
    out
}

async fn plugins() -> Check {
    let registry = match crate::runtime::Registry::for_checks() {
        Ok(r) => r,
        Err(e) => return Check::bad("plugins", e.to_string(), "`cargo xtask plugins`, or set CLNRM_PLUGIN_DIR").essential(),
    };
    match registry.catalog(&[]).await {
        Err(e) => Check::bad("plugins", e.to_string(), "`cargo xtask plugins`, or set CLNRM_PLUGIN_DIR").essential(),
        Ok(found) => {
            let broken: Vec<String> = found
                .iter()
                .filter_map(|f| f.plugin.as_ref().err().map(|e| format!("{}: {e}", f.path.display())))
                .collect();
            let dir = found
                .first()
                .and_then(|f| f.path.parent())
                .map_or("?".to_string(), |d| d.display().to_string());
            match (found.len() - broken.len(), broken.first()) {
                (0, None) => Check::bad("plugins", format!("none in {dir}"), "`cargo xtask plugins`, or set CLNRM_PLUGIN_DIR").essential(),
                (n, None) => Check::ok("plugins", format!("{n} load from {dir}")),
                (n, Some(first)) => Check::bad(
                    "plugins",
                    format!("{n} load, {} do not; first: {first}", broken.len()),
                    "rebuild them with `cargo xtask plugins`",
                )
                .essential(),
            }
        }
    }
}

fn plugin_cache() -> Check {
    let Some(dir) = crate::user_dirs::cache_dir().map(|d| d.join("plugins")) else {
        return Check::bad(
            "plugin cache",
            "no cache folder (no $CLNRM_CACHE_DIR, no $HOME)",
            "set CLNRM_CACHE_DIR to a writable folder: without it every start compiles the plugins again",
        );
    };
    let entries = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    let writable = std::fs::create_dir_all(&dir).is_ok()
        && tempfile_in(&dir);
    if writable {
        Check::ok("plugin cache", format!("{} ({entries} precompiled)", dir.display()))
    } else {
        Check::bad(
            "plugin cache",
            format!("{} is not writable", dir.display()),
            "set CLNRM_CACHE_DIR to a writable folder",
        )
    }
}

/// Whether a file can be created (and removed) in `dir`.
fn tempfile_in(dir: &Path) -> bool {
    let p = dir.join(format!(".clnrm-doctor-{}", std::process::id()));
    let ok = std::fs::write(&p, b"").is_ok();
    let _ = std::fs::remove_file(&p);
    ok
}

/// The registries with credentials in the files clnrm reads them from, in its
/// order (registry_auth::config_paths): Podman's auth files (`REGISTRY_AUTH_FILE`,
/// `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`), then
/// the docker CLI's config.json. Names only, never secrets.
fn registry_login(paths: &[PathBuf], kind: Kind) -> Check {
    let mut found = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(_) => continue,
        };
        match logins_in(&text) {
            Ok(Some(what)) => found.push(format!("{what} ({})", path.display())),
            Ok(None) => {}
            Err(e) => {
                let fix = match kind {
                    Kind::Podman => "fix or remove it; `podman login` rewrites it",
                    Kind::Docker => "fix or remove it; `docker login` rewrites it",
                };
                return Check::bad("registry login", format!("{} is not JSON: {e}", path.display()), fix);
            }
        }
    }
    if !found.is_empty() {
        return Check::ok("registry login", found.join("; "));
    }
    let looked: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let login = match kind {
        Kind::Podman => "`podman login` writes the first",
        Kind::Docker => "`docker login` writes the last",
    };
    Check::ok(
        "registry login",
        format!("none configured (looked in {}; {login}): public images only", looked.join(", ")),
    )
}

/// What one config / auth file holds: `auths`, `credHelpers`, `credsStore`.
fn logins_in(text: &str) -> Result<Option<String>, serde_json::Error> {
    let json: serde_json::Value = serde_json::from_str(text)?;
    let keys = |k: &str| -> Vec<String> {
        json[k]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut parts = Vec::new();
    let auths = keys("auths");
    if !auths.is_empty() {
        parts.push(format!("auths: {}", auths.join(", ")));
    }
    let helpers = keys("credHelpers");
    if !helpers.is_empty() {
        parts.push(format!("credential helpers: {}", helpers.join(", ")));
    }
    if let Some(store) = json["credsStore"].as_str() {
        parts.push(format!("credsStore: docker-credential-{store}"));
    }
    Ok((!parts.is_empty()).then(|| parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_versions_and_missing_controllers() {
        let v1 = tempfile::tempdir().unwrap();
        for c in ["cpu,cpuacct", "memory", "pids", "freezer"] {
            std::fs::create_dir(v1.path().join(c)).unwrap();
        }
        let c = cgroups(v1.path());
        assert!(c.ok && c.detail.starts_with("v1"), "{c:?}");
        let v2 = tempfile::tempdir().unwrap();
        std::fs::write(v2.path().join("cgroup.controllers"), "cpuset cpu io memory\n").unwrap();
        let c = cgroups(v2.path());
        assert!(!c.ok && c.detail.contains("v2, missing pids"), "{c:?}");
        assert!(c.line().contains("✗ cgroups") && c.line().contains("fix:"));
    }

    #[test]
    fn capabilities_from_cap_eff() {
        // root: all bits.
        let all = capabilities("CapEff:\t000001ffffffffff\n");
        assert_eq!(all.len(), 1);
        assert!(all[0].ok && all[0].detail.contains("CAP_NET_ADMIN"));
        // Only CAP_NET_ADMIN (bit 12): SYS_ADMIN missing is essential.
        let some = capabilities("CapEff:\t0000000000001000\n");
        let sys_admin = some.iter().find(|c| c.detail.contains("CAP_SYS_ADMIN")).unwrap();
        assert!(!sys_admin.ok && sys_admin.essential);
        let ptrace = some.iter().find(|c| c.detail.contains("CAP_SYS_PTRACE")).unwrap();
        assert!(!ptrace.ok && !ptrace.essential);
        assert!(capabilities("")[0].essential);
    }

    #[test]
    fn registry_logins_name_registries_not_secrets() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("config.json");
        let auth = d.path().join("auth.json");
        let paths = [auth.clone(), cfg.clone()];
        let none = registry_login(&paths, Kind::Docker);
        assert!(none.ok && none.detail.contains("none configured"), "{none:?}");
        assert!(none.detail.contains(&auth.display().to_string()), "{none:?}");
        assert!(none.detail.contains("`docker login`"), "{none:?}");
        std::fs::write(
            &cfg,
            r#"{"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpzZWNyZXQ="}}, "credHelpers": {"gcr.io": "gcloud"}}"#,
        )
        .unwrap();
        let c = registry_login(&paths, Kind::Docker);
        assert!(c.ok && c.detail.contains("auths: 127.0.0.1:5000"), "{c:?}");
        assert!(c.detail.contains("gcr.io") && !c.detail.contains("dXNlcjpzZWNyZXQ="));
        std::fs::write(&cfg, "{").unwrap();
        assert!(!registry_login(&paths, Kind::Docker).ok);
    }

    #[test]
    fn podmans_auth_file_is_named_on_podman() {
        let d = tempfile::tempdir().unwrap();
        let auth = d.path().join("containers/auth.json");
        let cfg = d.path().join("config.json");
        let paths = [auth.clone(), cfg.clone()];
        let none = registry_login(&paths, Kind::Podman);
        assert!(none.detail.contains("`podman login` writes the first"), "{none:?}");
        std::fs::create_dir_all(auth.parent().unwrap()).unwrap();
        std::fs::write(&auth, r#"{"auths": {"quay.io": {"auth": "dXNlcjpzZWNyZXQ="}}}"#).unwrap();
        std::fs::write(&cfg, r#"{"auths": {"ghcr.io": {"auth": "eDp5"}}}"#).unwrap();
        let c = registry_login(&paths, Kind::Podman);
        assert!(c.ok, "{c:?}");
        assert_eq!(
            c.detail,
            format!("auths: quay.io ({}); auths: ghcr.io ({})", auth.display(), cfg.display())
        );
        std::fs::write(&auth, "not json").unwrap();
        let bad = registry_login(&paths, Kind::Podman);
        assert!(!bad.ok && bad.line().contains("`podman login` rewrites it"), "{bad:?}");
    }
}
