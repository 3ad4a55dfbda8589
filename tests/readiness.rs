//! Readiness, files and mounts against the real Docker daemon: a service that
//! opens its port late holds its dependent and the steps back (proved by the
//! kernel's clock inside the containers and by the trace); one that never
//! gets ready fails with `not_ready`, its output in the reason, nothing left;
//! log-line, http, exec and health-check probes; `recovery_probe = "ready"`;
//! `files`, `mounts`, `workdir`, `user`, `hostname`, `network_aliases`.

mod support;

use serde_json::Value;
use support::*;

/// The one span of this name.
fn one<'a>(rep: &'a Value, name: &str) -> &'a Value {
    let s = spans_named(rep, name);
    assert_eq!(s.len(), 1, "{name}: {s:?}");
    s[0]
}

fn ns(span: &Value, key: &str) -> u64 {
    span[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {span}"))
}

fn ready_of<'a>(rep: &'a Value, service: &str) -> &'a Value {
    spans_named(rep, "clnrm.service.ready")
        .into_iter()
        .find(|s| attr(s, "service.id") == Some(&Value::from(service)))
        .unwrap_or_else(|| panic!("no clnrm.service.ready for {service}"))
}

fn run_suite(dir: &std::path::Path, name: &str, text: &str) -> (Run, Value) {
    let path = suite(dir, &format!("{name}.clnrm.toml"), text);
    let r = run(clnrm().arg("run").arg(&path).arg("--report-dir").arg(dir));
    let rep = read_report(dir, name);
    (r, rep)
}

/// The server opens its port 1.5 s after it starts; the client depends on it
/// and the steps run on both. Neither the client nor a step may start before
/// the port is open.
#[test]
fn a_late_port_holds_back_the_dependent_and_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let (r, rep) = run_suite(
        dir.path(),
        "late_port",
        r#"
[meta]
name = "late_port"

[service.server]
image = "clnrm-base:latest"
network_aliases = ["api"]
args = ["sh", "-c", "sleep 1.5; cut -d' ' -f1 /proc/uptime > /tmp/opened; exec nc -ll -p 8080 -e echo up"]
ready = { tcp = 8080 }
ready_timeout_ms = 20000

[service.client]
image = "clnrm-base:latest"
depends_on = ["server"]
args = ["sh", "-c", "cut -d' ' -f1 /proc/uptime > /tmp/started; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]

[[scenario]]
name = "late"
service = "client"
run = [
  { name = "client_started_after_open", service = "client", command = "cat /tmp/started" },
  { name = "server_opened", service = "server", command = "echo opened=$(cat /tmp/opened) now=$(cut -d' ' -f1 /proc/uptime)" },
  { name = "alias_answers", service = "client", command = "nc -w 2 api 8080 </dev/null" },
]
"#,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let steps = rep["scenarios"][0]["steps"].as_array().unwrap();
    let out = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .and_then(|s| s["stdout"].as_str())
            .unwrap_or_else(|| panic!("no stdout for {name}: {steps:?}"))
            .to_string()
    };
    // The kernel's uptime, the same clock in every container.
    let num = |s: &str| s.trim().parse::<f64>().unwrap_or_else(|_| panic!("{s:?}"));
    let served = out("server_opened");
    let (opened, now) = served
        .trim()
        .strip_prefix("opened=")
        .and_then(|s| s.split_once(" now="))
        .unwrap_or_else(|| panic!("{served}"));
    let (opened, now) = (num(opened), num(now));
    assert!(
        now >= opened,
        "the step ran before the port opened: {served}"
    );
    let client_started = num(&out("client_started_after_open"));
    assert!(
        client_started >= opened,
        "client started at {client_started}, before the server opened at {opened}"
    );
    assert!(out("alias_answers").contains("up"));
    // The trace says the same: ready after the delay, before the client and the steps.
    let ready = ready_of(&rep, "server");
    assert_eq!(ready["status"], "OK", "{ready}");
    assert_eq!(attr(ready, "ready.probe"), Some(&Value::from("tcp")));
    assert!(
        attr(ready, "ready.ms").unwrap().as_i64().unwrap() >= 1000,
        "{ready}"
    );
    assert!(
        attr(ready, "ready.attempts").unwrap().as_i64().unwrap() > 1,
        "{ready}"
    );
    assert_eq!(parent_name(&rep, ready).as_deref(), Some("clnrm.scenario"));
    let client_start = spans_named(&rep, "clnrm.service.start")
        .into_iter()
        .find(|s| attr(s, "service.id") == Some(&Value::from("client")))
        .unwrap();
    assert!(ns(client_start, "start_ns") >= ns(ready, "end_ns"));
    for st in rep["spans"].as_array().unwrap() {
        if st["name"].as_str().unwrap().starts_with("clnrm.step:") {
            assert!(ns(st, "start_ns") >= ns(ready, "end_ns"), "{st}");
        }
    }
    // The client declares no `ready`: no span for it.
    assert_eq!(spans_named(&rep, "clnrm.service.ready").len(), 1);
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

/// Never ready: not_ready, no step, its output in the reason, nothing left.
#[test]
fn a_port_that_never_opens_fails_not_ready_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (r, rep) = run_suite(
        dir.path(),
        "never",
        r#"
[meta]
name = "never"

[service.db]
image = "clnrm-base:latest"
args = ["sh", "-c", "echo booting; echo 'bind: address in use' >&2; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]
ready = { tcp = 5432 }
ready_timeout_ms = 1500

[[scenario]]
name = "never"
service = "db"
run = "echo should-not-run"
"#,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let sc = &rep["scenarios"][0];
    assert_eq!(sc["passed"], false);
    let reason = sc["reason"].as_str().unwrap();
    assert!(reason.contains("service `db` not ready after"), "{reason}");
    assert!(reason.contains("tcp probe"), "{reason}");
    assert!(
        reason.contains("bind: address in use") && reason.contains("booting"),
        "{reason}"
    );
    assert!(sc["steps"].as_array().unwrap().is_empty(), "{sc}");
    let ready = one(&rep, "clnrm.service.ready");
    assert_eq!(ready["status"], "ERROR");
    assert_eq!(attr(ready, "error.type"), Some(&Value::from("not_ready")));
    let ms = attr(ready, "ready.ms").unwrap().as_i64().unwrap();
    assert!((1400..5000).contains(&ms), "{ms}");
    assert!(rep["spans"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| !s["name"].as_str().unwrap().starts_with("clnrm.step:")));
    assert!(!spans_named(&rep, "clnrm.cleanup").is_empty());
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

/// log, http, exec and a service healthcheck, in one scenario started at
/// once; the steps see what each probe waited for.
#[test]
fn log_http_exec_and_healthcheck_probes() {
    let dir = tempfile::tempdir().unwrap();
    let (r, rep) = run_suite(
        dir.path(),
        "probes",
        r#"
[meta]
name = "probes"

[service.logger]
image = "clnrm-base:latest"
args = ["sh", "-c", "sleep 1; echo noise; echo 'listening on 0.0.0.0:9000'; touch /tmp/said; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]
ready = { log = "listening on .*:9000" }

[service.web]
image = "clnrm-base:latest"
args = ["sh", "-c", "mkdir -p /www; echo ok > /www/healthz; sleep 1; touch /tmp/up; exec httpd -f -p 8080 -h /www"]
ready = { http = "http://localhost:8080/healthz", status = 200 }

[service.worker]
image = "clnrm-base:latest"
args = ["sh", "-c", "sleep 1; touch /tmp/ready; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]
ready = { exec = "test -f /tmp/ready" }

[service.checked]
image = "clnrm-base:latest"
args = ["sh", "-c", "sleep 1; touch /tmp/healthy; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]
ready = "healthcheck"
healthcheck = { test = ["CMD", "test", "-f", "/tmp/healthy"], interval_ms = 100, retries = 50 }

[[scenario]]
name = "probes"
parallel_services = ["logger", "web", "worker", "checked"]
run = [
  { service = "logger", command = "test -f /tmp/said" },
  { service = "web", command = "test -f /tmp/up" },
  { service = "worker", command = "test -f /tmp/ready" },
  { service = "checked", command = "test -f /tmp/healthy" },
]
"#,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for (svc, kind) in [
        ("logger", "log"),
        ("web", "http"),
        ("worker", "exec"),
        ("checked", "healthcheck"),
    ] {
        let s = ready_of(&rep, svc);
        assert_eq!(s["status"], "OK", "{s}");
        assert_eq!(attr(s, "ready.probe"), Some(&Value::from(kind)));
        // Each waited for its service's one-second delay.
        assert!(attr(s, "ready.ms").unwrap().as_i64().unwrap() >= 700, "{s}");
    }
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

/// An image's own HEALTHCHECK; an unhealthy one gives up after its retries,
/// long before the timeout.
#[test]
fn the_images_healthcheck_and_an_unhealthy_service() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("img");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM clnrm-base:latest\nLABEL clnrm-test=readiness\nHEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD test -f /tmp/healthy\n",
    )
    .unwrap();
    let tag = "clnrm-test-healthcheck:latest";
    // Podman builds OCI images by default, which have no HEALTHCHECK: ask for Docker's format.
    let format: &[&str] = if engine() == "podman" {
        &["--format", "docker"]
    } else {
        &[]
    };
    let ctx = ctx.to_str().unwrap();
    let (built, out) = engine_cli(&[&["build", "-q", "-t", tag][..], format, &[ctx]].concat());
    assert!(built, "{out}");
    let (r, rep) = run_suite(
        dir.path(),
        "image_health",
        &format!(
            r#"
[meta]
name = "image_health"

[service.good]
image = "{tag}"
args = ["sh", "-c", "sleep 0.5; touch /tmp/healthy; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]
ready = "healthcheck"

[service.sick]
image = "{tag}"
ready = "healthcheck"
ready_timeout_ms = 60000

[[scenario]]
name = "good"
service = "good"
run = "test -f /tmp/healthy"

[[scenario]]
name = "sick"
service = "sick"
run = "true"
"#
        ),
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let good = ready_of(&rep, "good");
    assert_eq!(good["status"], "OK", "{good}");
    let sick = ready_of(&rep, "sick");
    assert_eq!(sick["status"], "ERROR");
    assert_eq!(attr(sick, "error.type"), Some(&Value::from("not_ready")));
    // Three failed checks a second apart: about 2 s, not the 60 s timeout.
    assert!(
        attr(sick, "ready.ms").unwrap().as_i64().unwrap() < 10_000,
        "{sick}"
    );
    assert_eq!(attr(sick, "ready.attempts"), Some(&Value::from(3)));
    let reason = rep["scenarios"][1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("unhealthy: 3 failed checks in a row"),
        "{reason}"
    );
    assert_eq!(rep["scenarios"][0]["passed"], true);
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
    let _ = engine_cli(&["rmi", "-f", tag]);
}

/// `recovery_probe = "ready"` after a pause: the probe passes again.
#[test]
fn recovery_probe_ready_reuses_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let (r, rep) = run_suite(
        dir.path(),
        "recovers",
        r#"
[meta]
name = "recovers"

[determinism]
seed = 5

[service.app]
image = "clnrm-base:latest"
args = ["nc", "-ll", "-p", "8080", "-e", "echo", "up"]
ready = { tcp = 8080 }

[[scenario]]
name = "paused"
service = "app"
# The pause comes well after the step's exec started (an exec into a paused
# container fails with 126), and ends before it does.
run = "sleep 3"
recovery_probe = "ready"
chaos_injection = { type = "pause_container", delay_ms = 1200, duration_ms = 500 }
"#,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // Probe timings and counts stay out of the digest: a second run agrees.
    let again = tempfile::tempdir().unwrap();
    let (r2, rep2) = run_suite(
        again.path(),
        "recovers",
        &std::fs::read_to_string(dir.path().join("recovers.clnrm.toml")).unwrap(),
    );
    assert_eq!(r2.code, 0);
    assert_eq!(rep["digest"], rep2["digest"]);
    let rec = one(&rep, "clnrm.resource.recovery");
    assert_eq!(attr(rec, "recovery.check"), Some(&Value::from("ready")));
    assert_eq!(attr(rec, "ready.probe"), Some(&Value::from("tcp")));
    assert_eq!(attr(rec, "recovery.success"), Some(&Value::from(true)));
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

/// files copied in before start, a read-only bind mount, workdir, user, hostname.
#[test]
fn files_mounts_and_the_rest_of_a_service() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("fixtures/conf.d")).unwrap();
    std::fs::write(dir.path().join("fixtures/config.toml"), "answer = 42\n").unwrap();
    std::fs::write(dir.path().join("fixtures/conf.d/extra.toml"), "x = 1\n").unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/hello"), "from the host\n").unwrap();
    let (r, rep) = run_suite(
        dir.path(),
        "files",
        r#"
[meta]
name = "files"

[service.app]
image = "clnrm-base:latest"
# The config must be there when the command starts, not only for the steps.
args = ["sh", "-c", "cp /etc/app/config.toml /tmp/seen-at-start; trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]
files = { "/etc/app/config.toml" = "fixtures/config.toml", "/etc/app/conf.d" = "fixtures/conf.d" }
mounts = [{ source = "data", target = "/data", read_only = true }]
workdir = "/data"
user = "1000:1000"
hostname = "svc-one"

[[scenario]]
name = "files"
service = "app"
steps = [
  { name = "at_start", run = "grep -q 'answer = 42' /tmp/seen-at-start" },
  { name = "folder", run = "grep -q 'x = 1' /etc/app/conf.d/extra.toml" },
  { name = "mounted", run = "grep -q 'from the host' hello && [ \"$(pwd)\" = /data ]" },
  { name = "read_only", run = "! touch /data/nope 2>/dev/null" },
  { name = "identity", run = "[ \"$(id -u)\" = 1000 ] && [ \"$(hostname)\" = svc-one ]" },
]
"#,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!dir.path().join("data/nope").exists());
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

/// `clnrm doctor` on this machine (the one these tests need): the engine and
/// its version, the base image, exit 0.
#[test]
fn doctor_says_this_machine_is_ready() {
    let r = run(clnrm().arg("doctor"));
    assert_eq!(r.code, 0, "{}", r.stdout);
    for line in [
        "✓ engine: ",
        "(API ",
        "✓ cgroups: ",
        "✓ NFQUEUE: ",
        "✓ plugins: ",
        "✓ base image: clnrm-base:latest present",
    ] {
        assert!(r.stdout.contains(line), "{line}: {}", r.stdout);
    }
    assert!(
        r.stdout.contains("ready: clnrm can run here"),
        "{}",
        r.stdout
    );
}
