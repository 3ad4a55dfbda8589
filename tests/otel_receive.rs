//! The embedded OTLP receiver (`host/src/otel_receiver`), from outside:
//! - the official Python SDK (`opentelemetry-sdk`, both OTLP exporters: gRPC and HTTP),
//!   run on this host against a receiver on loopback, its spans resolved into a trace;
//! - every bad input answered with the protocol's error status and counted, the receiver
//!   still serving afterwards; metrics and logs answered with success;
//! - a 60-second flood past `app_max_spans`: the budget holds exactly, memory stays bounded;
//! - (Docker) a receiver on a Docker network's gateway refuses the host (the gateway
//!   address) and serves a container of that network;
//! - (Docker, `clnrm run`) what a service and a step see (`env`), a step's own request
//!   parented under its step span by `TRACEPARENT`, the container's `TRACEPARENT` naming its
//!   `clnrm.service.start`, and an `otel_collector` service reached by its name and port.
//!
//! `cargo xtask setup` installs the Python packages.

mod support;

use clnrm::otel_receiver::{self, convert, Allowed, Budget, Config, Receiver, TOKEN_HEADER};
use clnrm::trace::{ids, AppParent, AttrValue, RunClock, SpanKind, SpanStatus, Trace};
use opentelemetry_proto::tonic::collector::logs::v1::{
    logs_service_client::LogsServiceClient, ExportLogsServiceRequest,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    trace_service_client::TraceServiceClient, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn config(budget: u64, allowed: Allowed, clock: RunClock) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        allowed,
        token: TOKEN.into(),
        budget: Budget::new(budget),
        clock,
        max_request_bytes: otel_receiver::limits::MAX_REQUEST_BYTES,
    }
}

/// A receiver on loopback with the test token, `budget` spans, requests from `allowed`.
async fn start(budget: u64, allowed: Allowed, clock: RunClock) -> Receiver {
    Receiver::start(config(budget, allowed, clock))
        .await
        .expect("the receiver starts")
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A request with `n` spans of service `svc` (attribute `pad` of `pad` bytes each).
fn request(svc: &str, n: usize, pad: usize) -> ExportTraceServiceRequest {
    let t = now_ns();
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![7; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("op{}", i % 8),
            kind: 2,
            start_time_unix_nano: t,
            end_time_unix_nano: t + 1_000,
            attributes: (pad > 0)
                .then(|| KeyValue {
                    key: "pad".into(),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue("0".repeat(pad))),
                    }),
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue(svc.into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

// ---------------------------------------------------------------- HTTP/1.1 by hand

/// One keep-alive HTTP/1.1 connection: enough of a client to send exact bytes.
struct Http {
    stream: TcpStream,
}

impl Http {
    fn connect(addr: SocketAddr) -> Http {
        let stream = TcpStream::connect(addr).expect("connect to the receiver");
        stream.set_nodelay(true).ok();
        stream.set_read_timeout(Some(Duration::from_secs(20))).ok();
        Http { stream }
    }

    /// POST `body` (headers as given); the status and the response body.
    fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        let mut head = format!("POST {path} HTTP/1.1\r\nHost: x\r\n");
        let mut has_length = false;
        for (k, v) in headers {
            has_length |= k.eq_ignore_ascii_case("content-length");
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !has_length {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes()).unwrap();
        self.stream.write_all(body).unwrap();
        self.response()
    }

    fn response(&mut self) -> (u16, String) {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            let n = self.stream.read(&mut byte).expect("read a response");
            assert!(n > 0, "connection closed before a response");
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).to_string();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).unwrap();
        (status, String::from_utf8_lossy(&body).to_string())
    }
}

fn proto_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Content-Type", "application/x-protobuf"),
        (TOKEN_HEADER, TOKEN),
    ]
}

/// One span of service `x` over OTLP/HTTP protobuf with the token, on a fresh
/// connection (off the async runtime); the status.
async fn post_one_span(addr: SocketAddr) -> u16 {
    tokio::task::spawn_blocking(move || {
        Http::connect(addr)
            .post(
                "/v1/traces",
                &proto_headers(),
                &request("x", 1, 0).encode_to_vec(),
            )
            .0
    })
    .await
    .unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

// ---------------------------------------------------------------- gRPC

async fn grpc(addr: SocketAddr) -> TraceServiceClient<tonic::transport::Channel> {
    TraceServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("gRPC connect")
        .max_encoding_message_size(usize::MAX)
}

fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert(TOKEN_HEADER, token.parse().unwrap());
    r
}

/// A message whose field 1 is a varint where OTLP has a message: protobuf
/// cannot decode it as an ExportTraceServiceRequest.
#[derive(Clone, PartialEq, prost::Message)]
struct Garbage {
    #[prost(uint64, tag = "1")]
    x: u64,
}

async fn grpc_garbage(addr: SocketAddr) -> tonic::Code {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<Garbage, ExportTraceServiceResponse>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    code(
        client
            .unary(with_token(Garbage { x: 42 }, TOKEN), path, codec)
            .await,
    )
}

/// The status a gRPC call ended with (`Ok` for a response).
fn code<T>(r: Result<tonic::Response<T>, tonic::Status>) -> tonic::Code {
    match r {
        Ok(_) => tonic::Code::Ok,
        Err(s) => s.code(),
    }
}

// ---------------------------------------------------------------- the Python SDK

const PYTHON_SDK: &str = r#"
import os, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
if sys.argv[1] == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
# service.name from OTEL_SERVICE_NAME, clnrm.* from OTEL_RESOURCE_ATTRIBUTES, endpoint and
# token from OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS: the variables clnrm injects.
provider = TracerProvider(resource=Resource.create({}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
tracer = provider.get_tracer("py-test")
ctx = TraceContextTextMapPropagator().extract({"traceparent": os.environ["TRACEPARENT"]})
with tracer.start_as_current_span("checkout", context=ctx, kind=trace.SpanKind.SERVER) as s:
    s.set_attribute("tags", ["a", "b"])
    s.set_attribute("items", 3)
    with tracer.start_as_current_span("GET /stock", kind=trace.SpanKind.CLIENT) as c:
        c.add_event("retry", {"attempt": 2})
        c.set_status(trace.Status(trace.StatusCode.ERROR, "store down"))
    with tracer.start_as_current_span("clnrm.chaos.kill"):
        pass
# A span of another trace: attached to its scenario by the resource.
with tracer.start_as_current_span("background", context=trace.set_span_in_context(trace.INVALID_SPAN)):
    pass
provider.shutdown()
print("sent")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_over_grpc_and_http_lands_under_the_step_that_ran_it() {
    for proto in ["grpc", "http"] {
        let clock = RunClock::new(Some(1_767_225_600_000_000_000));
        let trace = Trace::new(clock.clone());
        let root = trace.start("clnrm.run", None);
        let sc = trace.start("clnrm.scenario", Some(root));
        trace.set_attr(sc, "scenario.name", "checkout flow");
        let step = trace.start("clnrm.step:call", Some(sc));
        let (seed, suite) = (11u64, "py");
        let traceparent = format!(
            "00-{}-{}-01",
            hex::encode(ids::trace_id(seed, suite)),
            hex::encode(ids::span_id(seed, suite, step.0))
        );
        let rx = start(1000, Allowed::loopback(), clock).await;
        let addr = rx.addr();
        let out = tokio::task::spawn_blocking(move || {
            Command::new("python3")
                .arg("-c")
                .arg(PYTHON_SDK)
                .arg(proto)
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"))
                .env(
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    format!("{TOKEN_HEADER}={TOKEN}"),
                )
                .env("OTEL_SERVICE_NAME", format!("py-{proto}"))
                .env(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "clnrm.run.id=r1,clnrm.suite=py,clnrm.scenario=checkout%20flow",
                )
                .env("OTEL_BSP_SCHEDULE_DELAY", "200")
                .env("TRACEPARENT", traceparent)
                .output()
                .expect("python3 runs (cargo xtask setup installs the SDK)")
        })
        .await
        .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("sent"),
            "{proto}: python failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stats = rx.stats();
        let (pending, _) = rx.finish();
        let names: Vec<&str> = pending.iter().map(|p| p.span.name.as_str()).collect();
        assert_eq!(stats.spans, 4, "{proto}: {stats:?} {names:?}");
        assert_eq!(stats.rejected, 0, "{proto}: {stats:?}");
        assert_eq!(stats.renamed, 1, "{proto}: {stats:?}");
        assert!(stats.bytes > 0 && stats.requests >= 1, "{proto}: {stats:?}");
        let added = convert::resolve_into(
            pending,
            &convert::Target {
                trace: &trace,
                seed,
                suite,
                scenario_span: sc,
            },
        );
        assert_eq!(added, 4);
        let spans = trace.snapshot();
        let named = |n: &str| {
            spans
                .iter()
                .find(|s| s.name == n)
                .unwrap_or_else(|| panic!("{proto}: no span {n}"))
        };
        let checkout = named("checkout");
        assert_eq!(checkout.parent, Some(step), "{proto}: under the step span");
        assert_eq!(checkout.service(), format!("py-{proto}"));
        assert_eq!(checkout.kind, SpanKind::Server);
        assert_eq!(
            checkout.attr("tags"),
            Some(&AttrValue::Str("[\"a\",\"b\"]".into()))
        );
        assert_eq!(checkout.attr("items"), Some(&AttrValue::Int(3)));
        let app = checkout.app.as_deref().unwrap();
        assert_eq!(app.trace_id, hex::encode(ids::trace_id(seed, suite)));
        assert_eq!(app.scope.as_deref(), Some("py-test"));
        assert!(app
            .resource
            .iter()
            .any(|(k, v)| k == "clnrm.scenario" && v.to_string() == "checkout flow"));
        let get = named("GET /stock");
        assert_eq!(get.parent, Some(checkout.id));
        assert_eq!(get.kind, SpanKind::Client);
        assert_eq!(get.status, SpanStatus::Error);
        assert_eq!(get.status_message.as_deref(), Some("store down"));
        assert_eq!(get.events[0].name, "retry");
        let renamed = named("app:clnrm.chaos.kill");
        assert_eq!(renamed.parent, Some(checkout.id));
        let bg = named("background");
        assert_eq!(bg.parent, Some(sc), "{proto}: by its resource");
        assert_eq!(bg.app.as_deref().unwrap().parent_by, AppParent::Resource);
        // Real wall-clock times on the frozen run's timeline: near "now".
        assert!(
            get.start_ns <= trace.clock().elapsed_ns() && get.start_ns > 0,
            "{proto}: {} vs {}",
            get.start_ns,
            trace.clock().elapsed_ns()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_its_status_is_counted_and_the_receiver_goes_on() {
    let rx = start(12, Allowed::loopback(), RunClock::new(None)).await;
    let addr = rx.addr();
    let good = request("api", 2, 0).encode_to_vec();
    let bomb = gzip(&request("api", 1, 17 << 20).encode_to_vec());
    assert!(bomb.len() < 1 << 20, "the bomb is small on the wire");
    let http_cases = tokio::task::spawn_blocking(move || {
        let mut codes = Vec::new();
        let mut h = proto_headers();
        codes.push(("ok", Http::connect(addr).post("/v1/traces", &h, &good).0, 200));
        codes.push(("garbage protobuf", Http::connect(addr).post("/v1/traces", &h, b"\xff\xff\xff garbage").0, 400));
        let json = [("Content-Type", "application/json"), (TOKEN_HEADER, TOKEN)];
        codes.push(("garbage json", Http::connect(addr).post("/v1/traces", &json, b"{\"resourceSpans\": 7").0, 400));
        let ok_json = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"j"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"json","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"n","value":{"intValue":"5"}}]}]}]}]}"#;
        let (status, body) = Http::connect(addr).post("/v1/traces", &json, ok_json);
        assert_eq!((status, body.as_str()), (200, "{}"));
        let text = [("Content-Type", "text/plain"), (TOKEN_HEADER, TOKEN)];
        codes.push(("text/plain", Http::connect(addr).post("/v1/traces", &text, &good).0, 415));
        let mut br = proto_headers();
        br.push(("Content-Encoding", "br"));
        codes.push(("brotli", Http::connect(addr).post("/v1/traces", &br, &good).0, 415));
        let mut gz = proto_headers();
        gz.push(("Content-Encoding", "gzip"));
        codes.push(("gzip bomb", Http::connect(addr).post("/v1/traces", &gz, &bomb).0, 413));
        codes.push(("gzip garbage", Http::connect(addr).post("/v1/traces", &gz, b"not gzip at all").0, 400));
        codes.push(("gzip ok", Http::connect(addr).post("/v1/traces", &gz, &gzip(&good)).0, 200));
        h.push(("Content-Length", "17000000"));
        // Refused on its header: the body is never read (the connection closes).
        codes.push(("over 16 MiB", Http::connect(addr).post("/v1/traces", &h, b"").0, 413));
        let no_token = [("Content-Type", "application/x-protobuf")];
        codes.push(("no token", Http::connect(addr).post("/v1/traces", &no_token, &good).0, 401));
        let wrong = [("Content-Type", "application/x-protobuf"), (TOKEN_HEADER, "guess")];
        codes.push(("wrong token", Http::connect(addr).post("/v1/traces", &wrong, &good).0, 401));
        codes.push(("metrics", Http::connect(addr).post("/v1/metrics", &proto_headers(), b"").0, 200));
        codes.push(("logs", Http::connect(addr).post("/v1/logs", &proto_headers(), b"").0, 200));
        codes.push(("no such path", Http::connect(addr).post("/v1/profiles", &proto_headers(), b"").0, 404));
        // 2 + 1 + 2 spans kept so far of 12: 8 more do not fit.
        let many = request("api", 8, 0).encode_to_vec();
        codes.push(("past app_max_spans", Http::connect(addr).post("/v1/traces", &proto_headers(), &many).0, 413));
        codes
    })
    .await
    .unwrap();
    for (what, got, want) in &http_cases {
        assert_eq!(got, want, "HTTP {what}");
    }
    let mut client = grpc(addr).await;
    let mut grpc_cases = Vec::new();
    grpc_cases.push((
        "ok",
        code(client.export(with_token(request("api", 2, 0), TOKEN)).await),
        tonic::Code::Ok,
    ));
    grpc_cases.push((
        "no token",
        code(
            client
                .export(tonic::Request::new(request("api", 1, 0)))
                .await,
        ),
        tonic::Code::Unauthenticated,
    ));
    grpc_cases.push((
        "garbage",
        grpc_garbage(addr).await,
        tonic::Code::InvalidArgument,
    ));
    grpc_cases.push((
        "over 16 MiB",
        code(
            client
                .export(with_token(request("api", 1, 17 << 20), TOKEN))
                .await,
        ),
        tonic::Code::ResourceExhausted,
    ));
    let mut gz = grpc(addr)
        .await
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    grpc_cases.push((
        "gzip bomb",
        code(
            gz.export(with_token(request("api", 1, 17 << 20), TOKEN))
                .await,
        ),
        tonic::Code::ResourceExhausted,
    ));
    grpc_cases.push((
        "gzip ok",
        code(gz.export(with_token(request("api", 1, 0), TOKEN)).await),
        tonic::Code::Ok,
    ));
    grpc_cases.push((
        "past app_max_spans",
        code(client.export(with_token(request("api", 8, 0), TOKEN)).await),
        tonic::Code::ResourceExhausted,
    ));
    let mut logs = LogsServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let logs_ok = logs
        .export(with_token(ExportLogsServiceRequest::default(), TOKEN))
        .await
        .is_ok();
    for (what, got, want) in &grpc_cases {
        assert_eq!(got, want, "gRPC {what}");
    }
    assert!(logs_ok, "gRPC logs answer success");
    // The receiver still serves, and the budget still holds: 2 + 1 + 2 + 2 + 1 = 8 of 12.
    assert_eq!(
        code(client.export(with_token(request("api", 4, 0), TOKEN)).await),
        tonic::Code::Ok
    );
    let stats = rx.stats();
    let refused = http_cases.iter().filter(|c| c.2 >= 400).count()
        + grpc_cases.iter().filter(|c| c.2 != tonic::Code::Ok).count();
    assert_eq!(stats.rejected as usize, refused, "{stats:?}");
    assert_eq!(stats.spans, 12, "{stats:?}");
    assert_eq!(
        stats.requests as usize,
        http_cases.len() + 1 + grpc_cases.len() + 2,
        "{stats:?}"
    );
    let (pending, _) = rx.finish();
    let json = pending
        .iter()
        .find(|p| p.span.name == "json")
        .expect("the JSON span");
    assert_eq!(json.span.attr("n"), Some(&AttrValue::Int(5)));
    assert_eq!(json.span.kind, SpanKind::Internal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_off_the_allowed_network_is_refused() {
    let rx = start(
        100,
        Allowed::subnet("10.0.0.0".parse().unwrap(), 8),
        RunClock::new(None),
    )
    .await;
    let addr = rx.addr();
    let status = post_one_span(addr).await;
    assert_eq!(status, 403);
    let code = code(
        grpc(addr)
            .await
            .export(with_token(request("x", 1, 0), TOKEN))
            .await,
    );
    assert_eq!(code, tonic::Code::PermissionDenied);
    assert_eq!((rx.stats().rejected, rx.stats().spans), (2, 0));
}

/// VmRSS of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 60 s of four HTTP and two gRPC senders at full speed (in this process, on
/// loopback), 500 spans a request, past a budget of 200,000 spans: exactly
/// the budget is kept, everything after it is refused, and the process's
/// memory stops growing once the budget is full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixty_second_flood_keeps_the_budget_and_bounded_memory() {
    const BUDGET: u64 = 200_000;
    let secs: u64 = std::env::var("CLNRM_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let rx = start(BUDGET, Allowed::loopback(), RunClock::new(None)).await;
    let addr = rx.addr();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let body = request("flood", 500, 0).encode_to_vec();
    let mut senders = Vec::new();
    for _ in 0..4 {
        let body = body.clone();
        senders.push(tokio::task::spawn_blocking(move || {
            let mut c = Http::connect(addr);
            let (mut ok, mut refused) = (0u64, 0u64);
            while Instant::now() < deadline {
                match c.post("/v1/traces", &proto_headers(), &body).0 {
                    200 => ok += 1,
                    413 => refused += 1,
                    other => panic!("flood: HTTP {other}"),
                }
            }
            (ok, refused)
        }));
    }
    for _ in 0..2 {
        senders.push(tokio::spawn(async move {
            let mut c = grpc(addr).await;
            let (mut ok, mut refused) = (0u64, 0u64);
            while Instant::now() < deadline {
                match c.export(with_token(request("flood", 500, 0), TOKEN)).await {
                    Ok(_) => ok += 1,
                    Err(s) if s.code() == tonic::Code::ResourceExhausted => refused += 1,
                    Err(s) => panic!("flood: gRPC {s}"),
                }
            }
            (ok, refused)
        }));
    }
    // RSS once a second; the peak after the budget filled vs the RSS then.
    let mut at_full: Option<u64> = None;
    let mut peak_after = 0;
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = rss_kib();
        samples.push(rss);
        if rx.stats().spans >= BUDGET {
            match at_full {
                None => at_full = Some(rss),
                Some(_) => peak_after = peak_after.max(rss),
            }
        }
    }
    let (mut ok, mut refused) = (0, 0);
    for s in senders {
        let (o, r) = s.await.unwrap();
        ok += o;
        refused += r;
    }
    let stats = rx.stats();
    eprintln!(
        "flood {secs} s: {ok} requests kept, {refused} refused, {:?}; RSS KiB samples {samples:?}",
        stats
    );
    assert_eq!(stats.spans, BUDGET, "exactly the budget is kept");
    assert_eq!(ok * 500, BUDGET);
    assert!(
        refused > ok,
        "the flood went on past the budget: {refused} refused"
    );
    assert_eq!(stats.rejected, refused);
    let full = at_full.expect("the budget filled");
    assert!(
        peak_after <= full + 64 * 1024,
        "memory kept growing after the budget was full: {full} KiB then up to {peak_after} KiB"
    );
    assert!(
        *samples.iter().max().unwrap() < 1024 * 1024,
        "RSS under 1 GiB"
    );
}

// ---------------------------------------------------------------- Docker

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// On a Docker network's gateway, for that network only: this host (whose
/// requests come from the gateway address) is refused, a container is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_gateway_the_host_is_refused_and_a_container_is_served() {
    let name = format!("clnrm-recv-test-{}", std::process::id());
    docker(&["network", "create", &name]);
    struct RemoveNetwork(String);
    impl Drop for RemoveNetwork {
        fn drop(&mut self) {
            let _ = Command::new("docker")
                .args(["network", "rm", &self.0])
                .output();
        }
    }
    let _net = RemoveNetwork(name.clone());
    let ipam = docker(&[
        "network",
        "inspect",
        &name,
        "-f",
        "{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}",
    ]);
    let (gw, subnet) = ipam.split_once(' ').expect("gateway and subnet");
    let (net, prefix) = subnet.split_once('/').unwrap();
    let gw: std::net::IpAddr = gw.parse().unwrap();
    let rx = Receiver::start(Config {
        bind: (gw, 0).into(),
        allowed: Allowed::subnet(net.parse().unwrap(), prefix.parse().unwrap()).except(gw),
        ..config(100, Allowed::default(), RunClock::new(None))
    })
    .await
    .unwrap();
    let addr = rx.addr();
    let status = post_one_span(addr).await;
    assert_eq!(status, 403, "the host (the gateway address) is refused");
    let body = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"from-a-container"}]}]}]}"#;
    let url = format!("http://{addr}/v1/traces");
    let header = format!("{TOKEN_HEADER}: {TOKEN}");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("docker")
            .args(["run", "--rm", "--network", &name, "clnrm-base:latest"])
            .args([
                "wget",
                "-q",
                "-O-",
                "--header",
                "Content-Type: application/json",
            ])
            .args(["--header", &header, "--post-data", body, &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "the container is served: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = rx.stats();
    assert_eq!((stats.spans, stats.rejected, stats.requests), (1, 1, 2));
}

const SUITE: &str = r#"
[meta]
name = "otel_receive_e2e"

[determinism]
seed = 21
freeze_clock = "2026-01-01T00:00:00Z"

[service.app]
image = "clnrm-base:latest"
otel = true
env = { OTEL_RESOURCE_ATTRIBUTES = "team=shop", OTEL_BSP_SCHEDULE_DELAY = "100" }

[service.otel_collector]
type = "otel_collector"
image = "otel/opentelemetry-collector:0.98.0"

[service.legacy]
image = "clnrm-base:latest"
env = { OTEL_EXPORTER_OTLP_ENDPOINT = "http://otel_collector:4318", OTEL_SERVICE_NAME = "legacy-app" }

[[scenario]]
name = "post"
service = "app"
steps = [
  { name = "env", run = "env | grep -E '^(OTEL_|TRACE)' | sort; echo container; tr '\\0' '\\n' < /proc/1/environ | grep ^TRACEPARENT=" },
  { name = "post", run = '''
tid=$(echo $TRACEPARENT | cut -d- -f2); sid=$(echo $TRACEPARENT | cut -d- -f3); now=$(date +%s)000000000
body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"'$OTEL_SERVICE_NAME'"}}]},"scopeSpans":[{"spans":[{"traceId":"'$tid'","spanId":"00000000000000a1","parentSpanId":"'$sid'","name":"checkout","kind":2,"startTimeUnixNano":"'$now'","endTimeUnixNano":"'$now'","status":{"code":2,"message":"boom"}},{"traceId":"'$tid'","spanId":"00000000000000a2","parentSpanId":"'$sid'","name":"clnrm.chaos.kill","startTimeUnixNano":"'$now'","endTimeUnixNano":"'$now'"}]}]}]}'
wget -q -O- --header "Content-Type: application/json" --header "x-clnrm-token: ${OTEL_EXPORTER_OTLP_HEADERS#*=}" --post-data "$body" $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces
''' },
]

[[scenario]]
name = "legacy collector"
service = "legacy"
parallel_services = ["otel_collector"]
steps = [
  { name = "endpoint", run = "echo $OTEL_EXPORTER_OTLP_ENDPOINT" },
  { name = "legacy post", run = '''
body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"'$OTEL_SERVICE_NAME'"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00000000000000b1","name":"legacy-op","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}'
wget -q -O- --header "Content-Type: application/json" --header "x-clnrm-token: ${OTEL_EXPORTER_OTLP_HEADERS#*=}" --post-data "$body" $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces
''' },
  { name = "hardcoded", run = '''
body='{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00000000000000b2","name":"hardcoded-op","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}'
wget -q -O- --header "Content-Type: application/json" --header "x-clnrm-token: ${OTEL_EXPORTER_OTLP_HEADERS#*=}" --post-data "$body" http://otel_collector:4318/v1/traces
''' },
]
"#;

fn step_stdout<'a>(report: &'a serde_json::Value, scenario: &str, step: &str) -> &'a str {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == scenario)
        .and_then(|s| s["steps"].as_array())
        .and_then(|st| st.iter().find(|x| x["name"] == step))
        .and_then(|x| x["stdout"].as_str())
        .unwrap_or_else(|| panic!("no step {scenario}/{step}"))
}

#[test]
fn a_service_reaches_the_receiver_with_what_clnrm_injects() {
    let dir = tempfile::tempdir().unwrap();
    let path = suite(dir.path(), "otel.clnrm.toml", SUITE);
    let reports = dir.path().join("r");
    let r = run(clnrm()
        .arg("run")
        .arg(&path)
        .arg("--report-dir")
        .arg(&reports));
    assert_eq!(r.code, 0, "{}", r.stdout);
    let report = read_report(&reports, "otel_receive_e2e");
    let spans = report["spans"].as_array().unwrap();
    // What the service and its step see.
    let env = step_stdout(&report, "post", "env");
    for want in [
        "OTEL_EXPORTER_OTLP_HEADERS=x-clnrm-token=",
        "OTEL_SERVICE_NAME=app",
        "OTEL_TRACES_EXPORTER=otlp",
        "OTEL_METRICS_EXPORTER=none",
        "OTEL_LOGS_EXPORTER=none",
        "OTEL_BSP_SCHEDULE_DELAY=100",
        "OTEL_RESOURCE_ATTRIBUTES=team=shop,clnrm.run.id=",
        ",clnrm.suite=otel_receive_e2e,clnrm.scenario=post",
        "TRACESTATE=",
    ] {
        assert!(env.contains(want), "missing {want:?} in\n{env}");
    }
    let endpoint = env
        .lines()
        .find_map(|l| l.strip_prefix("OTEL_EXPORTER_OTLP_ENDPOINT=http://"))
        .expect("an endpoint");
    let (host, port) = endpoint.rsplit_once(':').unwrap();
    assert!(host.parse::<std::net::Ipv4Addr>().is_ok(), "{host}");
    assert!(
        port.parse::<u16>().unwrap() >= 1024,
        "an ephemeral port: {port}"
    );
    // The step's TRACEPARENT is its span's; the container's is its start span's.
    let seed = report["seed"].as_u64().unwrap();
    let exported = |name: &str| {
        let s = spans.iter().find(|s| s["name"] == name).unwrap();
        hex::encode(ids::span_id(
            seed,
            "otel_receive_e2e",
            s["id"].as_u64().unwrap() as u32,
        ))
    };
    let trace_id = hex::encode(ids::trace_id(seed, "otel_receive_e2e"));
    let (step_env, container_env) = env.split_once("container").unwrap();
    assert!(
        step_env.contains(&format!(
            "TRACEPARENT=00-{trace_id}-{}-01",
            exported("clnrm.step:env")
        )),
        "{env}"
    );
    assert!(
        container_env.contains(&format!("TRACEPARENT=00-{trace_id}-")),
        "{env}"
    );
    let start_ids: Vec<String> = spans
        .iter()
        .filter(|s| s["name"] == "clnrm.service.start")
        .map(|s| {
            hex::encode(ids::span_id(
                seed,
                "otel_receive_e2e",
                s["id"].as_u64().unwrap() as u32,
            ))
        })
        .collect();
    assert!(
        start_ids
            .iter()
            .any(|id| container_env.contains(id.as_str())),
        "the container's TRACEPARENT names a clnrm.service.start: {container_env}"
    );
    // The step's own request: under the step, renamed where it used clnrm's name.
    let checkout = spans
        .iter()
        .find(|s| s["name"] == "checkout")
        .expect("checkout");
    assert_eq!(
        parent_name(&report, checkout).as_deref(),
        Some("clnrm.step:post")
    );
    assert_eq!(checkout["app"]["service"], "app");
    assert_eq!(checkout["status"], "ERROR");
    let renamed = spans
        .iter()
        .find(|s| s["name"] == "app:clnrm.chaos.kill")
        .expect("renamed");
    assert_eq!(renamed["app"]["renamed_from"], "clnrm.chaos.kill");
    assert!(!spans.iter().any(|s| s["name"] == "clnrm.chaos.kill"));
    let receives = spans_named(&report, "clnrm.otel.receive");
    assert_eq!(receives.len(), 2, "one per scenario");
    let post = receives
        .iter()
        .find(|s| {
            parent_name(&report, s).as_deref() == Some("clnrm.scenario")
                && attr(s, "spans.renamed") == Some(&serde_json::json!(1))
        })
        .expect("the post scenario's receive span");
    assert_eq!(attr(post, "spans.received"), Some(&serde_json::json!(2)));
    assert_eq!(attr(post, "requests.rejected"), Some(&serde_json::json!(0)));
    assert!(attr(post, "bytes").and_then(|b| b.as_u64()).unwrap() > 300);
    // The otel_collector: never started, its name and port reach the receiver.
    let starts: Vec<&str> = spans
        .iter()
        .filter(|s| s["name"] == "clnrm.service.start")
        .filter_map(|s| attr(s, "service.id").and_then(|v| v.as_str()))
        .collect();
    assert!(!starts.contains(&"otel_collector"), "{starts:?}");
    let legacy_endpoint = step_stdout(&report, "legacy collector", "endpoint").trim();
    assert!(
        legacy_endpoint.starts_with("http://otel_collector:")
            && !legacy_endpoint.ends_with(":4318"),
        "{legacy_endpoint}"
    );
    let legacy = spans
        .iter()
        .find(|s| s["name"] == "legacy-op")
        .expect("legacy-op");
    assert_eq!(legacy["app"]["service"], "legacy-app");
    assert_eq!(legacy["app"]["parent_by"], "resource");
    assert_eq!(
        parent_name(&report, legacy).as_deref(),
        Some("clnrm.scenario")
    );
    assert_eq!(
        attr(legacy, "app.parent"),
        Some(&serde_json::json!("resource"))
    );
    // An endpoint written into the code, on the collector's own port.
    assert!(spans.iter().any(|s| s["name"] == "hardcoded-op"));
    assert_no_leftovers(report["run_id"].as_str().unwrap());
}
