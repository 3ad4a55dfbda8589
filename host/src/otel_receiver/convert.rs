//! OTLP spans to the trace's own records: attributes flattened to
//! `AttrValue` (arrays and maps as their JSON text), kind and status mapped,
//! events kept, times put on the run clock; then, at the scenario's end, each
//! span's parent found (a clnrm span or another application span with its
//! exported id, else its scenario's span, "by resource").

use crate::trace::{ids, AppParent, AppSpan, AttrValue, Event, RunClock, SpanData, SpanId};
use crate::trace::{SpanKind, SpanStatus, Trace};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use std::collections::HashMap;
use std::sync::Arc;

/// The resource attribute naming the scenario a span belongs to (clnrm sets it
/// in every service's `OTEL_RESOURCE_ATTRIBUTES`).
pub const SCENARIO_ATTR: &str = "clnrm.scenario";
/// Set on a span hung under its scenario's span for want of its parent.
pub const APP_PARENT_ATTR: &str = "app.parent";
/// The prefix a `clnrm.*` span name gets.
pub const RENAMED_PREFIX: &str = "app:";

/// One received span, converted; its parent is resolved at the scenario's end.
#[derive(Clone, Debug)]
pub struct Pending {
    pub span: SpanData,
    /// Its resource's `clnrm.scenario`, if any (shared by the resource's spans).
    pub scenario: Option<Arc<str>>,
}

impl Pending {
    fn app(&self) -> &AppSpan {
        self.span
            .app
            .as_deref()
            .expect("a pending span is an application span")
    }
}

/// How many spans a request carries, and how many of them use a `clnrm.*`
/// name (they are renamed when converted).
pub fn count(req: &ExportTraceServiceRequest) -> (u64, u64) {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .fold((0, 0), |(n, renamed), s| {
            (n + 1, renamed + u64::from(s.name.starts_with("clnrm.")))
        })
}

/// Every span of the request, converted (times on `clock`). What a resource
/// or a scope says is shared by its spans (`Arc`), not copied into each: the
/// copies were most of the conversion's allocations.
pub fn convert(req: ExportTraceServiceRequest, clock: &RunClock) -> Vec<Pending> {
    let mut out = Vec::with_capacity(count(&req).0 as usize);
    for rs in req.resource_spans {
        let resource: Arc<[(String, AttrValue)]> = rs
            .resource
            .map(|r| flatten(r.attributes))
            .unwrap_or_default()
            .into();
        let service = resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| "unknown_service".to_string());
        let scenario: Option<Arc<str>> = resource
            .iter()
            .find(|(k, _)| k == SCENARIO_ATTR)
            .map(|(_, v)| v.to_string().into());
        for ss in rs.scope_spans {
            let scope: Option<Arc<str>> = ss
                .scope
                .map(|s| s.name)
                .filter(|n| !n.is_empty())
                .map(Into::into);
            for s in ss.spans {
                let (name, renamed_from) = if s.name.starts_with("clnrm.") {
                    (format!("{RENAMED_PREFIX}{}", s.name), Some(s.name))
                } else {
                    (s.name, None)
                };
                let start = clock.offset_of_real_unix_ns(s.start_time_unix_nano);
                let end = clock
                    .offset_of_real_unix_ns(s.end_time_unix_nano)
                    .max(start);
                let mut span = SpanData::finished(SpanId(0), None, name, start, end);
                span.kind = kind(s.kind);
                if let Some(st) = s.status {
                    span.status = match st.code {
                        1 => SpanStatus::Ok,
                        2 => SpanStatus::Error,
                        _ => SpanStatus::Unset,
                    };
                    span.status_message = Some(st.message).filter(|m| !m.is_empty());
                }
                span.attrs = flatten(s.attributes);
                span.events = s
                    .events
                    .into_iter()
                    .map(|e| Event {
                        name: e.name,
                        time_ns: clock.offset_of_real_unix_ns(e.time_unix_nano),
                        attrs: flatten(e.attributes),
                    })
                    .collect();
                span.app = Some(Box::new(AppSpan {
                    service: service.clone(),
                    trace_id: lower_hex(&s.trace_id),
                    span_id: lower_hex(&s.span_id),
                    parent_span_id: (!s.parent_span_id.is_empty())
                        .then(|| lower_hex(&s.parent_span_id)),
                    parent_by: AppParent::Span,
                    resource: Arc::clone(&resource),
                    scope: scope.clone(),
                    renamed_from,
                }));
                out.push(Pending {
                    span,
                    scenario: scenario.clone(),
                });
            }
        }
    }
    out
}

/// `hex::encode`, written straight into the string's buffer (that one
/// collects an iterator of chars; every span has two or three ids).
fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
    // Only ASCII digits were written.
    String::from_utf8(out).expect("hex digits are ASCII")
}

fn kind(k: i32) -> SpanKind {
    match k {
        2 => SpanKind::Server,
        3 => SpanKind::Client,
        4 => SpanKind::Producer,
        5 => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

/// OTLP attributes as the trace's: scalars as they are, bytes as hex, arrays
/// and key-value lists as their JSON text.
pub fn flatten(attrs: Vec<KeyValue>) -> Vec<(String, AttrValue)> {
    attrs
        .into_iter()
        .filter_map(|kv| Some((kv.key, scalar(kv.value?.value?))))
        .collect()
}

fn scalar(v: Value) -> AttrValue {
    match v {
        Value::StringValue(s) => AttrValue::Str(s),
        Value::BoolValue(b) => AttrValue::Bool(b),
        Value::IntValue(i) => AttrValue::Int(i),
        Value::DoubleValue(x) => AttrValue::Float(x),
        Value::BytesValue(b) => AttrValue::Str(hex::encode(b)),
        other => AttrValue::Str(json(Some(other)).to_string()),
    }
}

fn json(v: Option<Value>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        None => J::Null,
        Some(Value::StringValue(s)) => J::String(s),
        Some(Value::BoolValue(b)) => J::Bool(b),
        Some(Value::IntValue(i)) => J::from(i),
        Some(Value::DoubleValue(x)) => J::from(x),
        Some(Value::BytesValue(b)) => J::String(hex::encode(b)),
        Some(Value::ArrayValue(a)) => J::Array(
            a.values
                .into_iter()
                .map(|x: AnyValue| json(x.value))
                .collect(),
        ),
        Some(Value::KvlistValue(l)) => J::Object(
            l.values
                .into_iter()
                .map(|kv| (kv.key, json(kv.value.and_then(|v| v.value))))
                .collect(),
        ),
        #[allow(unreachable_patterns)]
        Some(_) => J::Null,
    }
}

/// Where a scenario's received spans go.
pub struct Target<'a> {
    pub trace: &'a Trace,
    /// The suite's seed and name: clnrm's exported ids are derived from them.
    pub seed: u64,
    pub suite: &'a str,
    /// The receiving scenario's `clnrm.scenario` span.
    pub scenario_span: SpanId,
}

/// Put a scenario's received spans into the trace, parents first, each under
/// the span its `parent_span_id` names (clnrm's or an application's, received
/// before or after it), else under its scenario's span (`app.parent =
/// "resource"`). A span received twice (an exporter's retry) is kept once.
/// Returns how many were added.
pub fn resolve_into(pending: Vec<Pending>, to: &Target<'_>) -> usize {
    if pending.is_empty() {
        return 0;
    }
    let snapshot = to.trace.snapshot();
    let ours = hex::encode(ids::trace_id(to.seed, to.suite));
    // (trace id, span id) -> the span of this trace.
    let mut by_id: HashMap<(String, String), SpanId> = HashMap::new();
    let mut scenarios: HashMap<String, SpanId> = HashMap::new();
    for s in &snapshot {
        match &s.app {
            Some(a) => {
                by_id.insert((a.trace_id.clone(), a.span_id.clone()), s.id);
            }
            None => {
                by_id.insert(
                    (
                        ours.clone(),
                        hex::encode(ids::span_id(to.seed, to.suite, s.id.0)),
                    ),
                    s.id,
                );
                if s.name == SCENARIO_ATTR {
                    if let Some(n) = s.attr("scenario.name") {
                        scenarios.insert(n.to_string(), s.id);
                    }
                }
            }
        }
    }
    // Once each, in arrival order.
    let mut seen = std::collections::HashSet::new();
    let pending: Vec<Pending> = pending
        .into_iter()
        .filter(|p| {
            let a = p.app();
            seen.insert((a.trace_id.clone(), a.span_id.clone()))
                && !by_id.contains_key(&(a.trace_id.clone(), a.span_id.clone()))
        })
        .collect();
    let index: HashMap<(String, String), usize> = pending
        .iter()
        .enumerate()
        .map(|(i, p)| (key(p.app()), i))
        .collect();
    // Parents before children (a parent that is a received span of this
    // batch); a cycle (bad input) is cut where it is found.
    let parent_in_batch = |i: usize| -> Option<usize> {
        let a = pending[i].app();
        let pid = a.parent_span_id.clone()?;
        index.get(&(a.trace_id.clone(), pid)).copied()
    };
    let mut order = Vec::with_capacity(pending.len());
    let mut state = vec![0u8; pending.len()]; // 0 new, 1 on the path, 2 placed
    for start in 0..pending.len() {
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(i) = cur {
            if state[i] != 0 {
                break;
            }
            state[i] = 1;
            path.push(i);
            cur = parent_in_batch(i);
        }
        for i in path.into_iter().rev() {
            state[i] = 2;
            order.push(i);
        }
    }
    let mut slots: Vec<Option<Pending>> = pending.into_iter().map(Some).collect();
    let mut added = 0;
    for i in order {
        let Some(mut p) = slots[i].take() else {
            continue;
        };
        let app = p.span.app.as_deref_mut().expect("application span");
        let parent = app
            .parent_span_id
            .as_ref()
            .and_then(|pid| by_id.get(&(app.trace_id.clone(), pid.clone())))
            .copied();
        match parent {
            Some(id) => {
                app.parent_by = AppParent::Span;
                p.span.parent = Some(id);
            }
            None => {
                app.parent_by = AppParent::Resource;
                // As sent, or percent-decoded (clnrm encodes it in
                // OTEL_RESOURCE_ATTRIBUTES; not every SDK decodes it).
                p.span.parent = Some(
                    p.scenario
                        .as_ref()
                        .and_then(|n| {
                            scenarios
                                .get(n.as_ref())
                                .or_else(|| scenarios.get(&pct_decode(n)))
                        })
                        .copied()
                        .unwrap_or(to.scenario_span),
                );
                p.span
                    .attrs
                    .push((APP_PARENT_ATTR.to_string(), AttrValue::from("resource")));
            }
        }
        let k = key(p.span.app.as_deref().expect("application span"));
        let id = to.trace.push_app(p.span);
        by_id.insert(k, id);
        added += 1;
    }
    added
}

/// `%XX` sequences decoded (as OTEL_RESOURCE_ATTRIBUTES values are); others kept.
fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn key(a: &AppSpan) -> (String, String) {
    (a.trace_id.clone(), a.span_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, InstrumentationScope};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};

    fn kv(k: &str, v: Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        }
    }

    fn span(trace: [u8; 16], id: u8, parent: Option<[u8; 8]>, name: &str) -> Span {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        Span {
            trace_id: trace.to_vec(),
            span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
            parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
            name: name.into(),
            kind: 3,
            start_time_unix_nano: now,
            end_time_unix_nano: now + 5_000_000,
            ..Default::default()
        }
    }

    fn request(
        service: &str,
        scenario: Option<&str>,
        spans: Vec<Span>,
    ) -> ExportTraceServiceRequest {
        let mut attrs = vec![kv("service.name", Value::StringValue(service.into()))];
        if let Some(s) = scenario {
            attrs.push(kv(SCENARIO_ATTR, Value::StringValue(s.into())));
        }
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: attrs,
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "shop".into(),
                        ..Default::default()
                    }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    #[test]
    fn ids_are_lowercase_hex_as_hex_encode_writes_them() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&bytes), hex::encode(&bytes));
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn the_spans_of_one_resource_share_it() {
        let clock = RunClock::new(None);
        let pending = convert(
            request(
                "api",
                Some("first"),
                vec![span([1; 16], 1, None, "a"), span([1; 16], 2, None, "b")],
            ),
            &clock,
        );
        let (a, b) = (pending[0].app(), pending[1].app());
        assert!(Arc::ptr_eq(&a.resource, &b.resource));
        assert_eq!(a.resource.len(), 2);
        assert_eq!(a.scope.as_deref(), Some("shop"));
        assert_eq!(pending[1].scenario.as_deref(), Some("first"));
        assert_eq!(b.span_id, "0000000000000002");
    }

    #[test]
    fn spans_convert_and_find_their_parents_in_any_order() {
        let trace = Trace::new(RunClock::new(Some(1_767_225_600_000_000_000)));
        let root = trace.start("clnrm.run", None);
        let sc = trace.start("clnrm.scenario", Some(root));
        trace.set_attr(sc, "scenario.name", "first");
        let sc2 = trace.start("clnrm.scenario", Some(root));
        trace.set_attr(sc2, "scenario.name", "second");
        let step = trace.start("clnrm.step:call", Some(sc2));
        let (seed, suite) = (7u64, "s");
        let ours = ids::trace_id(seed, suite);
        let step_id = ids::span_id(seed, suite, step.0);

        let mut child = span(ours, 2, Some([0, 0, 0, 0, 0, 0, 0, 1]), "GET /stock");
        child.attributes = vec![
            kv("http.status_code", Value::IntValue(503)),
            kv("retry", Value::BoolValue(true)),
            kv(
                "tags",
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(Value::StringValue("a".into())),
                        },
                        AnyValue {
                            value: Some(Value::IntValue(2)),
                        },
                    ],
                }),
            ),
        ];
        child.status = Some(Status {
            code: 2,
            message: "store down".into(),
        });
        child.events = vec![span::Event {
            time_unix_nano: child.start_time_unix_nano + 1_000_000,
            name: "retry".into(),
            attributes: vec![kv("attempt", Value::IntValue(2))],
            dropped_attributes_count: 0,
        }];
        let parent = span(ours, 1, Some(step_id), "checkout");
        let stray = span([9; 16], 3, Some([5; 8]), "background");
        let fake = span([9; 16], 4, None, "clnrm.chaos.kill");
        // The child arrives first, its parent later, then a retry of both.
        let clock = trace.clock().clone();
        let mut pending = convert(request("api", Some("first"), vec![child.clone()]), &clock);
        pending.extend(convert(
            request("api", Some("first"), vec![parent.clone(), stray, fake]),
            &clock,
        ));
        pending.extend(convert(
            request("api", Some("first"), vec![child, parent]),
            &clock,
        ));
        let sc3 = trace.start("clnrm.scenario", Some(root));
        trace.set_attr(sc3, "scenario.name", "first one");
        pending.extend(convert(
            request(
                "api",
                Some("first%20one"),
                vec![span([8; 16], 9, None, "encoded")],
            ),
            &clock,
        ));
        assert_eq!(
            pending
                .iter()
                .filter(|p| p.app().renamed_from.is_some())
                .count(),
            1
        );
        let added = resolve_into(
            pending,
            &Target {
                trace: &trace,
                seed,
                suite,
                scenario_span: sc2,
            },
        );
        assert_eq!(added, 5);
        let spans = trace.snapshot();
        let by_name = |n: &str| spans.iter().find(|s| s.name == n).unwrap();
        let checkout = by_name("checkout");
        assert_eq!(checkout.parent, Some(step));
        assert_eq!(checkout.service(), "api");
        let app = checkout.app.as_deref().unwrap();
        assert_eq!(app.parent_by, AppParent::Span);
        assert_eq!(app.trace_id, hex::encode(ours));
        assert_eq!(app.scope.as_deref(), Some("shop"));
        let get = by_name("GET /stock");
        assert_eq!(get.parent, Some(checkout.id));
        assert_eq!(get.kind, SpanKind::Client);
        assert_eq!(get.status, SpanStatus::Error);
        assert_eq!(get.status_message.as_deref(), Some("store down"));
        assert_eq!(get.attr("http.status_code"), Some(&AttrValue::Int(503)));
        assert_eq!(get.attr("tags"), Some(&AttrValue::Str("[\"a\",2]".into())));
        assert_eq!(get.events[0].name, "retry");
        assert_eq!(get.duration_ns(), 5_000_000);
        // Real times on the run's timeline although the clock is frozen.
        assert!(get.start_ns.abs_diff(trace.clock().elapsed_ns()) < 1_000_000_000);
        // No such parent: under the scenario its resource names.
        let stray = by_name("background");
        assert_eq!(stray.parent, Some(sc));
        assert_eq!(
            stray.attr(APP_PARENT_ATTR),
            Some(&AttrValue::from("resource"))
        );
        assert_eq!(stray.app.as_deref().unwrap().parent_by, AppParent::Resource);
        assert_eq!(by_name("encoded").parent, Some(sc3));
        let fake = by_name("app:clnrm.chaos.kill");
        assert_eq!(
            fake.app.as_deref().unwrap().renamed_from.as_deref(),
            Some("clnrm.chaos.kill")
        );
        assert!(!spans.iter().any(|s| s.name == "clnrm.chaos.kill"));
    }
}
