//! OTEL export of a finished trace: `[otel] exporter = "stdout" | "otlp" | "none"`.
//!
//! The trace is built in memory while the run goes (validators read it whole),
//! so it is exported once, after the run, as a batch. Each span becomes an
//! `opentelemetry_sdk::trace::SpanData` with ids from [`super::ids`] (seeded,
//! not random) and absolute times `epoch + offset` (with `freeze_clock` the
//! epoch is the frozen instant). From there:
//!
//! - `otlp`: the batch goes to `opentelemetry_otlp::SpanExporter` (OTLP/HTTP,
//!   protobuf) through the SDK's `SpanExporter::export`, unchanged.
//! - `stdout`: the SDK has no OTLP/JSON span exporter (`opentelemetry-stdout`
//!   prints a debug format other tools cannot read), so the same `SpanData` is
//!   turned into OTLP messages by `opentelemetry_proto::transform` (the code
//!   the OTLP exporter itself uses) and serialised with the crate's serde
//!   support, which follows the OTLP/JSON encoding: camelCase fields, hex
//!   trace/span ids, 64-bit integers as strings. One `ExportTraceServiceRequest`
//!   per line.
//!
//! Why not a `TracerProvider` with a span processor: its spans get ids from an
//! `IdGenerator` and times from the system clock as they happen; ours already
//! happened, with recorded times and seeded ids. Building `SpanData` directly
//! and handing it to the exporter keeps both exactly.
//!
//! Application spans (received over OTLP, `SpanData::app`) are exported as
//! the application sent them: their own trace, span and parent span ids, their
//! own instrumentation scope, under their own resource (the resource
//! attributes they came with, `service.name` included), on the same clock as
//! clnrm's spans. clnrm's own spans go under clnrm's resource.
//!
//! Sampling (`sample_ratio`) is per trace and deterministic: the SDK's own
//! `TraceIdRatioBased` sampler decides on the seeded trace id, so a given
//! (seed, suite) is always in or always out.

use super::{ids, AttrValue, SpanData, SpanKind, SpanStatus};
use opentelemetry::trace::{SpanContext, SpanId, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::{
    SamplingDecision, ShouldSample, SpanEvents, SpanExporter as _, SpanLinks,
};
use opentelemetry_sdk::Resource;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `service.name` when `[otel] resources` does not set one.
pub const DEFAULT_SERVICE_NAME: &str = "clnrm";
/// Bound on one OTLP/HTTP export, retries included.
const OTLP_TIMEOUT: Duration = Duration::from_secs(10);

/// What identifies a run's trace and anchors its times.
#[derive(Clone, Copy, Debug)]
pub struct RunIdentity<'a> {
    pub suite: &'a str,
    pub seed: u64,
    /// Unix time of the run clock's start (the frozen instant with `freeze_clock`).
    pub epoch_unix_ns: u64,
}

impl RunIdentity<'_> {
    pub fn trace_id(&self) -> TraceId {
        TraceId::from_bytes(ids::trace_id(self.seed, self.suite))
    }

    pub fn span_id(&self, index: u32) -> SpanId {
        SpanId::from_bytes(ids::span_id(self.seed, self.suite, index))
    }

    fn at(&self, offset_ns: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.epoch_unix_ns.saturating_add(offset_ns))
    }
}

/// Where the spans go.
#[derive(Debug, Clone)]
pub enum Sink {
    /// OTLP/JSON lines into the file `name` of `dir` (created or replaced).
    JsonFile {
        dir: std::sync::Arc<crate::confined::ConfinedDir>,
        name: String,
    },
    /// OTLP/JSON lines on stdout.
    Stdout,
    /// OTLP/HTTP protobuf POST. `None`: the OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT
    /// environment variables, else http://localhost:4318/v1/traces.
    Otlp(Option<String>),
}

/// What an export did.
#[derive(Debug, Clone)]
pub struct Exported {
    /// Spans sent (0 when the trace was sampled out).
    pub spans: usize,
    pub sampled: bool,
    /// Hex trace id.
    pub trace_id: String,
    /// Where they went, for the user: a path, "stdout" or the URL.
    pub destination: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the export: {0}")]
    File(std::io::Error),
    #[error("cannot encode the trace as OTLP/JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("OTLP endpoint `{endpoint}`: {message}")]
    Otlp { endpoint: String, message: String },
}

/// The OTEL resource: `[otel] resources`, plus `service.name` = "clnrm"
/// unless given. Nothing from the environment (OTEL_RESOURCE_ATTRIBUTES,
/// host detectors): the export is a function of the suite and the seed.
pub fn resource(resources: &BTreeMap<String, String>) -> Resource {
    let attrs = resource_attributes(resources)
        .into_iter()
        .map(|(k, v)| KeyValue::new(k, v));
    Resource::builder_empty().with_attributes(attrs).build()
}

/// The resource's attributes, sorted by key: what is exported and what validators
/// see through `clnrm:chaos/trace-resource` (one function, so they cannot differ).
pub fn resource_attributes(resources: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut attrs = resources.clone();
    attrs
        .entry("service.name".to_string())
        .or_insert_with(|| DEFAULT_SERVICE_NAME.to_string());
    attrs.into_iter().collect()
}

/// Whether this run's trace is exported under `sample_ratio`.
pub fn sampled(run: &RunIdentity<'_>, sample_ratio: f64) -> bool {
    let sampler = opentelemetry_sdk::trace::Sampler::TraceIdRatioBased(sample_ratio);
    let r = sampler.should_sample(
        None,
        run.trace_id(),
        "clnrm.run",
        &opentelemetry::trace::SpanKind::Internal,
        &[],
        &[],
    );
    matches!(r.decision, SamplingDecision::RecordAndSample)
}

fn value(v: &AttrValue) -> Value {
    match v {
        AttrValue::Str(s) => Value::from(s.clone()),
        AttrValue::Int(i) => Value::I64(*i),
        AttrValue::Float(f) => Value::F64(*f),
        AttrValue::Bool(b) => Value::Bool(*b),
    }
}

fn attributes(attrs: &[(String, AttrValue)]) -> Vec<KeyValue> {
    attrs
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), value(v)))
        .collect()
}

fn kind(k: SpanKind) -> opentelemetry::trace::SpanKind {
    use opentelemetry::trace::SpanKind as K;
    match k {
        SpanKind::Internal => K::Internal,
        SpanKind::Server => K::Server,
        SpanKind::Client => K::Client,
        SpanKind::Producer => K::Producer,
        SpanKind::Consumer => K::Consumer,
    }
}

/// The trace as SDK spans, in trace order. A parent outside the trace (it
/// cannot happen for a finished run, but a hand-made trace might) makes the
/// span a root rather than pointing at an id nobody exports. An application
/// span keeps the ids and the scope it was sent with.
pub fn to_sdk(
    spans: &[SpanData],
    run: &RunIdentity<'_>,
) -> Vec<opentelemetry_sdk::trace::SpanData> {
    let trace_id = run.trace_id();
    let scope = InstrumentationScope::builder("clnrm")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    let known = |id: u32| spans.iter().any(|s| s.id.0 == id);
    spans
        .iter()
        .map(|s| {
            let end = s.end_ns.unwrap_or(s.start_ns).max(s.start_ns);
            let (span_context, parent_span_id, scope) = match &s.app {
                None => (
                    SpanContext::new(
                        trace_id,
                        run.span_id(s.id.0),
                        TraceFlags::SAMPLED,
                        false,
                        TraceState::NONE,
                    ),
                    s.parent
                        .filter(|p| known(p.0))
                        .map(|p| run.span_id(p.0))
                        .unwrap_or(SpanId::INVALID),
                    scope.clone(),
                ),
                Some(app) => (
                    SpanContext::new(
                        TraceId::from_hex(&app.trace_id).unwrap_or(TraceId::INVALID),
                        SpanId::from_hex(&app.span_id).unwrap_or(SpanId::INVALID),
                        TraceFlags::SAMPLED,
                        false,
                        TraceState::NONE,
                    ),
                    app.parent_span_id
                        .as_deref()
                        .and_then(|p| SpanId::from_hex(p).ok())
                        .unwrap_or(SpanId::INVALID),
                    InstrumentationScope::builder(
                        app.scope.as_deref().unwrap_or_default().to_string(),
                    )
                    .build(),
                ),
            };
            opentelemetry_sdk::trace::SpanData {
                span_context,
                parent_span_id,
                parent_span_is_remote: false,
                span_kind: kind(s.kind),
                name: Cow::Owned(s.name.clone()),
                start_time: run.at(s.start_ns),
                end_time: run.at(end),
                attributes: attributes(&s.attrs),
                dropped_attributes_count: 0,
                events: {
                    // `SpanEvents` is non-exhaustive: fill a default.
                    let mut ev = SpanEvents::default();
                    ev.events = s
                        .events
                        .iter()
                        .map(|e| {
                            opentelemetry::trace::Event::new(
                                e.name.clone(),
                                run.at(e.time_ns),
                                attributes(&e.attrs),
                                0,
                            )
                        })
                        .collect();
                    ev
                },
                links: SpanLinks::default(),
                status: match s.status {
                    SpanStatus::Unset => Status::Unset,
                    SpanStatus::Ok => Status::Ok,
                    SpanStatus::Error => {
                        Status::error(s.status_message.clone().unwrap_or_default())
                    }
                },
                instrumentation_scope: scope,
            }
        })
        .collect()
}

/// An application's resource: the attributes it sent, with `service.name`
/// set to its service if it sent none.
pub fn app_resource(app: &super::AppSpan) -> Resource {
    let mut attrs = attributes(&app.resource);
    if !app.resource.iter().any(|(k, _)| k == "service.name") {
        attrs.push(KeyValue::new("service.name", app.service.clone()));
    }
    Resource::builder_empty().with_attributes(attrs).build()
}

/// The spans as SDK spans, grouped by the resource they are exported under:
/// clnrm's own under `resource` (first, even when empty), then each
/// application resource in order of first appearance.
pub fn by_resource(
    spans: &[SpanData],
    run: &RunIdentity<'_>,
    resource: &Resource,
) -> Vec<(Resource, Vec<opentelemetry_sdk::trace::SpanData>)> {
    let mut groups: Vec<(
        Option<&super::AppSpan>,
        Vec<opentelemetry_sdk::trace::SpanData>,
    )> = vec![(None, Vec::new())];
    let same =
        |a: &super::AppSpan, b: &super::AppSpan| a.service == b.service && a.resource == b.resource;
    for (s, sdk) in spans.iter().zip(to_sdk(spans, run)) {
        let at = match s.app.as_deref() {
            None => 0,
            Some(app) => match groups
                .iter()
                .position(|(g, _)| g.is_some_and(|g| same(g, app)))
            {
                Some(i) => i,
                None => {
                    groups.push((Some(app), Vec::new()));
                    groups.len() - 1
                }
            },
        };
        groups[at].1.push(sdk);
    }
    groups
        .into_iter()
        .map(|(app, batch)| (app.map_or_else(|| resource.clone(), app_resource), batch))
        .collect()
}

/// One OTLP/JSON `ExportTraceServiceRequest` (no newline).
pub fn otlp_json(
    spans: Vec<opentelemetry_sdk::trace::SpanData>,
    resource: &Resource,
) -> serde_json::Result<String> {
    otlp_json_groups(vec![(resource.clone(), spans)])
}

/// One OTLP/JSON `ExportTraceServiceRequest` (no newline) holding every
/// group under its own resource ([`by_resource`]); empty groups are left out.
pub fn otlp_json_groups(
    groups: Vec<(Resource, Vec<opentelemetry_sdk::trace::SpanData>)>,
) -> serde_json::Result<String> {
    let mut request = ExportTraceServiceRequest {
        resource_spans: groups
            .into_iter()
            .filter(|(_, spans)| !spans.is_empty())
            .flat_map(|(resource, spans)| {
                group_spans_by_resource_and_scope(
                    spans,
                    &ResourceAttributesWithSchema::from(&resource),
                )
            })
            .collect(),
    };
    // The SDK's resource is a hash map: sort its attributes so the same run
    // gives the same line.
    for rs in &mut request.resource_spans {
        if let Some(r) = rs.resource.as_mut() {
            r.attributes.sort_by(|a, b| a.key.cmp(&b.key));
        }
    }
    serde_json::to_string(&request)
}

/// A collector base URL (`http://host:4318`, no path) gets the traces path
/// appended, as OTEL_EXPORTER_OTLP_ENDPOINT does; a URL with a path is used
/// as given.
pub fn traces_url(endpoint: &str) -> String {
    let e = endpoint.trim();
    let path_start = e.find("://").map(|i| i + 3).unwrap_or(0);
    match e[path_start..].find('/') {
        Some(i) if e[path_start + i..] != *"/" => e.to_string(),
        _ => format!("{}/v1/traces", e.trim_end_matches('/')),
    }
}

/// Export `spans` to `sink`, honouring `sample_ratio`.
pub async fn export(
    spans: &[SpanData],
    run: &RunIdentity<'_>,
    resources: &BTreeMap<String, String>,
    sample_ratio: f64,
    sink: &Sink,
) -> Result<Exported, ExportError> {
    let trace_id = run.trace_id().to_string();
    let destination = match sink {
        Sink::JsonFile { dir, name } => dir.display_path(name).display().to_string(),
        Sink::Stdout => "stdout".to_string(),
        Sink::Otlp(Some(e)) => traces_url(e),
        Sink::Otlp(None) => {
            "OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318/v1/traces".to_string()
        }
    };
    let is_sampled = sampled(run, sample_ratio);
    let resource = resource(resources);
    let groups = if is_sampled {
        by_resource(spans, run, &resource)
    } else {
        Vec::new()
    };
    let count = groups.iter().map(|(_, b)| b.len()).sum();
    match sink {
        Sink::JsonFile { dir, name } => {
            // Sampled out: an empty file, so a stale export cannot pass for this run's.
            let text = if is_sampled {
                format!("{}\n", otlp_json_groups(groups)?)
            } else {
                String::new()
            };
            // The error already names the file.
            dir.write(name, text).map_err(ExportError::File)?;
        }
        Sink::Stdout if is_sampled => {
            let line = otlp_json_groups(groups)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(|source| ExportError::Io {
                    path: "stdout".into(),
                    source,
                })?;
        }
        Sink::Stdout => {}
        Sink::Otlp(endpoint) if is_sampled => {
            use opentelemetry_otlp::{Protocol, WithExportConfig};
            let err = |message: String| ExportError::Otlp {
                endpoint: destination.clone(),
                message,
            };
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_timeout(OTLP_TIMEOUT);
            if let Some(e) = endpoint {
                builder = builder.with_endpoint(traces_url(e));
            }
            let mut exporter = builder.build().map_err(|e| err(e.to_string()))?;
            // One export per resource (the exporter holds one resource at a
            // time): clnrm's spans, then each application's.
            let mut result = Ok(());
            for (resource, batch) in groups.into_iter().filter(|(_, b)| !b.is_empty()) {
                exporter.set_resource(&resource);
                result = exporter.export(batch).await;
                if result.is_err() {
                    break;
                }
            }
            let _ = exporter.shutdown();
            result.map_err(|e| err(e.to_string()))?;
        }
        Sink::Otlp(_) => {}
    }
    Ok(Exported {
        spans: count,
        sampled: is_sampled,
        trace_id,
        destination,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{RunClock, Trace};

    fn trace() -> Vec<SpanData> {
        let t = Trace::new(RunClock::new(Some(1_000_000_000)));
        let root = t.start("clnrm.run", None);
        let step = t.start("clnrm.step:a", Some(root));
        t.set_attr(step, "exit.code", 137);
        t.set_attr(step, "degraded", false);
        t.add_event(
            step,
            "container.stop",
            vec![("service.id".into(), "app".into())],
        );
        t.end_error(step, "killed");
        t.end_ok(root);
        t.snapshot()
    }

    #[test]
    fn sdk_spans_carry_seeded_ids_parents_status_and_absolute_times() {
        let spans = trace();
        let run = RunIdentity {
            suite: "s",
            seed: 9,
            epoch_unix_ns: 1_000_000_000,
        };
        let sdk = to_sdk(&spans, &run);
        assert_eq!(sdk.len(), 2);
        assert_eq!(sdk[0].parent_span_id, SpanId::INVALID);
        assert_eq!(sdk[1].parent_span_id, sdk[0].span_context.span_id());
        assert_eq!(
            sdk[0].span_context.trace_id(),
            sdk[1].span_context.trace_id()
        );
        assert_eq!(sdk[1].status, Status::error("killed"));
        assert!(sdk[0].start_time >= UNIX_EPOCH + Duration::from_secs(1));
        assert_eq!(
            to_sdk(&spans, &run)[1].span_context,
            sdk[1].span_context,
            "ids are a function of (seed, suite, index)"
        );
    }

    #[test]
    fn otlp_json_uses_hex_ids_string_times_and_typed_values() {
        let run = RunIdentity {
            suite: "s",
            seed: 9,
            epoch_unix_ns: 1_000_000_000,
        };
        let res = resource(&BTreeMap::from([(
            "deployment.environment".to_string(),
            "ci".to_string(),
        )]));
        let line = otlp_json(to_sdk(&trace(), &run), &res).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let rs = &v["resourceSpans"][0];
        let keys: Vec<&str> = rs["resource"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            ["deployment.environment", "service.name"],
            "sorted, service.name added"
        );
        let span = &rs["scopeSpans"][0]["spans"][1];
        assert_eq!(
            span["traceId"].as_str().unwrap(),
            hex::encode(ids::trace_id(9, "s"))
        );
        assert_eq!(
            span["parentSpanId"].as_str().unwrap(),
            hex::encode(ids::span_id(9, "s", 0))
        );
        assert!(span["startTimeUnixNano"].is_string());
        let code = span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "exit.code")
            .unwrap();
        assert_eq!(code["value"]["intValue"], "137");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(span["events"][0]["name"], "container.stop");
    }

    #[test]
    fn sampling_is_all_or_nothing_and_fixed_by_the_seed() {
        let run = |seed| RunIdentity {
            suite: "s",
            seed,
            epoch_unix_ns: 0,
        };
        assert!(sampled(&run(1), 1.0));
        assert!(!sampled(&run(1), 0.0));
        let kept = (0..1000).filter(|s| sampled(&run(*s), 0.25)).count();
        assert!(
            (150..350).contains(&kept),
            "about a quarter of seeds are kept: {kept}"
        );
        assert_eq!(sampled(&run(77), 0.5), sampled(&run(77), 0.5));
    }

    #[test]
    fn collector_base_urls_get_the_traces_path() {
        assert_eq!(
            traces_url("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://127.0.0.1:4318/"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://c:4318/custom/path"),
            "http://c:4318/custom/path"
        );
    }

    /// `trace()` plus two application spans of `api` (one under clnrm's step,
    /// one under the other) and one of `store`.
    fn with_app() -> Vec<SpanData> {
        use crate::trace::{AppParent, AppSpan};
        let mut spans = trace();
        let app = |service: &str, span_id: &str, parent: Option<&str>, by| {
            Some(Box::new(AppSpan {
                service: service.into(),
                trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
                span_id: span_id.into(),
                parent_span_id: parent.map(str::to_string),
                parent_by: by,
                resource: vec![
                    ("service.name".into(), AttrValue::from(service)),
                    ("clnrm.scenario".into(), AttrValue::from("sc")),
                ]
                .into(),
                scope: Some("shop-api".into()),
                renamed_from: None,
            }))
        };
        let mut a = SpanData::finished(
            crate::trace::SpanId(2),
            Some(crate::trace::SpanId(1)),
            "GET /checkout",
            100,
            900,
        );
        a.kind = SpanKind::Server;
        a.attrs = vec![("http.status_code".into(), AttrValue::Int(503))];
        a.app = app(
            "api",
            "b7ad6b7169203331",
            Some("00f067aa0ba902b7"),
            AppParent::Span,
        );
        let mut b = SpanData::finished(
            crate::trace::SpanId(3),
            Some(crate::trace::SpanId(2)),
            "GET /stock",
            200,
            800,
        );
        b.status = SpanStatus::Error;
        b.app = app(
            "api",
            "c7ad6b7169203332",
            Some("b7ad6b7169203331"),
            AppParent::Span,
        );
        let mut c = SpanData::finished(
            crate::trace::SpanId(4),
            Some(crate::trace::SpanId(0)),
            "stock.read",
            300,
            400,
        );
        c.app = app("store", "d7ad6b7169203333", None, AppParent::Resource);
        let store = c.app.as_mut().unwrap();
        store.resource = store
            .resource
            .iter()
            .filter(|(k, _)| k != "service.name")
            .cloned()
            .collect();
        spans.extend([a, b, c]);
        spans
    }

    /// Application spans are exported with their own ids and scope, under
    /// their own resource; read back from the OTLP/JSON line.
    #[test]
    fn application_spans_keep_their_ids_and_resource() {
        let run = RunIdentity {
            suite: "s",
            seed: 9,
            epoch_unix_ns: 1_000_000_000,
        };
        let groups = by_resource(&with_app(), &run, &resource(&BTreeMap::new()));
        assert_eq!(
            groups.iter().map(|(_, b)| b.len()).collect::<Vec<_>>(),
            [2, 2, 1]
        );
        let line = otlp_json_groups(groups).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let rs = v["resourceSpans"].as_array().unwrap();
        assert_eq!(rs.len(), 3);
        let service = |r: &serde_json::Value| {
            r["resource"]["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == "service.name")
                .map(|a| a["value"]["stringValue"].as_str().unwrap().to_string())
        };
        assert_eq!(
            rs.iter().map(service).collect::<Vec<_>>(),
            [
                Some("clnrm".into()),
                Some("api".into()),
                Some("store".into())
            ]
        );
        // clnrm's own: seeded ids.
        let own = &rs[0]["scopeSpans"][0];
        assert_eq!(own["scope"]["name"], "clnrm");
        assert_eq!(
            own["spans"][0]["traceId"].as_str().unwrap(),
            hex::encode(ids::trace_id(9, "s"))
        );
        // The application's: the ids it sent, its scope, its resource.
        let api = &rs[1];
        let keys: Vec<&str> = api["resource"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["clnrm.scenario", "service.name"]);
        let scope = &api["scopeSpans"][0];
        assert_eq!(scope["scope"]["name"], "shop-api");
        let checkout = &scope["spans"][0];
        assert_eq!(checkout["name"], "GET /checkout");
        assert_eq!(checkout["traceId"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(checkout["spanId"], "b7ad6b7169203331");
        assert_eq!(checkout["parentSpanId"], "00f067aa0ba902b7");
        assert_eq!(checkout["kind"], 2);
        assert_eq!(checkout["startTimeUnixNano"], "1000000100");
        let stock = &scope["spans"][1];
        assert_eq!(stock["parentSpanId"], "b7ad6b7169203331");
        assert_eq!(stock["status"]["code"], 2);
        // A resource without service.name gets the span's service.
        let store = &rs[2]["scopeSpans"][0]["spans"][0];
        assert_eq!(store["spanId"], "d7ad6b7169203333");
        assert_eq!(store["parentSpanId"], "");
    }
}
