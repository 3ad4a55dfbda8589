//! Registry credentials as the docker CLI finds them: `$DOCKER_CONFIG/config.json`
//! or `~/.docker/config.json`, `credHelpers` (per registry), then
//! `credsStore` (default helper), then `auths` (base64 `user:pass`).
//! Helpers are run as `docker-credential-<name> get` with the server on stdin.
//! Podman's auth files come first, as Podman reads them (containers-auth.json(5)):
//! `REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json` (root without
//! it: `/run/containers/0/auth.json`), `$XDG_CONFIG_HOME/containers/auth.json`
//! (`~/.config/containers/auth.json`); same format as config.json.

use base64::Engine as _;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// Docker Hub's key in config.json.
const HUB: &str = "https://index.docker.io/v1/";

/// Credentials for one registry, and where they came from (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
    pub identity_token: Option<String>,
    pub server: String,
    pub source: String,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The registry host of an image reference (`docker.io` for Hub images).
pub fn registry_of(reference: &str) -> String {
    match reference.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "docker.io".to_string(),
    }
}

/// The config file the docker CLI reads.
pub fn config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => Some(PathBuf::from(d).join("config.json")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
    }
}

/// Podman's auth files, in the order Podman reads them, from an environment.
fn podman_auth_paths(var: &dyn Fn(&str) -> Option<String>, uid: u32) -> Vec<PathBuf> {
    let var = |k: &str| var(k).filter(|v| !v.is_empty());
    let mut v = Vec::new();
    if let Some(f) = var("REGISTRY_AUTH_FILE") {
        v.push(PathBuf::from(f));
    }
    match var("XDG_RUNTIME_DIR") {
        Some(d) => v.push(PathBuf::from(d).join("containers/auth.json")),
        None => v.push(PathBuf::from(format!("/run/containers/{uid}/auth.json"))),
    }
    match (var("XDG_CONFIG_HOME"), var("HOME")) {
        (Some(d), _) => v.push(PathBuf::from(d).join("containers/auth.json")),
        (None, Some(h)) => v.push(PathBuf::from(h).join(".config/containers/auth.json")),
        _ => {}
    }
    v
}

/// Every file credentials are looked up in, first to last: Podman's auth
/// files, then the docker CLI's config.json.
pub fn config_paths() -> Vec<PathBuf> {
    let mut v = podman_auth_paths(&|k| std::env::var(k).ok(), nix::unistd::getuid().as_raw());
    v.extend(config_path());
    v
}

/// Credentials for `registry`; Ok(None) when none are configured.
pub fn for_registry(registry: &str) -> Result<Option<Credentials>, String> {
    for path in config_paths() {
        if let Some(c) = in_file(&path, registry)? {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// Credentials for `registry` in one config / auth file (None: file absent or silent).
fn in_file(path: &std::path::Path, registry: &str) -> Result<Option<Credentials>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let file: ConfigFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let shown = path.display().to_string();
    lookup(&file, registry, &shown, &run_helper)
}

#[cfg(test)]
mod podman_tests {
    use super::*;

    #[test]
    fn podmans_auth_files_in_podmans_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            podman_auth_paths(
                &env(&[
                    ("REGISTRY_AUTH_FILE", "/etc/auth.json"),
                    ("XDG_RUNTIME_DIR", "/run/user/1000"),
                    ("HOME", "/home/u"),
                ]),
                1000
            ),
            [
                PathBuf::from("/etc/auth.json"),
                "/run/user/1000/containers/auth.json".into(),
                "/home/u/.config/containers/auth.json".into(),
            ]
        );
        assert_eq!(
            podman_auth_paths(&env(&[("XDG_CONFIG_HOME", "/cfg")]), 0),
            [
                PathBuf::from("/run/containers/0/auth.json"),
                "/cfg/containers/auth.json".into()
            ]
        );
    }

    #[test]
    fn an_auth_json_is_read_like_a_config_json() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        // podman login writes `auths` with base64 user:password ("bob:pw").
        std::fs::write(&p, r#"{"auths":{"127.0.0.1:5000":{"auth":"Ym9iOnB3"}}}"#).unwrap();
        let c = in_file(&p, "127.0.0.1:5000").unwrap().unwrap();
        assert_eq!(
            (c.username.as_deref(), c.password.as_deref()),
            (Some("bob"), Some("pw"))
        );
        assert_eq!(c.source, p.display().to_string());
        assert_eq!(in_file(&dir.path().join("none.json"), "r:1").unwrap(), None);
    }
}

/// The keys config.json may use for a registry.
fn keys(registry: &str) -> Vec<String> {
    if registry == "docker.io" {
        return vec![HUB.into(), "docker.io".into(), "index.docker.io".into()];
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ]
}

type Helper<'a> = dyn Fn(&str, &str) -> Result<Option<(String, String)>, String> + 'a;

fn lookup(
    file: &ConfigFile,
    registry: &str,
    path: &str,
    helper: &Helper<'_>,
) -> Result<Option<Credentials>, String> {
    let keys = keys(registry);
    let helper_name = keys
        .iter()
        .find_map(|k| file.cred_helpers.get(k))
        .or(file.creds_store.as_ref());
    if let Some(h) = helper_name {
        let server = keys[0].clone();
        if let Some((user, secret)) = helper(h, &server)? {
            // "<token>" is how helpers hand back an identity token.
            let token = user == "<token>";
            return Ok(Some(Credentials {
                username: (!token).then_some(user),
                password: (!token).then(|| secret.clone()),
                identity_token: token.then_some(secret),
                server,
                source: format!("docker-credential-{h}"),
            }));
        }
    }
    let Some((key, entry)) = keys.iter().find_map(|k| file.auths.get(k).map(|e| (k, e))) else {
        return Ok(None);
    };
    let (mut username, mut password) = (entry.username.clone(), entry.password.clone());
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| format!("{path}: `auths.{key}.auth` is not base64 ({e})"))?;
        let text = String::from_utf8(raw)
            .map_err(|_| format!("{path}: `auths.{key}.auth` is not UTF-8"))?;
        let (u, p) = text
            .split_once(':')
            .ok_or_else(|| format!("{path}: `auths.{key}.auth` is not base64 of user:password"))?;
        username = Some(u.to_string());
        password = Some(p.to_string());
    }
    if username.is_none() && entry.identitytoken.is_none() {
        return Ok(None);
    }
    Ok(Some(Credentials {
        username,
        password,
        identity_token: entry.identitytoken.clone(),
        server: key.clone(),
        source: path.to_string(),
    }))
}

/// `docker-credential-<name> get`, the server on stdin; None when the helper
/// knows no credentials for it.
fn run_helper(name: &str, server: &str) -> Result<Option<(String, String)>, String> {
    use std::io::Write;
    let bin = format!("docker-credential-{name}");
    let mut child = std::process::Command::new(&bin)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{bin}` (configured in config.json): {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("`{bin} get`: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let msg = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        if msg.contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("`{bin} get` failed: {}", msg.trim()));
    }
    let a: HelperAnswer =
        serde_json::from_str(&stdout).map_err(|e| format!("`{bin} get` answered {e}"))?;
    Ok(Some((a.username, a.secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str) -> ConfigFile {
        serde_json::from_str(json).unwrap()
    }

    fn no_helper(_: &str, _: &str) -> Result<Option<(String, String)>, String> {
        panic!("no helper configured")
    }

    #[test]
    fn registry_of_references() {
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("library/busybox:1"), "docker.io");
        assert_eq!(registry_of("127.0.0.1:5000/app:v1"), "127.0.0.1:5000");
        assert_eq!(registry_of("ghcr.io/o/app"), "ghcr.io");
        assert_eq!(registry_of("localhost/app"), "localhost");
    }

    #[test]
    fn auths_are_base64_user_pass() {
        // "alice:s3cr:et" (a colon in the password stays in it).
        let f = file(r#"{"auths":{"127.0.0.1:5000":{"auth":"YWxpY2U6czNjcjpldA=="}}}"#);
        let c = lookup(&f, "127.0.0.1:5000", "cfg", &no_helper)
            .unwrap()
            .unwrap();
        assert_eq!(c.username.as_deref(), Some("alice"));
        assert_eq!(c.password.as_deref(), Some("s3cr:et"));
        assert_eq!(lookup(&f, "other:1", "cfg", &no_helper).unwrap(), None);
        let hub = file(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YTpi"}}}"#);
        assert_eq!(
            lookup(&hub, "docker.io", "cfg", &no_helper)
                .unwrap()
                .unwrap()
                .username
                .as_deref(),
            Some("a")
        );
        let bad = file(r#"{"auths":{"r:1":{"auth":"%%%"}}}"#);
        assert!(lookup(&bad, "r:1", "cfg", &no_helper)
            .unwrap_err()
            .contains("not base64"));
    }

    #[test]
    fn helpers_come_first() {
        let f = file(
            r#"{"auths":{"r:1":{"auth":"YTpi"}},"credHelpers":{"r:1":"pass"},"credsStore":"desktop"}"#,
        );
        let seen = std::sync::Mutex::new(Vec::new());
        let helper = |name: &str, server: &str| {
            seen.lock().unwrap().push(format!("{name} {server}"));
            Ok(Some(("<token>".to_string(), "tok".to_string())))
        };
        let c = lookup(&f, "r:1", "cfg", &helper).unwrap().unwrap();
        assert_eq!(c.identity_token.as_deref(), Some("tok"));
        assert_eq!(c.source, "docker-credential-pass");
        // credsStore for the others; a helper that knows nothing falls back to auths.
        let none = |_: &str, _: &str| Ok(None);
        let c = lookup(&f, "r:1", "cfg", &none).unwrap().unwrap();
        assert_eq!(c.username.as_deref(), Some("a"));
        lookup(&f, "q:2", "cfg", &helper).unwrap();
        assert_eq!(seen.lock().unwrap().as_slice(), ["pass r:1", "desktop q:2"]);
    }
}
