//! The network faults on the SDK's fake host: baseline, injection, the evidence each
//! fault needs before its span claims it, healing and recovery.

use super::ChaosNetwork;
use clnrm_sdk::chaos::clnrm::chaos::net::{ProbeOutcome, ProbeResult};
use clnrm_sdk::fake::{self, injection, FakeHost};
use clnrm_sdk::prelude::*;

fn setup() {
    fake::reset(42);
    fake::with(|h| {
        h.services(&["api", "web", "store"]);
    });
}

fn inject(json: &str) -> Result<Outcome, String> {
    ChaosNetwork::inject(injection(json, &["api", "web", "store"]))
}

fn attr(name: &str, key: &str) -> Option<String> {
    fake::with(|h| h.span(name).and_then(|s| s.attr(key)))
}

fn num(name: &str, key: &str) -> f64 {
    attr(name, key)
        .unwrap_or_else(|| panic!("{name} has no {key}"))
        .parse()
        .unwrap()
}

#[test]
fn latency_is_measured_under_the_fault_healed_and_recovered() {
    setup();
    let out =
        inject(r#"{"type":"network_latency","latency_ms":120,"peers":["web"],"duration_ms":2000}"#)
            .unwrap();
    assert!(out.observed, "{}", out.summary);
    assert!(num("clnrm.network.chaos", "latency.measured_ms") >= 120.0);
    assert_eq!(
        attr("clnrm.network.chaos", "network.degraded").as_deref(),
        Some("true")
    );
    fake::with(|h| {
        assert_eq!(
            h.calls_to("net.impair "),
            ["net.impair api [\"web\"] Impairment::Latency(120)"]
        );
        assert!(h.active.is_empty(), "healed");
        let healed_at = h.first_call_at("net.heal").unwrap();
        let impaired_at = h.first_call_at("net.impair").unwrap();
        assert!(
            healed_at >= impaired_at + 2000,
            "{impaired_at} .. {healed_at}"
        );
        let r = h.span("clnrm.network.recovery").unwrap();
        assert_eq!(r.attr("recovery.success").as_deref(), Some("true"));
    });
}

#[test]
fn jittered_latency_draws_its_seed_and_respects_the_floor() {
    setup();
    inject(r#"{"type":"network_latency","latency_ms":100,"jitter_ms":40,"peers":["web"]}"#)
        .unwrap();
    let min = num("clnrm.network.chaos", "latency.min_measured_ms");
    let max = num("clnrm.network.chaos", "latency.max_measured_ms");
    assert!(min >= 60.0 && max <= 141.0 && min < max, "{min} .. {max}");
    fake::with(|h| {
        let j = h.calls_to("net.impair_jittered");
        assert_eq!(j.len(), 1, "{:?}", h.calls);
        assert!(j[0].contains("latency-ms: 100, jitter-ms: 40"), "{}", j[0]);
        assert!(h.calls_to("net.impair ").is_empty());
    });
}

#[test]
fn a_latency_the_probes_do_not_see_is_not_claimed() {
    setup();
    // The host says it applied the delay, but the path stays fast.
    fake::with(|h| {
        h.on_probe = Some(Box::new(|_: &FakeHost, _: &str, _: &str, _: u16| {
            Some(Ok(ProbeResult {
                outcome: ProbeOutcome::Connected,
                rtt_us: 300,
            }))
        }))
    });
    let err = inject(r#"{"type":"network_latency","latency_ms":100}"#).unwrap_err();
    assert!(err.contains("latency not observed"), "{err}");
    assert_eq!(
        attr("clnrm.network.chaos", "chaos.observed").as_deref(),
        Some("false")
    );
}

#[test]
fn a_fault_already_there_before_injection_fails_the_baseline() {
    setup();
    fake::with(|h| {
        h.on_probe = Some(Box::new(|_: &FakeHost, _: &str, _: &str, _: u16| {
            Some(Ok(ProbeResult {
                outcome: ProbeOutcome::Refused,
                rtt_us: 100,
            }))
        }))
    });
    let err = inject(r#"{"type":"connection_refused","port":8080}"#).unwrap_err();
    assert!(err.contains("already before the fault"), "{err}");
    fake::with(|h| {
        assert!(h.calls_to("net.impair").is_empty(), "nothing injected");
        // It retried for the recovery window before giving up.
        assert!(h.now_ms >= 5_000, "{}", h.now_ms);
    });
}

#[test]
fn connection_refused_is_seen_refused_then_restored() {
    setup();
    let out =
        inject(r#"{"type":"connection_refused","port":8080,"peers":["web"],"duration_ms":500}"#)
            .unwrap();
    assert!(out.observed);
    fake::with(|h| {
        assert_eq!(
            h.calls_to("net.impair "),
            ["net.impair api [\"web\"] Impairment::Refuse(8080)"]
        );
        assert!(h.span("clnrm.network.recovery").is_some());
        assert!(
            h.calls_to("net.probe web api 8080").len() >= 3,
            "before, during, after"
        );
    });
}

#[test]
fn a_listener_that_came_up_meanwhile_counts_as_recovered() {
    setup();
    // The listener is still starting at the baseline (a reset), and has come
    // up by the time the blackhole heals (a connect): that is recovery, not
    // "timeout still there".
    fake::with(|h| {
        let mut first = true;
        h.on_probe = Some(Box::new(move |_: &FakeHost, _: &str, _: &str, _: u16| {
            std::mem::take(&mut first).then(|| {
                Ok(ProbeResult {
                    outcome: ProbeOutcome::Refused,
                    rtt_us: 200,
                })
            })
        }))
    });
    let out =
        inject(r#"{"type":"connection_timeout","port":8080,"peers":["web"],"duration_ms":500}"#)
            .unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| assert!(h.span("clnrm.network.recovery").is_some()));
}

#[test]
fn packet_loss_counts_lost_probes_from_the_seeded_draws() {
    setup();
    let out = inject(r#"{"type":"packet_loss","loss_percent":50,"peers":["web"]}"#).unwrap();
    assert!(out.observed);
    let pct = num("clnrm.network.chaos", "loss.measured_percent");
    assert!(pct > 10.0 && pct < 90.0, "{pct}");
    // Same seed, same draws, same measurement.
    setup();
    inject(r#"{"type":"packet_loss","loss_percent":50,"peers":["web"]}"#).unwrap();
    assert_eq!(num("clnrm.network.chaos", "loss.measured_percent"), pct);
}

#[test]
fn bandwidth_is_measured_as_throughput_under_the_rate() {
    setup();
    inject(r#"{"type":"bandwidth_limit","rate_kbit":800,"peers":["web"]}"#).unwrap();
    let got = num("clnrm.network.chaos", "rate.measured_kbit");
    assert!(got <= 1000.0 && got > 0.0, "{got}");
}

#[test]
fn a_refused_impairment_fails_the_span_with_the_hosts_reason() {
    setup();
    fake::with(|h| h.impair_error = Some("nft: permission denied".into()));
    let err = inject(r#"{"type":"connection_timeout","port":80}"#).unwrap_err();
    assert!(
        err.contains("impair `api`: nft: permission denied"),
        "{err}"
    );
}

#[test]
fn partition_cuts_both_ways_and_heals() {
    setup();
    let out =
        inject(r#"{"type":"network_partition","target":"store","duration_ms":1000}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    fake::with(|h| {
        assert!(h.span("clnrm.network.partition").is_some());
        // Probed from each side.
        assert!(!h.calls_to("net.probe store").is_empty(), "{:?}", h.calls);
        assert!(h
            .calls
            .iter()
            .any(|c| c.starts_with("net.probe") && c.contains(" store ")));
        assert!(h.active.is_empty() && !h.healed.is_empty());
    });
}

#[test]
fn dns_failure_fails_the_listed_names_only_and_recovers() {
    setup();
    let out = inject(r#"{"type":"dns_failure","target":"api","names":["st*"],"probe_name":"store","mode":"nxdomain","duration_ms":1000}"#).unwrap();
    assert!(out.observed, "{}", out.summary);
    assert_eq!(
        attr("clnrm.network.dns", "dns.failed").as_deref(),
        Some("true")
    );
    assert_eq!(attr("clnrm.network.dns", "dns.rcode").as_deref(), Some("3"));
    assert_eq!(
        attr("clnrm.network.dns", "dns.control_name").as_deref(),
        Some("api")
    );
    fake::with(|h| assert!(h.span("clnrm.network.recovery").is_some()));
}

#[test]
fn dns_failure_in_the_wrong_mode_is_not_claimed() {
    setup();
    // The resolver answers SERVFAIL where NXDOMAIN was asked for.
    fake::with(|h| {
        h.on_dns = Some(Box::new(|h: &FakeHost, _: &str, name: &str| {
            (name == "store" && !h.active.is_empty()).then(|| {
                Ok(clnrm_sdk::chaos::clnrm::chaos::net::DnsAnswer {
                    rcode: Some(2),
                    addresses: vec![],
                    resolver: "127.0.0.11".into(),
                    rtt_us: 100,
                })
            })
        }))
    });
    let err = inject(r#"{"type":"dns_failure","names":["store"],"mode":"nxdomain"}"#).unwrap_err();
    assert!(
        err.to_lowercase().contains("servfail") || err.contains("rcode"),
        "{err}"
    );
    assert_eq!(
        attr("clnrm.network.dns", "chaos.observed").as_deref(),
        Some("false")
    );
}

#[test]
fn disconnect_is_observed_and_reconnected() {
    setup();
    let out = inject(r#"{"type":"network_disconnect","target":"web","duration_ms":300}"#).unwrap();
    assert!(out.observed);
    fake::with(|h| {
        assert_eq!(
            h.calls_to("container.network_disconnect"),
            ["container.network_disconnect web"]
        );
        assert_eq!(
            h.first_call_at("container.network_connect")
                .map(|t| t >= 300),
            Some(true)
        );
        assert!(h.containers["web"].attached);
        let s = h.span("clnrm.chaos.network_disconnect").unwrap();
        assert!(s.has_event("network.reconnected"), "{s:?}");
    });
}

#[test]
fn check_rejects_what_cannot_be_injected() {
    let bad = |t: &str, j: &str| ChaosNetwork::check(t, j).unwrap_err().to_string();
    assert!(bad(
        "network_latency",
        r#"{"type":"network_latency","latency_ms":0}"#
    )
    .contains("injects nothing"));
    assert!(bad(
        "network_latency",
        r#"{"type":"network_latency","latency_ms":10,"jitter_ms":20}"#
    )
    .contains("exceeds the latency"));
    assert!(bad(
        "packet_loss",
        r#"{"type":"packet_loss","loss_percent":120}"#
    )
    .contains("not within 0..=100"));
    assert!(bad(
        "network_partition",
        r#"{"type":"network_partition","groups":[["a"]]}"#
    )
    .contains("at least two groups"));
    assert!(bad(
        "dns_failure",
        r#"{"type":"dns_failure","names":["x"],"mode":"refused"}"#
    )
    .contains("mode"));
    assert!(ChaosNetwork::check(
        "network_latency",
        r#"{"type":"network_latency","latency_ms":50,"jitter_ms":10}"#
    )
    .is_ok());
}
