//! chaos-timeout and step retries against the real Docker daemon: a hang
//! freezes the target (its step takes longer by the freeze), a slow start
//! holds the first step (the step itself sees how long after its container's
//! start it ran), a retried step passes on its third attempt in the same
//! container; the recording replays without Docker to the same digest. And
//! steps ending at their bound on real containers keep consistent traces.

mod support;

use serde_json::{json, Value};
use support::*;

const SUITE: &str = r#"
[meta]
name = "timeout_chaos"

[determinism]
seed = 11
freeze_clock = "2025-01-01T00:00:00Z"

[service.app]
image = "clnrm-base:latest"

# A clock read every 100 ms: a freeze shows as one long gap between reads
# (a frozen `sleep` alone would not show it: its timer runs on).
[[scenario]]
name = "hang_then_thaw"
service = "app"
run = "for i in $(seq 20); do cut -d' ' -f1 /proc/uptime; sleep 0.1; done"
chaos_injection = { type = "hang", delay_ms = 500, duration_ms = 1000 }

[[scenario]]
name = "slow_start"
service = "app"
steps = [
  { name = "held", run = "echo since_start=$(awk -v up=\"$(cut -d' ' -f1 /proc/uptime)\" '{printf \"%d\", (up - $22/100) * 1000}' /proc/1/stat)" },
  { name = "not_held", run = "true" },
]
chaos_injection = { type = "slow_start", delay_ms = 1200 }

[[scenario]]
name = "retried"
service = "app"
steps = [{ name = "flaky", run = "n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; [ $n -ge 3 ]", retry = { attempts = 5, backoff_ms = 150, factor = 2.0, jitter = true } }]
"#;

fn step<'a>(rep: &'a Value, scenario: usize, name: &str) -> &'a Value {
    rep["scenarios"][scenario]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

fn event_names(span: &Value) -> Vec<&str> {
    span["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

#[test]
fn hang_slow_start_and_retries_on_docker_then_replay_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "timeout_chaos.clnrm.toml", SUITE);
    let recording = dir.path().join("timeout.recording.json");
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path())
        .arg("--record")
        .arg(&recording));
    assert_eq!(r.code, 0, "the suite passes");
    let rep = read_report(dir.path(), "timeout_chaos");

    // hang: seen paused, then running; the step took the freeze longer.
    let hang = spans_named(&rep, "clnrm.timeout.hang");
    assert_eq!(hang.len(), 1);
    assert_eq!(hang[0]["status"], "OK");
    assert_eq!(attr(hang[0], "hang.observed_state"), Some(&json!("paused")));
    assert_eq!(attr(hang[0], "hang.thawed"), Some(&json!(true)));
    assert_eq!(
        event_names(hang[0]),
        ["processes.frozen", "processes.thawed"]
    );
    let frozen = attr(hang[0], "hang.frozen.observed_ms")
        .and_then(Value::as_i64)
        .unwrap();
    assert!(frozen >= 1000, "frozen {frozen} ms");
    // Seen from inside: the clock reads stopped for the freeze.
    let reads: Vec<f64> = step(&rep, 0, "hang_then_thaw")["stdout"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    let gap = reads.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(gap >= 0.9, "largest gap between reads {gap} s: {reads:?}");

    // slow_start: the held step ran >= 1200 ms after its container started,
    // as the step itself measured from /proc.
    let out = step(&rep, 1, "held")["stdout"]
        .as_str()
        .unwrap()
        .to_string();
    let since: i64 = out
        .trim()
        .strip_prefix("since_start=")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        since >= 1200,
        "the first step ran {since} ms after the start"
    );
    let slow = spans_named(&rep, "clnrm.timeout.slow_start");
    assert_eq!(slow[0]["status"], "OK");
    assert_eq!(attr(slow[0], "delay_ms"), Some(&json!(1200)));
    let held = attr(slow[0], "slow_start.measured_ms")
        .and_then(Value::as_i64)
        .unwrap();
    assert!(held >= 1200, "held {held} ms");
    assert_eq!(event_names(slow[0]), ["step.released"]);

    // Retries: three attempts in one container, the waits from the seed.
    let b = spans_named(&rep, "clnrm.retry.backoff");
    assert_eq!(attr(b[0], "attempts.total"), Some(&json!(3)));
    assert_eq!(attr(b[0], "attempts.failed"), Some(&json!(2)));
    assert_eq!(event_names(b[0]), ["retry.1", "retry.2"]);
    let mut attempts = spans_named(&rep, "clnrm.retry.attempt");
    attempts.sort_by_key(|s| attr(s, "attempt.number").and_then(Value::as_i64));
    for (a, (lo, hi)) in attempts.iter().skip(1).zip([(75, 150), (150, 300)]) {
        let w = attr(a, "backoff.ms").and_then(Value::as_i64).unwrap();
        let m = attr(a, "backoff.measured_ms")
            .and_then(Value::as_i64)
            .unwrap();
        assert!((lo..=hi).contains(&w), "wait {w} outside [{lo}, {hi}]");
        assert!(m >= w, "waited {m} ms for a {w} ms backoff");
    }
    assert_eq!(step(&rep, 2, "flaky")["result"], "pass");
    assert_no_leftovers(rep["run_id"].as_str().unwrap());

    // The hold went through the journal: replay answers it, no Docker.
    let text = std::fs::read_to_string(&recording).unwrap();
    assert!(
        text.contains("\"scenario.hold-first-step\""),
        "hold not journaled"
    );
    let digest = rep["digest"].as_str().unwrap();
    assert_replays_to(&recording, digest);
}

/// Every step with a timeout has exactly one enforcement, every other none;
/// one cleanup per scenario, under an enforcement when a step timed out.
fn assert_consistent(rep: &Value) {
    let spans = rep["spans"].as_array().unwrap();
    let kids = |id: &Value, name: &str| -> Vec<&Value> {
        spans
            .iter()
            .filter(|s| &s["parent"] == id && s["name"] == name)
            .collect()
    };
    for sc in spans.iter().filter(|s| s["name"] == "clnrm.scenario") {
        let mut enforced_ids = Vec::new();
        for st in spans.iter().filter(|s| {
            s["parent"] == sc["id"] && s["name"].as_str().unwrap().starts_with("clnrm.step:")
        }) {
            let e = kids(&st["id"], "clnrm.timeout.enforced");
            let timed_out = attr(st, "error.type") == Some(&json!("timeout"));
            assert_eq!(e.len(), usize::from(timed_out), "{st}");
            if let Some(e) = e.first() {
                assert_eq!(e["status"], "OK", "{e}");
                assert_eq!(attr(e, "timeout.observed"), Some(&json!(true)));
                enforced_ids.push(e["id"].clone());
            }
            let passed = attr(st, "result") == Some(&json!("pass"));
            assert_eq!(passed, st["status"] == "OK", "{st}");
        }
        let cleanups: Vec<_> = spans
            .iter()
            .filter(|s| {
                s["name"] == "clnrm.cleanup"
                    && (s["parent"] == sc["id"]
                        || spans.iter().any(|p| {
                            p["id"] == s["parent"] && {
                                let mut cur = p;
                                loop {
                                    if cur["id"] == sc["id"] {
                                        break true;
                                    }
                                    match spans.iter().find(|x| x["id"] == cur["parent"]) {
                                        Some(x) => cur = x,
                                        None => break false,
                                    }
                                }
                            }
                        }))
            })
            .collect();
        assert_eq!(cleanups.len(), 1, "one cleanup per scenario");
        assert_eq!(cleanups[0]["status"], "OK");
        if !enforced_ids.is_empty() {
            assert!(
                enforced_ids.contains(&cleanups[0]["parent"]),
                "cleanup not under an enforcement"
            );
        }
    }
}

#[test]
fn commands_ending_at_their_bound_on_docker_keep_one_outcome_each() {
    // 3 scenarios × 6 containers whose commands end around their 1000 ms
    // bound (exec overhead included): each side of the race may win, every
    // trace must agree with it.
    let mut text = String::from("[meta]\nname = \"real_races\"\n");
    for i in 0..6 {
        text += &format!("[service.s{i}]\nimage = \"clnrm-base:latest\"\n");
    }
    for n in 0..3 {
        text += &format!("[[scenario]]\nname = \"race{n}\"\nparallel_services = true\nrun = [\n");
        for i in 0..6 {
            text += &format!(
                "  {{ name = \"r{n}_{i}\", service = \"s{i}\", command = \"sleep {}\", timeout_ms = 1000 }},\n",
                0.6 + 0.08 * i as f64
            );
        }
        text += "]\n";
    }
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "races.clnrm.toml", &text);
    let recording = dir.path().join("races.recording.json");
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path())
        .arg("--record")
        .arg(&recording));
    // Whether any step timed out depends on the race: both codes are fine.
    assert!(r.code == 0 || r.code == 1, "exit {}", r.code);
    let rep = read_report(dir.path(), "real_races");
    assert_consistent(&rep);
    let steps: usize = rep["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["steps"].as_array().unwrap().len())
        .sum();
    assert_eq!(steps, 18);
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
    // The outcomes are recorded with the trace: replay reproduces them.
    let digest = rep["digest"].as_str().unwrap();
    assert_replays_to(&recording, digest);
}

#[test]
fn bad_timeout_tables_are_input_errors_at_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let head = "[meta]\nname = \"bad\"\n[service.app]\nimage = \"clnrm-base:latest\"\n[[scenario]]\nname = \"s\"\nservice = \"app\"\n";
    let cases = [
        (
            "run = \"true\"\nchaos_injection = { type = \"clock_skew\", skew_ms = 500 }\n",
            ":9:",
            "clock_skew cannot be done for real on this host: a time namespace offsets only CLOCK_MONOTONIC",
        ),
        (
            "run = \"true\"\nchaos_injection = { type = \"hang\", duraton_ms = 5 }\n",
            ":9:",
            "did you mean \"duration_ms\"?",
        ),
        (
            "steps = [{ run = \"x\", retry = { attempts = 3, backof_ms = 5 } }]\n",
            ":8:",
            "did you mean `backoff_ms`?",
        ),
        (
            "steps = [{ run = \"x\", retry = { attempts = 3, factor = 0.5 } }]\n",
            ":8:",
            "retry.factor = 0.5: must be a number >= 1.0",
        ),
    ];
    for (i, (body, at, want)) in cases.iter().enumerate() {
        let p = suite(
            dir.path(),
            &format!("bad{i}.clnrm.toml"),
            &format!("{head}{body}"),
        );
        let r = run(clnrm().arg("validate").arg(&p));
        assert_eq!(r.code, 2, "case {i}");
        let text = r.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains(&format!("bad{i}.clnrm.toml{at}")),
            "case {i}: {text}"
        );
        assert!(text.contains(want), "case {i}: {want} not in {text}");
    }
}
