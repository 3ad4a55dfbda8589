//! The shop services' one telemetry setup. Each service picks its own OTLP exporter (api:
//! gRPC, store: HTTP protobuf) and hands it to [`init`]; everything else is configured by the
//! standard OpenTelemetry environment only: `OTEL_EXPORTER_OTLP_ENDPOINT`,
//! `OTEL_EXPORTER_OTLP_HEADERS` (read by the exporter), `OTEL_SERVICE_NAME` (else the
//! service's default name), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_SCHEDULE_DELAY`, and
//! `TRACEPARENT`/`TRACESTATE` (the W3C environment carrier, [`parent_from_env`]).

use std::collections::HashMap;

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use opentelemetry_sdk::Resource;

/// A batch processor over `exporter`, installed as the global tracer provider, with the W3C
/// trace-context propagator. The service is `default_name` unless `OTEL_SERVICE_NAME` names
/// it. Keep the provider: `shutdown()` on it flushes the spans before the process exits.
pub fn init(default_name: &'static str, exporter: impl SpanExporter + 'static) -> SdkTracerProvider {
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(default_name);
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    global::set_tracer_provider(provider.clone());
    global::set_text_map_propagator(TraceContextPropagator::new());
    provider
}

/// The parent given by the W3C environment carrier (`TRACEPARENT`, `TRACESTATE`), if any:
/// clnrm sets them to the span that started the container.
pub fn parent_from_env() -> Context {
    let mut carrier = HashMap::new();
    for (var, key) in [("TRACEPARENT", "traceparent"), ("TRACESTATE", "tracestate")] {
        if let Ok(value) = std::env::var(var) {
            carrier.insert(key.to_string(), value);
        }
    }
    global::get_text_map_propagator(|p| p.extract(&carrier))
}

/// The global tracer, named after the service.
pub fn tracer(name: &'static str) -> BoxedTracer {
    global::tracer(name)
}

/// Flush and stop: every span ended so far is exported. Says on stderr what failed.
pub fn shutdown(service: &str, provider: &SdkTracerProvider) {
    if let Err(e) = provider.shutdown() {
        eprintln!("{service}: flushing spans: {e}");
    }
}
