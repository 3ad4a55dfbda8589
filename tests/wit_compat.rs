//! A plugin built against the frozen `clnrm:chaos@0.2.0` WIT
//! (tests/plugins/wit02-fixture, wit-bindgen directly, not the sdk) loads and
//! runs on the current host (docs/wit-versioning.md): described and checked
//! through `[plugins]` without Docker, then run against a real container and
//! judged by a validator built against 0.2.0 too (tests/plugins/wit02-validator).

mod support;

use support::*;

const NOWHERE: &str = "unix:///nonexistent/clnrm-wit-compat/docker.sock";

fn fixture() -> std::path::PathBuf {
    let p = test_plugin_dir().join("wit02-fixture.wasm");
    assert!(
        p.is_file(),
        "wit02-fixture missing in {}: run `cargo xtask plugins`",
        p.display()
    );
    p
}

fn validator() -> std::path::PathBuf {
    let p = test_plugin_dir().join("wit02-validator.wasm");
    assert!(
        p.is_file(),
        "wit02-validator missing in {}: run `cargo xtask plugins`",
        p.display()
    );
    p
}

fn legacy_suite(injection: &str) -> String {
    format!(
        r#"[plugins]
legacy = "{}"
legacy_validator = "{}"

[service.app]
image = "clnrm-base:latest"

[[scenario]]
name = "legacy_killed"
service = "app"
run = "echo started; sleep 30"
expect_failure = true
chaos_injection = {injection}

[[expect.span]]
name = "clnrm.chaos.legacy_kill"
status = "OK"
attrs.all = {{ "chaos.type" = "legacy_kill", "chaos.observed" = "true", "container.exit_code" = "137" }}

[expect.legacy]
name = "clnrm.chaos.legacy_kill"
"#,
        fixture().display(),
        validator().display()
    )
}

#[test]
fn a_0_2_plugin_is_described_and_checked_without_docker() {
    let dir = tempfile::tempdir().unwrap();
    let good = suite(
        dir.path(),
        "good.clnrm.toml",
        &legacy_suite(r#"{ type = "legacy_kill", target = "app" }"#),
    );
    let r = run(clnrm()
        .arg("validate")
        .arg(&good)
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 0, "the 0.2 plugin loads, describes and checks");

    // Its `check` error is a 0.2 string: reported as `other`, at the table.
    let bad = suite(
        dir.path(),
        "bad.clnrm.toml",
        &legacy_suite(r#"{ type = "legacy_kill", traget = "app" }"#),
    );
    let r = run(clnrm()
        .arg("validate")
        .arg(&bad)
        .env("DOCKER_HOST", NOWHERE));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("invalid chaos_injection `legacy_kill`: unknown key \"traget\" (legacy_kill takes: type, target, delay_ms)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("bad.clnrm.toml:13:19"), "{}", r.stderr);
}

#[test]
fn a_0_2_plugin_runs_against_a_real_container() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(
        dir.path(),
        "legacy.clnrm.toml",
        &legacy_suite(r#"{ type = "legacy_kill", delay_ms = 500 }"#),
    );
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(
        r.code, 0,
        "the scenario fails as expected and the span is there"
    );
    let rep = read_report(dir.path(), "legacy");
    let spans = spans_named(&rep, "clnrm.chaos.legacy_kill");
    assert_eq!(spans.len(), 1, "one fault span");
    let span = spans[0];
    assert_eq!(attr(span, "chaos.observed"), Some(&serde_json::json!(true)));
    assert_eq!(
        attr(span, "container.exit_code"),
        Some(&serde_json::json!(137))
    );
    assert_eq!(parent_name(&rep, span).as_deref(), Some("clnrm.scenario"));
    assert_eq!(rep["plugins"]["wit02-fixture"]["wit_version"], "0.2.0");
    // The 0.2 validator saw the trace (converted to its records) and judged it.
    assert_eq!(rep["plugins"]["wit02-validator"]["wit_version"], "0.2.0");
    let legacy: Vec<&serde_json::Value> = rep["expectations"]
        .as_array()
        .expect("expectations")
        .iter()
        .filter(|e| e["expectation"] == "expect.legacy clnrm.chaos.legacy_kill")
        .collect();
    assert_eq!(legacy.len(), 1, "{}", rep["expectations"]);
    assert_eq!(legacy[0]["passed"], true);
    let msg = legacy[0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("chaos.observed=true") && msg.contains("container.exit_code=137"),
        "{msg}"
    );
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}
