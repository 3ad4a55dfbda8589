//! Images pulled or built, against the real engine and a real registry
//! (Debian's `docker-registry`, started here on 127.0.0.1): a build from a
//! Dockerfile context, reused unchanged; a failing build; pulls from an open
//! registry and from one with htpasswd auth (credentials only in a test
//! DOCKER_CONFIG); SIGKILL during a pull and during a build, then `clnrm gc`.
//! What a service runs: the image's own command, or the keep-alive.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn nonce() -> String {
    format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    )
}

/// `ENGINE ARGS` on the engine under test (docker, or podman with CLNRM_ENGINE=podman).
fn cli(args: &[&str]) -> (bool, String) {
    engine_cli(args)
}

/// `clnrm run PATH --report-dir DIR`, ready for more env.
fn clnrm_run(path: &Path, dir: &Path) -> Command {
    let mut c = clnrm();
    c.arg("run").arg(path).arg("--report-dir").arg(dir);
    c
}

/// Run `path` with its reports in `dir`.
fn run_in(path: &Path, dir: &Path) -> Run {
    run(&mut clnrm_run(path, dir))
}

/// An image ID without its `sha256:` prefix (Podman's CLI omits it, the API keeps it).
fn bare_id(id: &str) -> &str {
    let id = id.trim();
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// Copy a fixture context into `dir` with a file that makes its hash unique
/// to this test run (so the first build really builds).
fn context(dir: &Path, fixture: &str) -> PathBuf {
    let src = workspace().join("tests/fixtures/images").join(fixture);
    let dst = dir.join(fixture);
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    std::fs::write(dst.join("nonce"), nonce()).unwrap();
    dst
}

fn span_attr(report: &serde_json::Value, span: &str, key: &str) -> serde_json::Value {
    let spans = spans_named(report, span);
    assert_eq!(spans.len(), 1, "one {span} span: {spans:?}");
    attr(spans[0], key)
        .cloned()
        .unwrap_or_else(|| panic!("{span} has {key}"))
}

/// Containers whose name has `part` (each test's scenario names are unique).
fn containers_named(part: &str) -> Vec<String> {
    let (_, out) = cli(&["ps", "-aq", "--filter", &format!("name={part}")]);
    out.lines().map(str::to_string).collect()
}

/// Build containers on the engine: on Docker the intermediate containers whose
/// command has `marker` (a RUN line of the build); on Podman buildah's working
/// containers (only `ps --external` shows them, as command `buildah`, and a RUN
/// step's line is not among their fields), so a caller holds `exclusive()` and
/// compares with what was there before the build.
fn build_containers(marker: &str) -> Vec<String> {
    if engine() == "podman" {
        let (ok, out) = cli(&[
            "ps",
            "-a",
            "--external",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Command}}",
        ]);
        assert!(ok, "{out}");
        out.lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("buildah"))
            .map(str::to_string)
            .collect()
    } else {
        let (ok, out) = cli(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}}"]);
        assert!(ok, "{out}");
        out.lines()
            .filter(|l| l.contains(marker))
            .map(str::to_string)
            .collect()
    }
}

/// What [`build_containers`] finds now that `before` did not have.
fn new_build_containers(marker: &str, before: &[String]) -> Vec<String> {
    build_containers(marker)
        .into_iter()
        .filter(|c| !before.contains(c))
        .collect()
}

#[test]
fn a_suite_builds_its_image_runs_its_own_command_and_reuses_an_unchanged_build() {
    // `gc --images` below removes every image clnrm built: no other build may be midway.
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    context(dir.path(), "app");
    std::fs::write(dir.path().join("app/noise.log"), "ignored by .dockerignore").unwrap();
    let sc = format!("built{}", nonce());
    let text = format!(
        r#"
[meta]
name = "built"
[determinism]
seed = 7
[service.app]
build = {{ context = "app", args = {{ GREETING = "hi-from-build" }} }}
[service.plain]
image = "clnrm-base:latest"
[[scenario]]
name = "{sc}"
service = "app"
parallel_services = ["plain"]
run = [
  {{ service = "app", command = "sleep 1; test \"$(cat /tmp/started)\" = hi-from-build" }},
  {{ service = "plain", command = "test ! -e /tmp/started && ps | grep -q 'sleep 3600'" }},
]
"#
    );
    let path = suite(dir.path(), "built.clnrm.toml", &text);
    let r = run_in(&path, dir.path());
    assert_eq!(r.code, 0, "the built image runs its own command");
    assert!(
        r.stderr.contains("clnrm: image clnrm-build:"),
        "{}",
        r.stderr
    );
    let first = read_report(dir.path(), "built");
    assert_eq!(
        span_attr(&first, "clnrm.image.build", "build.cached"),
        false
    );
    let tag = span_attr(&first, "clnrm.image.build", "image.ref");
    let tag = tag.as_str().unwrap().to_string();
    assert!(tag.starts_with("clnrm-build:"), "{tag}");
    // The present base image: one pull span, nothing pulled.
    assert_eq!(span_attr(&first, "clnrm.image.pull", "pull.cached"), true);
    assert_eq!(
        parent_name(&first, spans_named(&first, "clnrm.image.build")[0]).as_deref(),
        Some("clnrm.run")
    );

    // A log file changed (ignored): same hash, not rebuilt, and said so.
    std::fs::write(dir.path().join("app/noise.log"), "changed").unwrap();
    let r = run_in(&path, dir.path());
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains("unchanged since built, not rebuilt"),
        "{}",
        r.stderr
    );
    let second = read_report(dir.path(), "built");
    assert_eq!(
        span_attr(&second, "clnrm.image.build", "build.cached"),
        true
    );
    assert_eq!(
        first["digest"], second["digest"],
        "image spans stay out of the digest"
    );

    // `clnrm pull` prepares without running; a changed context is rebuilt.
    std::fs::write(dir.path().join("app/nonce"), nonce() + "x").unwrap();
    let r = run(clnrm().arg("pull").arg(&path));
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains(": built ("), "{}", r.stderr);
    assert!(
        r.stderr.contains("image clnrm-base:latest: present"),
        "{}",
        r.stderr
    );
    assert!(containers_named(&sc).is_empty());

    // A recording replays without Docker, even where the build context is gone.
    let rec = dir.path().join("built.rec.json");
    let r = run_recorded(dir.path(), &path, &rec);
    assert_eq!(r.code, 0);
    let digest = read_report(dir.path(), "built")["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(digest, first["digest"].as_str().unwrap());
    std::fs::rename(dir.path().join("app"), dir.path().join("app-gone")).unwrap();
    assert_replays_to(&rec, &digest);

    // gc --images removes what clnrm built, not the base image.
    let r = run(clnrm().args(["gc", "--images"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(&tag), "{}", r.stdout);
    assert!(!cli(&["image", "inspect", &tag]).0, "{tag} removed");
    assert!(cli(&["image", "inspect", "clnrm-base:latest"]).0);
}

#[test]
fn a_failing_build_says_its_step_and_last_lines_before_any_container() {
    // Alone: on Podman the build containers are told apart by a before/after comparison.
    let _alone = exclusive();
    let before = build_containers("about-to-fail");
    let dir = tempfile::tempdir().unwrap();
    context(dir.path(), "broken");
    let sc = format!("broken{}", nonce());
    let text = format!(
        "[service.app]\nimage = \"clnrm-test/broken:{sc}\"\nbuild = \"broken\"\n[[scenario]]\nname = \"{sc}\"\nservice = \"app\"\nrun = \"true\"\n"
    );
    let path = suite(dir.path(), "broken.clnrm.toml", &text);
    let r = run_in(&path, dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("service `app`"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the build failed at Step 3/4 : RUN echo about-to-fail && false"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("about-to-fail\n") || r.stderr.contains("about-to-fail"),
        "{}",
        r.stderr
    );
    // The exit status in the engine's own words (docs/engines.md).
    let status = match engine() {
        "podman" => "while running runtime: exit status 1",
        _ => "returned a non-zero code: 1",
    };
    assert!(r.stderr.contains(status), "{}", r.stderr);
    assert!(containers_named(&sc).is_empty(), "no container started");
    // The engine's force-remove: no intermediate container of the failed step.
    let left = new_build_containers("about-to-fail", &before);
    assert!(
        left.is_empty(),
        "an intermediate container is left: {left:?}"
    );
}

#[test]
fn an_image_without_a_shell_runs_its_own_command_and_argv_steps() {
    let dir = tempfile::tempdir().unwrap();
    context(dir.path(), "noshell");
    let sc = format!("noshell{}", nonce());
    let text = format!(
        "[meta]\nname = \"noshell\"\n[service.app]\nbuild = \"noshell\"\nready = \"healthcheck\"\nhealthcheck = {{ test = [\"CMD\", \"/busybox\", \"true\"], interval_ms = 50 }}\n[[scenario]]\nname = \"{sc}\"\nservice = \"app\"\nsteps = [\n  {{ name = \"argv\", run = [\"/busybox\", \"test\", \"$HOME\", \"=\", \"$HOME\"] }},\n  {{ name = \"own\", run = [\"/busybox\", \"grep\", \"-q\", \"sleep\", \"/proc/1/cmdline\"] }},\n]\n"
    );
    let path = suite(dir.path(), "noshell.clnrm.toml", &text);
    let r = run_in(&path, dir.path());
    assert_eq!(
        r.code, 0,
        "argv steps and a CMD health check run without a shell; the image's own command runs"
    );
    // A shell line needs `sh`, which this image does not have.
    let shell = text.replace(
        "run = [\"/busybox\", \"test\", \"$HOME\", \"=\", \"$HOME\"]",
        "run = \"true\"",
    );
    std::fs::write(&path, shell).unwrap();
    let r = run_in(&path, dir.path());
    assert_eq!(r.code, 1, "a shell line fails in an image without sh");
    assert!(containers_named(&sc).is_empty());
    let built = read_report(dir.path(), "noshell");
    let tag = span_attr(&built, "clnrm.image.build", "image.ref");
    let _ = cli(&["rmi", tag.as_str().unwrap()]);
}

/// A `docker-registry` on 127.0.0.1 (htpasswd auth when `auth`), killed on drop.
struct Registry {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn registry(auth: Option<(&str, &str)>) -> Option<Registry> {
    if Command::new("docker-registry")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!(
            "docker-registry is not installed: apt-get install -y docker-registry apache2-utils"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
        dir.path().join("data").display()
    );
    if let Some((user, pass)) = auth {
        let out = Command::new("htpasswd")
            .args(["-Bbn", user, pass])
            .output()
            .expect("htpasswd (apache2-utils) runs");
        std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: clnrm-test\n    path: {}\n",
            dir.path().join("htpasswd").display()
        ));
    }
    std::fs::write(dir.path().join("config.yml"), config).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(dir.path().join("config.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "registry on {addr} did not open");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Registry {
        child,
        addr,
        _dir: dir,
    })
}

/// Push `source` as `<registry>/clnrm-it/<name>` and remove the local tag.
fn push(reg: &Registry, source: &str, name: &str, config: Option<&Path>) -> String {
    let image = format!("{}/clnrm-it/{name}", reg.addr);
    assert!(cli(&["tag", source, &image]).0);
    let (ok, out) = match (engine(), config) {
        // Docker treats 127.0.0.0/8 as an insecure (plain HTTP) registry; Podman is told.
        ("podman", Some(c)) => {
            let auth = c.join("config.json");
            cli(&[
                "push",
                "--tls-verify=false",
                "--authfile",
                auth.to_str().unwrap(),
                &image,
            ])
        }
        ("podman", None) => cli(&["push", "--tls-verify=false", &image]),
        (_, Some(c)) => cli_in("docker", &["push", &image], &[("DOCKER_CONFIG", c)]),
        (_, None) => cli(&["push", &image]),
    };
    assert!(ok, "push {image}: {out}");
    assert!(cli(&["rmi", &image]).0);
    assert!(!cli(&["image", "inspect", &image]).0, "removed locally");
    image
}

fn pull_suite(dir: &Path, image: &str, sc: &str) -> PathBuf {
    suite(
        dir,
        "pulled.clnrm.toml",
        &format!(
            "[meta]\nname = \"pulled\"\n[service.app]\nimage = \"{image}\"\n[[scenario]]\nname = \"{sc}\"\nservice = \"app\"\nrun = \"true\"\n"
        ),
    )
}

#[test]
fn an_image_pushed_to_a_registry_and_removed_locally_is_pulled_by_a_run() {
    let reg = registry(None).unwrap();
    let image = push(
        &reg,
        "clnrm-base:latest",
        &format!("base:{}", nonce()),
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let sc = format!("pulled{}", nonce());
    let path = pull_suite(dir.path(), &image, &sc);
    let r = run(clnrm_run(&path, dir.path()).env("DOCKER_CONFIG", dir.path()));
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains(&format!("image {image}: pulled")),
        "{}",
        r.stderr
    );
    let report = read_report(dir.path(), "pulled");
    assert_eq!(span_attr(&report, "clnrm.image.pull", "pull.cached"), false);
    assert_eq!(
        span_attr(&report, "clnrm.image.pull", "image.ref"),
        image.as_str()
    );
    let (_, base_id) = cli(&["image", "inspect", "-f", "{{.Id}}", "clnrm-base:latest"]);
    let pulled_id = span_attr(&report, "clnrm.image.pull", "image.id");
    assert_eq!(bare_id(pulled_id.as_str().unwrap()), bare_id(&base_id));
    assert!(
        cli(&["image", "inspect", &image]).0,
        "the pulled image stays in the engine's store"
    );
    // `pull = "never"` and the image gone: said before any container.
    assert!(cli(&["rmi", &image]).0);
    let never = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[[scenario]]", "pull = \"never\"\n[[scenario]]");
    std::fs::write(&path, never).unwrap();
    let r = run_in(&path, dir.path());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`pull = \"never\"` forbids pulling it"),
        "{}",
        r.stderr
    );
    assert!(containers_named(&sc).is_empty());
}

#[test]
fn a_registry_with_auth_pulls_with_the_configured_credentials_and_refuses_without() {
    let reg = registry(Some(("clnrm", "s3cret"))).unwrap();
    let creds = tempfile::tempdir().unwrap();
    // Credentials only in this test's DOCKER_CONFIG.
    let auth = base64_encode("clnrm:s3cret");
    std::fs::write(
        creds.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr),
    )
    .unwrap();
    let image = push(
        &reg,
        "clnrm-base:latest",
        &format!("private:{}", nonce()),
        Some(creds.path()),
    );
    let dir = tempfile::tempdir().unwrap();
    let sc = format!("auth{}", nonce());
    let path = pull_suite(dir.path(), &image, &sc);
    // Without credentials: a clear refusal, exit 2, no container.
    let empty = tempfile::tempdir().unwrap();
    let r = run(clnrm_run(&path, dir.path()).env("DOCKER_CONFIG", empty.path()));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("registry `{}` denied access", reg.addr)),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("no credentials for it were found"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("is not present locally, and pulling it failed"),
        "{}",
        r.stderr
    );
    assert!(containers_named(&sc).is_empty());
    // With them: pulled, run.
    let r = run(clnrm_run(&path, dir.path()).env("DOCKER_CONFIG", creds.path()));
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains(&format!("image {image}: pulled")),
        "{}",
        r.stderr
    );
    let _ = cli(&["rmi", &image]);
    // A registry nobody serves: unreachable, and both facts said.
    let gone = format!("127.0.0.1:{}/clnrm-it/none:1", free_port());
    let path = pull_suite(dir.path(), &gone, &sc);
    let r = run_in(&path, dir.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is unreachable"), "{}", r.stderr);
    assert!(r.stderr.contains("not present locally"), "{}", r.stderr);
}

fn base64_encode(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SIGKILL of `clnrm run` `after` its start, then `clnrm gc`: no container
/// or network of that run is left.
fn kill_then_gc(path: &Path, dir: &Path, after: Duration, sc: &str) {
    let mut child = spawn_quiet_run(&[], path, dir);
    std::thread::sleep(after);
    child.kill().unwrap();
    let _ = child.wait();
    let r = run(clnrm().arg("gc"));
    assert_eq!(r.code, 0);
    assert!(containers_named(sc).is_empty());
    let (_, nets) = cli(&["network", "ls", "-q", "--filter", &format!("name={sc}")]);
    assert!(nets.trim().is_empty(), "networks left: {nets}");
}

#[test]
fn sigkill_during_a_build_and_during_a_pull_then_gc_leaves_nothing() {
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("slow");
    std::fs::create_dir_all(&ctx).unwrap();
    let marker = format!("slowbuild{}", nonce());
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM clnrm-base:latest\nRUN echo {marker} && sleep 30\n"),
    )
    .unwrap();
    let sc = format!("killed{}", nonce());
    let path = suite(
        dir.path(),
        "slow.clnrm.toml",
        &format!("[service.app]\nbuild = \"slow\"\n[[scenario]]\nname = \"{sc}\"\nservice = \"app\"\nrun = \"true\"\n"),
    );
    let before = build_containers(&marker);
    kill_then_gc(&path, dir.path(), Duration::from_secs(4), &sc);
    // The engine cancels a build whose client went away and force-removes
    // its intermediate container (forcerm).
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(40);
    loop {
        let left = new_build_containers(&marker, &before);
        if left.is_empty() {
            eprintln!(
                "observed: the killed build's container was gone {} ms after gc",
                killed.elapsed().as_millis()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the build's container outlived it: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // A pull killed midway: a larger image so the pull takes a while.
    let reg = registry(None).unwrap();
    let big = dir.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    std::fs::write(
        big.join("Dockerfile"),
        format!("FROM clnrm-base:latest\nRUN dd if=/dev/urandom of=/blob bs=1M count=64 && echo {marker}\n"),
    )
    .unwrap();
    let tag = format!("clnrm-test/big:{}", nonce());
    let (ok, out) = cli(&[
        "build",
        "-q",
        "--force-rm",
        "-t",
        &tag,
        big.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let image = push(&reg, &tag, &format!("big:{}", nonce()), None);
    assert!(cli(&["rmi", &tag]).0);
    let sc2 = format!("killedpull{}", nonce());
    let path = pull_suite(dir.path(), &image, &sc2);
    kill_then_gc(&path, dir.path(), Duration::from_millis(700), &sc2);
    // The engine finishes or drops the pull on its own; either way the image
    // is in its store or not at all, never a container.
    eprintln!(
        "after the killed pull, the image is {}",
        if cli(&["image", "inspect", &image]).0 {
            "in the engine's image store"
        } else {
            "not in the store"
        }
    );
    let _ = cli(&["rmi", &image]);
}
