//! Application spans really received (Docker, `clnrm run`): a step of `app` posts its own
//! spans over OTLP/HTTP JSON to the run's receiver (busybox `wget`, the token and endpoint
//! clnrm injected, microsecond times from `adjtimex`, parented by its `TRACEPARENT`) while
//! `chaos-container` freezes `store`, and after. Then, on the real trace:
//! - `service`, `during` and `after` on the real fault span, true and false;
//! - `[expect.chaos]` not fooled by an application span shaped like a pause;
//! - the JSON report's `app` records, the JUnit failure naming the application span, the
//!   OTLP/JSON export with the application's resource and ids;
//! - `digest_app_spans = true`: the report says none was left out; the recording keeps the
//!   spans and `clnrm replay` (no Docker) gives the same digest and verdicts.

mod support;

use serde_json::Value;
use support::*;

const SUITE: &str = r#"
[meta]
name = "app_spans_e2e"

[determinism]
seed = 31
freeze_clock = "2026-01-01T00:00:00Z"
digest_app_spans = true

[service.app]
image = "clnrm-base:latest"
otel = true
env = { OTEL_SERVICE_NAME = "shop-api" }

[service.store]
image = "clnrm-base:latest"

[[scenario]]
name = "frozen store"
service = "app"
parallel_services = ["store"]
chaos_injection = { type = "pause_container", target = "store", duration_ms = 1500 }
steps = [
  { name = "call during", run = '''
now() { adjtimex | awk '/tv_sec/ {s = $2} /tv_usec/ {u = $2} END {printf "%d%06d000", s, u}'; }
t0=$(now); sleep 0.2; t1=$(now)
tid=$(echo $TRACEPARENT | cut -d- -f2); sid=$(echo $TRACEPARENT | cut -d- -f3)
call='{"traceId":"'$tid'","spanId":"00000000000000a1","parentSpanId":"'$sid'","name":"GET /stock","kind":3,"startTimeUnixNano":"'$t0'","endTimeUnixNano":"'$t1'","status":{"code":2,"message":"store frozen"}}'
fake='{"traceId":"'$tid'","spanId":"00000000000000a2","name":"clnrm.chaos.pause","startTimeUnixNano":"'$t0'","endTimeUnixNano":"'$t1'","attributes":[{"key":"chaos.type","value":{"stringValue":"pause_container"}},{"key":"chaos.observed","value":{"boolValue":true}}]}'
body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"'$OTEL_SERVICE_NAME'"}},{"key":"team","value":{"stringValue":"shop"}}]},"scopeSpans":[{"scope":{"name":"shop-api"},"spans":['$call','$fake']}]}]}'
wget -q -O- --header "Content-Type: application/json" --header "x-clnrm-token: ${OTEL_EXPORTER_OTLP_HEADERS#*=}" --post-data "$body" $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces
''' },
  { name = "call after", run = '''
now() { adjtimex | awk '/tv_sec/ {s = $2} /tv_usec/ {u = $2} END {printf "%d%06d000", s, u}'; }
sleep 2.5; t0=$(now); sleep 0.05; t1=$(now)
tid=$(echo $TRACEPARENT | cut -d- -f2); sid=$(echo $TRACEPARENT | cut -d- -f3)
body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"'$OTEL_SERVICE_NAME'"}},{"key":"team","value":{"stringValue":"shop"}}]},"scopeSpans":[{"scope":{"name":"shop-api"},"spans":[{"traceId":"'$tid'","spanId":"00000000000000b1","parentSpanId":"'$sid'","name":"GET /stock","kind":3,"startTimeUnixNano":"'$t0'","endTimeUnixNano":"'$t1'","status":{"code":1}}]}]}]}'
wget -q -O- --header "Content-Type: application/json" --header "x-clnrm-token: ${OTEL_EXPORTER_OTLP_HEADERS#*=}" --post-data "$body" $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces
''' },
]

# 0: the failing call overlaps the freeze
[[expect.span]]
name = "GET /stock"
service = "shop-api"
kind = "client"
status = "ERROR"
during = "clnrm.chaos.pause"

# 1: the call after it succeeds
[[expect.span]]
name = "GET /stock"
service = "shop-api"
status = "OK"
after = "clnrm.chaos.pause"

# 2: no successful call during the freeze
[[expect.span]]
name = "GET /stock"
status = "OK"
during = "clnrm.chaos.pause"
count = { eq = 0 }

# 3: no failing call after it
[[expect.span]]
name = "GET /stock"
status = "ERROR"
after = "clnrm.chaos.pause"
count = { eq = 0 }

# 4: no span of store's
[[expect.span]]
name = "GET /stock"
service = "store"
count = { eq = 0 }

# 5: fails on purpose: the JUnit failure names the application span
[[expect.span]]
name = "GET /stock"
service = "shop-api"
status = "ERROR"
duration_ms = { min = 60000 }

[expect.chaos]
min_injections = 1
injections_observed = true

[expect.counts]
by_name = { "GET /stock" = { eq = 2 }, "app:clnrm.chaos.pause" = { eq = 1 } }
"#;

fn finding<'a>(report: &'a Value, label: &str) -> &'a Value {
    report["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["expectation"] == label)
        .unwrap_or_else(|| panic!("no finding {label}: {:#}", report["expectations"]))
}

#[test]
fn received_spans_are_checked_reported_exported_and_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let path = suite(dir.path(), "app_spans.clnrm.toml", SUITE);
    let reports = dir.path().join("r");
    let recording = dir.path().join("rec.json");
    let r = run_recorded(&reports, &path, &recording);
    // One expectation fails on purpose: exit 1, every scenario passed.
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let report = read_report(&reports, "app_spans_e2e");
    assert_eq!(
        report["scenarios"][0]["passed"], true,
        "{:#}",
        report["scenarios"]
    );
    let spans = report["spans"].as_array().unwrap();
    let apps: Vec<&Value> = spans.iter().filter(|s| s.get("app").is_some()).collect();
    assert_eq!(apps.len(), 3, "{apps:#?}");

    // The checks, on the real pause span.
    let verdicts: Vec<(String, bool)> = report["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["expectation"].as_str().unwrap().to_string(),
                e["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    for (label, passed) in [
        ("expect.span[0] GET /stock", true),
        ("expect.span[1] GET /stock", true),
        ("expect.span[2] GET /stock", true),
        ("expect.span[3] GET /stock", true),
        ("expect.span[4] GET /stock", true),
        ("expect.span[5] GET /stock", false),
        ("expect.chaos.min_injections", true),
        ("expect.chaos.injections_observed", true),
    ] {
        assert!(
            verdicts.contains(&(label.to_string(), passed)),
            "{label} {passed}: {verdicts:#?}"
        );
    }
    // The application's "pause" is renamed and is no injection.
    let chaos = finding(&report, "expect.chaos.min_injections");
    assert!(
        chaos["message"]
            .as_str()
            .unwrap()
            .contains("1 span(s) with chaos.type"),
        "{chaos}"
    );
    let during = apps.iter().find(|s| s["status"] == "ERROR").unwrap();
    assert_eq!(during["name"], "GET /stock");
    assert_eq!(during["app"]["service"], "shop-api");
    assert_eq!(during["app"]["span_id"], "00000000000000a1");
    assert_eq!(during["app"]["parent_by"], "span");
    assert_eq!(during["app"]["scope"], "shop-api");
    assert_eq!(
        parent_name(&report, during).as_deref(),
        Some("clnrm.step:call during")
    );

    // JUnit: the failure names the application span.
    let junit = std::fs::read_to_string(reports.join("app_spans_e2e.junit.xml")).unwrap();
    assert!(
        junit.contains("application span #")
            && junit.contains("&quot;GET /stock&quot; of service &quot;shop-api&quot;")
            && junit.contains("span id 00000000000000a1"),
        "{junit}"
    );

    // The digest: application spans in (digest_app_spans = true).
    assert_eq!(report["digest_app_spans_left_out"], 0);

    // OTLP export: the application's spans under their own resource, with their ids.
    let line = std::fs::read_to_string(reports.join("app_spans_e2e.otlp.jsonl")).unwrap();
    let otlp: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let rs = otlp["resourceSpans"].as_array().unwrap();
    let service_of = |r: &Value| {
        r["resource"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "service.name")
            .map(|a| a["value"]["stringValue"].as_str().unwrap().to_string())
    };
    assert_eq!(service_of(&rs[0]).as_deref(), Some("clnrm"));
    let api = rs
        .iter()
        .find(|r| service_of(r).as_deref() == Some("shop-api"))
        .expect("shop-api's resource");
    let exported: Vec<&Value> = api["scopeSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["spans"].as_array().unwrap())
        .collect();
    assert_eq!(exported.len(), 3);
    let a1 = exported
        .iter()
        .find(|s| s["spanId"] == "00000000000000a1")
        .expect("the app's own span id");
    assert_eq!(a1["traceId"], report["trace_id"], "it honoured TRACEPARENT");
    assert!(api["resource"]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["key"] == "team"));

    // Replay without Docker: the same digest and verdicts, the spans as recorded data.
    assert_replays_to(&recording, report["digest"].as_str().unwrap());
    let rec: Value = serde_json::from_str(&std::fs::read_to_string(&recording).unwrap()).unwrap();
    let recorded_apps = rec["suites"][0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("app").is_some())
        .count();
    assert_eq!(recorded_apps, 3);
    assert_no_leftovers(report["run_id"].as_str().unwrap());
}
