//! Plugin runtime costs, through the public `clnrm::runtime::Registry` API:
//!
//! 1. loading a plugin cold (compile; `CLNRM_CACHE_DIR` is a fresh empty dir, so the load
//!    compiles and writes the artifact) vs warm (precompiled cache hit, new Registry each time);
//! 2. one `validate-span` call (fresh store + instantiate + call with the packed trace, as
//!    the engine does it) on a 20-span trace vs the same check done natively with
//!    `clnrm_sdk::expect::check_spans` (config JSON parsed and the packed trace decoded into
//!    the sdk's model, like the plugin does).
//!
//! Std-only harness (`harness = false`): raw figures with median and p90, then one
//! `@bench <key> <value>` line per figure for `cargo xtask bench` to tabulate.
//! Needs `cargo xtask plugins` first (reads `target/plugins/validate-span.wasm`).
//!
//! Run: `cargo bench -p clnrm --bench plugin_call` (iterations: `CLNRM_BENCH_N`, default 2000).

use clnrm::runtime::{Limits, Registry, ValidateCall, ValidatorTrace};
use clnrm::trace::{AttrValue, Event, SpanData, SpanId, SpanStatus};
use clnrm_sdk::expect;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SIMPLE_CONFIG: &str = r#"[{"name":"clnrm.cleanup","status":"OK"}]"#;

/// The six `[[expect.span]]` tables of tests/chaos/container_failures.clnrm.toml, as JSON:
/// a heavier, realistic config (parents, attribute matchers, events, counts).
const SUITE_CONFIG: &str = r#"[
 {"name":"clnrm.step:container_killed_mid_step","status":"ERROR",
  "attrs":{"all":{"result":"error","error.type":"container_killed","exit.code":"137"}}},
 {"name":"clnrm.chaos.kill","parent":"clnrm.scenario","status":"OK",
  "attrs":{"all":{"chaos.observed":"true","container.exit_code":137,"signal":"SIGKILL"}}},
 {"name":"clnrm.cleanup","parent":"clnrm.step:container_killed_mid_step","status":"OK",
  "attrs":{"all":{"cleanup.success":"true","cleanup.triggered":"failure"}},
  "events":{"any":["container.remove"]}},
 {"name":"clnrm.recovery","parent":"clnrm.cleanup","status":"OK",
  "attrs":{"all":{"recovery.success":"true"}},"count":{"eq":2}},
 {"name":"clnrm.step:nonzero_exit_code","status":"ERROR",
  "attrs":{"all":{"exit.code":"42","error.type":"nonzero_exit"}}},
 {"name":"clnrm.cleanup.verification","status":"OK",
  "attrs":{"all":{"containers.remaining":0,"networks.remaining":0,"volumes.remaining":0}},
  "count":{"eq":2}}
]"#;

fn main() {
    let n: usize = std::env::var("CLNRM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let plugins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins");
    let wasm = plugins.join("validate-span.wasm");
    if !wasm.is_file() {
        eprintln!(
            "plugin_call: {} not found; run `cargo xtask plugins` first",
            wasm.display()
        );
        std::process::exit(2);
    }
    let wasm = wasm.canonicalize().expect("canonical plugin path");
    // Set before any thread that could read the environment exists.
    std::env::set_var(
        "CLNRM_PLUGIN_DIR",
        plugins.canonicalize().expect("canonical plugin dir"),
    );
    let scratch = Scratch::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    println!(
        "plugin_call: {} ({} KB), N={n}",
        wasm.display(),
        std::fs::metadata(&wasm)
            .map(|m| m.len() / 1024)
            .unwrap_or(0)
    );

    // 1a. Cold: every load compiles (a fresh, empty cache dir each time).
    let cold_n = 12;
    let mut cold = Vec::new();
    let mut new_registry = Vec::new();
    for i in 0..cold_n {
        let dir = scratch.dir(&format!("cold-{i}"));
        std::env::set_var("CLNRM_CACHE_DIR", &dir);
        let t = Instant::now();
        let registry = Registry::new().expect("registry");
        new_registry.push(t.elapsed());
        let t = Instant::now();
        let p = rt
            .block_on(registry.load("validate-span", &wasm))
            .expect("cold load");
        cold.push(t.elapsed());
        assert!(!p.from_cache, "cold load came from the cache");
    }

    // 1b. Warm: one shared cache dir, filled once; a new Registry for every load.
    let warm_dir = scratch.dir("warm");
    std::env::set_var("CLNRM_CACHE_DIR", &warm_dir);
    {
        let registry = Registry::new().expect("registry");
        rt.block_on(registry.load("validate-span", &wasm))
            .expect("fill cache");
    }
    let warm_n = 200;
    let mut warm = Vec::new();
    for _ in 0..warm_n {
        let registry = Registry::new().expect("registry");
        let t = Instant::now();
        let p = rt
            .block_on(registry.load("validate-span", &wasm))
            .expect("warm load");
        warm.push(t.elapsed());
        assert!(p.from_cache, "warm load missed the cache");
    }
    report("plugin load, cold (compile + write cache)", "ms", &mut cold);
    report("plugin load, warm (cache hit)", "ms", &mut warm);
    report(
        "Registry::new (engine, linkers, ticker)",
        "ms",
        &mut new_registry,
    );

    // 2. One validate call vs native.
    let registry = Registry::new().expect("registry");
    let plugin = rt
        .block_on(registry.load("validate-span", &wasm))
        .expect("load");
    let spans = sample_trace();
    // Packed once, as the engine packs a suite's trace for all its validators.
    let trace = ValidatorTrace::new(&spans).expect("packs");
    let packed = trace.packed().expect("packed").to_vec();
    println!("trace: {} spans", spans.len());
    let mut results = Vec::new();
    for (label, config) in [
        ("simple: 1 expectation", SIMPLE_CONFIG),
        ("suite: 6 expectations", SUITE_CONFIG),
    ] {
        let expected = config_len(config);
        // Same answer both ways, or the timing means nothing.
        let wasm_findings = rt
            .block_on(registry.validate(
                &plugin,
                "span",
                config,
                &trace,
                ValidateCall {
                    limits: Limits::VALIDATOR,
                    resource: vec![("service.name".into(), "clnrm".into())],
                },
            ))
            .expect("validate");
        let native_findings = native(config, &packed);
        assert_eq!(
            wasm_findings.len(),
            expected,
            "{label}: findings {wasm_findings:?}"
        );
        assert!(
            wasm_findings.iter().all(|f| f.passed),
            "{label}: wasm findings {wasm_findings:?}"
        );
        assert_eq!(
            wasm_findings
                .iter()
                .map(|f| (&f.expectation, f.passed))
                .collect::<Vec<_>>(),
            native_findings
                .iter()
                .map(|f| (&f.expectation, f.passed))
                .collect::<Vec<_>>(),
            "{label}: wasm and native disagree"
        );

        let mut wasm_t = Vec::with_capacity(n);
        rt.block_on(async {
            for _ in 0..n.min(50) {
                black_box(
                    registry
                        .validate(
                            &plugin,
                            "span",
                            config,
                            &trace,
                            ValidateCall {
                                limits: Limits::VALIDATOR,
                                resource: vec![("service.name".into(), "clnrm".into())],
                            },
                        )
                        .await
                        .unwrap(),
                );
            }
            for _ in 0..n {
                let t = Instant::now();
                let f = registry
                    .validate(
                        &plugin,
                        "span",
                        config,
                        &trace,
                        ValidateCall {
                            limits: Limits::VALIDATOR,
                            resource: vec![("service.name".into(), "clnrm".into())],
                        },
                    )
                    .await;
                wasm_t.push(t.elapsed());
                black_box(f.unwrap());
            }
        });
        let mut native_t = Vec::with_capacity(n);
        for _ in 0..n.min(50) {
            black_box(native(black_box(config), black_box(&packed)));
        }
        for _ in 0..n {
            let t = Instant::now();
            let f = native(black_box(config), black_box(&packed));
            native_t.push(t.elapsed());
            black_box(f);
        }
        let w = report(
            &format!("validate-span wasm call ({label})"),
            "us",
            &mut wasm_t,
        );
        let nat = report(
            &format!("native check_spans ({label})"),
            "us",
            &mut native_t,
        );
        println!(
            "  ratio wasm/native (median): {:.1}x, overhead {:.1} us",
            w.median / nat.median,
            w.median - nat.median
        );
        results.push((w, nat));
    }

    println!();
    println!("@bench plugin_load_cold_ms {:.2}", ms(median(&cold)));
    println!("@bench plugin_load_warm_ms {:.3}", ms(median(&warm)));
    println!("@bench registry_new_ms {:.3}", ms(median(&new_registry)));
    println!("@bench validate_wasm_us {:.1}", results[0].0.median);
    println!("@bench validate_wasm_p90_us {:.1}", results[0].0.p90);
    println!("@bench validate_native_us {:.2}", results[0].1.median);
    println!("@bench validate_native_p90_us {:.2}", results[0].1.p90);
    println!("@bench validate6_wasm_us {:.1}", results[1].0.median);
    println!("@bench validate6_native_us {:.2}", results[1].1.median);
    println!("@bench trace_spans {}", spans.len());
}

/// What the plugin does, natively: parse the config, decode the packed trace, check.
fn native(config: &str, packed: &[u8]) -> Vec<expect::Finding> {
    let config: serde_json::Value = serde_json::from_str(config).expect("config json");
    let trace = expect::Trace::from_packed(packed).expect("a packed trace");
    expect::check_spans(&config, &trace).expect("valid config")
}

fn config_len(config: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(config)
        .ok()
        .and_then(|v| v.as_array().map(Vec::len))
        .unwrap_or(0)
}

/// A 20-span trace shaped like a run of container_failures.clnrm.toml.
fn sample_trace() -> Vec<SpanData> {
    let mut spans: Vec<SpanData> = Vec::new();
    let mut t = 0u64;
    let mut add = |parent: Option<u32>,
                   name: &str,
                   status: SpanStatus,
                   attrs: &[(&str, AttrValue)],
                   events: &[&str]|
     -> u32 {
        let id = spans.len() as u32;
        t += 1_000_000;
        let mut span = SpanData::finished(SpanId(id), parent.map(SpanId), name, t, t + 500_000);
        span.status = status;
        span.status_message = (status == SpanStatus::Error).then(|| "failed".to_string());
        span.attrs = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        span.events = events
            .iter()
            .map(|e| Event {
                name: e.to_string(),
                time_ns: t + 100_000,
                attrs: vec![("container.id".into(), AttrValue::from("abc123"))],
            })
            .collect();
        spans.push(span);
        id
    };
    use SpanStatus::{Error, Ok};
    let s = AttrValue::from;
    let run = add(
        None,
        "clnrm.run",
        Ok,
        &[
            ("suite", s("chaos_container_failures")),
            ("seed", AttrValue::Int(666)),
        ],
        &[],
    );
    // Scenario 1: killed mid-step.
    let sc1 = add(
        Some(run),
        "clnrm.scenario",
        Ok,
        &[("scenario", s("container_killed_mid_step"))],
        &[],
    );
    add(
        Some(sc1),
        "clnrm.service.start",
        Ok,
        &[("service", s("app")), ("image", s("clnrm-base:latest"))],
        &["container.create", "container.start"],
    );
    let step1 = add(
        Some(sc1),
        "clnrm.step:container_killed_mid_step",
        Error,
        &[
            ("result", s("error")),
            ("error.type", s("container_killed")),
            ("exit.code", s("137")),
        ],
        &["exec.start"],
    );
    add(
        Some(sc1),
        "clnrm.chaos.kill",
        Ok,
        &[
            ("chaos.observed", s("true")),
            ("container.exit_code", AttrValue::Int(137)),
            ("signal", s("SIGKILL")),
        ],
        &["kill.sent"],
    );
    add(
        Some(sc1),
        "clnrm.plugin:chaos-container",
        Ok,
        &[("plugin", s("chaos-container"))],
        &[],
    );
    let cl1 = add(
        Some(step1),
        "clnrm.cleanup",
        Ok,
        &[
            ("cleanup.success", s("true")),
            ("cleanup.triggered", s("failure")),
        ],
        &["container.remove"],
    );
    add(
        Some(cl1),
        "clnrm.recovery",
        Ok,
        &[("recovery.success", s("true"))],
        &[],
    );
    add(
        Some(cl1),
        "clnrm.recovery",
        Ok,
        &[("recovery.success", s("true"))],
        &[],
    );
    add(
        Some(sc1),
        "clnrm.cleanup.verification",
        Ok,
        &[
            ("containers.remaining", AttrValue::Int(0)),
            ("networks.remaining", AttrValue::Int(0)),
            ("volumes.remaining", AttrValue::Int(0)),
        ],
        &[],
    );
    // Scenario 2: non-zero exit.
    let sc2 = add(
        Some(run),
        "clnrm.scenario",
        Ok,
        &[("scenario", s("nonzero_exit_code"))],
        &[],
    );
    add(
        Some(sc2),
        "clnrm.service.start",
        Ok,
        &[("service", s("worker")), ("image", s("clnrm-base:latest"))],
        &["container.create", "container.start"],
    );
    let step2 = add(
        Some(sc2),
        "clnrm.step:nonzero_exit_code",
        Error,
        &[
            ("exit.code", s("42")),
            ("error.type", s("nonzero_exit")),
            ("result", s("error")),
        ],
        &["exec.start"],
    );
    let cl2 = add(
        Some(step2),
        "clnrm.cleanup.step",
        Ok,
        &[
            ("cleanup.success", s("true")),
            ("cleanup.triggered", s("failure")),
        ],
        &["container.remove"],
    );
    add(
        Some(cl2),
        "clnrm.recovery.step",
        Ok,
        &[("recovery.success", s("true"))],
        &[],
    );
    add(
        Some(sc2),
        "clnrm.cleanup.verification",
        Ok,
        &[
            ("containers.remaining", AttrValue::Int(0)),
            ("networks.remaining", AttrValue::Int(0)),
            ("volumes.remaining", AttrValue::Int(0)),
        ],
        &[],
    );
    add(
        Some(run),
        "clnrm.validate",
        Ok,
        &[("validators", AttrValue::Int(1))],
        &[],
    );
    add(Some(run), "clnrm.report", Ok, &[("format", s("json"))], &[]);
    add(
        Some(run),
        "clnrm.digest",
        Ok,
        &[("sha256", s("0123456789abcdef"))],
        &[],
    );
    add(
        Some(run),
        "clnrm.teardown",
        Ok,
        &[("containers.removed", AttrValue::Int(2))],
        &[],
    );
    spans
}

struct Stats {
    median: f64,
    p90: f64,
}

/// Print min/median/p90/max in `unit` ("ms" or "us"); returns median and p90 in that unit.
fn report(label: &str, unit: &str, samples: &mut [Duration]) -> Stats {
    samples.sort();
    let conv = |d: Duration| {
        if unit == "ms" {
            ms(d)
        } else {
            d.as_secs_f64() * 1e6
        }
    };
    let (min, med, p90, max) = (
        conv(samples[0]),
        conv(median(samples)),
        conv(pct(samples, 0.9)),
        conv(samples[samples.len() - 1]),
    );
    let u = if unit == "us" { "µs" } else { unit };
    println!("{label:<52} n={:<5} median {med:>9.3} {u}  p90 {p90:>9.3} {u}  min {min:>9.3}  max {max:>9.3}", samples.len());
    Stats { median: med, p90 }
}

fn median(samples: &[Duration]) -> Duration {
    let mut v = samples.to_vec();
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A temp dir removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let p = std::env::temp_dir().join(format!("clnrm-bench-{}", std::process::id()));
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }
    fn dir(&self, name: &str) -> PathBuf {
        let d = self.0.join(name);
        std::fs::create_dir_all(&d).expect("scratch subdir");
        d
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
