//! End-to-end tests against the real Docker daemon: real faults, observed,
//! proven by spans, and nothing left behind.

mod support;

use support::*;

const BASE: &str = r#"
[service.app]
image = "clnrm-base:latest"
"#;

#[test]
fn kill_mid_step_is_observed_and_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let suite = workspace().join("tests/chaos/container_failures.clnrm.toml");
    let r = run(clnrm()
        .arg("run")
        .arg(&suite)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0, "the container_failures suite passes");
    let rep = read_report(dir.path(), "chaos_container_failures");
    let run_id = rep["run_id"].as_str().unwrap();

    // The step died by the signal, as Docker reported it.
    let step = spans_named(&rep, "clnrm.step:container_killed_mid_step");
    assert_eq!(step.len(), 1);
    assert_eq!(step[0]["status"], "ERROR");
    assert_eq!(attr(step[0], "exit.code"), Some(&serde_json::json!(137)));
    assert_eq!(
        attr(step[0], "error.type"),
        Some(&serde_json::json!("container_killed"))
    );
    let sc = &rep["scenarios"][0];
    assert_eq!(sc["steps"][0]["exit_code"], 137);
    assert_eq!(sc["injections"][0]["observed"], true);

    // The kill span carries the exit code it observed.
    let kill = spans_named(&rep, "clnrm.chaos.kill");
    assert_eq!(kill[0]["status"], "OK");
    assert_eq!(
        attr(kill[0], "container.exit_code"),
        Some(&serde_json::json!(137))
    );

    // Cleanup is a child of the killed step, recovery a child of cleanup; both OK.
    let cleanup = spans_named(&rep, "clnrm.cleanup");
    let after_kill = cleanup
        .iter()
        .find(|c| parent_name(&rep, c).as_deref() == Some("clnrm.step:container_killed_mid_step"))
        .expect("cleanup under the killed step");
    assert_eq!(after_kill["status"], "OK");
    assert!(
        after_kill["start_ns"].as_u64() >= step[0]["end_ns"].as_u64(),
        "cleanup starts after the step ended"
    );
    for rec in spans_named(&rep, "clnrm.recovery") {
        assert_eq!(rec["status"], "OK");
        assert_eq!(parent_name(&rep, rec).as_deref(), Some("clnrm.cleanup"));
    }
    // The run verified itself, and Docker agrees.
    for v in spans_named(&rep, "clnrm.cleanup.verification") {
        assert_eq!(attr(v, "containers.remaining"), Some(&serde_json::json!(0)));
    }
    assert_no_leftovers(run_id);

    // The exit-42 scenario captured the code exactly.
    let s42 = spans_named(&rep, "clnrm.step:nonzero_exit_code");
    assert_eq!(attr(s42[0], "exit.code"), Some(&serde_json::json!(42)));
}

#[test]
fn false_expectation_fails_with_exit_1_naming_span_and_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"{BASE}
[[scenario]]
name = "exit_42"
service = "app"
run = "exit 42"
expect_failure = true

[[expect.span]]
name = "clnrm.step:exit_42"
attrs.all = {{ "exit.code" = "41" }}
"#
    );
    let p = suite(dir.path(), "false.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 1, "a false expectation is a failed test");
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("✗ expect.span[0]"))
        .expect("the failed expectation is reported");
    assert!(
        line.contains("clnrm.step:exit_42"),
        "names the span: {line}"
    );
    assert!(
        line.contains("exit.code = 42") && line.contains("\"41\""),
        "names the attribute, its value and the expected one: {line}"
    );
    assert!(r.stdout.contains("FAIL"), "summary says FAIL");
    let rep = read_report(dir.path(), "false");
    assert_eq!(rep["passed"], false);
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

#[test]
fn expect_failure_scenario_that_passes_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{BASE}\n[[scenario]]\nname = \"fine\"\nservice = \"app\"\nrun = \"true\"\nexpect_failure = true\n");
    let p = suite(dir.path(), "nofail.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("expected a failure"), "{}", r.stdout);
}

#[test]
fn looping_plugin_is_stopped_by_its_deadline_and_cleanup_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let looper = test_plugin_dir().join("looper.wasm");
    assert!(
        looper.is_file(),
        "looper test plugin missing: run `cargo xtask plugins`"
    );
    let text = format!(
        r#"[plugins]
looper = "{}"

[limits]
max_duration_seconds = 2
{BASE}
[[scenario]]
name = "bad_plugin"
service = "app"
run = "sleep 1"
chaos_injection = {{ type = "loop_forever" }}

[[expect.span]]
name = "clnrm.cleanup"
status = "OK"
attrs.all = {{ "cleanup.success" = "true" }}
"#,
        looper.display()
    );
    let p = suite(dir.path(), "looper.clnrm.toml", &text);
    let started = std::time::Instant::now();
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 1, "the scenario fails");
    assert!(
        started.elapsed().as_secs() < 20,
        "the deadline stopped the loop ({:?})",
        started.elapsed()
    );
    assert!(
        r.stdout
            .contains("plugin `looper` did not finish within its deadline of 2000 ms"),
        "clear error: {}",
        r.stdout
    );
    let rep = read_report(dir.path(), "looper");
    let sc = &rep["scenarios"][0];
    assert_eq!(
        sc["cleanup"]["success"], true,
        "cleanup ran despite the plugin"
    );
    assert_eq!(sc["cleanup"]["containers_removed"], 1);
    assert!(
        rep["expectations"][0]["passed"] == true,
        "the cleanup span is there and OK"
    );
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

#[test]
fn docker_unreachable_is_exit_2_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{BASE}\n[[scenario]]\nname = \"x\"\nservice = \"app\"\nrun = \"true\"\n");
    let p = suite(dir.path(), "nodocker.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(r.code, 2);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {:?}", lines);
    assert!(lines[0].contains("Docker is unreachable"), "{}", lines[0]);
}

#[test]
fn missing_image_is_exit_2_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[service.app]\nimage = \"no-such-image:never\"\n[[scenario]]\nname = \"x\"\nservice = \"app\"\nrun = \"true\"\n";
    let p = suite(dir.path(), "noimage.clnrm.toml", text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no-such-image:never") && r.stderr.contains("not present locally"),
        "{}",
        r.stderr
    );
    assert!(
        !dir.path().join("noimage.report.json").exists(),
        "nothing ran"
    );
}

#[test]
fn cleanup_policy_keeps_a_failed_scenario_for_debugging_until_gc() {
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{BASE}\n[cleanup]\ncontainers = \"on_success\"\nnetworks = \"on_success\"\n\n[[scenario]]\nname = \"passes\"\nservice = \"app\"\nrun = \"true\"\n\n[[scenario]]\nname = \"fails\"\nservice = \"app\"\nrun = \"exit 3\"\nnetwork = \"own\"\n"
    );
    let p = suite(dir.path(), "keep.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 1, "the failing scenario fails the suite");
    let rep = read_report(dir.path(), "keep");
    let run_id = rep["run_id"].as_str().unwrap();
    // The passing scenario was removed; the failing one kept, on purpose.
    let kept = engine_ls("container", &format!("clnrm={run_id}"));
    assert_eq!(
        kept.len(),
        1,
        "the failed scenario's container is kept: {kept:?}"
    );
    assert_eq!(
        engine_ls("network", &format!("clnrm={run_id}")).len(),
        1,
        "and its network"
    );
    let cleanup: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("keep.cleanup.json")).unwrap(),
    )
    .unwrap();
    let fails = cleanup["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == "fails")
        .unwrap();
    assert_eq!(
        fails["kept"].as_array().unwrap().len(),
        2,
        "container and network listed as kept"
    );
    assert_eq!(
        fails["unexpected"].as_array().unwrap().len(),
        0,
        "nothing else remains"
    );
    assert_eq!(fails["success"], true);
    // The run is over: gc takes what it kept.
    let g = run(clnrm().arg("gc"));
    assert_eq!(g.code, 0);
    assert_no_leftovers(run_id);
}

/// A plugin that traps or bloats fails its scenario with a message that says
/// which, and the scenario is still cleaned up.
#[test]
fn trapping_and_bloating_plugins_fail_clearly_and_cleanup_still_runs() {
    let looper = test_plugin_dir().join("looper.wasm");
    for (fault, expected) in [
        ("trap", "plugin `looper` trapped: wasm trap: wasm `unreachable` instruction executed (plugin stderr: "),
        ("bloat", "plugin `looper` exceeded its memory limit of 64 MiB and was stopped"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "[plugins]\nlooper = \"{}\"\n{BASE}\n[[scenario]]\nname = \"bad_{fault}\"\nservice = \"app\"\nrun = \"sleep 1\"\nchaos_injection = {{ type = \"{fault}\" }}\n",
            looper.display()
        );
        let p = suite(dir.path(), "bad.clnrm.toml", &text);
        let r = run(clnrm().arg("run").arg(&p).arg("--report-dir").arg(dir.path()));
        assert_eq!(r.code, 1, "{fault}: the scenario fails");
        assert!(r.stdout.contains(expected), "{fault}: clear error in: {}", r.stdout);
        if fault == "trap" {
            assert!(r.stdout.contains("looper: deliberate trap"), "the panic message is carried: {}", r.stdout);
        }
        let rep = read_report(dir.path(), "bad");
        assert_eq!(rep["scenarios"][0]["cleanup"]["success"], true, "{fault}: cleanup ran");
        assert_eq!(rep["scenarios"][0]["cleanup"]["containers_removed"], 1);
        assert_no_leftovers(rep["run_id"].as_str().unwrap());
    }
}

#[test]
fn timeout_suite_enforces_every_bound_and_cleans_up_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let suite = workspace().join("tests/chaos/timeout_scenarios.clnrm.toml");
    let r = run(clnrm()
        .arg("run")
        .arg(&suite)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0, "the timeout suite passes");
    let rep = read_report(dir.path(), "chaos_timeout_scenarios");
    // Graceful where the container honoured SIGTERM, hard where it did not.
    let graceful = spans_named(&rep, "clnrm.timeout.graceful");
    assert_eq!(graceful.iter().filter(|s| s["status"] == "OK").count(), 1);
    assert_eq!(
        graceful.iter().filter(|s| s["status"] == "ERROR").count(),
        1,
        "the stubborn one ignored SIGTERM"
    );
    // Every scenario but the retried one (which passes) ends in a timeout.
    let cleanups = spans_named(&rep, "clnrm.cleanup");
    assert_eq!(cleanups.len(), 9);
    let mut passed = 0;
    for cleanup in cleanups {
        let parent = parent_name(&rep, cleanup).unwrap_or_default();
        if parent == "clnrm.scenario" {
            assert_eq!(
                attr(cleanup, "cleanup.triggered"),
                Some(&serde_json::json!("success"))
            );
            passed += 1;
            continue;
        }
        assert!(
            parent.ends_with(".enforced"),
            "cleanup reacts to the enforcement, not the step: {parent}"
        );
        assert_eq!(
            attr(cleanup, "cleanup.triggered"),
            Some(&serde_json::json!("timeout"))
        );
    }
    assert_eq!(passed, 1, "only exponential_backoff_retries passes");
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}
