//! Concurrent chaos (chaos-concurrent, the host's `compose` interface): the
//! monkey's choices follow the seed; the concurrent suite replays without
//! Docker to its digest, and a changed composed plugin is caught inside the
//! composition; eight containers under faults at once finish within their
//! deadline; a bad composition is an input error before anything starts.

mod support;

use std::path::Path;
use support::*;

const MONKEY: &str = r#"
[meta]
name = "monkey"

[determinism]
seed = 42
freeze_clock = "2025-01-01T00:00:00Z"

[service.s1]
image = "clnrm-base:latest"
[service.s2]
image = "clnrm-base:latest"
[service.s3]
image = "clnrm-base:latest"
[service.s4]
image = "clnrm-base:latest"
[service.s5]
image = "clnrm-base:latest"

[[scenario]]
name = "monkey"
service = "s1"
parallel_services = ["s2", "s3", "s4", "s5"]
run = "true"
# The strikes start after the step has long ended and a stopped keep-alive
# has ample grace, so a loaded machine cannot change what happened (a pause
# landing on the running step, a stop that had to SIGKILL): only the seed does.
chaos_injection = { type = "chaos_monkey", delay_ms = 1000, failure_rate_percent = 60, rounds = 8, interval_ms = 20, faults = [
  { type = "pause_container", duration_ms = 50 },
  { type = "stop_container", grace_period_ms = 2000 },
] }

[[expect.span]]
name = "clnrm.chaos.monkey"
status = "OK"
attrs.all = { "chaos.random" = "true", "monkey.rounds" = 8 }
"#;

struct Monkey {
    digest: String,
    choices: String,
}

fn monkey_once(dir: &Path, extra: &[&str]) -> Monkey {
    let p = suite(dir, "monkey.clnrm.toml", MONKEY);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir)
        .args(extra));
    assert_eq!(r.code, 0, "the monkey's strikes are all observed");
    let rep = read_report(dir, "monkey");
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
    let m = spans_named(&rep, "clnrm.chaos.monkey")[0].clone();
    let choices = attr(&m, "monkey.choices")
        .and_then(|v| v.as_str())
        .expect("choices recorded")
        .to_string();
    let strikes = attr(&m, "monkey.strikes").and_then(|v| v.as_i64()).unwrap();
    assert_eq!(
        choices.split(',').filter(|c| !c.is_empty()).count() as i64,
        strikes,
        "one choice per strike: {choices}"
    );
    // Every strike is a composed fault whose span hangs under the monkey's.
    for s in rep["spans"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        if name == "clnrm.chaos.pause" || name == "clnrm.chaos.stop" {
            assert_eq!(parent_name(&rep, s).as_deref(), Some("clnrm.chaos.monkey"));
        }
    }
    Monkey {
        digest: rep["digest"].as_str().unwrap().to_string(),
        choices,
    }
}

#[test]
fn the_monkey_chooses_by_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let first = monkey_once(dir.path(), &[]);
    let again = monkey_once(dir.path(), &[]);
    assert_eq!(again.choices, first.choices, "same seed, same choices");
    assert_eq!(again.digest, first.digest, "same seed, same digest");
    let other = ["7", "8", "9"]
        .iter()
        .map(|s| monkey_once(dir.path(), &["--seed", s]))
        .find(|o| o.choices != first.choices)
        .expect("another seed chooses differently");
    assert_ne!(other.digest, first.digest, "other choices, other digest");
}

#[test]
fn the_concurrent_suite_replays_without_docker_and_catches_a_changed_composed_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("concurrent.recording.json");
    let r = run(clnrm()
        .arg("run")
        .arg(workspace().join("tests/chaos/concurrent_chaos.clnrm.toml"))
        .arg("--report-dir")
        .arg(dir.path())
        .arg("--record")
        .arg(&rec));
    assert_eq!(r.code, 0, "the suite passes: {}\n{}", r.stdout, r.stderr);
    let rep = read_report(dir.path(), "chaos_concurrent");
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
    let digest = rep["digest"].as_str().unwrap().to_string();
    let recording = std::fs::read_to_string(&rec).unwrap();
    assert!(
        recording.contains("\"compose.run-all\"") && recording.contains("\"nested\""),
        "composed faults are recorded with their own host calls"
    );

    let started = std::time::Instant::now();
    assert_replays_to(&rec, &digest);
    assert!(
        started.elapsed().as_secs() < 15,
        "no real sleeping in replay"
    );

    // chaos-container replaced by a build that sends SIGTERM where SIGKILL is
    // configured: the divergence is found inside the composition.
    let line = replay_with_kill_variant(&rec);
    assert!(
        line.contains("plugin `chaos-concurrent`")
            && line.contains("compose.run-all, fault #1, its call #")
            && line.contains("\"SIGTERM\")"),
        "names the composition, the composed call and what differs: {line}"
    );
}

#[test]
fn eight_containers_under_faults_at_once_finish_within_their_deadline() {
    let mut text = String::from(
        "[meta]\nname = \"eight\"\n[determinism]\nseed = 1\n[limits]\nmax_duration_seconds = 40\n",
    );
    let ids: Vec<String> = (1..=8).map(|i| format!("n{i}")).collect();
    for id in &ids {
        text.push_str(&format!("[service.{id}]\nimage = \"clnrm-base:latest\"\n"));
    }
    text.push_str(
        "[[scenario]]\nname = \"eight\"\nparallel_services = true\ndeadline_ms = 15000\nrun = [\n",
    );
    for id in &ids {
        text.push_str(&format!(
            "  {{ service = \"{id}\", command = \"sleep 1; echo survived\" }},\n"
        ));
    }
    text.push_str(
        "]\nchaos_injection = { type = \"concurrent_stress\", delay_ms = 200, fault = { type = \"pause_container\", duration_ms = 500 } }\n\
         [[expect.span]]\nname = \"clnrm.stress.concurrent\"\nstatus = \"OK\"\n\
         attrs.all = { \"containers.concurrent\" = 8, \"failures.total\" = 8 }\n\
         [[expect.span]]\nname = \"clnrm.chaos.pause\"\nparent = \"clnrm.stress.concurrent\"\nstatus = \"OK\"\ncount = { eq = 8 }\n\
         [[expect.span]]\nname = \"clnrm.cleanup.concurrent\"\nattrs.all = { \"containers.cleaned\" = \"8\", \"cleanup.parallel\" = \"true\" }\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "eight.clnrm.toml", &text);
    let started = std::time::Instant::now();
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    let took = started.elapsed();
    assert_eq!(r.code, 0, "eight frozen-and-thawed steps all pass");
    assert!(
        took.as_secs() < 40,
        "finished well within its bounds, no deadlock ({took:?})"
    );
    let rep = read_report(dir.path(), "eight");
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
    let steps = rep["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"].as_str().unwrap().starts_with("clnrm.step:"))
        .count();
    assert_eq!(steps, 8);
    // The eight freezes overlapped: each started before any of them ended.
    let pauses = spans_named(&rep, "clnrm.chaos.pause");
    let last_start = pauses.iter().map(|s| s["start_ns"].as_u64().unwrap()).max();
    let first_end = pauses.iter().map(|s| s["end_ns"].as_u64().unwrap()).min();
    assert!(last_start < first_end, "the faults ran at the same time");
}

/// A suite with one composing injection; `faults` replaced per case.
fn composing(faults: &str) -> String {
    format!(
        "[meta]\nname = \"bad\"\n[service.a]\nimage = \"clnrm-base:latest\"\n[service.b]\nimage = \"clnrm-base:latest\"\n\
         [[scenario]]\nname = \"x\"\nservice = \"a\"\nparallel_services = [\"b\"]\nrun = \"true\"\n\
         chaos_injection = {{ type = \"chaos_monkey\", failure_rate_percent = 50, faults = {faults} }}\n"
    )
}

#[test]
fn a_bad_composition_is_an_input_error_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 4] = [
        (
            "[\"kill_containr\"]",
            "unknown fault type `kill_containr`",
            "did you mean `kill_container`?",
        ),
        (
            "[{ type = \"pause_container\", duraton_ms = 5 }]",
            "unknown key \"duraton_ms\" in chaos_injection.faults[0]",
            "did you mean \"duration_ms\"?",
        ),
        (
            "[\"cascade_failure\"]",
            "a plugin cannot compose itself",
            "compose fault types of other plugins",
        ),
        (
            "[{ type = \"kill_container\", target = \"b\" }]",
            "the composing fault picks the target",
            "",
        ),
    ];
    for (faults, message, help) in cases {
        let text = composing(faults);
        let p = suite(dir.path(), "bad.clnrm.toml", &text);
        let r = run(clnrm().arg("validate").arg(&p));
        assert_eq!(r.code, 2, "{faults}: bad input");
        let line = text
            .lines()
            .position(|l| l.contains("chaos_injection"))
            .unwrap()
            + 1;
        assert!(
            r.stderr.contains(&format!("bad.clnrm.toml:{line}:")),
            "{faults}: file:line:col of the entry: {}",
            r.stderr
        );
        assert!(r.stderr.contains(message), "{faults}: {}", r.stderr);
        assert!(r.stderr.contains(help), "{faults}: {}", r.stderr);
    }
    // A monkey target that is not a service of the scenario.
    let text = composing("[\"kill_container\"]").replace(
        "failure_rate_percent = 50",
        "targets = [\"a\", \"c\"], failure_rate_percent = 50",
    );
    let p = suite(dir.path(), "bad.clnrm.toml", &text);
    let r = run(clnrm().arg("validate").arg(&p));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`c` is not a service of this scenario"),
        "{}",
        r.stderr
    );
}

const STEP_CASCADE: &str = r#"
[meta]
name = "step_cascade"

[service.db]
image = "clnrm-base:latest"
args = ["nc", "-ll", "-p", "8080", "-e", "echo", "up"]

# api's container stays up (no health check of its own): only its step
# notices db going away.
[service.api]
image = "clnrm-base:latest"
depends_on = ["db"]

[[scenario]]
name = "api_step_fails"
service = "api"
parallel_services = ["db"]
run = """
  i=0; until timeout 1 nc -w 1 db 8080 </dev/null >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 50 ] || exit 9; sleep 0.1; done
  while timeout 1 nc -w 1 db 8080 </dev/null >/dev/null 2>&1; do sleep 0.1; done
  exit 4"""
expect_failure = true
chaos_injection = { type = "cascade_failure", root = "db", delay_ms = 500, observe_timeout_ms = 4000 }
"#;

/// A dependent whose container lives on but whose step exits non-zero after
/// its cause failed is part of the cascade (`failed.by = "step"`).
#[test]
fn a_dependent_whose_step_fails_is_in_the_cascade() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "step_cascade.clnrm.toml", STEP_CASCADE);
    let recording = dir.path().join("step_cascade.recording.json");
    let r = run_recorded(dir.path(), &p, &recording);
    assert_eq!(r.code, 0, "the scenario fails as expected: {}", r.stderr);
    let rep = read_report(dir.path(), "step_cascade");
    let c = spans_named(&rep, "clnrm.failure.cascade");
    assert_eq!(c.len(), 1, "{c:#?}");
    let c = c[0];
    assert_eq!(c["status"], "OK", "{c:#?}");
    assert_eq!(attr(c, "cascade.depth"), Some(&serde_json::json!(2)));
    assert_eq!(
        attr(c, "cascade.path"),
        Some(&serde_json::json!("db -> api"))
    );
    assert_eq!(attr(c, "chaos.observed"), Some(&serde_json::json!(true)));
    let failed: Vec<&serde_json::Value> = c["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["name"] == "cascade.failed")
        .collect();
    assert_eq!(failed.len(), 2, "{failed:#?}");
    let api = failed[1];
    for (k, v) in [
        ("service", serde_json::json!("api")),
        ("failed.by", serde_json::json!("step")),
        ("step.name", serde_json::json!("api_step_fails")),
        ("exit.code", serde_json::json!(4)),
        ("cascade.depth", serde_json::json!(2)),
    ] {
        assert_eq!(attr(api, k), Some(&v), "{k} of {api:#?}");
    }
    // The step failed on its own terms; api's container never stopped.
    let step = spans_named(&rep, "clnrm.step:api_step_fails");
    assert_eq!(attr(step[0], "exit.code"), Some(&serde_json::json!(4)));
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
    // `scenario.finished-steps` is journaled: the replay needs no Docker.
    assert_replays_to(&recording, rep["digest"].as_str().unwrap());
}
