//! The malformed-suite corpus (tests/malformed/*.clnrm.toml): every file is wrong in one
//! way, says so on its first line, and ends with `-- expect LINE:COL`, where the error must
//! point. Both `clnrm validate` and `clnrm run` must exit 2 with `<file>:LINE:COL`, never
//! panic, and never reach Docker: DOCKER_HOST points at nothing, and stderr must not say
//! "Docker is unreachable" (the error came from the suite, before Docker was contacted).
//!
//! Also: `clnrm validate` on ten valid suites (every validator and the chaos plugin
//! loaded) takes under a second once the precompiled plugin cache is warm.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::*;

const NOWHERE: &str = "unix:///nonexistent/clnrm-malformed/docker.sock";

fn corpus() -> Vec<PathBuf> {
    let dir = workspace().join("tests/malformed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".clnrm.toml"))
        .collect();
    files.sort();
    files
}

/// `(line, col)` from the first line's `-- expect LINE:COL`.
fn expected_position(path: &Path) -> (usize, usize) {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let first = text.lines().next().unwrap_or_default();
    let pos = first
        .strip_prefix('#')
        .and_then(|l| l.rsplit_once("-- expect "))
        .map(|(_, p)| p.trim())
        .unwrap_or_else(|| panic!("{}: the first line must be `# <what is wrong> -- expect LINE:COL`, found {first:?}", path.display()));
    let (l, c) = pos
        .split_once(':')
        .unwrap_or_else(|| panic!("{}: bad position {pos:?}", path.display()));
    (
        l.parse().expect("line number"),
        c.parse().expect("column number"),
    )
}

/// What is wrong with one command's result, if anything.
fn judge(path: &Path, command: &str, r: &Run) -> Option<String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let (line, col) = expected_position(path);
    let at = format!("{name}:{line}:{col}");
    let mut problems = Vec::new();
    if r.code != 2 {
        problems.push(format!("exit {} (expected 2)", r.code));
    }
    if r.stderr.contains("panicked") {
        problems.push("panicked".to_string());
    }
    if !r.stderr.contains(&at) {
        problems.push(format!("stderr lacks `{at}`"));
    }
    if r.stderr.contains("Docker is unreachable") {
        problems.push("reached Docker (the error must come before it)".to_string());
    }
    if command == "run" && r.stdout.contains("report:") {
        problems.push("wrote a report".to_string());
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{name} ({command}): {}\n{}",
            problems.join("; "),
            indent(&r.stderr)
        )
    })
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn quiet(cmd: &mut std::process::Command) -> Run {
    let out = cmd.output().expect("clnrm runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[test]
fn corpus_has_at_least_30_suites_each_with_a_position() {
    let files = corpus();
    assert!(
        files.len() >= 30,
        "only {} malformed suites in tests/malformed",
        files.len()
    );
    for f in &files {
        expected_position(f);
    }
}

#[test]
fn every_malformed_suite_is_exit_2_at_its_line_and_column_without_docker() {
    let reports = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    let files = corpus();
    for f in &files {
        let r = quiet(clnrm().arg("validate").arg(f).env("DOCKER_HOST", NOWHERE));
        failures.extend(judge(f, "validate", &r));
        let r = quiet(
            clnrm()
                .arg("run")
                .arg(f)
                .arg("--report-dir")
                .arg(reports.path())
                .env("DOCKER_HOST", NOWHERE),
        );
        failures.extend(judge(f, "run", &r));
    }
    let written: Vec<_> = std::fs::read_dir(reports.path())
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        written.is_empty(),
        "reports were written for malformed suites: {written:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n{}",
        failures.len(),
        files.len() * 2,
        failures.join("\n")
    );
}

/// A valid suite that loads the chaos plugin and every first-party validator.
fn valid_suite(i: usize) -> String {
    format!(
        r#"# valid suite #{i}
[meta]
name = "valid_{i}"
tags = ["bench"]

[determinism]
seed = {seed}
freeze_clock = "2025-01-01T00:00:00Z"

[vars]
image = "clnrm-base:latest"
delay = {delay}

[otel]
exporter = "stdout"
resources = {{ "service.name" = "clnrm-{{{{ image }}}}" }}

[limits]
max_duration_seconds = 30

[report]
junit = false

[cleanup]
containers = "always"
verify_cleanup = true

[service.app]
image = "{{{{ image }}}}"
limits = {{ memory_mb = 64 }}

[service.peer]
image = "{{{{ image }}}}"

[[scenario]]
name = "killed_{i}"
service = "app"
run = "echo killed after {{{{ delay }}}} ms; sleep 30"
expect_failure = true
timeout_strategy = "graceful"
grace_period_ms = 500
chaos_injection = {{
  type = "kill_container",   # TOML 1.1: multi-line inline table
  delay_ms = {delay},
}}

[[scenario]]
name = "together_{i}"
parallel_services = true
run = [
  {{ service = "app", command = "true" }},
  {{ service = "peer", command = "false" }},
]
expect_partial_failure = true
deadline_ms = 20000
artifacts.collect = ["/tmp/out.log"]

[[expect.span]]
name = "clnrm.cleanup"
status = "OK"
attrs.all = {{ "cleanup.success" = "true" }}

[expect.graph]
must_include = [["clnrm.run", "clnrm.scenario"]]
acyclic = true

[expect.counts]
spans_total = {{ gte = 1 }}

[[expect.window]]
outer = "clnrm.run"
contains = ["clnrm.scenario"]

[expect.order]
must_precede = [["clnrm.service.start", "clnrm.cleanup"]]

[expect.status]
cleanup_must_succeed = true

[expect.hermeticity]
no_container_leakage = true

[expect.isolation]
unique_container_ids = true

[expect.chaos]
injections_observed = true
"#,
        seed = 100 + i,
        delay = 100 + 10 * i,
    )
}

#[test]
fn ten_valid_suites_validate_in_under_a_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<PathBuf> = (0..10)
        .map(|i| {
            suite(
                dir.path(),
                &format!("valid_{i}.clnrm.toml"),
                &valid_suite(i),
            )
        })
        .collect();
    // Warm the precompiled plugin cache (CLNRM_CACHE_DIR, set by `clnrm()`).
    let r = run(clnrm()
        .arg("validate")
        .args(&files)
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 0, "the ten suites must be valid");
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        10,
        "{}",
        r.stdout
    );
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let r = quiet(
            clnrm()
                .arg("validate")
                .args(&files)
                .env("DOCKER_HOST", NOWHERE),
        );
        let took = t.elapsed();
        assert_eq!(r.code, 0, "{}", r.stderr);
        best = best.min(took);
    }
    eprintln!(
        "clnrm validate, 10 suites, warm cache: best of 3 = {} ms",
        best.as_millis()
    );
    assert!(
        best < Duration::from_secs(1),
        "validate of ten suites took {best:?} (warm cache)"
    );
}
