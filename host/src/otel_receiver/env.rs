//! What a container is told: the standard OpenTelemetry SDK variables that
//! point it at the receiver, and the W3C trace context (environment carriers)
//! of the span it runs under.

use std::collections::BTreeMap;

/// Spans arrive while the scenario runs: the batch processor exports every
/// 200 ms instead of the SDK default 5 s.
pub const BSP_SCHEDULE_DELAY_MS: u64 = 200;

/// Where a scenario's receiver is and whom it belongs to.
pub struct ReceiverEnv<'a> {
    /// `http://<gateway>:<port>`.
    pub endpoint: String,
    pub port: u16,
    pub token: &'a str,
    pub run_id: &'a str,
    pub suite: &'a str,
    pub scenario: &'a str,
    /// Services of `type = "otel_collector"`: endpoints naming them on the
    /// collector ports (4317, 4318) are pointed at the receiver's port.
    pub collectors: Vec<&'a str>,
}

/// `TRACEPARENT` of a span: version 00, sampled.
pub fn traceparent(trace_id: &[u8; 16], span_id: &[u8; 8]) -> String {
    format!("00-{}-{}-01", hex::encode(trace_id), hex::encode(span_id))
}

/// The trace context of a span, as the environment carriers define them.
pub fn trace_context(trace_id: &[u8; 16], span_id: &[u8; 8]) -> Vec<(String, String)> {
    vec![
        ("TRACEPARENT".into(), traceparent(trace_id, span_id)),
        ("TRACESTATE".into(), String::new()),
    ]
}

/// A service's environment with clnrm's added: the service's own values win,
/// except `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`, which
/// are merged (clnrm's entries last). `context`: the `TRACEPARENT` /
/// `TRACESTATE` of its `clnrm.service.start` span.
pub fn service_env(
    own: &BTreeMap<String, String>,
    id: &str,
    r: &ReceiverEnv<'_>,
    context: Vec<(String, String)>,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = own
        .iter()
        .map(|(k, v)| (k.clone(), rewrite_collectors(v, r)))
        .collect();
    let attrs = format!(
        "clnrm.run.id={},clnrm.suite={},clnrm.scenario={}",
        pct(r.run_id),
        pct(r.suite),
        pct(r.scenario)
    );
    merge(&mut env, "OTEL_RESOURCE_ATTRIBUTES", &attrs);
    merge(
        &mut env,
        "OTEL_EXPORTER_OTLP_HEADERS",
        &format!("{}={}", super::TOKEN_HEADER, r.token),
    );
    let defaults = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", r.endpoint.clone()),
        ("OTEL_SERVICE_NAME", id.to_string()),
        ("OTEL_BSP_SCHEDULE_DELAY", BSP_SCHEDULE_DELAY_MS.to_string()),
        ("OTEL_TRACES_EXPORTER", "otlp".into()),
        ("OTEL_METRICS_EXPORTER", "none".into()),
        ("OTEL_LOGS_EXPORTER", "none".into()),
    ];
    let defaults = defaults.into_iter().map(|(k, v)| (k.to_string(), v));
    for (k, v) in defaults.chain(context) {
        env.entry(k).or_insert(v);
    }
    env
}

/// `a=1` + `b=2` → `a=1,b=2`; a missing or empty value is replaced.
fn merge(env: &mut BTreeMap<String, String>, key: &str, ours: &str) {
    let v = env.entry(key.to_string()).or_default();
    if v.trim().is_empty() {
        *v = ours.to_string();
    } else {
        v.push(',');
        v.push_str(ours);
    }
}

/// `http://otel_collector:4318` → `http://otel_collector:<receiver port>`
/// for every collector service (the name itself resolves to the gateway).
fn rewrite_collectors(value: &str, r: &ReceiverEnv<'_>) -> String {
    let mut out = value.to_string();
    for c in &r.collectors {
        for port in ["4317", "4318"] {
            let from = format!("{c}:{port}");
            let to = format!("{c}:{}", r.port);
            let mut rewritten = String::with_capacity(out.len());
            let mut rest = out.as_str();
            while let Some(i) = rest.find(&from) {
                let after = &rest[i + from.len()..];
                // `:43170` is another port; `x-otel_collector` another name.
                let ends = !after.starts_with(|ch: char| ch.is_ascii_digit());
                let starts = rest[..i].chars().last().is_none_or(|ch| {
                    !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.')
                });
                rewritten.push_str(&rest[..i]);
                rewritten.push_str(if ends && starts { &to } else { &from });
                rest = after;
            }
            rewritten.push_str(rest);
            out = rewritten;
        }
    }
    out
}

/// Percent-encode what the `key=value,...` list cannot hold as it is.
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> ReceiverEnv<'static> {
        ReceiverEnv {
            endpoint: "http://172.18.0.1:40123".into(),
            port: 40123,
            token: "t0k",
            run_id: "run1",
            suite: "my suite",
            scenario: "kill, then check",
            collectors: vec!["otel_collector"],
        }
    }

    #[test]
    fn clnrm_fills_in_and_the_service_wins_but_two_merge() {
        let own: BTreeMap<String, String> = [
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=1"),
            ("APP", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let ctx = trace_context(&[0xab; 16], &[0xcd; 8]);
        let env = service_env(&own, "api", &r(), ctx);
        assert_eq!(env["OTEL_SERVICE_NAME"], "checkout");
        assert_eq!(
            env["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "http://172.18.0.1:40123"
        );
        assert_eq!(
            env["OTEL_EXPORTER_OTLP_HEADERS"],
            "api-key=1,x-clnrm-token=t0k"
        );
        assert_eq!(
            env["OTEL_RESOURCE_ATTRIBUTES"],
            "deployment.environment=test,clnrm.run.id=run1,clnrm.suite=my%20suite,clnrm.scenario=kill%2C%20then%20check"
        );
        assert_eq!(env["OTEL_TRACES_EXPORTER"], "otlp");
        assert_eq!(env["OTEL_METRICS_EXPORTER"], "none");
        assert_eq!(env["OTEL_LOGS_EXPORTER"], "none");
        assert_eq!(env["OTEL_BSP_SCHEDULE_DELAY"], "200");
        assert_eq!(
            env["TRACEPARENT"],
            format!("00-{}-{}-01", "ab".repeat(16), "cd".repeat(8))
        );
        assert_eq!(env["APP"], "x");
        let env = service_env(&BTreeMap::new(), "api", &r(), Vec::new());
        assert_eq!(env["OTEL_SERVICE_NAME"], "api");
        assert_eq!(env["OTEL_EXPORTER_OTLP_HEADERS"], "x-clnrm-token=t0k");
    }

    #[test]
    fn endpoints_naming_the_collector_reach_the_receiver() {
        let own: BTreeMap<String, String> = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel_collector:4318"),
            ("GRPC", "otel_collector:4317"),
            (
                "OTHER",
                "http://my-otel_collector:4318 otel_collector:43170",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let env = service_env(&own, "api", &r(), Vec::new());
        assert_eq!(
            env["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "http://otel_collector:40123"
        );
        assert_eq!(env["GRPC"], "otel_collector:40123");
        assert_eq!(
            env["OTHER"],
            "http://my-otel_collector:4318 otel_collector:43170"
        );
    }
}
