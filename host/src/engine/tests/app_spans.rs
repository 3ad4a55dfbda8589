//! Application spans (what the OTLP receiver appends) judged by the real first-party
//! validators, next to the spans a real run made: a kill by the real chaos-container plugin
//! on the fake backend, then hand-made application spans timed against its
//! `clnrm.chaos.kill` span. `service`, `during` and `after` true and false, the chaos
//! validator not fooled by an application span shaped like a fault, the digest with and
//! without `digest_app_spans`, and a recording with application spans replayed without
//! Docker to the same verdicts and digest.

use super::*;
use crate::backend::fake::Script;
use crate::engine::ExpectationOutcome;
use crate::trace::{AppParent, AppSpan, SpanId, SpanKind};

fn plugin_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins");
    assert!(
        dir.join("validate-span.wasm").is_file(),
        "{} has no plugins: run `cargo xtask plugins`",
        dir.display()
    );
    dir
}

fn registry() -> Arc<Registry> {
    Arc::new(
        Registry::new()
            .expect("a registry")
            .with_plugin_dir(plugin_dir()),
    )
}

// The application spans are made by hand below, so no receiver runs (the
// fake backend's network has no gateway for one to listen on).
const BODY: &str = r#"
[otel]
receive = false

[service.api]
image = "clnrm-base:latest"
env = { OTEL_SERVICE_NAME = "shop-api" }

[[scenario]]
name = "killed"
service = "app"
run = "serve"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 50 }

# 0: api's failing call overlaps the kill
[[expect.span]]
name = "GET /stock"
service = "shop-api"
during = "clnrm.chaos.kill"
status = "ERROR"

# 1: and it succeeds again after it
[[expect.span]]
name = "GET /stock"
service = "shop-api"
after = "clnrm.chaos.kill"
status = "OK"

# 2: false: no call succeeded during the kill
[[expect.span]]
name = "GET /stock"
during = "clnrm.chaos.kill"
status = "OK"

# 3: false: no failing call after it
[[expect.span]]
name = "GET /stock"
after = "clnrm.chaos.kill"
status = "ERROR"

# 4: false: the calls are api's, not app's
[[expect.span]]
name = "GET /stock"
service = "app"

# 5: clnrm's own step, by service
[[expect.span]]
name = "clnrm.step:killed"
service = "clnrm"

[expect.counts]
by_name = { "GET /stock" = { eq = 3 } }

[expect.chaos]
min_injections = 2
"#;

/// An application span of `shop-api` under `parent`, from `start` to `end` (run clock).
fn app_span(
    n: u32,
    parent: SpanId,
    name: &str,
    (start, end): (u64, u64),
    status: SpanStatus,
    by: AppParent,
) -> SpanData {
    let mut s = SpanData::finished(SpanId(n), Some(parent), name, start, end);
    s.kind = SpanKind::Client;
    s.status = status;
    s.app = Some(Box::new(AppSpan {
        service: "shop-api".into(),
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        span_id: format!("{:016x}", 0xb7ad_6b71_6920_3300u64 + u64::from(n)),
        parent_span_id: None,
        parent_by: by,
        resource: vec![("service.name".into(), AttrValue::from("shop-api"))].into(),
        scope: Some("shop".into()),
        renamed_from: None,
    }));
    s
}

/// The run's spans plus api's calls: one failing during the kill (under the step), one
/// succeeding after it and one before it (under the scenario, found by resource), and an
/// application span named and shaped like a kill (renamed, as the receiver does).
fn with_app_spans(spans: &[SpanData]) -> Vec<SpanData> {
    let kill = spans
        .iter()
        .find(|s| s.name == "clnrm.chaos.kill")
        .expect("the kill span");
    let step = spans
        .iter()
        .find(|s| s.name == "clnrm.step:killed")
        .unwrap();
    let scenario = spans.iter().find(|s| s.name == "clnrm.scenario").unwrap();
    let (k0, k1) = (kill.start_ns, kill.end_ns.unwrap());
    assert!(k0 > 1_000, "the kill starts after the run did: {k0}");
    let mut out = spans.to_vec();
    let n = out.len() as u32;
    let mut push = |s: SpanData| out.push(s);
    push(app_span(
        n,
        step.id,
        "GET /stock",
        (k0, k1 + 1_000),
        SpanStatus::Error,
        AppParent::Span,
    ));
    push(app_span(
        n + 1,
        scenario.id,
        "GET /stock",
        (k1 + 2_000_000, k1 + 3_000_000),
        SpanStatus::Ok,
        AppParent::Resource,
    ));
    push(app_span(
        n + 2,
        scenario.id,
        "GET /stock",
        (0, k0 - 1),
        SpanStatus::Ok,
        AppParent::Resource,
    ));
    let mut fake = app_span(
        n + 3,
        scenario.id,
        "app:clnrm.chaos.kill",
        (k0, k1),
        SpanStatus::Ok,
        AppParent::Resource,
    );
    fake.attrs = vec![
        ("chaos.type".into(), AttrValue::from("kill_container")),
        ("chaos.observed".into(), AttrValue::from(true)),
    ];
    fake.app.as_mut().unwrap().renamed_from = Some("clnrm.chaos.kill".into());
    push(fake);
    out
}

fn verdicts(findings: &[ExpectationOutcome]) -> Vec<(String, bool)> {
    findings
        .iter()
        .map(|f| (f.expectation.clone(), f.passed))
        .collect()
}

/// A run of BODY on the fake backend with every plugin it names.
async fn run_body(fake: &Arc<Fake>) -> (Suite, ResolvedPlugins, Arc<Registry>, SuiteOutcome) {
    let suite = suite(BODY);
    let registry = registry();
    let plugins = registry.resolve(&suite).await.expect("the suite's plugins");
    let mut cx = ctx(fake, Interrupt::never());
    cx.registry = registry.clone();
    cx.record = true;
    let out = run_suite(&cx, &suite, &plugins, 7).await;
    (suite, plugins, registry, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_judge_application_spans_against_the_faults() {
    let fake = Arc::new(Fake::new());
    fake.script("serve", Script::hang());
    let (suite, plugins, registry, out) = run_body(&fake).await;
    assert!(out.scenarios[0].passed, "{:?}", out.scenarios[0].reason);
    assert_eq!(out.digest_app_spans_left_out, 0);
    // clnrm's own spans alone: no GET /stock at all (tables in name order:
    // chaos, counts, span).
    let own = verdicts(&out.expectations);
    assert_eq!(
        own.iter().map(|v| v.1).collect::<Vec<_>>(),
        [false, false, false, false, false, false, false, true],
        "{own:?}"
    );

    let spans = with_app_spans(&out.spans);
    let (findings, invalid) = crate::engine::validate(&registry, &suite, &plugins, &spans).await;
    assert!(invalid.is_none(), "{invalid:?}");
    let v = verdicts(&findings);
    assert_eq!(
        v,
        [
            ("expect.chaos.min_injections".to_string(), false),
            ("expect.counts.by_name.\"GET /stock\"".to_string(), true),
            ("expect.span[0] GET /stock".to_string(), true),
            ("expect.span[1] GET /stock".to_string(), true),
            ("expect.span[2] GET /stock".to_string(), false),
            ("expect.span[3] GET /stock".to_string(), false),
            ("expect.span[4] GET /stock".to_string(), false),
            ("expect.span[5] clnrm.step:killed".to_string(), true),
        ],
        "{findings:#?}"
    );
    let msg = |i: usize| findings[i + 2].message.as_str();
    assert!(
        msg(4).contains("service is \"shop-api\", expected \"app\""),
        "{}",
        msg(4)
    );
    assert!(msg(4).contains("(service \"shop-api\","), "{}", msg(4));
    // A failure names the application's span, with its service.
    assert!(
        msg(2).contains("closest is span #") && msg(2).contains("(service \"shop-api\","),
        "{}",
        msg(2)
    );
    assert!(msg(3).contains("closest is span #"), "{}", msg(3));
    // The application's "kill" is not an injection: only clnrm's counts.
    let chaos = &findings[0].message;
    assert!(chaos.contains("1 span(s) with chaos.type"), "{chaos}");
}

/// The digest leaves application spans out unless `digest_app_spans`; a recording that
/// holds them replays (no Docker) to the same verdicts and digest, application spans kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_spans_are_recorded_and_replayed() {
    for digest_app_spans in [false, true] {
        let fake = Arc::new(Fake::new());
        fake.script("serve", Script::hang());
        let mut src_suite = suite(BODY);
        src_suite.digest_app_spans = digest_app_spans;
        let registry = registry();
        let plugins = registry.resolve(&src_suite).await.unwrap();
        let mut cx = ctx(&fake, Interrupt::never());
        cx.registry = registry.clone();
        cx.record = true;
        let mut out = run_suite(&cx, &src_suite, &plugins, 7).await;
        let own_digest = out.digest.clone();
        // What the run would have held had the receiver appended the spans.
        out.spans = with_app_spans(&out.spans);
        let (findings, _) =
            crate::engine::validate(&registry, &src_suite, &plugins, &out.spans).await;
        out.expectations = findings;
        out.digest = crate::trace::digest::digest_with(&out.spans, digest_app_spans);
        assert_eq!(
            out.digest == own_digest,
            !digest_app_spans,
            "application spans move the digest only with digest_app_spans"
        );

        // The recording: the suite's text carries the flag.
        let source = if digest_app_spans {
            src_suite.source.replacen(
                "[determinism]\n",
                "[determinism]\ndigest_app_spans = true\n",
                1,
            )
        } else {
            src_suite.source.clone()
        };
        let mut rec = crate::replay::SuiteRecording::of(&src_suite, &out);
        rec.source = source;
        // Through the file format and back: the `app` field survives.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rec.json");
        crate::replay::Recording::new(vec![rec])
            .write(&file)
            .unwrap();
        let back = crate::replay::Recording::read(&file).unwrap();
        let rec = &back.suites[0];
        assert_eq!(
            rec.spans.iter().filter(|s| s.app.is_some()).count(),
            4,
            "recorded with their app field"
        );

        let replayed = crate::replay::replay(&registry, rec, None).await.unwrap();
        assert!(replayed.divergence.is_none(), "{:?}", replayed.divergence);
        assert_eq!(
            replayed.digest, out.digest,
            "digest_app_spans {digest_app_spans}"
        );
        assert!(
            replayed.verdict_changes.is_empty(),
            "{:?}",
            replayed.verdict_changes
        );
        assert!(replayed.matches());
        assert_eq!(verdicts(&replayed.findings), verdicts(&out.expectations));
        let apps: Vec<&SpanData> = replayed.spans.iter().filter(|s| s.app.is_some()).collect();
        assert_eq!(apps.len(), 4);
        assert_eq!(apps[0].app.as_ref().unwrap().service, "shop-api");
        assert_eq!(apps[1].app.as_ref().unwrap().parent_by, AppParent::Resource);
    }
}

/// `[determinism] digest_app_spans = true` loads; it is off by default.
#[test]
fn digest_app_spans_loads() {
    assert!(!suite(BODY).digest_app_spans);
    let text = format!("{HEAD}{BODY}").replacen(
        "[determinism]\n",
        "[determinism]\ndigest_app_spans = true\n",
        1,
    );
    let s = crate::suite::load_str(Path::new("fake.clnrm.toml"), text).unwrap();
    assert!(s.digest_app_spans);
}
