//! `store`: the shop's item store. `GET /item/<id>` answers from memory, `GET /healthz` says
//! it is up. One server span per request, a child of the caller's span when the request
//! carries a W3C `traceparent` header.
//!
//! Telemetry is configured by the standard OpenTelemetry environment only:
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (spans go to `<endpoint>/v1/traces`, OTLP/HTTP protobuf),
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME` (else `store`),
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_SCHEDULE_DELAY`, and `TRACEPARENT`/`TRACESTATE`
//! (the W3C environment carrier) for the parent of its start-up span.
//! SIGTERM (or Ctrl-C) stops accepting, lets requests in flight finish and flushes the spans.
//!
//! The listening port is `PORT` (default 8081).

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use opentelemetry::global;
use opentelemetry::trace::{Span, SpanKind, Status, Tracer};
use opentelemetry::KeyValue;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

const ITEMS: &[(&str, &str, u32)] = &[
    ("1", "teapot", 1999),
    ("2", "kettle", 2999),
    ("3", "mug", 599),
];

fn main() -> ExitCode {
    // Built before the async runtime: the blocking HTTP client belongs to the SDK's own
    // batch thread, not to tokio.
    let provider = match init_tracing() {
        Ok(provider) => provider,
        Err(e) => {
            eprintln!("store: cannot set up tracing: {e}");
            return ExitCode::from(2);
        }
    };
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let served = runtime.block_on(serve(port));
    // Every span ended so far is exported before the process exits.
    telemetry::shutdown("store", &provider);
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The OTLP/HTTP protobuf exporter and a batch processor, both configured from `OTEL_*`.
fn init_tracing() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?;
    Ok(telemetry::init("store", exporter))
}

async fn serve(port: u16) -> std::io::Result<()> {
    let tracer = telemetry::tracer("store");
    let mut startup = tracer
        .span_builder("store.startup")
        .with_attributes([KeyValue::new("server.port", i64::from(port))])
        .start_with_context(&tracer, &telemetry::parent_from_env());
    let listener = match TcpListener::bind(("0.0.0.0", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            startup.set_status(Status::error(format!("bind: {e}")));
            startup.end();
            return Err(e);
        }
    };
    startup.set_attribute(KeyValue::new("shop.items", ITEMS.len() as i64));
    startup.end();
    println!("store listening on :{port}");

    let mut sigterm = signal(SignalKind::terminate())?;
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let conn = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(handle));
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = sigterm.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("store stopping");
    // Requests in flight finish (and end their spans), at most 2 s.
    let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
    Ok(())
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    if path == "/healthz" {
        // No span: a readiness probe polls it.
        return Ok(reply(StatusCode::OK, "ok\n"));
    }
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(req.headers())));
    let id = path
        .strip_prefix("/item/")
        .filter(|_| req.method() == Method::GET);
    let name = match id {
        Some(_) => "GET /item/{id}".to_string(),
        None => req.method().to_string(),
    };
    let tracer = telemetry::tracer("store");
    let mut span = tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", req.method().to_string()),
            KeyValue::new("url.path", path.clone()),
        ])
        .start_with_context(&tracer, &parent);
    let response = match id {
        Some(id) => {
            span.set_attribute(KeyValue::new("http.route", "/item/{id}"));
            span.set_attribute(KeyValue::new("shop.item.id", id.to_string()));
            match ITEMS.iter().find(|(item, _, _)| *item == id) {
                Some((id, name, price)) => reply(
                    StatusCode::OK,
                    format!("{{\"id\":\"{id}\",\"name\":\"{name}\",\"price_cents\":{price}}}\n"),
                ),
                None => reply(StatusCode::NOT_FOUND, "{\"error\":\"no such item\"}\n"),
            }
        }
        None => reply(StatusCode::NOT_FOUND, "{\"error\":\"not found\"}\n"),
    };
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(response.status().as_u16()),
    ));
    // A 4xx is the client's doing: the server span stays unset, as the HTTP conventions say.
    span.end();
    Ok(response)
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}
