//! The four reports and the OTEL export, end to end against the real Docker
//! daemon, each read back by a consumer that is not ours: Python's
//! `junitparser` reads the JUnit file, the official `opentelemetry-proto`
//! definitions decode the OTLP/HTTP protobuf (tests/otlp_receiver.py) and the
//! OTLP/JSON lines (`google.protobuf.json_format`). `cargo xtask setup`
//! installs those Python packages.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// 2026-01-01T00:00:00Z in Unix ns.
const FROZEN_NS: u64 = 1_767_225_600_000_000_000;

const BASE: &str = r#"
[determinism]
seed = 4242
freeze_clock = "2026-01-01T00:00:00Z"

[service.app]
image = "clnrm-base:latest"
"#;

/// Run a Python snippet (argv[1..] = args) and parse the JSON it prints.
fn python_json(script: &str, args: &[&Path]) -> Value {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs (cargo xtask setup installs its packages)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("python printed no JSON ({e}): {stdout}"))
}

/// junitparser's view of a JUnit file.
const JUNITPARSER: &str = r#"
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for s in xml:
    cases = [{"name": c.name, "classname": c.classname, "time": c.time, "passed": c.is_passed,
              "results": [{"kind": type(r).__name__, "message": r.message, "type": r.type} for r in c.result]}
             for c in s]
    suites.append({"name": s.name, "tests": s.tests, "failures": s.failures, "errors": s.errors,
                   "time": s.time, "timestamp": s.timestamp,
                   "properties": {p.name: p.value for p in s.properties()}, "cases": cases})
print(json.dumps({"suites": suites}))
"#;

/// Every line of an OTLP/JSON file parsed strictly (unknown fields are
/// errors) into the official ExportTraceServiceRequest. OTLP/JSON writes ids
/// as hex where protobuf's JSON mapping has base64; they are converted first,
/// as the OTLP spec tells receivers to.
const OTLP_JSON: &str = r#"
import base64, json, sys
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
def b64(h): return base64.b64encode(bytes.fromhex(h)).decode()
out = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in sp:
                        sp[k] = b64(sp[k])
    req = json_format.Parse(json.dumps(d), ExportTraceServiceRequest())
    spans = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    ids = {s.span_id for s in spans}
    out.append({
        "spans": len(spans),
        "names": [s.name for s in spans],
        "trace_ids": sorted({s.trace_id.hex() for s in spans}),
        "roots": [s.name for s in spans if not s.parent_span_id],
        "dangling_parents": sum(1 for s in spans if s.parent_span_id and s.parent_span_id not in ids),
        "min_start": min(s.start_time_unix_nano for s in spans),
        "resource": {kv.key: kv.value.string_value for rs in req.resource_spans for kv in rs.resource.attributes},
        "error_spans": [s.name for s in spans if s.status.code == 2],
    })
print(json.dumps(out))
"#;

fn read(dir: &Path, file: &str) -> String {
    let p = dir.join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn json_file(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&read(dir, file)).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

#[test]
fn the_four_reports_are_written_and_read_by_a_real_junit_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[meta]
name = "meta_name_is_not_used"
{BASE}
[report]
name = "four"

[[scenario]]
name = "killed"
service = "app"
run = "echo started; sleep 30"
expect_failure = true
chaos_injection = {{ type = "kill_container", delay_ms = 300, signal = "SIGKILL" }}

[[scenario]]
name = "exit_42"
service = "app"
run = "exit 42"

[[expect.span]]
name = "clnrm.step:killed"
attrs.all = {{ "exit.code" = "137" }}

[[expect.span]]
name = "clnrm.step:exit_42"
attrs.all = {{ "exit.code" = "41" }}
"#
    );
    let p = suite(dir.path(), "four.clnrm.toml", &text);
    let out = dir.path().join("reports");
    let r = run(clnrm().arg("run").arg(&p).arg("--report-dir").arg(&out));
    assert_eq!(
        r.code, 1,
        "a failed scenario and a false expectation fail the run"
    );
    for f in [
        "four.report.json",
        "four.junit.xml",
        "four.trace.sha256",
        "four.cleanup.json",
        "four.otlp.jsonl",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
        assert!(
            r.stdout.contains(&format!("{}", out.join(f).display())),
            "{f} announced on stdout"
        );
    }

    // JSON report: digest, seed, time, plugins, verdicts with messages.
    let rep = json_file(&out, "four.report.json");
    let run_id = rep["run_id"].as_str().unwrap().to_string();
    assert_eq!(rep["seed"], 4242);
    assert_eq!(rep["epoch_unix_ns"], FROZEN_NS);
    assert_eq!(rep["started_at"], "2026-01-01T00:00:00.000Z");
    assert_eq!(rep["trace_id"].as_str().unwrap().len(), 32);
    let digest = rep["digest"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 64);
    assert_eq!(
        rep["plugins"]["chaos-container"]["version"]
            .as_str()
            .map(|v| !v.is_empty()),
        Some(true)
    );
    assert_eq!(rep["scenarios"][0]["passed"], true);
    assert_eq!(rep["scenarios"][1]["passed"], false);
    let ex = rep["expectations"].as_array().unwrap();
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0]["passed"], true);
    assert_eq!(ex[1]["passed"], false);
    let false_msg = ex[1]["message"].as_str().unwrap().to_string();
    assert!(false_msg.contains("exit.code"), "{false_msg}");

    // The digest file is the digest.
    assert_eq!(read(&out, "four.trace.sha256"), format!("{digest}\n"));

    // JUnit, through junitparser.
    let j = python_json(JUNITPARSER, &[&out.join("four.junit.xml")]);
    let s = &j["suites"][0];
    assert_eq!(
        j["suites"].as_array().unwrap().len(),
        1,
        "one testsuite per suite"
    );
    assert_eq!(s["name"], "four");
    assert_eq!(
        (
            s["tests"].as_u64(),
            s["failures"].as_u64(),
            s["errors"].as_u64()
        ),
        (Some(4), Some(2), Some(0)),
        "2 scenarios + 2 expectations, 2 failed: {s}"
    );
    assert_eq!(s["properties"]["seed"], "4242");
    assert_eq!(s["properties"]["digest"], digest.as_str());
    assert_eq!(s["properties"]["run_id"], run_id.as_str());
    assert!(
        s["timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-01T00:00:00"),
        "frozen clock: {}",
        s["timestamp"]
    );
    let case = |name: &str| {
        s["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no case {name}: {s}"))
            .clone()
    };
    let killed = case("killed");
    assert_eq!(killed["passed"], true);
    assert!(
        killed["time"].as_f64().unwrap() > 0.2,
        "scenario time in seconds: {killed}"
    );
    let e42 = case("exit_42");
    assert_eq!(e42["passed"], false);
    assert_eq!(e42["results"][0]["kind"], "Failure");
    assert_eq!(
        e42["results"][0]["message"],
        "step `exit_42` failed: nonzero_exit (exit code 42)"
    );
    assert_eq!(e42["results"][0]["type"], "nonzero_exit");
    let exp = case(ex[1]["expectation"].as_str().unwrap());
    assert_eq!(exp["classname"], "four.expect.span");
    assert_eq!(
        exp["results"][0]["message"],
        false_msg.as_str(),
        "the validator's message, unchanged"
    );
    assert_eq!(case(ex[0]["expectation"].as_str().unwrap())["passed"], true);

    // Cleanup report: what was created was removed, nothing remains.
    let c = json_file(&out, "four.cleanup.json");
    assert_eq!(c["schema"], "clnrm.cleanup/1");
    assert_eq!(c["hermetic"], true);
    let scs = c["scenarios"].as_array().unwrap();
    assert_eq!(scs.len(), 2);
    for sc in scs {
        let created: Vec<&str> = sc["created"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(!created.is_empty(), "{sc}");
        let removed: Vec<&str> = sc["removed"]["container_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            sc["removed"]["containers"].as_u64(),
            Some(removed.len() as u64)
        );
        for id in &removed {
            assert!(created.contains(id), "removed {id} was created: {sc}");
        }
        assert!(!removed.is_empty(), "{sc}");
        assert_eq!(sc["kept"], serde_json::json!([]));
        assert_eq!(
            sc["remaining"],
            serde_json::json!({"containers": [], "networks": [], "volumes": []})
        );
        assert_eq!(sc["unexpected"], serde_json::json!([]));
        assert_eq!(sc["verified"], true);
        assert_eq!(sc["verification"]["counts"]["containers.remaining"], 0);
        assert_eq!(sc["triggered"], "failure");
        assert_eq!(sc["success"], true);
        assert!(sc["duration_ms"].is_u64());
    }
    assert_no_leftovers(&run_id);
}

#[test]
fn report_booleans_choose_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"{BASE}
[report]
json = false
cleanup = false

[otel]
exporter = "none"

[[scenario]]
name = "ok"
service = "app"
run = "true"
"#
    );
    let p = suite(dir.path(), "some.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0);
    assert!(dir.path().join("some.junit.xml").is_file());
    assert!(dir.path().join("some.trace.sha256").is_file());
    for f in ["some.report.json", "some.cleanup.json", "some.otlp.jsonl"] {
        assert!(!dir.path().join(f).exists(), "{f} not asked for");
    }
}

/// Issue 14: an original-style suite (file names in `[report]`, `timeout_metrics`,
/// `artifacts.collect` selectors, `[expect.timeouts]`) on a real run: every file under
/// the name the suite gave it, the metrics copied from the trace's spans.
#[test]
fn original_style_report_names_metrics_and_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let p = workspace().join("tests/fixtures/original-style/timeout_scenarios.clnrm.toml");
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let name = "compat_timeout_scenarios";
    for f in ["report.json", "junit.xml", "trace.sha256", "metrics.json"] {
        assert!(dir.path().join(format!("{name}.{f}")).is_file(), "{f}");
    }
    // cleanup stays on under its default name.
    assert!(dir.path().join(format!("{name}.cleanup.json")).is_file());
    let rep = json_file(dir.path(), &format!("{name}.report.json"));
    let m = json_file(dir.path(), &format!("{name}.metrics.json"));
    assert_eq!(m["schema"], "clnrm.metrics/1");
    assert_eq!(m["kind"], "timeout");
    assert_eq!(m["run_id"], rep["run_id"]);
    // Each enforcement in the metrics is the span in the report, values and all.
    let enforced: Vec<&Value> = m["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["measurements"].as_array().unwrap())
        .filter(|x| x["span"] == "clnrm.timeout.enforced")
        .collect();
    assert_eq!(enforced.len(), 3, "{m:#}");
    for e in enforced {
        let span = spans_named(&rep, "clnrm.timeout.enforced")
            .into_iter()
            .find(|s| s["id"] == e["span_id"])
            .expect("the same span in the report");
        assert_eq!(attr(span, "timeout.ms"), Some(&e["values"]["timeout.ms"]));
        // The overshoot is the report's step duration minus the bound, nothing else.
        let step = rep["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == span["parent"])
            .expect("the enforced step");
        let took =
            (step["end_ns"].as_u64().unwrap() - step["start_ns"].as_u64().unwrap()) as f64 / 1e6;
        let bound = e["values"]["timeout.ms"].as_f64().unwrap();
        let over = e["overshoot_ms"].as_f64().unwrap();
        assert!(
            (over - (took - bound)).abs() < 0.001 && over >= 0.0,
            "overshoot {over}, step {took} ms, bound {bound} ms"
        );
    }
    // logs:all and spans:default of the first scenario.
    let art = dir.path().join("artifacts/step_timeout_enforcement");
    let logs = std::fs::read_to_string(art.join("logs-timeout_victim.txt")).unwrap();
    assert!(logs.contains("starting long operation"), "{logs}");
    let spans: Value =
        serde_json::from_str(&std::fs::read_to_string(art.join("spans-default.json")).unwrap())
            .unwrap();
    assert!(spans["spans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "clnrm.timeout.enforced"));
    for label in [
        "expect.timeouts.enforcement_tolerance_ms",
        "expect.chaos.timeout_enforcement_verified",
        "expect.chaos.cleanup_after_timeout",
        "expect.hermeticity.resource_attrs.must_match",
    ] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("✓ {label}: "))),
            "{label} passed:\n{}",
            r.stdout
        );
    }
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

/// The OTLP/JSON of a one-scenario suite, by each route.
#[test]
fn otlp_json_lines_are_valid_otlp_by_file_stdout_none_and_sampling() {
    let dir = tempfile::tempdir().unwrap();
    let text = |extra: &str| {
        format!(
            r#"{BASE}
[otel]
resources = {{ "service.name" = "json-check", "team" = "chaos" }}
{extra}

[[scenario]]
name = "killed"
service = "app"
run = "sleep 30"
expect_failure = true
chaos_injection = {{ type = "kill_container", delay_ms = 200 }}
"#
        )
    };
    let p = suite(dir.path(), "lines.clnrm.toml", &text(""));

    // Default (stdout from the file): a file in the report dir, not stdout.
    let by_file = dir.path().join("file");
    let r = run(clnrm().arg("run").arg(&p).arg("--report-dir").arg(&by_file));
    assert_eq!(r.code, 0);
    assert!(
        !r.stdout.lines().any(|l| l.starts_with('{')),
        "no JSON on stdout by default"
    );
    let rep = read_report(&by_file, "lines");
    let trace_id = rep["trace_id"].as_str().unwrap().to_string();
    let n_spans = rep["spans"].as_array().unwrap().len();
    let jsonl = by_file.join("lines.otlp.jsonl");
    assert_eq!(
        read(&by_file, "lines.otlp.jsonl").lines().count(),
        1,
        "one request per line"
    );
    let v = python_json(OTLP_JSON, &[&jsonl]);
    let req = &v[0];
    assert_eq!(
        req["spans"].as_u64(),
        Some(n_spans as u64),
        "every span of the trace"
    );
    assert_eq!(
        req["trace_ids"],
        serde_json::json!([trace_id]),
        "one trace, the report's id"
    );
    assert_eq!(req["roots"], serde_json::json!(["clnrm.run"]));
    assert_eq!(req["dangling_parents"], 0);
    assert!(
        req["min_start"].as_u64().unwrap() >= FROZEN_NS,
        "times on the frozen epoch"
    );
    assert!(req["min_start"].as_u64().unwrap() < FROZEN_NS + 60_000_000_000);
    assert_eq!(
        req["resource"],
        serde_json::json!({"service.name": "json-check", "team": "chaos"})
    );
    assert!(
        req["error_spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "clnrm.step:killed"),
        "status carried: {req}"
    );

    // --otel-exporter stdout: the same request as a line on stdout, no file.
    let by_stdout = dir.path().join("stdout");
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(&by_stdout)
        .arg("--otel-exporter")
        .arg("stdout"));
    assert_eq!(r.code, 0);
    assert!(!by_stdout.join("lines.otlp.jsonl").exists());
    let lines: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(lines.len(), 1, "one OTLP/JSON line on stdout");
    let captured = dir.path().join("captured.jsonl");
    std::fs::write(&captured, lines[0]).unwrap();
    let v = python_json(OTLP_JSON, &[&captured]);
    assert_eq!(
        v[0]["trace_ids"],
        serde_json::json!([trace_id]),
        "same seed, same trace id"
    );
    assert_eq!(v[0]["spans"].as_u64(), Some(n_spans as u64));

    // --otel-exporter none: nothing.
    let by_none = dir.path().join("none");
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(&by_none)
        .arg("--otel-exporter")
        .arg("none"));
    assert_eq!(r.code, 0);
    assert!(!by_none.join("lines.otlp.jsonl").exists());
    assert!(!r.stdout.contains("otel:"));

    // sample_ratio = 0: the whole trace is left out, and says so.
    let p0 = suite(dir.path(), "lines.clnrm.toml", &text("sample_ratio = 0.0"));
    let by_sample = dir.path().join("sample");
    let r = run(clnrm()
        .arg("run")
        .arg(&p0)
        .arg("--report-dir")
        .arg(&by_sample));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("not sampled"), "{}", r.stdout);
    assert_eq!(read(&by_sample, "lines.otlp.jsonl"), "", "no request");
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
}

/// tests/otlp_receiver.py, killed on drop.
struct Receiver {
    child: Child,
    port: u16,
    summary: std::path::PathBuf,
}

impl Receiver {
    fn start(dir: &Path) -> Receiver {
        let summary = dir.join("received.json");
        let mut child = Command::new("python3")
            .arg(workspace().join("tests/otlp_receiver.py"))
            .arg(&summary)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the OTLP receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the receiver prints its port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the receiver did not start (is opentelemetry-proto installed? run `cargo xtask setup`): {line:?}")
        });
        Receiver {
            child,
            port,
            summary,
        }
    }

    /// The requests received so far, waiting up to 5 s for `n`.
    fn requests(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got: Vec<Value> = std::fs::read_to_string(&self.summary)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|v| v["requests"].as_array().cloned())
                .unwrap_or_default();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn otlp_export_is_received_and_decoded_with_the_official_proto() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start(dir.path());
    let text = format!(
        r#"{BASE}
[otel]
exporter = "otlp"
endpoint = "http://127.0.0.1:{port}"
resources = {{ "service.name" = "checkout-chaos", "deployment.environment" = "ci" }}

[[scenario]]
name = "killed"
service = "app"
run = "sleep 30"
expect_failure = true
chaos_injection = {{ type = "kill_container", delay_ms = 200 }}
"#,
        port = rx.port
    );
    let p = suite(dir.path(), "otlp.clnrm.toml", &text);
    let mut reports = Vec::new();
    for i in 0..2 {
        let out = dir.path().join(format!("run{i}"));
        let r = run(clnrm().arg("run").arg(&p).arg("--report-dir").arg(&out));
        assert_eq!(r.code, 0);
        assert!(
            r.stdout.contains(&format!(
                "exported to http://127.0.0.1:{}/v1/traces",
                rx.port
            )),
            "{}",
            r.stdout
        );
        assert!(
            !out.join("otlp.otlp.jsonl").exists(),
            "otlp replaces the file export"
        );
        reports.push(read_report(&out, "otlp"));
    }
    let reqs = rx.requests(2);
    assert_eq!(reqs.len(), 2, "one request per run: {reqs:?}");
    for (req, rep) in reqs.iter().zip(&reports) {
        assert_eq!(req["path"], "/v1/traces");
        assert_eq!(req["content_type"], "application/x-protobuf");
        assert_eq!(req["resource"]["service.name"], "checkout-chaos");
        assert_eq!(req["resource"]["deployment.environment"], "ci");
        let spans = req["spans"].as_array().unwrap();
        assert_eq!(
            spans.len(),
            rep["spans"].as_array().unwrap().len(),
            "every span arrived"
        );
        let traces: std::collections::BTreeSet<&str> = spans
            .iter()
            .map(|s| s["trace_id"].as_str().unwrap())
            .collect();
        assert_eq!(traces.len(), 1, "one trace");
        assert_eq!(traces.iter().next().copied(), rep["trace_id"].as_str());
        let by_id = |id: &str| spans.iter().find(|s| s["span_id"] == id);
        let named = |n: &str| {
            spans
                .iter()
                .find(|s| s["name"] == n)
                .unwrap_or_else(|| panic!("no span {n}"))
        };
        let parent_name = |s: &Value| {
            by_id(s["parent_span_id"].as_str().unwrap())
                .map(|p| p["name"].as_str().unwrap().to_string())
        };
        let root = named("clnrm.run");
        assert_eq!(root["parent_span_id"], "");
        assert_eq!(root["attributes"]["determinism.seed"], 4242);
        let scenario = named("clnrm.scenario");
        assert_eq!(parent_name(scenario).as_deref(), Some("clnrm.run"));
        let step = named("clnrm.step:killed");
        assert_eq!(parent_name(step).as_deref(), Some("clnrm.scenario"));
        assert_eq!(step["status_code"], 2, "ERROR");
        assert_eq!(step["attributes"]["exit.code"], 137);
        let cleanup = spans
            .iter()
            .find(|s| {
                s["name"] == "clnrm.cleanup"
                    && parent_name(s).as_deref() == Some("clnrm.step:killed")
            })
            .expect("cleanup under the killed step");
        assert_eq!(cleanup["status_code"], 1, "OK");
        assert!(cleanup["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "container.remove"));
        assert_eq!(
            parent_name(named("clnrm.recovery")).as_deref(),
            Some("clnrm.cleanup")
        );
        assert!(
            spans.iter().all(|s| s["parent_span_id"] == ""
                || by_id(s["parent_span_id"].as_str().unwrap()).is_some()),
            "every parent is in the batch"
        );
        assert!(
            spans
                .iter()
                .all(|s| s["start_time_unix_nano"].as_u64().unwrap() >= FROZEN_NS),
            "times on the frozen epoch"
        );
        assert_no_leftovers(rep["run_id"].as_str().unwrap());
    }
    assert_eq!(
        reqs[0]["spans"][0]["trace_id"], reqs[1]["spans"][0]["trace_id"],
        "the same seed gives the same trace id"
    );
    assert_eq!(
        reqs[0]["spans"][0]["span_id"], reqs[1]["spans"][0]["span_id"],
        "and the same span ids"
    );
}

#[test]
fn an_unreachable_collector_is_exit_2_naming_the_endpoint_and_reports_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = format!(
        r#"{BASE}
[otel]
exporter = "otlp"
endpoint = "http://127.0.0.1:{port}"

[[scenario]]
name = "ok"
service = "app"
run = "true"
"#
    );
    let p = suite(dir.path(), "nocollector.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 2, "a failed export is an environment error");
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("OTEL export failed"))
        .expect("one error line");
    assert!(
        line.contains(&format!("http://127.0.0.1:{port}/v1/traces")),
        "{line}"
    );
    assert!(r.stdout.contains("PASS"), "the tests themselves passed");
    assert!(
        dir.path().join("nocollector.report.json").is_file(),
        "reports come first"
    );
}
