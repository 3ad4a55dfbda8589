//! `api`: the shop's front. `GET /checkout[?item=<id>]` fetches the item from `store` with a
//! timeout per attempt, retries with exponential backoff, and answers 503 when the store stays
//! unreachable. `GET /healthz` says it is up.
//!
//! Spans: a server span `GET /checkout` (a child of the caller's span when the request carries
//! a W3C `traceparent` header), and under it one client span `GET /item/{id}` per attempt,
//! `ERROR` when the attempt failed. Each attempt sends its own span as `traceparent` to store,
//! so store's server span sits under it in the same trace.
//!
//! Telemetry is configured by the standard OpenTelemetry environment only:
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (OTLP/gRPC), `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_SERVICE_NAME` (else `api`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_SCHEDULE_DELAY`, and
//! `TRACEPARENT`/`TRACESTATE` (the W3C environment carrier) for the parent of its start-up span.
//! SIGTERM (or Ctrl-C) stops accepting, lets requests in flight finish and flushes the spans.
//!
//! The application's own settings: `PORT` (8080), `STORE_URL` (`http://store:8081`),
//! `STORE_TIMEOUT_MS` (1500, per attempt), `STORE_ATTEMPTS` (3), `STORE_BACKOFF_MS` (100,
//! doubled after each failed attempt).

use std::convert::Infallible;
use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use opentelemetry::global;
use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

struct Config {
    port: u16,
    store: Uri,
    timeout: Duration,
    attempts: u32,
    backoff: Duration,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        fn num<T: std::str::FromStr>(var: &str, default: T) -> Result<T, String> {
            match std::env::var(var) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{var}={v:?} is not a number")),
                Err(_) => Ok(default),
            }
        }
        let store = std::env::var("STORE_URL").unwrap_or_else(|_| "http://store:8081".into());
        let store: Uri = store
            .parse()
            .map_err(|e| format!("STORE_URL={store:?}: {e}"))?;
        if store.host().is_none() {
            return Err(format!("STORE_URL={store:?} has no host"));
        }
        Ok(Config {
            port: num("PORT", 8080)?,
            store,
            timeout: Duration::from_millis(num("STORE_TIMEOUT_MS", 1500)?),
            attempts: num("STORE_ATTEMPTS", 3u32)?.max(1),
            backoff: Duration::from_millis(num("STORE_BACKOFF_MS", 100)?),
        })
    }
}

struct App {
    config: Config,
    client: Client<HttpConnector, Full<Bytes>>,
}

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("api: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    // The gRPC exporter's channel lives on the runtime: build it inside.
    let provider = match runtime.block_on(async { init_tracing() }) {
        Ok(provider) => provider,
        Err(e) => {
            eprintln!("api: cannot set up tracing: {e}");
            return ExitCode::from(2);
        }
    };
    let served = runtime.block_on(serve(config));
    // Every span ended so far is exported before the process exits (the runtime still runs
    // the gRPC channel meanwhile).
    telemetry::shutdown("api", &provider);
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("api: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The OTLP/gRPC exporter and a batch processor, both configured from `OTEL_*`.
fn init_tracing() -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()?;
    Ok(telemetry::init("api", exporter))
}

async fn serve(config: Config) -> std::io::Result<()> {
    let tracer = telemetry::tracer("api");
    let mut startup = tracer
        .span_builder("api.startup")
        .with_attributes([
            KeyValue::new("server.port", i64::from(config.port)),
            KeyValue::new("shop.store.url", config.store.to_string()),
        ])
        .start_with_context(&tracer, &telemetry::parent_from_env());
    let listener = match TcpListener::bind(("0.0.0.0", config.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            startup.set_status(Status::error(format!("bind: {e}")));
            startup.end();
            return Err(e);
        }
    };
    startup.end();
    println!("api listening on :{}", config.port);

    let app = Arc::new(App {
        client: Client::builder(TokioExecutor::new()).build_http(),
        config,
    });
    let mut sigterm = signal(SignalKind::terminate())?;
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let app = app.clone();
                let conn = http1::Builder::new().serve_connection(
                    TokioIo::new(stream),
                    service_fn(move |req| handle(app.clone(), req)),
                );
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = sigterm.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    println!("api stopping");
    // Checkouts in flight finish (and end their spans), at most 5 s.
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}

async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path();
    if path == "/healthz" {
        // No span: a readiness probe polls it.
        return Ok(reply(StatusCode::OK, "ok\n".to_string()));
    }
    if path != "/checkout" || req.method() != Method::GET {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "{\"error\":\"not found\"}\n".to_string(),
        ));
    }
    let item = req
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("item="))
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or("1")
        .to_string();
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(req.headers())));
    let tracer = telemetry::tracer("api");
    let span = tracer
        .span_builder("GET /checkout")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/checkout"),
            KeyValue::new("url.path", "/checkout"),
            KeyValue::new("shop.item.id", item.clone()),
        ])
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(span);

    let (status, body) = match fetch_item(&app, &cx, &item).await {
        Ok((attempts, item)) => (
            StatusCode::OK,
            format!("{{\"item\":{},\"attempts\":{attempts}}}\n", item.trim_end()),
        ),
        Err(Failure::NotFound) => (
            StatusCode::NOT_FOUND,
            "{\"error\":\"no such item\"}\n".to_string(),
        ),
        Err(Failure::Unreachable { attempts, last }) => {
            let message = format!("store unreachable after {attempts} attempt(s): {last}");
            cx.span().set_status(Status::error(message.clone()));
            cx.span()
                .set_attribute(KeyValue::new("error.type", "store_unreachable"));
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{{\"error\":{message:?}}}\n"),
            )
        }
    };
    cx.span().set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status.as_u16()),
    ));
    cx.span().end();
    Ok(reply(status, body))
}

enum Failure {
    NotFound,
    Unreachable { attempts: u32, last: String },
}

/// `GET <store>/item/<id>`: up to `attempts` tries, each bounded by `timeout`, with a backoff
/// that doubles between them. One client span per attempt, under `cx`.
async fn fetch_item(app: &App, cx: &Context, item: &str) -> Result<(u32, String), Failure> {
    let config = &app.config;
    let host = config.store.host().unwrap_or_default().to_string();
    let port = config.store.port_u16().unwrap_or(80);
    let url = format!(
        "{}/item/{item}",
        config.store.to_string().trim_end_matches('/')
    );
    let tracer = telemetry::tracer("api");
    let mut backoff = config.backoff;
    let mut last = String::new();
    for attempt in 1..=config.attempts {
        if attempt > 1 {
            cx.span().add_event(
                "retry",
                vec![
                    KeyValue::new("shop.attempt", i64::from(attempt)),
                    KeyValue::new("shop.backoff_ms", backoff.as_millis() as i64),
                ],
            );
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        let span = tracer
            .span_builder("GET /item/{id}")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("server.address", host.clone()),
                KeyValue::new("server.port", i64::from(port)),
                KeyValue::new("url.full", url.clone()),
                KeyValue::new("shop.attempt", i64::from(attempt)),
                KeyValue::new("shop.timeout_ms", config.timeout.as_millis() as i64),
            ])
            .start_with_context(&tracer, cx);
        let acx = cx.with_span(span);
        let mut req = Request::get(url.as_str())
            .body(Full::new(Bytes::new()))
            .expect("a valid request");
        global::get_text_map_propagator(|p| {
            p.inject_context(&acx, &mut HeaderInjector(req.headers_mut()))
        });
        let call = async {
            let response = app.client.request(req).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, Box<dyn Error + Send + Sync>>((status, body))
        };
        let span = acx.span();
        let (error_type, error) = match tokio::time::timeout(config.timeout, call).await {
            Ok(Ok((status, body))) => {
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status.as_u16()),
                ));
                if status.is_success() {
                    span.end();
                    return Ok((attempt, String::from_utf8_lossy(&body).into_owned()));
                }
                if status == StatusCode::NOT_FOUND {
                    // An answer, not an outage: no retry.
                    span.end();
                    return Err(Failure::NotFound);
                }
                (
                    status.as_u16().to_string(),
                    format!("store answered {status}"),
                )
            }
            Ok(Err(e)) => ("connect".to_string(), chain(e.as_ref())),
            Err(_) => (
                "timeout".to_string(),
                format!("no answer within {} ms", config.timeout.as_millis()),
            ),
        };
        span.set_attribute(KeyValue::new("error.type", error_type));
        span.set_status(Status::error(error.clone()));
        span.end();
        last = error;
    }
    Err(Failure::Unreachable {
        attempts: config.attempts,
        last,
    })
}

/// An error and its sources, `a: b: c`.
fn chain(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
