//! Podman-specific tests, run by `cargo xtask test`'s Podman tier (which
//! installs Podman, starts its API service and loads clnrm-base into it, then
//! sets CLNRM_PODMAN_TIER=1). Elsewhere each test says why it does not run.
//!
//! Selection (the engine named, chosen by flag or variable), the container
//! suite on both engines with one digest (Podman's states, exit codes, OOM,
//! pause), and SIGKILL + `clnrm gc --engine podman` leaving nothing in Podman
//! while Docker is not touched.

mod support;

use std::time::{Duration, Instant};
use support::*;

const PODMAN_SOCKET: &str = "unix:///run/podman/podman.sock";

/// Whether this is the Podman tier; else say why the test does nothing.
fn tier(test: &str) -> bool {
    let on = std::env::var("CLNRM_PODMAN_TIER").is_ok_and(|v| v == "1");
    if !on {
        eprintln!(
            "{test}: not run: the Podman tier of `cargo xtask test` runs it (CLNRM_PODMAN_TIER=1)"
        );
    }
    on
}

/// Everything of process `pid` in `engine` (labelled `clnrm.pid`).
fn owned_in(engine: &str, pid: u32) -> Vec<String> {
    labelled_in(engine, &format!("clnrm.pid={pid}"))
}

#[test]
fn the_engine_is_chosen_by_flag_or_variable_and_named() {
    if !tier("the_engine_is_chosen_by_flag_or_variable_and_named") {
        return;
    }
    let r = run(clnrm().args(["--engine", "podman", "doctor"]));
    assert!(
        r.stdout.contains("✓ engine: podman ") && r.stdout.contains("podman.sock"),
        "{}",
        r.stdout
    );
    // CLNRM_ENGINE, and DOCKER_HOST pointing at Podman: the same engine.
    let r = run(clnrm().env("CLNRM_ENGINE", "podman").arg("doctor"));
    assert!(r.stdout.contains("✓ engine: podman "), "{}", r.stdout);
    let r = run(clnrm().env("DOCKER_HOST", PODMAN_SOCKET).arg("doctor"));
    assert!(r.stdout.contains("✓ engine: podman "), "{}", r.stdout);
    // --engine docker with DOCKER_HOST at Podman: refused, it is not Docker.
    let r = run(clnrm()
        .env("DOCKER_HOST", PODMAN_SOCKET)
        .args(["--engine", "docker", "doctor"]));
    assert!(r.stdout.contains("is podman, not docker"), "{}", r.stdout);
    // An engine clnrm does not know: exit 2, and why.
    let r = run(clnrm().env("CLNRM_ENGINE", "containerd").arg("gc"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "CLNRM_ENGINE=containerd: unknown engine; valid values: docker, podman, auto"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn the_container_suite_passes_on_both_engines_with_one_digest() {
    if !tier("the_container_suite_passes_on_both_engines_with_one_digest") {
        return;
    }
    let suite = workspace().join("tests/chaos/container_failures.clnrm.toml");
    let mut digests = Vec::new();
    for engine in ["podman", "docker"] {
        let dir = tempfile::tempdir().unwrap();
        let r = run(clnrm()
            .args(["--engine", engine, "run"])
            .arg(&suite)
            .arg("--report-dir")
            .arg(dir.path()));
        assert_eq!(r.code, 0, "container_failures on {engine}");
        let report = read_report(dir.path(), "chaos_container_failures");
        let root = spans_named(&report, "clnrm.run");
        assert_eq!(
            root.first().and_then(|s| attr(s, "engine.name")),
            Some(&serde_json::json!(engine)),
            "the run span names the engine"
        );
        let digest =
            std::fs::read_to_string(dir.path().join("chaos_container_failures.trace.sha256"))
                .unwrap();
        digests.push(digest.split_whitespace().next().unwrap_or("").to_string());
    }
    assert_eq!(
        digests[0], digests[1],
        "Podman's digest equals Docker's (engine.* are volatile)"
    );
}

#[test]
fn sigkill_then_gc_leaves_nothing_in_podman_and_docker_is_not_touched() {
    if !tier("sigkill_then_gc_leaves_nothing_in_podman_and_docker_is_not_touched") {
        return;
    }
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let p = suite(
        dir.path(),
        "crash.clnrm.toml",
        r#"
[service.a]
image = "clnrm-base:latest"
[service.b]
image = "clnrm-base:latest"

[[scenario]]
name = "slow"
parallel_services = true
network = "own"
run = [
  { service = "a", command = "sleep 20" },
  { service = "b", command = "sleep 20" },
]
"#,
    );
    let mut child = spawn_quiet_run(&["--engine", "podman"], &p, dir.path());
    let pid = child.id();
    let t = Instant::now();
    while owned_in("podman", pid).len() < 3 && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        owned_in("podman", pid).len() >= 3,
        "the run started its network and containers in Podman"
    );
    assert!(
        owned_in("docker", pid).is_empty(),
        "nothing of it in Docker"
    );
    child.kill().unwrap();
    let _ = child.wait();
    assert!(!owned_in("podman", pid).is_empty(), "SIGKILL leaves them");
    let r = run(clnrm().args(["--engine", "podman", "gc"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("dead run"), "{}", r.stdout);
    assert!(
        owned_in("podman", pid).is_empty(),
        "after gc: {:?}",
        owned_in("podman", pid)
    );
}
