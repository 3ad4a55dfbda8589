//! The Docker-free tier: bad input is exit 2 with file:line:col and a hint,
//! never a panic and never a container. Every run here points DOCKER_HOST at
//! nothing, so a test that tried to start a container would fail loudly.

mod support;

use support::*;

fn run_bad(text: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml", text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 2, "bad input is exit 2");
    assert!(!r.stderr.contains("panicked"), "no panic");
    r
}

const GOOD: &str = r#"[service.app]
image = "clnrm-base:latest"

[[scenario]]
name = "k"
service = "app"
run = "sleep 5"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 100 }

[[expect.span]]
name = "clnrm.cleanup"
"#;

#[test]
fn the_good_suite_validates_without_docker() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml", GOOD);
    let r = run(clnrm()
        .arg("validate")
        .arg(&p)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("ok "));
}

#[test]
fn unknown_key_has_line_col_and_suggestion() {
    let r = run_bad(&GOOD.replace("expect_failure", "expect_falure"));
    assert!(r.stderr.contains("t.clnrm.toml:8:1"), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `expect_failure`"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_chaos_type_has_line_col_and_suggestion() {
    let r = run_bad(&GOOD.replace("kill_container", "kill_containr"));
    assert!(
        r.stderr.contains("unknown chaos type `kill_containr`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("t.clnrm.toml:9:19"), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `kill_container`"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_expectation_table_is_named() {
    let r = run_bad(&GOOD.replace("[[expect.span]]", "[[expect.spam]]"));
    assert!(r.stderr.contains("[expect.spam]"), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean [expect.span]"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_service_reference() {
    let r = run_bad(&GOOD.replace("service = \"app\"", "service = \"api\""));
    assert!(
        r.stderr.contains("t.clnrm.toml:6:11") && r.stderr.contains("unknown service `api`"),
        "{}",
        r.stderr
    );
}

/// An `otel_collector` is served by the OTLP receiver and never started: a
/// step or a fault aimed at it is bad input, pointed at where it is named.
#[test]
fn a_step_or_a_fault_aimed_at_an_otel_collector() {
    let collector = "[service.otel_collector]\ntype = \"otel_collector\"\n\n";
    let r = run_bad(&format!(
        "{collector}{}",
        GOOD.replace("service = \"app\"", "service = \"otel_collector\"")
    ));
    assert!(
        r.stderr.contains("t.clnrm.toml:9:11")
            && r.stderr.contains("no step can run in `otel_collector`")
            && r.stderr.contains("[[expect.span]]"),
        "{}",
        r.stderr
    );
    let r = run_bad(&format!(
        "{collector}{}",
        GOOD.replace(
            "delay_ms = 100",
            "target = \"otel_collector\", delay_ms = 100"
        )
    ));
    assert!(
        r.stderr.contains("t.clnrm.toml:12:55")
            && r.stderr
                .contains("`otel_collector` is an otel_collector service")
            && r.stderr
                .contains("aim the fault at the service that sends the spans"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_type() {
    let r = run_bad(&GOOD.replace("expect_failure = true", "expect_failure = \"yes\""));
    assert!(r.stderr.contains("t.clnrm.toml:8:18"), "{}", r.stderr);
}

#[test]
fn syntax_error() {
    let r = run_bad(&GOOD.replace("name = \"k\"", "name = \"k"));
    assert!(r.stderr.contains("t.clnrm.toml:5:"), "{}", r.stderr);
}

#[test]
fn missing_file_and_empty_glob() {
    let r = run(clnrm().args(["run", "/nonexistent/x.clnrm.toml"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read suite file"), "{}", r.stderr);
    let r = run(clnrm().args(["run", "/nonexistent/*.clnrm.toml"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no file matches"), "{}", r.stderr);
}

#[test]
fn zero_jobs_is_bad_input() {
    let r = run(clnrm().args(["run", "-j", "0", "/nonexistent/x.clnrm.toml"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid value '0' for '--jobs <N>'"),
        "{}",
        r.stderr
    );
}

#[test]
fn invalid_span_expectation_config_is_reported_before_running() {
    // Unknown key inside [[expect.span]] is caught by the validator's config check.
    let r = run_bad(&GOOD.replace(
        "name = \"clnrm.cleanup\"",
        "name = \"clnrm.cleanup\"\nstauts = \"OK\"",
    ));
    assert!(r.stderr.contains("stauts"), "{}", r.stderr);
}

/// TOML 1.1: inline tables over several lines, with comments and trailing commas.
#[test]
fn multiline_inline_tables_validate() {
    let text = GOOD.replace(
        "chaos_injection = { type = \"kill_container\", delay_ms = 100 }",
        "chaos_injection = {\n  type = \"kill_container\",  # the fault\n  delay_ms = 100,           # after the step started\n}",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("validate")
        .arg(&p)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Every section of the dialect at once, with `[vars]` used in strings of several tables.
#[test]
fn the_whole_dialect_validates() {
    let text = r#"
[meta]
name = "dialect"
version = "1.0.0"
description = "every key"
author = "qa"
tags = ["chaos"]

[determinism]
seed = 666
freeze_clock = "2025-01-01T00:00:00Z"

[vars]
image = "clnrm-base:latest"
pause = 2

[otel]
exporter = "otlp"
endpoint = "http://localhost:4318"
sample_ratio = 0.5
resources = { "service.name" = "clnrm", "image" = "{{ image }}" }

[limits]
cpu_millicores = 1000
memory_mb = 512
max_duration_seconds = 60

[report]
name = "dialect"
json = true
junit = true
digest = true
cleanup = false

[cleanup]
containers = "always"
networks = "always"
volumes = "on_success"
on_failure = "cleanup"
verify_cleanup = true
cleanup_timeout_ms = 30000

[service.app]
type = "generic_container"
image = "{{ image }}"
env = { PAUSE = "{{ pause }}" }
limits = { memory_mb = 64, cpu_millicores = 500, max_file_descriptors = 256, pids = 64, tmpfs = { "/data" = 8 } }
capabilities = ["NET_ADMIN"]
wait_for_span = "clnrm.service.start"

[service.peer]
image = "{{image}}"

[[scenario]]
name = "steps"
service = "app"
steps = [
  { name = "first", run = "sleep {{ pause }}", timeout_ms = 5000 },
  { run = "true" },
]
timeout_strategy = "graceful"
grace_period_ms = 1000
deadline_ms = 20000
artifacts = { collect = ["/data/out.log"] }

[[scenario]]
name = "together"
parallel_services = ["peer"]
run = [
  { service = "app", command = "sleep 30", timeout_ms = 10000 },
  { name = "peer-ok", service = "peer", command = "true" },
]
expect_partial_failure = true
chaos_injection = [
  { type = "kill_container", target = "app", delay_ms = 200 },
]

[[expect.span]]
name = "clnrm.step:first"
attrs.all = { "result" = "pass" }

[expect.status]
cleanup_must_succeed = true
"#;
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml", text);
    let r = run(clnrm()
        .arg("validate")
        .arg(&p)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("(2 scenarios, 2 expectations)"),
        "{}",
        r.stdout
    );
}

#[test]
fn undefined_variable_is_pointed_at() {
    let text = format!(
        "[vars]\nimage = \"clnrm-base:latest\"\n{}",
        GOOD.replace("image = \"clnrm-base:latest\"", "image = \"{{ imgae }}\"")
    );
    let r = run_bad(&text);
    assert!(
        r.stderr.contains("t.clnrm.toml:4:10") && r.stderr.contains("undefined variable `imgae`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `{{ image }}`"),
        "{}",
        r.stderr
    );
}

#[test]
fn run_entry_typo_is_pointed_at_with_suggestion() {
    let r = run_bad(&GOOD.replace(
        "run = \"sleep 5\"",
        "run = [\n  { service = \"app\", comand = \"sleep 5\" },\n]",
    ));
    assert!(
        r.stderr.contains("t.clnrm.toml:8:22") && r.stderr.contains("did you mean `command`"),
        "{}",
        r.stderr
    );
    let r = run_bad(&GOOD.replace("run = \"sleep 5\"", "run = 5"));
    assert!(
        r.stderr.contains("t.clnrm.toml:7:7")
            && r.stderr
                .contains("a command string, or an array of { service, command } tables"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_service_plugins_are_refused_naming_the_ones_that_exist() {
    let r = run_bad(&GOOD.replace(
        "image = \"clnrm-base:latest\"",
        "image = \"clnrm-base:latest\"\nplugin = \"postgres\"",
    ));
    assert!(
        r.stderr.contains("t.clnrm.toml:3:10")
            && r.stderr.contains("unknown service plugin `postgres`")
            && r.stderr
                .contains("service plugins that exist: generic_container"),
        "{}",
        r.stderr
    );
}

#[test]
fn grace_period_needs_the_graceful_strategy() {
    let r = run_bad(&GOOD.replace(
        "expect_failure = true",
        "expect_failure = true\ngrace_period_ms = 500",
    ));
    assert!(
        r.stderr.contains("t.clnrm.toml:9:19")
            && r.stderr.contains("timeout_strategy = \"graceful\""),
        "{}",
        r.stderr
    );
}

/// `clnrm doctor` without an engine: the engine line is ✗ with its fix, the
/// other checks still run, and the exit code says something essential is missing.
#[test]
fn doctor_reports_a_missing_engine_with_its_fix() {
    let r = run(clnrm().arg("doctor").env(
        "DOCKER_HOST",
        "unix:///nonexistent/clnrm-doctor/docker.sock",
    ));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("✗ engine: Docker is unreachable"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("fix: start the Docker daemon"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(" cgroups: ") && r.stdout.contains(" netem: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("✓ plugins: "), "{}", r.stdout);
    assert!(
        r.stdout.contains("not ready: engine missing"),
        "{}",
        r.stdout
    );
    // A broken registry config is named, never its secrets.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        "{\"auths\": {\"127.0.0.1:5000\": {\"auth\": \"c2VjcmV0\"}}}",
    )
    .unwrap();
    let r = run(clnrm()
        .arg("doctor")
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/clnrm-doctor/docker.sock",
        )
        .env("DOCKER_CONFIG", dir.path()));
    assert!(
        r.stdout.contains("✓ registry login: auths: 127.0.0.1:5000"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("c2VjcmV0"));
}

/// A CLNRM_ENGINE clnrm does not know: one line naming the value and the valid
/// ones, exit 2, before the command touches any engine; `--engine` overrides it.
#[test]
fn an_unknown_clnrm_engine_is_refused_listing_the_valid_values() {
    let suite = workspace().join("tests/chaos/timeout_scenarios.clnrm.toml");
    let suite = suite.to_str().unwrap();
    for cmd in [&["gc"][..], &["doctor"], &["run", suite]] {
        let r = run(clnrm().args(cmd).env("CLNRM_ENGINE", "Containerd"));
        assert_eq!(r.code, 2, "{cmd:?}");
        assert_eq!(
            r.stderr.trim(),
            "error: CLNRM_ENGINE=Containerd: unknown engine; valid values: docker, podman, auto \
             (or unset it; `--engine` overrides it)",
            "{cmd:?}"
        );
        assert!(r.stdout.is_empty(), "{cmd:?}: {}", r.stdout);
    }
    // The flag wins: the variable is not consulted (the engine below is unreachable).
    let r = run(clnrm()
        .args(["--engine", "docker", "gc"])
        .env("CLNRM_ENGINE", "containerd")
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/clnrm-engine/docker.sock",
        ));
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("CLNRM_ENGINE"), "{}", r.stderr);
    assert!(r.stderr.contains("unreachable"), "{}", r.stderr);
}
