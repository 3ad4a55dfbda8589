//! Every first-party validator on a 100,000-span trace, as a WASM plugin through the public
//! `clnrm::runtime::Registry`, exactly as the engine runs them, vs the same check natively
//! with `clnrm_sdk::expect::check_*`.
//!
//! The engine packs a suite's trace once (WIT 0.3.3, `clnrm_sdk::packed`) and hands the same
//! bytes to every validator: each call is a fresh store + instantiate + one copy of the bytes
//! into the guest + decoding them into the sdk's model there + the check. So: "pack" is timed
//! on its own and counted once in the total; each validator's figure is its call with the
//! packed bytes.
//!
//! The trace is shaped like many runs of the chaos suites: 9,999 scenarios of ten spans each
//! under one `clnrm.run` root: a service start, a step (half killed, a quarter degraded),
//! an injection span, a cleanup (under the killed step, or the scenario), its recovery and
//! its cleanup verification, retries and a plugin span. Every validator's config is one that
//! holds on it, and wasm (packed and records) and native must return the same findings
//! before anything is timed.
//!
//! Figures per validator: the wasm call; its transfer alone (the same call for a table the
//! plugin refuses: instantiate, copy the packed bytes in, refuse before decoding them: the
//! floor of any validator); "records" (the same validator handed `list<span-record>`, as
//! validators built against 0.3.2 and earlier still are: the cost the packed trace removes);
//! natively, "full" (decode the config JSON, decode the packed trace into the sdk model,
//! check: what the plugin does inside the sandbox, which never frees the trace, so neither
//! does the timed part here) and "check" (the check alone on a ready
//! `Trace`); spans/s; and the ratio wasm / native full. Then the total, pack included once
//! (native: the nine "full" figures, no pack), and the engine's wall time for the nine at
//! once (pack + `Registry::validate_all` on the available cores). Medians of `CLNRM_BENCH_N`
//! runs (default 3) after one warm-up. Then one `@bench <key> <value>` line per figure.
//!
//! Needs `cargo xtask plugins` first. Run: `cargo bench -p clnrm --bench validators`
//! (spans: `CLNRM_BENCH_SPANS`, default 100000).

use clnrm::runtime::{
    Limits, LoadedPlugin, PluginError, Registry, ValidateCall, ValidatorJob, ValidatorTrace,
};
use clnrm::trace::{AttrValue, Event, SpanData, SpanId, SpanStatus};
use clnrm_sdk::expect::{self, Finding, Trace};
use serde_json::Value;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Check = fn(&Value, &Trace) -> Result<Vec<Finding>, clnrm_sdk::config::ConfigError>;

/// `(table, config as JSON, native checker)`: every config holds on the generated trace.
fn validators(scenarios: usize, spans: usize) -> Vec<(&'static str, String, Check)> {
    let killed = scenarios.div_ceil(2);
    vec![
        (
            "span",
            serde_json::json!([
                { "name": "clnrm.cleanup", "status": "OK", "attrs": { "all": { "cleanup.success": "true" } }, "events": { "all": ["container.stop", "container.remove"] } },
                { "name": "clnrm.recovery", "parent": "clnrm.cleanup", "attrs": { "all": { "recovery.success": true } }, "count": { "eq": scenarios } },
                { "name": "clnrm.cleanup.verification", "attrs": { "all": { "containers.remaining": 0, "processes.remaining": { "lte": 0 } } }, "count": { "gte": 1 } },
                { "name": "clnrm.chaos.kill", "attrs": { "any": { "signal": ["SIGKILL", "9"], "exit.code": { "matches": "^13" } } }, "duration_ms": { "max": 10 } },
            ])
            .to_string(),
            expect::check_spans,
        ),
        (
            "graph",
            serde_json::json!({
                "must_include": [["clnrm.run", "clnrm.scenario"], ["clnrm.cleanup", "clnrm.recovery"], ["clnrm.scenario", "clnrm.service.start"]],
                "must_not_cross": [["clnrm.recovery", "clnrm.scenario"]],
                "acyclic": true,
            })
            .to_string(),
            expect::check_graph,
        ),
        (
            "counts",
            serde_json::json!({
                "spans_total": spans,
                "errors_total": killed,
                "events_total": { "gte": 1 },
                "by_name": { "clnrm.cleanup": scenarios, "clnrm.scenario": { "eq": scenarios } },
            })
            .to_string(),
            expect::check_counts,
        ),
        (
            "window",
            serde_json::json!([
                { "outer": "clnrm.scenario", "contains": ["clnrm.cleanup", "clnrm.recovery"] },
                { "outer": "clnrm.run", "contains": ["clnrm.cleanup.verification"], "max_duration_ms": 5 },
            ])
            .to_string(),
            expect::check_window,
        ),
        (
            "order",
            serde_json::json!({
                "must_precede": [["clnrm.service.start", "clnrm.cleanup"], ["clnrm.cleanup", "clnrm.cleanup.verification"]],
                "must_follow": [["clnrm.recovery", "clnrm.service.start"]],
            })
            .to_string(),
            expect::check_order,
        ),
        (
            "status",
            serde_json::json!({
                "by_name": { "clnrm.cleanup*": "OK", "clnrm.recovery": "ok" },
                "errors_allowed": killed,
                "cleanup_must_succeed": true,
            })
            .to_string(),
            expect::check_status,
        ),
        (
            "hermeticity",
            serde_json::json!({
                "no_container_leakage": true,
                "no_network_leakage": true,
                "no_volume_leakage": true,
                "no_process_leakage": true,
                "resource_attrs": { "must_match": { "service.name": "clnrm" } },
                "span_attrs": { "forbid_keys": ["db.password", "http.request.header.authorization"] },
                "no_external_services": true,
            })
            .to_string(),
            expect::check_hermeticity,
        ),
        (
            "isolation",
            serde_json::json!({ "unique_container_ids": true, "no_persistent_state": true, "cleanup_verified": true }).to_string(),
            expect::check_isolation,
        ),
        (
            "chaos",
            serde_json::json!({
                "cleanup_spans_match_failures": true,
                "zombie_processes": "none",
                "resource_cleanup": true,
                "recovery_verified": true,
                "graceful_degradation": true,
                "injections_observed": true,
                "min_injections": 1,
            })
            .to_string(),
            expect::check_chaos,
        ),
    ]
}

fn main() {
    let n: usize = std::env::var("CLNRM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let want: usize = std::env::var("CLNRM_BENCH_SPANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
        .max(11);
    let plugins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins");
    // One call at a time, as the per-validator figures mean; the engine's concurrent
    // run is measured at the end on a runtime with a worker per core.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let registry = Arc::new(Registry::new().expect("registry"));

    let (spans, scenarios) = trace(want);
    let count = spans.len();
    black_box(ValidatorTrace::new(&spans).expect("packs"));
    let pack_t = median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                black_box(ValidatorTrace::new(black_box(&spans)).expect("packs"));
                t.elapsed()
            })
            .collect(),
    );
    let trace = ValidatorTrace::new(&spans).expect("packs");
    let packed = trace.packed().expect("packed").to_vec();
    // The same bytes as records, decoded once up front (as the engine would, once).
    let records = ValidatorTrace::from_packed(packed.clone()).records_only();
    records.records().expect("records");
    let trace_native =
        with_resource(Trace::from_packed(&packed).expect("the packed trace decodes"));
    println!(
        "validators: {count} spans ({scenarios} scenarios), packed into {:.1} MB, N={n}, plugins from {}",
        packed.len() as f64 / 1e6,
        plugins.display()
    );
    println!(
        "{:<12} {:>9} {:>11} {:>12} {:>10} {:>10} {:>9} {:>12} {:>9}",
        "validator",
        "wasm ms",
        "transfer ms",
        "wasm spans/s",
        "records ms",
        "native ms",
        "check ms",
        "native sp/s",
        "wasm/nat"
    );

    let resource = || vec![("service.name".to_string(), "clnrm".to_string())];
    let call = |limits| ValidateCall {
        limits,
        resource: resource(),
    };
    let mut totals = (0.0, 0.0, 0.0);
    let mut figures = Vec::new();
    let mut jobs = Vec::new();
    let mut production_limits = true;
    for (table, config, check) in validators(scenarios, count) {
        let wasm = plugins.join(format!("validate-{table}.wasm"));
        if !wasm.is_file() {
            eprintln!(
                "validators: {} not found; run `cargo xtask plugins` first",
                wasm.display()
            );
            std::process::exit(2);
        }
        let plugin: Arc<LoadedPlugin> = rt
            .block_on(registry.load(&format!("validate-{table}"), &wasm))
            .unwrap_or_else(|e| panic!("load {table}: {e}"));
        assert!(
            plugin.takes_packed(),
            "validate-{table} does not export validate-packed: rebuild the plugins"
        );
        // Production limits first; a trace this big may not fit them (that is a finding too).
        let mut limits = Limits::VALIDATOR;
        let first = match rt.block_on(registry.validate(
            &plugin,
            table,
            &config,
            &trace,
            call(limits),
        )) {
            Ok(f) => f,
            Err(e) => {
                println!("  {table}: under Limits::VALIDATOR ({} MiB, {:?}) the call fails: {e}; measuring with 2 GiB / 300 s", limits.memory_bytes >> 20, limits.deadline);
                production_limits = false;
                limits = Limits {
                    deadline: Duration::from_secs(300),
                    memory_bytes: 2 << 30,
                };
                rt.block_on(registry.validate(&plugin, table, &config, &trace, call(limits)))
                    .unwrap_or_else(|e| panic!("{table}: {e}"))
            }
        };
        let (native_findings, _) =
            native(check, &config, &packed).unwrap_or_else(|e| panic!("{table}: native: {e}"));
        let failed: Vec<String> = first
            .iter()
            .filter(|f| !f.passed)
            .map(|f| format!("{}: {}", f.expectation, f.message))
            .collect();
        assert!(
            failed.is_empty(),
            "{table}: the config must hold on the bench trace: {failed:#?}"
        );
        let shown = |f: &[clnrm::runtime::Finding]| {
            f.iter()
                .map(|f| (f.expectation.clone(), f.passed, f.message.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shown(&first),
            native_findings
                .iter()
                .map(|f| (f.expectation.clone(), f.passed, f.message.clone()))
                .collect::<Vec<_>>(),
            "{table}: wasm and native disagree"
        );
        let via_records = rt
            .block_on(registry.validate(&plugin, table, &config, &records, call(limits)))
            .unwrap_or_else(|e| panic!("{table}: records: {e}"));
        assert_eq!(
            shown(&first),
            shown(&via_records),
            "{table}: packed and records disagree"
        );

        let wasm_t = median(
            (0..n)
                .map(|_| {
                    let t = Instant::now();
                    black_box(
                        rt.block_on(registry.validate(
                            &plugin,
                            table,
                            &config,
                            black_box(&trace),
                            call(limits),
                        ))
                        .expect("validate"),
                    );
                    t.elapsed()
                })
                .collect(),
        );
        // The transfer alone: a table the plugin does not handle is refused right after
        // the bytes were copied into the guest (no decoding, no check).
        let transfer_t = median(
            (0..n)
                .map(|_| {
                    let t = Instant::now();
                    let r = rt.block_on(registry.validate(
                        &plugin,
                        "not-a-table",
                        &config,
                        black_box(&trace),
                        call(limits),
                    ));
                    assert!(
                        matches!(r, Err(PluginError::Failed { .. })),
                        "{table}: a foreign table must be refused: {r:?}"
                    );
                    t.elapsed()
                })
                .collect(),
        );
        let records_t = median(
            (0..n)
                .map(|_| {
                    let t = Instant::now();
                    black_box(
                        rt.block_on(registry.validate(
                            &plugin,
                            table,
                            &config,
                            black_box(&records),
                            call(limits),
                        ))
                        .expect("validate"),
                    );
                    t.elapsed()
                })
                .collect(),
        );
        black_box(native(check, &config, &packed).expect("warm-up"));
        let full_t = median(
            (0..n)
                .map(|_| {
                    let t = Instant::now();
                    let out = black_box(
                        native(check, black_box(&config), black_box(&packed)).expect("native"),
                    );
                    let elapsed = t.elapsed();
                    drop(out);
                    elapsed
                })
                .collect(),
        );
        let parsed: Value = serde_json::from_str(&config).expect("config");
        let check_t = median(
            (0..n)
                .map(|_| {
                    let t = Instant::now();
                    black_box(check(black_box(&parsed), black_box(&trace_native)).expect("check"));
                    t.elapsed()
                })
                .collect(),
        );
        let (w, x, r, f, c) = (
            ms(wasm_t),
            ms(transfer_t),
            ms(records_t),
            ms(full_t),
            ms(check_t),
        );
        println!(
            "{table:<12} {w:>9.1} {x:>11.1} {:>12} {r:>10.1} {f:>10.1} {c:>9.1} {:>12} {:>8.2}x",
            rate(count, wasm_t),
            rate(count, full_t),
            w / f
        );
        totals.0 += w;
        totals.1 += r;
        totals.2 += f;
        figures.push((table, w, x, r, f, c));
        jobs.push(ValidatorJob {
            plugin,
            table: table.to_string(),
            config_json: config,
        });
    }
    let pack = ms(pack_t);
    println!(
        "{:<12} {pack:>9.1}   (once per suite, for all nine)",
        "pack"
    );
    let all = pack + totals.0;
    println!(
        "{:<12} {all:>9.1} {:>11} {:>12} {:>10.1} {:>10.1} {:>9} {:>12} {:>8.2}x",
        "all nine",
        "",
        rate_ms(count, all),
        totals.1,
        totals.2,
        "",
        rate_ms(count, totals.2),
        all / totals.2
    );

    // The engine's way end to end: pack, then the nine calls at once on every core.
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let concurrent = (production_limits).then(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let once = || {
            let t = Instant::now();
            let trace = Arc::new(ValidatorTrace::new(&spans).expect("packs"));
            let results =
                rt.block_on(registry.validate_all(jobs.clone(), trace, resource(), cores));
            let elapsed = t.elapsed();
            for r in results {
                assert!(r.expect("validate").iter().all(|f| f.passed));
            }
            elapsed
        };
        once();
        median((0..n).map(|_| once()).collect())
    });
    match concurrent {
        Some(d) => println!(
            "{:<12} {:>9.1}   (the engine: pack + the nine at once on {cores} core(s), wall time)",
            "at once",
            ms(d)
        ),
        None => println!("at once: not measured (a validator needed more than Limits::VALIDATOR)"),
    }
    println!("(wasm ms = the engine's call with the packed trace; transfer ms = the same call for a table the plugin refuses:");
    println!(" instantiate + copy the bytes in; records ms = the same validator handed list<span-record> (0.3.2 and earlier);");
    println!(" native ms = decode config + decode the packed trace + check, as the plugin does; check ms = the check alone;");
    println!(" all nine = pack once + the nine wasm calls, vs the nine native)");
    println!();
    println!("@bench validators_spans {count}");
    for (table, w, x, r, f, c) in &figures {
        println!("@bench validate_{table}_wasm_ms {w:.2}");
        println!("@bench validate_{table}_transfer_ms {x:.2}");
        println!("@bench validate_{table}_records_ms {r:.2}");
        println!("@bench validate_{table}_native_ms {f:.2}");
        println!("@bench validate_{table}_check_ms {c:.2}");
    }
    println!("@bench validators_pack_ms {pack:.2}");
    println!("@bench validators_all_wasm_ms {all:.2}");
    println!("@bench validators_all_records_ms {:.2}", totals.1);
    println!("@bench validators_all_native_ms {:.2}", totals.2);
    if let Some(d) = concurrent {
        println!("@bench validators_all_concurrent_ms {:.2}", ms(d));
    }
}

/// What a validator plugin does, natively: decode the config, decode the packed trace,
/// check. The trace is returned, for the caller to drop after the clock stopped: a plugin
/// never frees it (its instance is thrown away), so freeing it is no part of the figure.
fn native(check: Check, config: &str, packed: &[u8]) -> Result<(Vec<Finding>, Trace), String> {
    let config: Value = serde_json::from_str(config).map_err(|e| e.to_string())?;
    let trace = with_resource(Trace::from_packed(packed).map_err(|e| e.to_string())?);
    let findings = check(&config, &trace).map_err(|e| e.to_string())?;
    Ok((findings, trace))
}

/// The resource the wasm validators are handed (`ValidateCall::resource`), natively.
fn with_resource(t: Trace) -> Trace {
    t.with_resource(vec![(
        "service.name".into(),
        clnrm_sdk::expect::AttrValue::Str("clnrm".into()),
    )])
}

/// About `want` spans: one `clnrm.run` root, then scenarios of ten spans each.
fn trace(want: usize) -> (Vec<SpanData>, usize) {
    let scenarios = (want - 1) / 10;
    let mut spans: Vec<SpanData> = Vec::with_capacity(1 + scenarios * 10);
    let ms = 1_000_000u64;
    let s = |x: &str| AttrValue::Str(x.to_string());
    let b = AttrValue::Bool;
    let i = AttrValue::Int;
    let mut add = |parent: Option<u32>,
                   name: String,
                   status: SpanStatus,
                   start: u64,
                   end: u64,
                   attrs: Vec<(&str, AttrValue)>,
                   events: &[&str]|
     -> u32 {
        let id = spans.len() as u32 + 1;
        let mut span = SpanData::finished(SpanId(id), parent.map(SpanId), name, start, end);
        span.status = status;
        span.status_message = (status == SpanStatus::Error)
            .then(|| "container killed by SIGKILL (exit 137)".to_string());
        span.attrs = attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        span.events = events
            .iter()
            .enumerate()
            .map(|(n, e)| Event {
                name: e.to_string(),
                time_ns: start + n as u64 * 100_000,
                attrs: vec![],
            })
            .collect();
        spans.push(span);
        id
    };
    use SpanStatus::{Error, Ok};
    let total_end = (scenarios as u64 + 1) * 20 * ms;
    let run = add(
        None,
        "clnrm.run".into(),
        Ok,
        0,
        total_end,
        vec![
            ("service.name", s("clnrm")),
            ("clnrm.version", s("0.1.0")),
            ("suite.name", s("bench")),
            ("seed", i(666)),
        ],
        &[],
    );
    for n in 0..scenarios {
        let t = (n as u64 + 1) * 20 * ms;
        let name = format!("scenario_{n}");
        let killed = n % 2 == 0;
        let degraded = n % 4 == 1;
        let sc = add(
            Some(run),
            "clnrm.scenario".into(),
            Ok,
            t,
            t + 19 * ms,
            vec![("scenario.name", s(&name)), ("expect_failure", b(killed))],
            &[],
        );
        add(
            Some(sc),
            "clnrm.service.start".into(),
            Ok,
            t,
            t + ms,
            vec![
                ("service.id", s("app")),
                ("service.image", s("clnrm-base:latest")),
                ("container.id", s(&format!("{:064x}", n + 1))),
            ],
            &["container.create", "container.start"],
        );
        let step_attrs = if killed {
            vec![
                ("result", s("error")),
                ("error.type", s("container_killed")),
                ("exit.code", i(137)),
                ("container.id", s(&format!("{:064x}", n + 1))),
            ]
        } else {
            vec![
                ("result", s("pass")),
                ("exit.code", i(0)),
                ("degraded", b(degraded)),
                ("service.id", s("app")),
            ]
        };
        let step = add(
            Some(sc),
            format!("clnrm.step:{name}"),
            if killed { Error } else { Ok },
            t + ms,
            t + 8 * ms,
            step_attrs,
            &["exec.start"],
        );
        if killed {
            add(
                Some(sc),
                "clnrm.chaos.kill".into(),
                Ok,
                t + 2 * ms,
                t + 3 * ms,
                vec![
                    ("chaos.type", s("kill_container")),
                    ("chaos.observed", b(true)),
                    ("signal", s("SIGKILL")),
                    ("exit.code", i(137)),
                ],
                &["kill.sent"],
            );
        } else {
            add(
                Some(sc),
                "clnrm.resource.cpu_throttle".into(),
                Ok,
                t + 2 * ms,
                t + 7 * ms,
                vec![
                    ("chaos.type", s("cpu_throttle")),
                    ("chaos.observed", b(true)),
                    ("pressure.level", s("high")),
                    // The degraded steps ran under it; the others' pressure hit another service.
                    ("target.service", s(if degraded { "app" } else { "db" })),
                ],
                &[],
            );
        }
        let cleanup_parent = if killed { step } else { sc };
        let cleanup = add(
            Some(cleanup_parent),
            "clnrm.cleanup".into(),
            Ok,
            t + 9 * ms,
            t + 12 * ms,
            vec![
                ("cleanup.success", s("true")),
                (
                    "cleanup.triggered",
                    s(if killed { "failure" } else { "success" }),
                ),
            ],
            &["container.stop", "container.remove", "cleanup.complete"],
        );
        add(
            Some(cleanup),
            "clnrm.recovery".into(),
            Ok,
            t + 10 * ms,
            t + 11 * ms,
            vec![("recovery.success", b(true))],
            &[],
        );
        add(
            Some(cleanup),
            "clnrm.cleanup.verification".into(),
            Ok,
            t + 12 * ms,
            t + 13 * ms,
            vec![
                ("containers.remaining", i(0)),
                ("networks.remaining", i(0)),
                ("volumes.remaining", i(0)),
                ("processes.remaining", i(0)),
                ("verification.clean", b(true)),
            ],
            &[],
        );
        add(
            Some(sc),
            "clnrm.retry.attempt".into(),
            Ok,
            t + 13 * ms,
            t + 14 * ms,
            vec![("retry.attempt", i(1)), ("server.address", s("app:8080"))],
            &[],
        );
        add(
            Some(sc),
            "clnrm.retry.backoff".into(),
            Ok,
            t + 14 * ms,
            t + 16 * ms,
            vec![("backoff.ms", i(100))],
            &[],
        );
        add(
            Some(sc),
            "clnrm.plugin:chaos-container".into(),
            Ok,
            t + 2 * ms,
            t + 3 * ms,
            vec![("plugin", s("chaos-container"))],
            &[],
        );
    }
    (spans, scenarios)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn rate(spans: usize, d: Duration) -> String {
    rate_ms(spans, ms(d))
}

fn rate_ms(spans: usize, ms: f64) -> String {
    let per_s = spans as f64 / (ms / 1e3);
    if per_s >= 1e6 {
        format!("{:.1} M", per_s / 1e6)
    } else {
        format!("{:.0} k", per_s / 1e3)
    }
}
