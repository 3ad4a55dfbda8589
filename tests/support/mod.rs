//! Shared helpers for the integration tests: run the real `clnrm` binary with
//! the first-party plugins built by `cargo xtask plugins`, and ask the engine
//! under test (Docker, or Podman with CLNRM_ENGINE=podman) what a run left behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

pub fn plugin_dir() -> PathBuf {
    let dir = workspace().join("target/plugins");
    assert!(
        dir.join("chaos-container.wasm").is_file() && dir.join("validate-span.wasm").is_file(),
        "plugins missing in {}: run `cargo xtask setup` (or `cargo xtask test`)",
        dir.display()
    );
    dir
}

/// The test fixtures (tests/plugins/*: looper, kill-variant, wit02-*, wit032-validator):
/// `cargo xtask plugins` puts them in target/test-plugins, where `clnrm` does not look, so
/// a test names them by path or points `CLNRM_PLUGIN_DIR` here.
pub fn test_plugin_dir() -> PathBuf {
    let dir = workspace().join("target/test-plugins");
    assert!(
        dir.join("looper.wasm").is_file(),
        "test plugins missing in {}: run `cargo xtask setup` (or `cargo xtask test`)",
        dir.display()
    );
    dir
}

/// `clnrm [global] run SUITE --report-dir DIR`, quiet, started and not waited
/// for: the SIGKILL-then-gc tests kill it mid-run. `global` goes before `run`
/// (`["--engine", "podman"]`).
pub fn spawn_quiet_run(global: &[&str], suite: &Path, report_dir: &Path) -> std::process::Child {
    clnrm()
        .args(global)
        .arg("run")
        .arg(suite)
        .arg("--report-dir")
        .arg(report_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("clnrm starts")
}

/// `clnrm` with the workspace's plugins and a cache inside target/.
pub fn clnrm() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clnrm"));
    c.env("CLNRM_PLUGIN_DIR", plugin_dir())
        .env("CLNRM_CACHE_DIR", workspace().join("target/plugin-cache"))
        .env_remove("RUST_LOG");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Every `clnrm run` collects what dead runs left; a test that inspects
/// what a finished run kept must not race with that. Such a test holds
/// [`exclusive`]; every other command run here holds the shared side.
static DOCKER_STATE: std::sync::RwLock<()> = std::sync::RwLock::new(());

thread_local! {
    static EXCLUSIVE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub struct Exclusive(#[allow(dead_code)] std::sync::RwLockWriteGuard<'static, ()>);

impl Drop for Exclusive {
    fn drop(&mut self) {
        EXCLUSIVE.with(|e| e.set(false));
    }
}

/// No other clnrm process of this test binary runs while this is held.
pub fn exclusive() -> Exclusive {
    let g = DOCKER_STATE.write().unwrap_or_else(|e| e.into_inner());
    EXCLUSIVE.with(|e| e.set(true));
    Exclusive(g)
}

pub fn run(cmd: &mut Command) -> Run {
    let _shared = (!EXCLUSIVE.with(|e| e.get()))
        .then(|| DOCKER_STATE.read().unwrap_or_else(|e| e.into_inner()));
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("clnrm runs");
    let r = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    };
    eprintln!(
        "--- exit {}\n--- stdout\n{}\n--- stderr\n{}",
        r.code, r.stdout, r.stderr
    );
    r
}

/// Write a suite into `dir` and return its path.
pub fn suite(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write suite");
    p
}

/// The engine the tests run on: `podman` when CLNRM_ENGINE says so (as the
/// Podman tier of `cargo xtask test` sets it; `clnrm` inherits the variable),
/// else `docker`. Its CLI is asked what clnrm did, so the same assertions hold on both.
pub fn engine() -> &'static str {
    match std::env::var("CLNRM_ENGINE") {
        Ok(v) if v.trim().eq_ignore_ascii_case("podman") => "podman",
        _ => "docker",
    }
}

/// `docker ARGS` or `podman ARGS` (per [`engine`]): (success, stdout then stderr).
pub fn engine_cli(args: &[&str]) -> (bool, String) {
    cli_in(engine(), args, &[])
}

/// `ENGINE ARGS` with extra environment: (success, stdout then stderr).
pub fn cli_in(engine: &str, args: &[&str], env: &[(&str, &Path)]) -> (bool, String) {
    let out = Command::new(engine)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("the {engine} CLI runs: {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Lines of `ENGINE <what> ls -q --filter label=<label>` on an explicit engine.
pub fn ls_in(engine: &str, what: &str, label: &str) -> Vec<String> {
    let args: Vec<&str> = match what {
        "container" => vec!["ps", "-aq", "--filter"],
        "network" => vec!["network", "ls", "-q", "--filter"],
        "volume" => vec!["volume", "ls", "-q", "--filter"],
        _ => panic!("unknown resource kind {what}"),
    };
    let out = Command::new(engine)
        .args(args)
        .arg(format!("label={label}"))
        .output()
        .unwrap_or_else(|e| panic!("the {engine} CLI runs: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Lines of `<engine> <what> ls -q --filter label=<label>` on the engine under test.
pub fn engine_ls(what: &str, label: &str) -> Vec<String> {
    ls_in(engine(), what, label)
}

/// Containers, networks and volumes carrying `label` on `engine`, each as `<kind> <id>`.
pub fn labelled_in(engine: &str, label: &str) -> Vec<String> {
    ["container", "network", "volume"]
        .iter()
        .flat_map(|w| {
            ls_in(engine, w, label)
                .into_iter()
                .map(move |id| format!("{w} {id}"))
        })
        .collect()
}

/// Assert nothing carrying `label` survives on the engine under test (`when`: e.g. "after gc").
pub fn assert_nothing_labelled(label: &str, when: &str) {
    let left = labelled_in(engine(), label);
    assert!(left.is_empty(), "{label}: left {when}: {left:?}");
}

/// Assert nothing labelled for this run survives.
pub fn assert_no_leftovers(run_id: &str) {
    assert_nothing_labelled(&format!("clnrm={run_id}"), "behind");
}

pub fn read_report(dir: &Path, name: &str) -> serde_json::Value {
    let p = dir.join(format!("{name}.report.json"));
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())),
    )
    .expect("report is JSON")
}

/// The spans of a report with this name.
pub fn spans_named<'a>(report: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    report["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .filter(|s| s["name"] == name)
        .collect()
}

pub fn attr<'a>(span: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    span["attrs"]
        .as_array()?
        .iter()
        .find(|kv| kv[0] == key)
        .map(|kv| &kv[1])
}

pub fn parent_name(report: &serde_json::Value, span: &serde_json::Value) -> Option<String> {
    let pid = span["parent"].as_u64()?;
    report["spans"]
        .as_array()?
        .iter()
        .find(|s| s["id"].as_u64() == Some(pid))
        .and_then(|s| s["name"].as_str())
        .map(str::to_string)
}

/// `clnrm run SUITE --report-dir DIR --record RECORDING`.
pub fn run_recorded(dir: &Path, suite: &Path, recording: &Path) -> Run {
    run(clnrm()
        .arg("run")
        .arg(suite)
        .arg("--report-dir")
        .arg(dir)
        .arg("--record")
        .arg(recording))
}

/// `clnrm replay RECORDING` with Docker out of reach reproduces `digest`.
pub fn assert_replays_to(recording: &Path, digest: &str) {
    let r = run(clnrm()
        .arg("replay")
        .arg(recording)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 0, "replay matches: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("no divergence"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("digest {digest} (same as recorded)")),
        "{}",
        r.stdout
    );
}

/// Replay `recording` with chaos-container swapped for `kill-variant` (the same
/// source with one deliberate change: SIGTERM where SIGKILL is configured),
/// Docker out of reach: the replay must fail (exit 1) saying the plugin
/// changed. Returns its `DIVERGED` line.
pub fn replay_with_kill_variant(recording: &Path) -> String {
    let plugins = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(plugin_dir()).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().to_string();
        if name.starts_with("validate-") || name.starts_with("chaos-") {
            std::fs::copy(f.path(), plugins.path().join(&name)).unwrap();
        }
    }
    std::fs::copy(
        test_plugin_dir().join("kill-variant.wasm"),
        plugins.path().join("chaos-container.wasm"),
    )
    .unwrap();
    let r = run(clnrm()
        .arg("replay")
        .arg(recording)
        .env("CLNRM_PLUGIN_DIR", plugins.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 1, "divergence is a failure: {}", r.stdout);
    assert!(
        r.stdout
            .contains("plugin changed since the recording: chaos-container"),
        "{}",
        r.stdout
    );
    r.stdout
        .lines()
        .find(|l| l.contains("DIVERGED"))
        .expect("divergence reported")
        .to_string()
}
