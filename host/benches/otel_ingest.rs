//! The OTLP receiver's ingest rate: spans/s accepted over OTLP/HTTP protobuf and over
//! OTLP/gRPC, uncompressed, vs decoding the same bytes with prost alone.
//!
//! The receiver (`clnrm::otel_receiver::Receiver`) listens on loopback; the load generator
//! runs in this same process, on OS threads of its own (HTTP: a hand-written keep-alive HTTP/1.1
//! client writing the pre-encoded body; gRPC: tonic on a current-thread runtime with a
//! pass-through codec, so neither side re-encodes a message per request) over `CLNRM_BENCH_CONNS` connections (default 1, so the receiver and prost each have about one core).
//! One request carries `CLNRM_BENCH_BATCH` spans (default 512, the OTel SDKs' batch:
//! OTEL_BSP_MAX_EXPORT_BATCH_SIZE), each with 6 attributes and an event, like an instrumented
//! HTTP service's server and client spans. Each run sends `CLNRM_BENCH_SPANS` spans (default
//! 200,000) to a fresh receiver, which keeps them as in a run; the ingest figure is the time
//! until the last request was answered. The receiver converts what it kept when the scenario
//! ends (`finish`), timed apart and printed per span with the sum of both. Figures are the
//! median of `CLNRM_BENCH_N` runs (default 3) after one warm-up. The prost baseline
//! decodes the same request bytes into `ExportTraceServiceRequest`, single-threaded.
//! The ratio is the receiver's time per span over prost's decode time per span: what
//! the network, HTTP/gRPC framing, token check, conversion and storage add to decoding.
//!
//! Run: `cargo bench -p clnrm --bench otel_ingest` (release). Prints `@bench` lines for
//! `cargo xtask bench`.

use clnrm::otel_receiver::{Allowed, Budget, Config, Receiver, TOKEN_HEADER};
use clnrm::trace::RunClock;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token-0123456789abcdef";

/// Spans per request: `CLNRM_BENCH_BATCH`, default 512 (the OTel SDKs' batch).
fn per_request() -> usize {
    env("CLNRM_BENCH_BATCH", 512).max(1)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn kv(k: &str, v: Value) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

/// 100 spans as an instrumented service sends them.
fn request() -> ExportTraceServiceRequest {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let spans = (0..per_request())
        .map(|i| Span {
            trace_id: [(i / 10) as u8 + 1; 16].to_vec(),
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            parent_span_id: if i % 10 == 0 {
                Vec::new()
            } else {
                ((i / 10 * 10) as u64 + 1).to_be_bytes().to_vec()
            },
            name: if i % 10 == 0 {
                "POST /checkout"
            } else {
                "GET /stock"
            }
            .into(),
            kind: if i % 10 == 0 { 2 } else { 3 },
            start_time_unix_nano: now + i as u64 * 1000,
            end_time_unix_nano: now + i as u64 * 1000 + 800_000,
            attributes: vec![
                kv("http.request.method", Value::StringValue("GET".into())),
                kv("http.route", Value::StringValue("/stock/{sku}".into())),
                kv("http.response.status_code", Value::IntValue(200)),
                kv("server.address", Value::StringValue("store".into())),
                kv("server.port", Value::IntValue(8080)),
                kv("retry.attempt", Value::IntValue((i % 3) as i64)),
            ],
            events: vec![span::Event {
                time_unix_nano: now + i as u64 * 1000 + 400_000,
                name: "retry".into(),
                attributes: vec![kv("backoff.ms", Value::IntValue(50))],
                dropped_attributes_count: 0,
            }],
            status: Some(Status {
                code: if i % 7 == 0 { 2 } else { 0 },
                message: String::new(),
            }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", Value::StringValue("api".into())),
                    kv("clnrm.scenario", Value::StringValue("bench".into())),
                    kv("telemetry.sdk.language", Value::StringValue("rust".into())),
                ],
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Prost alone: ns per span to decode the request bytes.
fn prost_decode_ns_per_span(body: &[u8], spans: usize) -> f64 {
    let reps = spans / per_request();
    let t = Instant::now();
    for _ in 0..reps {
        let r = ExportTraceServiceRequest::decode(std::hint::black_box(body)).unwrap();
        std::hint::black_box(&r);
    }
    t.elapsed().as_nanos() as f64 / (reps * per_request()) as f64
}

async fn receiver() -> Receiver {
    Receiver::start(Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        allowed: Allowed::loopback(),
        token: TOKEN.into(),
        budget: Budget::new(u64::MAX),
        clock: RunClock::new(None),
        max_request_bytes: clnrm::otel_receiver::limits::MAX_REQUEST_BYTES,
    })
    .await
    .unwrap()
}

/// HTTP/1.1 keep-alive: `n` requests of `body`, each answered 200.
fn http_sender(addr: SocketAddr, body: &[u8], n: usize) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n{TOKEN_HEADER}: {TOKEN}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut req = head.into_bytes();
    req.extend_from_slice(body);
    let mut buf = [0u8; 4096];
    for _ in 0..n {
        s.write_all(&req).unwrap();
        // The answer is small: headers and an empty protobuf body (Content-Length: 0).
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let k = s.read(&mut buf).unwrap();
            assert!(k > 0, "connection closed");
            got.extend_from_slice(&buf[..k]);
        }
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
}

/// Pre-encoded request bytes through tonic as they are.
#[derive(Clone, Default)]
struct Raw;
struct RawEnc;
struct RawDec;

impl tonic::codec::Codec for Raw {
    type Encode = bytes::Bytes;
    type Decode = ();
    type Encoder = RawEnc;
    type Decoder = RawDec;
    fn encoder(&mut self) -> RawEnc {
        RawEnc
    }
    fn decoder(&mut self) -> RawDec {
        RawDec
    }
}

impl tonic::codec::Encoder for RawEnc {
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: bytes::Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put(item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDec {
    type Item = ();
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        use bytes::Buf;
        src.advance(src.remaining());
        Ok(Some(()))
    }
}

async fn grpc_sender(addr: SocketAddr, body: bytes::Bytes, n: usize) {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    );
    for _ in 0..n {
        client.ready().await.unwrap();
        let mut req = tonic::Request::new(body.clone());
        req.metadata_mut()
            .insert(TOKEN_HEADER, TOKEN.parse().unwrap());
        client.unary(req, path.clone(), Raw).await.unwrap();
    }
}

/// One run: `spans` spans over `conns` connections to a fresh receiver. Returns
/// the ingest rate (spans/s until the last request was answered) and the
/// conversion at the scenario's end (`finish`: ns per span).
async fn run(proto: &str, body: &bytes::Bytes, spans: usize, conns: usize) -> (f64, f64) {
    let rx = receiver().await;
    let addr = rx.addr();
    let per_conn = spans / per_request() / conns;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let body = body.clone();
        tasks.push(match proto {
            "http" => tokio::task::spawn_blocking(move || http_sender(addr, &body, per_conn)),
            // On a thread and a runtime of its own, as the HTTP client is: on the
            // receiver's runtime its tasks took turns with the receiver's.
            _ => tokio::task::spawn_blocking(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(grpc_sender(addr, body, per_conn))
            }),
        });
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let got = rx.stats().spans as usize;
    assert_eq!(
        got,
        per_conn * conns * per_request(),
        "{proto}: every span kept"
    );
    let t = Instant::now();
    let (converted, _) = rx.finish();
    let finish_ns = t.elapsed().as_nanos() as f64 / got as f64;
    assert_eq!(converted.len(), got, "{proto}: every span converted");
    drop(converted);
    (got as f64 / secs, finish_ns)
}

fn main() {
    let spans = env("CLNRM_BENCH_SPANS", 200_000);
    let n = env("CLNRM_BENCH_N", 3).max(1);
    let conns = env("CLNRM_BENCH_CONNS", 1).max(1);
    let body = bytes::Bytes::from(request().encode_to_vec());
    println!(
        "otel_ingest: {spans} spans a run in requests of {} ({} bytes each), {conns} connection(s), \
         load generator in this process (loopback), median of {n}",
        per_request(),
        body.len()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let decode: Vec<f64> = (0..=n)
        .map(|_| prost_decode_ns_per_span(&body, spans))
        .skip(1)
        .collect();
    let decode = median(decode);
    println!(
        "  prost decode alone: {decode:.0} ns/span = {:.0} spans/s",
        1e9 / decode
    );
    println!("@bench otel_decode_spans_s {:.0}", 1e9 / decode);
    for proto in ["http", "grpc"] {
        let runs: Vec<(f64, f64)> = (0..=n)
            .map(|_| rt.block_on(run(proto, &body, spans, conns)))
            .skip(1)
            .collect();
        let rates: Vec<f64> = runs.iter().map(|r| r.0).collect();
        let rate = median(rates.clone());
        let finish = median(runs.iter().map(|r| r.1).collect());
        let ratio = (1e9 / rate) / decode;
        let whole = (1e9 / rate + finish) / decode;
        println!(
            "  {proto}: {rate:.0} spans/s (runs {:?}); {:.0} ns/span = {ratio:.2}x the decode",
            rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
            1e9 / rate
        );
        println!(
            "        + conversion at the scenario's end {finish:.0} ns/span: {whole:.2}x the decode in all"
        );
        println!("@bench otel_{proto}_spans_s {rate:.0}");
        println!("@bench otel_{proto}_vs_decode {ratio:.3}");
        println!("@bench otel_{proto}_finish_ns {finish:.0}");
    }
    // Let the runtime's connection tasks wind down before exit.
    rt.shutdown_timeout(Duration::from_secs(1));
}
