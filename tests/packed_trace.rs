//! The packed trace (WIT 0.3.3 `packed-validator`), through the host library and the real
//! plugins (`cargo xtask plugins`), without Docker: every first-party validator takes it and
//! finds exactly what it finds in the same trace handed as records; validators built
//! against 0.3.2 (tests/plugins/wit032-validator) and 0.2 (wit02-validator) still get
//! records; bytes that are not a packed trace are a plugin error with a message; the
//! engine's concurrent calls keep their order.

mod support;

use clnrm::runtime::{
    Finding, Limits, LoadedPlugin, PluginError, Registry, ValidateCall, ValidatorJob,
    ValidatorTrace,
};
use clnrm::trace::{AttrValue, Event, SpanData, SpanId, SpanKind, SpanStatus};
use std::sync::{Arc, OnceLock};
use support::*;

fn registry() -> &'static Arc<Registry> {
    static REGISTRY: OnceLock<Arc<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        // Set once, before any thread of this binary reads the environment.
        std::env::set_var("CLNRM_CACHE_DIR", workspace().join("target/plugin-cache"));
        Arc::new(Registry::new().expect("a registry"))
    })
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A plugin of `target/plugins` (or a fixture of `target/test-plugins`) by file name
/// (`cargo xtask plugins` builds them).
fn load(rt: &tokio::runtime::Runtime, name: &str) -> Arc<LoadedPlugin> {
    let dir = if name.starts_with("wit0") {
        support::test_plugin_dir()
    } else {
        plugin_dir()
    };
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "run `cargo xtask plugins`: {} is missing",
        path.display()
    );
    rt.block_on(registry().load(name, &path))
        .unwrap_or_else(|e| panic!("{name} loads: {e}"))
}

fn validate(
    rt: &tokio::runtime::Runtime,
    plugin: &LoadedPlugin,
    table: &str,
    config: &str,
    trace: &ValidatorTrace,
) -> Result<Vec<Finding>, PluginError> {
    rt.block_on(registry().validate(plugin, table, config, trace, call()))
}

fn call() -> ValidateCall {
    ValidateCall {
        limits: Limits::VALIDATOR,
        resource: vec![("service.name".into(), "clnrm-packed".into())],
    }
}

fn attr(k: &str, v: impl Into<AttrValue>) -> (String, AttrValue) {
    (k.to_string(), v.into())
}

/// Three scenarios in the shape the engine emits (a killed step, cleanup, recovery,
/// verification, a chaos span, a resource pressure span), with unicode, every value type,
/// big ids and events carrying attributes.
fn spans() -> Vec<SpanData> {
    let mut spans = Vec::new();
    let mut add = |parent: Option<u32>, name: &str, start: u64, end: u64| {
        let id = spans.len() as u32;
        spans.push(SpanData::finished(
            SpanId(id),
            parent.map(SpanId),
            name,
            start,
            end,
        ));
        id
    };
    let run = add(None, "clnrm.run", 0, 1_000_000_000);
    for n in 0..3u64 {
        let t = 100_000_000 * (n + 1);
        let sc = add(Some(run), "clnrm.scenario", t, t + 90_000_000);
        let step = add(
            Some(sc),
            &format!("clnrm.step:scénario_{n} ✓"),
            t + 1,
            t + 50_000_000,
        );
        let kill = add(Some(sc), "clnrm.chaos.kill", t + 2, t + 3_000_000);
        let cleanup = add(Some(step), "clnrm.cleanup", t + 60_000_000, t + 70_000_000);
        let recovery = add(
            Some(cleanup),
            "clnrm.recovery",
            t + 61_000_000,
            t + 62_000_000,
        );
        let verify = add(
            Some(cleanup),
            "clnrm.cleanup.verification",
            t + 70_000_000,
            t + 71_000_000,
        );
        let cpu = add(
            Some(sc),
            "clnrm.resource.cpu_throttle",
            t + 5,
            t + 40_000_000,
        );
        let _ = (kill, recovery, verify, cpu);
    }
    for s in &mut spans {
        s.status = SpanStatus::Ok;
        match s.name.as_str() {
            "clnrm.run" => {
                s.kind = SpanKind::Server;
                s.attrs = vec![attr("service.name", "clnrm"), attr("seed", 42i64)];
            }
            "clnrm.scenario" => s.attrs = vec![attr("scenario.name", format!("s{}", s.id.0))],
            "clnrm.chaos.kill" => {
                s.kind = SpanKind::Client;
                s.attrs = vec![
                    attr("chaos.type", "kill_container"),
                    attr("chaos.observed", true),
                    attr("signal", "SIGKILL"),
                    attr("exit.code", 137i64),
                ];
                s.events = vec![Event {
                    name: "kill.sent".into(),
                    time_ns: s.start_ns + 1,
                    attrs: vec![attr("pid", 7i64), attr("ratio", AttrValue::Float(0.5))],
                }];
            }
            "clnrm.cleanup" => {
                s.attrs = vec![
                    attr("cleanup.success", "true"),
                    attr("cleanup.triggered", "failure"),
                ];
                s.events = ["container.stop", "container.remove", "cleanup.complete"]
                    .iter()
                    .map(|e| Event {
                        name: e.to_string(),
                        time_ns: s.start_ns,
                        attrs: vec![],
                    })
                    .collect();
            }
            "clnrm.recovery" => s.attrs = vec![attr("recovery.success", true)],
            "clnrm.cleanup.verification" => {
                s.attrs = ["containers", "networks", "volumes", "processes"]
                    .iter()
                    .map(|k| attr(&format!("{k}.remaining"), 0i64))
                    .collect();
            }
            "clnrm.resource.cpu_throttle" => {
                s.attrs = vec![attr("chaos.observed", true), attr("pressure.level", "high")];
            }
            name if name.starts_with("clnrm.step:") => {
                s.status = SpanStatus::Error;
                s.status_message = Some("container killed by SIGKILL (exit 137) — ☠".into());
                s.attrs = vec![
                    attr("result", "error"),
                    attr("error.type", "container_killed"),
                    attr("exit.code", 137i64),
                    attr(
                        "container.id",
                        format!("{:064x}", u64::MAX - u64::from(s.id.0)),
                    ),
                ];
            }
            _ => {}
        }
    }
    spans
}

/// A config per first-party validator; some expectations hold, some fail on purpose (the
/// messages name spans, attributes and durations: the trace's contents show through).
fn configs() -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    vec![
        (
            "span",
            json!([
                { "name": "clnrm.cleanup", "status": "OK", "attrs": { "all": { "cleanup.success": "true" } }, "events": { "all": ["container.stop"] } },
                { "name": "clnrm.chaos.kill", "kind": "client", "attrs": { "any": { "signal": ["SIGKILL"], "exit.code": { "gte": 137 } } }, "duration_ms": { "max": 1 } },
                { "name": "clnrm.recovery", "parent": "clnrm.cleanup", "count": { "eq": 4 } },
            ]),
        ),
        (
            "graph",
            json!({ "must_include": [["clnrm.cleanup", "clnrm.recovery"]], "must_not_cross": [["clnrm.recovery", "clnrm.scenario"]], "acyclic": true }),
        ),
        (
            "counts",
            json!({ "spans_total": 22, "errors_total": 3, "events_total": { "gte": 100 }, "by_name": { "clnrm.cleanup": 3 } }),
        ),
        (
            "window",
            json!([{ "outer": "clnrm.scenario", "contains": ["clnrm.cleanup", "clnrm.recovery"], "max_duration_ms": 5 }]),
        ),
        (
            "order",
            json!({ "must_precede": [["clnrm.chaos.kill", "clnrm.cleanup"]], "must_follow": [["clnrm.scenario", "clnrm.recovery"]] }),
        ),
        (
            "status",
            json!({ "by_name": { "clnrm.cleanup*": "OK", "clnrm.step:*": "ok" }, "errors_allowed": 1 }),
        ),
        (
            "hermeticity",
            json!({ "no_container_leakage": true, "resource_attrs": { "must_match": { "service.name": "clnrm" } }, "span_attrs": { "forbid_keys": ["seed"] } }),
        ),
        (
            "isolation",
            json!({ "unique_container_ids": true, "cleanup_verified": true }),
        ),
        (
            "chaos",
            json!({ "cleanup_spans_match_failures": true, "recovery_verified": true, "injections_observed": true, "min_injections": 5 }),
        ),
        ("resources", json!({ "cpu_runaway_detected": false })),
        (
            "concurrent",
            json!({ "cleanup_complete": true, "max_concurrent": { "lte": 1 } }),
        ),
        ("timeouts", json!({ "cleanup_max_duration_ms": 5 })),
    ]
}

#[test]
fn every_first_party_validator_finds_the_same_through_packed_and_records() {
    let spans = spans();
    let packed = ValidatorTrace::new(&spans).expect("packs");
    let records = ValidatorTrace::new(&spans).expect("packs").records_only();
    let rt = rt();
    for (table, config) in configs() {
        let plugin = load(&rt, &format!("validate-{table}"));
        assert!(
            plugin.takes_packed(),
            "validate-{table} exports validate-packed"
        );
        assert_eq!(plugin.info.wit_version, clnrm_sdk::WIT_VERSION);
        let config = config.to_string();
        let via = |trace| shown(validate(&rt, &plugin, table, &config, trace));
        let p = via(&packed).unwrap_or_else(|e| panic!("{table}: {e}"));
        assert!(!p.is_empty(), "{table}: no findings");
        assert_eq!(Ok(p), via(&records), "{table}: packed and records disagree");
    }
}

type Shown = Vec<(String, bool, String)>;

fn shown(r: Result<Vec<Finding>, PluginError>) -> Result<Shown, PluginError> {
    r.map(|f| {
        f.into_iter()
            .map(|f| (f.expectation, f.passed, f.message))
            .collect()
    })
}

#[test]
fn a_validator_built_against_0_3_2_gets_records() {
    let rt = rt();
    let plugin = load(&rt, "wit032-validator");
    assert!(!plugin.takes_packed(), "0.3.2 has no packed-validator");
    assert_eq!(plugin.info.wit_version, "0.3.2");

    let spans = spans();
    let trace = ValidatorTrace::new(&spans).expect("packs");
    let old = |name: &str| {
        let config = serde_json::json!({ "name": name }).to_string();
        let mut f = validate(&rt, &plugin, "old", &config, &trace).expect("validates");
        assert_eq!(f.len(), 1);
        f.remove(0)
    };
    let finding = old("clnrm.chaos.kill");
    assert!(finding.passed);
    // Everything the records carried, as the plugin saw it (built by hand from the spans).
    let kills: Vec<String> = spans
        .iter()
        .filter(|s| s.name == "clnrm.chaos.kill")
        .map(|s| {
            format!(
                "#{} parent Some({}) SpanKind::Client SpanStatus::Ok None {}..{} [chaos.type=\"kill_container\", \
                 chaos.observed=true, signal=\"SIGKILL\", exit.code=137] [kill.sent@{}(2)]",
                s.id.0,
                s.parent.expect("a parent").0,
                s.start_ns,
                s.end_ns.expect("ended"),
                s.start_ns + 1
            )
        })
        .collect();
    assert_eq!(
        finding.message,
        format!(
            "3 of {} spans, service.name=\"clnrm-packed\": {}",
            spans.len(),
            kills.join("; ")
        )
    );
    // Statuses, messages and unicode names come through the records too.
    let step = spans
        .iter()
        .find(|s| s.name.starts_with("clnrm.step:"))
        .expect("a step");
    let message = old(&step.name).message;
    assert!(
        message.contains(&format!(
            "SpanStatus::Error Some(\"container killed by SIGKILL (exit 137) — ☠\") {}..",
            step.start_ns
        )),
        "{message}"
    );
}

#[test]
fn a_0_2_validator_gets_records() {
    let rt = rt();
    let plugin = load(&rt, "wit02-validator");
    assert!(!plugin.takes_packed());
    let spans = spans();
    let trace = ValidatorTrace::new(&spans).expect("packs");
    let config = r#"{"name":"clnrm.chaos.kill"}"#;
    let findings = validate(&rt, &plugin, "legacy", config, &trace).expect("validates");
    assert!(findings[0].passed, "{findings:?}");
    let message = &findings[0].message;
    assert!(
        message.contains("chaos.type=kill_container") && message.contains("exit.code=137"),
        "{message}"
    );
}

#[test]
fn bytes_that_are_not_a_packed_trace_are_a_plugin_error() {
    let rt = rt();
    let plugin = load(&rt, "validate-counts");
    let mut bytes = clnrm::runtime::pack(&spans()).expect("packs");
    let config = r#"{"spans_total": 1}"#;
    let counts = |bytes: &[u8], records_only: bool| {
        let trace = ValidatorTrace::from_packed(bytes.to_vec());
        let trace = if records_only {
            trace.records_only()
        } else {
            trace
        };
        validate(&rt, &plugin, "counts", config, &trace).unwrap_err()
    };
    bytes[0] = 9;
    assert_eq!(
        counts(&bytes, false),
        PluginError::Failed {
            plugin: "validate-counts".into(),
            message: "malformed packed trace: format version 9; this decoder reads version 1"
                .into(),
        }
    );
    // Truncated: the sizes no longer add up; a validator taking records cannot get them.
    bytes[0] = 1;
    bytes.truncate(bytes.len() - 3);
    let e = counts(&bytes, false);
    assert!(
        matches!(&e, PluginError::Failed { message, .. } if message.starts_with("malformed packed trace: the header announces")),
        "{e}"
    );
    let e = counts(&bytes, true);
    assert!(
        e.to_string()
            .contains("the host cannot hand it the trace: malformed packed trace"),
        "{e}"
    );
}

#[test]
fn concurrent_calls_keep_their_order() {
    let rt = rt();
    let spans = spans();
    let trace = Arc::new(ValidatorTrace::new(&spans).expect("packs"));
    let mut jobs: Vec<ValidatorJob> = configs()
        .into_iter()
        .map(|(table, config)| ValidatorJob {
            plugin: load(&rt, &format!("validate-{table}")),
            table: table.into(),
            config_json: config.to_string(),
        })
        .collect();
    // A foreign table in the middle fails alone, in its place.
    jobs.insert(
        3,
        ValidatorJob {
            table: "not-a-table".into(),
            ..jobs[0].clone()
        },
    );
    let one_by_one: Vec<_> = jobs
        .iter()
        .map(|j| shown(validate(&rt, &j.plugin, &j.table, &j.config_json, &trace)))
        .collect();
    let at_once: Vec<_> = rt
        .block_on(registry().validate_all(jobs, trace, call().resource, 2))
        .into_iter()
        .map(shown)
        .collect();
    assert_eq!(at_once, one_by_one);
    assert!(
        matches!(&at_once[3], Err(PluginError::Failed { message, .. }) if message.contains("not [expect.not-a-table]"))
    );
}

/// An application span (received over OTLP) reaches every validator: the first-party ones
/// know its service, through the packed trace and through records alike; a validator built
/// against 0.3.2 still loads and validates, and sees the service as the span's last
/// attribute (docs/packed-trace.md).
#[test]
fn application_spans_reach_new_and_old_validators() {
    use clnrm::trace::{AppParent, AppSpan};
    use serde_json::json;
    let mut spans = spans();
    let scenario = spans
        .iter()
        .find(|s| s.name == "clnrm.scenario")
        .expect("a scenario")
        .id;
    let mut app = SpanData::finished(
        SpanId(spans.len() as u32),
        Some(scenario),
        "GET /stock",
        10,
        20,
    );
    app.status = SpanStatus::Error;
    app.attrs = vec![attr("http.response.status_code", 503)];
    app.app = Some(Box::new(AppSpan {
        service: "api".into(),
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        span_id: "b7ad6b7169203331".into(),
        parent_span_id: None,
        parent_by: AppParent::Resource,
        resource: vec![attr("service.name", "api")].into(),
        scope: None,
        renamed_from: None,
    }));
    spans.push(app);
    let packed = ValidatorTrace::new(&spans).expect("packs");
    let records = ValidatorTrace::new(&spans).expect("packs").records_only();
    let rt = rt();
    let plugin = load(&rt, "validate-span");
    for (config, passed) in [
        (
            json!({ "name": "GET /stock", "service": "api", "status": "ERROR" }),
            true,
        ),
        (json!({ "name": "GET /stock", "service": "clnrm" }), false),
    ] {
        let config = config.to_string();
        let via = |trace| shown(validate(&rt, &plugin, "span", &config, trace));
        let p = via(&packed).unwrap();
        assert_eq!(p[0].1, passed, "{p:?}");
        assert_eq!(Ok(p), via(&records), "packed and records agree");
    }
    let old = load(&rt, "wit032-validator");
    let f = validate(
        &rt,
        &old,
        "old",
        &json!({ "name": "GET /stock" }).to_string(),
        &packed,
    )
    .expect("an old validator validates");
    assert!(
        f[0].message
            .contains("[http.response.status_code=503, clnrm.app.service=\"api\"]"),
        "{}",
        f[0].message
    );
}
