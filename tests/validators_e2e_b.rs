//! End to end: the `validate-status`, `validate-hermeticity`, `validate-isolation` and
//! `validate-chaos` plugins load in the host and judge a real run with a real fault. A
//! suite with a passing scenario and one whose container is killed mid-step satisfies all
//! four tables (exit 0); per validator, a variant whose run really breaks the rule fails
//! (exit 1, the finding naming the span and the unmet condition in the summary); a bad key
//! in any of them is bad input (`clnrm validate`, exit 2, with a suggestion).
//!
//! The run emits: clnrm.run > clnrm.scenario ×2 > clnrm.service.start, clnrm.step:<name>,
//! clnrm.chaos.kill (killed only), clnrm.cleanup (under the killed step, else under the
//! scenario) > clnrm.cleanup.verification, clnrm.recovery.

mod support;

use support::*;

const BASE: &str = r#"[service.app]
image = "clnrm-base:latest"

[[scenario]]
name = "ok"
service = "app"
run = "true"

[[scenario]]
name = "killed"
service = "app"
run = "sleep 10"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 300 }
"#;

const STATUS_OK: &str = r#"
[expect.status]
by_name = { "clnrm.run" = "OK", "clnrm.scenario" = "OK", "clnrm.step:ok" = "OK", "clnrm.step:kill?d" = "ERROR", "clnrm.chaos.*" = "OK", "clnrm.cleanup*" = "OK", "clnrm.recovery" = "OK" }
errors_allowed = 1
cleanup_must_succeed = true
"#;

const HERMETICITY_OK: &str = r#"
[expect.hermeticity]
no_container_leakage = true
no_network_leakage = true
no_volume_leakage = true
no_process_leakage = true
resource_attrs.must_match = { "service.name" = "clnrm" }
span_attrs.forbid_keys = ["db.password", "http.request.header.authorization"]
no_external_services = true
"#;

const ISOLATION_OK: &str = r#"
[expect.isolation]
unique_container_ids = true
no_persistent_state = true
cleanup_verified = true
"#;

const CHAOS_OK: &str = r#"
# Frozen mid-step and still passing: the degraded step graceful_degradation needs.
[[scenario]]
name = "degraded"
service = "app"
run = "sleep 1.5"
chaos_injection = { type = "pause_container", delay_ms = 200, duration_ms = 500 }

[expect.chaos]
cleanup_spans_match_failures = true
zombie_processes = "none"
resource_cleanup = true
recovery_verified = true
graceful_degradation = true
injections_observed = true
min_injections = 1
"#;

/// Runs `BASE` + `extra` with Docker; returns the result and the run id.
fn run_suite(extra: &str) -> (Run, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "t.clnrm.toml", &format!("{BASE}{extra}"));
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert!(!r.stderr.contains("panicked"), "no panic");
    let rep = read_report(dir.path(), "t");
    let run_id = rep["run_id"]
        .as_str()
        .expect("run_id in the report")
        .to_string();
    (r, run_id)
}

/// The summary line of finding `label`, which must have passed (`✓`) or failed (`✗`).
fn finding_line<'a>(r: &'a Run, label: &str, passed: bool) -> &'a str {
    let mark = if passed { "✓" } else { "✗" };
    r.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{mark} {label}: ")))
        .unwrap_or_else(|| panic!("no {mark} finding `{label}` in:\n{}", r.stdout))
}

fn assert_line_has(line: &str, needles: &[&str]) {
    for n in needles {
        assert!(line.contains(n), "finding line {line:?}\n  lacks {n:?}");
    }
}

#[test]
fn all_four_pass_on_a_real_run_with_a_killed_container() {
    let (r, run_id) = run_suite(&[STATUS_OK, HERMETICITY_OK, ISOLATION_OK, CHAOS_OK].concat());
    assert_eq!(r.code, 0, "every expectation holds");
    let labels = [
        "expect.status.by_name.\"clnrm.run\"",
        "expect.status.by_name.\"clnrm.scenario\"",
        "expect.status.by_name.\"clnrm.step:ok\"",
        "expect.status.by_name.\"clnrm.step:kill?d\"",
        "expect.status.by_name.\"clnrm.chaos.*\"",
        "expect.status.by_name.\"clnrm.cleanup*\"",
        "expect.status.by_name.\"clnrm.recovery\"",
        "expect.status.errors_allowed",
        "expect.status.cleanup_must_succeed",
        "expect.hermeticity.no_container_leakage",
        "expect.hermeticity.no_network_leakage",
        "expect.hermeticity.no_volume_leakage",
        "expect.hermeticity.no_process_leakage",
        "expect.hermeticity.resource_attrs.must_match",
        "expect.hermeticity.span_attrs.forbid_keys",
        "expect.hermeticity.no_external_services",
        "expect.isolation.unique_container_ids",
        "expect.isolation.no_persistent_state",
        "expect.isolation.cleanup_verified",
        "expect.chaos.cleanup_spans_match_failures",
        "expect.chaos.zombie_processes",
        "expect.chaos.resource_cleanup",
        "expect.chaos.recovery_verified",
        "expect.chaos.graceful_degradation",
        "expect.chaos.injections_observed",
        "expect.chaos.min_injections",
    ];
    for label in labels {
        finding_line(&r, label, true);
    }
    // The killed step is the one ERROR span, and its cleanup hangs under it.
    assert_line_has(
        finding_line(&r, "expect.status.errors_allowed", true),
        &["1 span(s) with status ERROR, at most 1 allowed"],
    );
    assert_line_has(
        finding_line(&r, "expect.chaos.cleanup_spans_match_failures", true),
        &["1 failed step span(s) each have a clnrm.cleanup child"],
    );
    assert_line_has(
        finding_line(&r, "expect.isolation.unique_container_ids", true),
        &["3 clnrm.service.start span(s) carry distinct container.id values"],
    );
    assert_line_has(
        finding_line(&r, "expect.hermeticity.no_process_leakage", true),
        &["3 clnrm.cleanup.verification span(s) report processes.remaining = 0"],
    );
    assert_line_has(
        finding_line(&r, "expect.chaos.graceful_degradation", true),
        &["1 step span(s) with degraded = true have result = \"pass\""],
    );
    assert!(
        r.stdout.contains(&format!(
            "{}/{} expectations passed",
            labels.len(),
            labels.len()
        )),
        "{}",
        r.stdout
    );
    assert_no_leftovers(&run_id);
}

#[test]
fn status_failure_names_the_killed_step() {
    let (r, run_id) = run_suite("\n[expect.status]\nall = \"OK\"\nerrors_allowed = 0\n");
    assert_eq!(r.code, 1, "a failed expectation is exit 1");
    assert_line_has(
        finding_line(&r, "expect.status.all", false),
        &[
            "span(s) fail: span #",
            "\"clnrm.step:killed\" (parent \"clnrm.scenario\"): status is ERROR",
            "expected OK",
        ],
    );
    assert_line_has(
        finding_line(&r, "expect.status.errors_allowed", false),
        &[
            "1 span(s) with status ERROR, at most 0 allowed: span #",
            "\"clnrm.step:killed\"",
        ],
    );
    assert_no_leftovers(&run_id);
}

#[test]
fn hermeticity_failure_without_verification_and_with_a_forbidden_key() {
    let (r, run_id) = run_suite(
        "\n[expect.hermeticity]\nno_container_leakage = true\nspan_attrs.forbid_keys = [\"container.id\"]\n\n[cleanup]\nverify_cleanup = false\n",
    );
    assert_eq!(r.code, 1, "a failed expectation is exit 1");
    assert_line_has(
        finding_line(&r, "expect.hermeticity.no_container_leakage", false),
        &["no \"clnrm.cleanup.verification\" span in the trace: the run never verified its cleanup"],
    );
    assert_line_has(
        finding_line(&r, "expect.hermeticity.span_attrs.forbid_keys", false),
        &["\"clnrm.service.start\" (parent \"clnrm.scenario\"): carries forbidden attribute \"container.id\""],
    );
    assert_no_leftovers(&run_id);
}

/// Issue 14's regression: `resource_attrs.must_match` reads the run's OpenTelemetry
/// resource (`[otel] resources`, handed to the validator through WIT 0.3.2's
/// `trace-resource`), not span attributes. Before, `env` was looked up on `clnrm.run` and
/// was "missing"; `suite.name`, a `clnrm.run` span attribute, is not a resource attribute.
#[test]
fn resource_attrs_match_the_runs_otel_resource() {
    const OTEL: &str = r#"
[otel]
exporter = "none"
resources = {
    "service.name" = "clnrm-chaos",
    "env" = "chaos-testing",
}
"#;
    let (r, run_id) = run_suite(&format!(
        "{OTEL}\n[expect.hermeticity]\nresource_attrs.must_match = {{ \"env\" = \"chaos-testing\", \"service.name\" = {{ matches = \"^clnrm-\" }} }}\n"
    ));
    assert_eq!(r.code, 0, "the resource matches:\n{}", r.stdout);
    assert_line_has(
        finding_line(&r, "expect.hermeticity.resource_attrs.must_match", true),
        &["the run's resource matches (2 attribute(s) checked of [\"env\", \"service.name\"])"],
    );
    assert_no_leftovers(&run_id);

    let (r, run_id) = run_suite(&format!(
        "{OTEL}\n[expect.hermeticity]\nresource_attrs.must_match = {{ \"env\" = \"prod\", \"suite.name\" = {{ exists = true }} }}\n"
    ));
    assert_eq!(
        r.code, 1,
        "a resource that does not match fails:\n{}",
        r.stdout
    );
    assert_line_has(
        finding_line(&r, "expect.hermeticity.resource_attrs.must_match", false),
        &[
            "resource attribute env = \"chaos-testing\", expected \"prod\"",
            "resource attribute suite.name missing",
        ],
    );
    assert_no_leftovers(&run_id);
}

#[test]
fn isolation_failure_when_containers_are_kept() {
    let (r, run_id) = run_suite(
        "\n[expect.isolation]\nunique_container_ids = true\nno_persistent_state = true\ncleanup_verified = true\n\n[cleanup]\ncontainers = \"never\"\nnetworks = \"never\"\n",
    );
    // What the policy kept is this test's to remove, whatever the verdict.
    remove_leftovers(&run_id);
    assert_eq!(r.code, 1, "a failed expectation is exit 1");
    finding_line(&r, "expect.isolation.unique_container_ids", true);
    assert_line_has(
        finding_line(&r, "expect.isolation.no_persistent_state", false),
        &["2 of 2 clnrm.cleanup.verification span(s) fail: span #", "\"clnrm.cleanup.verification\" (parent \"clnrm.cleanup\"): containers.remaining = 1, expected 0 (scenario \"ok\")"],
    );
    assert_line_has(
        finding_line(&r, "expect.isolation.cleanup_verified", false),
        &[
            "2 of 2 clnrm.scenario span(s) fail: span #",
            "has verification.clean = false, expected true (scenario \"ok\")",
        ],
    );
    assert_no_leftovers(&run_id);
}

#[test]
fn chaos_failure_when_fewer_injections_than_required() {
    let (r, run_id) =
        run_suite("\n[expect.chaos]\ninjections_observed = true\nmin_injections = 2\n");
    assert_eq!(r.code, 1, "a failed expectation is exit 1");
    assert_line_has(
        finding_line(&r, "expect.chaos.injections_observed", true),
        &["1 span(s) with chaos.type were observed"],
    );
    assert_line_has(
        finding_line(&r, "expect.chaos.min_injections", false),
        &["1 span(s) with chaos.type, expected at least 2 (span ids "],
    );
    assert_no_leftovers(&run_id);
}

#[test]
fn unknown_keys_and_wrong_types_are_bad_input() {
    for (table, needles) in [
        (
            "\n[expect.status]\nerrors_alowed = 1\n",
            &[
                "unknown key \"errors_alowed\"",
                "did you mean \"errors_allowed\"?",
            ][..],
        ),
        (
            "\n[expect.hermeticity]\nno_proces_leakage = true\n",
            &[
                "unknown key \"no_proces_leakage\"",
                "did you mean \"no_process_leakage\"?",
            ][..],
        ),
        (
            "\n[expect.isolation]\ncleanup_verifed = true\n",
            &[
                "unknown key \"cleanup_verifed\"",
                "did you mean \"cleanup_verified\"?",
            ][..],
        ),
        (
            "\n[expect.chaos]\nmin_injection = 1\n",
            &[
                "unknown key \"min_injection\"",
                "did you mean \"min_injections\"?",
            ][..],
        ),
        (
            "\n[expect.chaos]\nzombie_processes = \"some\"\n",
            &["expect.chaos.zombie_processes: expected false, \"none\" or a count table such as { eq = 0 }, found string \"some\""][..],
        ),
        (
            "\n[expect.status]\nall = \"GREEN\"\n",
            &["expect.status.all: expected one of UNSET, OK, ERROR, found string \"GREEN\""][..],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = suite(dir.path(), "t.clnrm.toml", &format!("{BASE}{table}"));
        let r = run(clnrm()
            .arg("validate")
            .arg(&p)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
        assert_eq!(r.code, 2, "bad input: {table}");
        assert!(!r.stderr.contains("panicked"), "no panic");
        for n in needles {
            assert!(
                r.stderr.contains(n),
                "{table}: stderr lacks {n:?}:\n{}",
                r.stderr
            );
        }
    }
}

/// Force-remove every container, network and volume labelled for this run.
fn remove_leftovers(run_id: &str) {
    let label = format!("clnrm={run_id}");
    let containers = engine_ls("container", &label);
    if !containers.is_empty() {
        std::process::Command::new("docker")
            .args(["rm", "-f", "-v"])
            .args(&containers)
            .output()
            .expect("docker rm");
    }
    let networks = engine_ls("network", &label);
    if !networks.is_empty() {
        std::process::Command::new("docker")
            .args(["network", "rm"])
            .args(&networks)
            .output()
            .expect("docker network rm");
    }
    let volumes = engine_ls("volume", &label);
    if !volumes.is_empty() {
        std::process::Command::new("docker")
            .args(["volume", "rm", "-f"])
            .args(&volumes)
            .output()
            .expect("docker volume rm");
    }
}
