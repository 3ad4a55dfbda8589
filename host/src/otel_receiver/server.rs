//! One port, both OTLP transports: a connection speaks HTTP/1.1 (OTLP/HTTP,
//! protobuf or JSON, gzip or not) or HTTP/2 with prior knowledge (OTLP/gRPC,
//! served by the services `opentelemetry-proto` generates for tonic). Every
//! request is checked first: from an allowed address, with the run's token.

use super::convert;
use super::limits::{self, BodyError};
use super::store::Store;
use crate::trace::RunClock;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::{
    logs_service_server::{LogsService, LogsServiceServer},
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    metrics_service_server::{MetricsService, MetricsServiceServer},
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tonic::body::Body;
use tonic::codec::CompressionEncoding;
use tonic::codegen::Service;

/// The header that carries the run's token (`OTEL_EXPORTER_OTLP_HEADERS`).
pub const TOKEN_HEADER: &str = "x-clnrm-token";

/// Where requests may come from: addresses inside `nets`, except `deny`.
#[derive(Clone, Debug, Default)]
pub struct Allowed {
    nets: Vec<(IpAddr, u8)>,
    deny: Vec<IpAddr>,
}

impl Allowed {
    /// The addresses of one network (`172.18.0.0/16`).
    pub fn subnet(net: IpAddr, prefix: u8) -> Self {
        Allowed {
            nets: vec![(net, prefix)],
            deny: Vec::new(),
        }
    }

    /// Only this machine's loopback (tests and benches).
    pub fn loopback() -> Self {
        Allowed::subnet(IpAddr::from([127, 0, 0, 0]), 8)
    }

    /// Not this address, though inside the network (the gateway: the host's
    /// own processes, not the run's containers).
    pub fn except(mut self, ip: IpAddr) -> Self {
        self.deny.push(ip);
        self
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        !self.deny.contains(&ip) && self.nets.iter().any(|(n, p)| contains(*n, *p, ip))
    }
}

fn contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = u32::from(prefix.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = u32::from(prefix.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// What every request of one receiver shares.
pub(super) struct Shared {
    pub(super) store: Store,
    pub(super) token: String,
    pub(super) allowed: Allowed,
    pub(super) clock: RunClock,
    pub(super) limit: usize,
}

/// Why spans were not kept.
enum Refused {
    /// `app_max_spans` reached.
    Budget(u64),
}

impl Shared {
    /// Keep a request's spans, all or none.
    fn ingest(&self, req: ExportTraceServiceRequest) -> Result<(), Refused> {
        let (n, renamed) = convert::count(&req);
        if !self.store.budget.take(n) {
            return Err(Refused::Budget(n));
        }
        self.store.keep(req, n, renamed);
        Ok(())
    }

    fn token_ok(&self, headers: &hyper::HeaderMap) -> bool {
        headers
            .get_all(TOKEN_HEADER)
            .iter()
            .any(|v| v.as_bytes() == self.token.as_bytes())
    }
}

fn budget_message(n: u64) -> String {
    format!("[otel] app_max_spans reached: {n} span(s) refused")
}

/// The metrics and logs services (traces: `grpc_traces`).
#[derive(Clone)]
struct Sink;

/// Metrics and logs are not kept; the endpoints answer success so an SDK
/// set to send them logs no errors.
#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        _: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Sink {
    async fn export(
        &self,
        _: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

const GRPC_TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const GRPC_METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
const GRPC_LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

fn is_grpc(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct == "application/grpc" || ct == "application/grpc+proto")
}

/// Serve one request: checked, counted, dispatched.
pub(super) async fn handle(
    sh: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let _busy = sh.store.request();
    let grpc = is_grpc(&req);
    let resp = if !sh.allowed.permits(peer.ip()) {
        let msg = format!("{} is not on the run's networks", peer.ip());
        if grpc {
            tonic::Status::permission_denied(msg).into_http()
        } else {
            text(StatusCode::FORBIDDEN, msg)
        }
    } else if !sh.token_ok(req.headers()) {
        let msg = format!("missing or wrong `{TOKEN_HEADER}` (OTEL_EXPORTER_OTLP_HEADERS)");
        if grpc {
            tonic::Status::unauthenticated(msg).into_http()
        } else {
            text(StatusCode::UNAUTHORIZED, msg)
        }
    } else {
        // Bytes are counted as they come off the wire, whatever decodes them.
        let counter = sh.clone();
        let req = req.map(move |b| {
            b.map_frame(move |f| {
                if let Some(d) = f.data_ref() {
                    counter.store.add_bytes(d.len() as u64);
                }
                f
            })
        });
        if grpc {
            grpc_call(&sh, req).await
        } else {
            http_call(&sh, req).await
        }
    };
    if failed(&resp) {
        sh.store.reject();
    }
    Ok(resp)
}

fn failed(resp: &Response<Body>) -> bool {
    !resp.status().is_success()
        || resp
            .headers()
            .get("grpc-status")
            .is_some_and(|s| s.as_bytes() != b"0")
}

async fn grpc_call<B>(sh: &Arc<Shared>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    let sink = Sink;
    let path = req.uri().path().to_string();
    let resp = match path.as_str() {
        GRPC_TRACES => {
            let keep = |r| {
                sh.ingest(r).map_err(|Refused::Budget(n)| {
                    tonic::Status::resource_exhausted(budget_message(n))
                })
            };
            Ok(super::grpc_traces::export(sh.limit, keep, req).await)
        }
        GRPC_METRICS => {
            let mut svc = MetricsServiceServer::new(sink)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(sh.limit);
            svc.call(req).await
        }
        GRPC_LOGS => {
            let mut svc = LogsServiceServer::new(sink)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(sh.limit);
            svc.call(req).await
        }
        other => {
            Ok(tonic::Status::unimplemented(format!("no OTLP service at {other}")).into_http())
        }
    };
    let mut resp = match resp {
        Ok(r) => r,
        Err(never) => match never {},
    };
    // tonic says OUT_OF_RANGE for a message over the size bound and INTERNAL
    // for a body protobuf cannot decode (our services never fail that way):
    // OTLP's words are RESOURCE_EXHAUSTED and INVALID_ARGUMENT.
    let remap = match resp.headers().get("grpc-status").map(|v| v.as_bytes()) {
        Some(b"11") => Some(tonic::Code::ResourceExhausted),
        Some(b"13") => Some(tonic::Code::InvalidArgument),
        _ => None,
    };
    if let Some(code) = remap {
        resp.headers_mut()
            .insert("grpc-status", hyper::header::HeaderValue::from(code as i32));
    }
    resp
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Signal {
    Traces,
    Metrics,
    Logs,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

async fn http_call<B>(sh: &Arc<Shared>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let signal = match req.uri().path() {
        "/v1/traces" => Signal::Traces,
        "/v1/metrics" => Signal::Metrics,
        "/v1/logs" => Signal::Logs,
        other => {
            return text(
                StatusCode::NOT_FOUND,
                format!("no OTLP endpoint at {other}"),
            )
        }
    };
    if req.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "OTLP/HTTP takes POST");
    }
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_ascii_lowercase())
    };
    let content_type = header(hyper::header::CONTENT_TYPE).unwrap_or_default();
    let encoding = match content_type.split(';').next().unwrap_or("").trim() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Protobuf,
        "application/json" => Encoding::Json,
        other => {
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content type `{other}`: OTLP/HTTP takes application/x-protobuf or application/json"),
            )
        }
    };
    let gzip = match header(hyper::header::CONTENT_ENCODING).as_deref() {
        None | Some("") | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content encoding `{other}`: gzip or none"),
            )
        }
    };
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request over {} bytes", sh.limit),
        )
    };
    if header(hyper::header::CONTENT_LENGTH)
        .and_then(|l| l.parse::<u64>().ok())
        .is_some_and(|l| l > sh.limit as u64)
    {
        return too_large();
    }
    let body = match limits::read(req.into_body(), sh.limit).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Broken(e)) => return text(StatusCode::BAD_REQUEST, e),
    };
    let body = if gzip {
        match limits::gunzip(&body, sh.limit) {
            Ok(b) => bytes::Bytes::from(b),
            Err(BodyError::TooLarge) => return too_large(),
            Err(BodyError::Broken(e)) => return text(StatusCode::BAD_REQUEST, e),
        }
    } else {
        body
    };
    let bad = |e: String| {
        text(
            StatusCode::BAD_REQUEST,
            format!("cannot decode the body: {e}"),
        )
    };
    let ok = match signal {
        Signal::Traces => {
            let req = match decode::<ExportTraceServiceRequest>(&body, encoding) {
                Ok(r) => r,
                Err(e) => return bad(e),
            };
            if let Err(Refused::Budget(n)) = sh.ingest(req) {
                return text(StatusCode::PAYLOAD_TOO_LARGE, budget_message(n));
            }
            encode(&ExportTraceServiceResponse::default(), encoding)
        }
        Signal::Metrics => match decode::<ExportMetricsServiceRequest>(&body, encoding) {
            Ok(_) => encode(&ExportMetricsServiceResponse::default(), encoding),
            Err(e) => return bad(e),
        },
        Signal::Logs => match decode::<ExportLogsServiceRequest>(&body, encoding) {
            Ok(_) => encode(&ExportLogsServiceResponse::default(), encoding),
            Err(e) => return bad(e),
        },
    };
    let ct = match encoding {
        Encoding::Protobuf => "application/x-protobuf",
        Encoding::Json => "application/json",
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(hyper::header::CONTENT_TYPE, ct)
        .body(Body::new(http_body_util::Full::new(bytes::Bytes::from(ok))))
        .unwrap_or_default()
}

fn decode<M>(body: &[u8], encoding: Encoding) -> Result<M, String>
where
    M: prost::Message + Default + serde::de::DeserializeOwned,
{
    match encoding {
        Encoding::Protobuf => M::decode(body).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::from_slice(body).map_err(|e| e.to_string()),
    }
}

fn encode<M: prost::Message>(m: &M, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => m.encode_to_vec(),
        // Full success, nothing partial to say.
        Encoding::Json => b"{}".to_vec(),
    }
}

fn text(status: StatusCode, msg: impl Into<String>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::new(http_body_util::Full::new(bytes::Bytes::from(
            msg.into(),
        ))))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_network_and_never_its_gateway() {
        let a = Allowed::subnet("172.18.0.0".parse().unwrap(), 16)
            .except("172.18.0.1".parse().unwrap());
        assert!(a.permits("172.18.0.2".parse().unwrap()));
        assert!(a.permits("172.18.255.9".parse().unwrap()));
        assert!(!a.permits("172.18.0.1".parse().unwrap()));
        assert!(!a.permits("172.19.0.2".parse().unwrap()));
        assert!(!a.permits("10.0.0.5".parse().unwrap()));
        assert!(a.permits("::ffff:172.18.0.3".parse().unwrap()));
        assert!(!a.permits("fe80::1".parse().unwrap()));
        assert!(Allowed::loopback().permits("127.0.0.1".parse().unwrap()));
        assert!(!Allowed::default().permits("127.0.0.1".parse().unwrap()));
    }
}
