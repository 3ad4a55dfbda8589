//! The Docker-free tier: bad input is exit 2 with file:line:col and a hint,
//! never a panic and never a container. Every run here points DOCKER_HOST at
//! nothing, so a test that tried to start a container would fail loudly.

mod support;

use support::*;

fn run_bad(text: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml", text);
    let r = run(clnrm().arg("run").arg(&p).env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
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
    let r = run(clnrm().arg("validate").arg(&p).env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("ok "));
}

#[test]
fn unknown_key_has_line_col_and_suggestion() {
    let r = run_bad(&GOOD.replace("expect_failure", "expect_falure"));
    assert!(r.stderr.contains("t.clnrm.toml:8:1"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `expect_failure`"), "{}", r.stderr);
}

#[test]
fn unknown_chaos_type_has_line_col_and_suggestion() {
    let r = run_bad(&GOOD.replace("kill_container", "kill_containr"));
    assert!(r.stderr.contains("unknown chaos type `kill_containr`"), "{}", r.stderr);
    assert!(r.stderr.contains("t.clnrm.toml:9:19"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `kill_container`"), "{}", r.stderr);
}

#[test]
fn unknown_expectation_table_is_named() {
    let r = run_bad(&GOOD.replace("[[expect.span]]", "[[expect.spam]]"));
    assert!(r.stderr.contains("[expect.spam]"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean [expect.span]"), "{}", r.stderr);
}

#[test]
fn unknown_service_reference() {
    let r = run_bad(&GOOD.replace("service = \"app\"", "service = \"api\""));
    assert!(r.stderr.contains("t.clnrm.toml:6:11") && r.stderr.contains("unknown service `api`"), "{}", r.stderr);
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
fn invalid_span_expectation_config_is_reported_before_running() {
    // Unknown key inside [[expect.span]] is caught by the validator's config check.
    let r = run_bad(&GOOD.replace("name = \"clnrm.cleanup\"", "name = \"clnrm.cleanup\"\nstauts = \"OK\""));
    assert!(r.stderr.contains("stauts"), "{}", r.stderr);
}
