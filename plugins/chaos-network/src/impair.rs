//! Latency, loss, refused and timed-out connections, bandwidth: one target,
//! its peers, one impairment. Measured before (the baseline), while active
//! (the claim) and after healing (the recovery).

use crate::probe::{self, name, peers_of, probe, reachable, recovery, until};
use crate::tables;
use clnrm_sdk::prelude::*;
use net::{Impairment, ProbeOutcome};

/// What one injection asks for, whatever its table.
struct Plan {
    /// `chaos.type` on the span: latency, loss, refused, timeout, bandwidth.
    kind: &'static str,
    target: Option<String>,
    peers: Vec<String>,
    delay_ms: u64,
    duration_ms: Option<u64>,
    impairment: Impairment,
    /// `network_latency` with `jitter_ms` > 0: applied with `impair-jittered`
    /// (WIT 0.3.4), `impairment` then says the mean latency.
    jitter_ms: u32,
    port: u16,
    timeout_ms: u32,
    probes: u32,
    measure_ms: u32,
}

fn plan(inj: &Injection) -> Result<Plan, String> {
    Ok(match inj.fault_type.as_str() {
        "network_latency" => {
            let c: tables::Latency = injection_config(inj)?;
            Plan {
                kind: "latency",
                impairment: Impairment::Latency(c.latency_ms),
                jitter_ms: c.jitter_ms,
                port: c.probe_port,
                // A probe waits the longest delay plus TCP's first retry.
                timeout_ms: c
                    .latency_ms
                    .saturating_add(c.jitter_ms)
                    .saturating_add(2_000),
                probes: c.probes,
                measure_ms: 0,
                target: c.target,
                peers: c.peers,
                delay_ms: c.delay_ms,
                duration_ms: c.duration_ms,
            }
        }
        "packet_loss" => {
            let c: tables::Loss = injection_config(inj)?;
            Plan {
                kind: "loss",
                // The drops come from this injection's own seeded stream.
                impairment: Impairment::Loss(net::Loss {
                    percent: c.loss_percent,
                    seed: rng::next_u64(),
                }),
                jitter_ms: 0,
                port: c.probe_port,
                timeout_ms: c.probe_timeout_ms,
                probes: c.probes,
                measure_ms: 0,
                target: c.target,
                peers: c.peers,
                delay_ms: c.delay_ms,
                duration_ms: c.duration_ms,
            }
        }
        t @ ("connection_refused" | "connection_timeout") => {
            let c: tables::Port = injection_config(inj)?;
            let refused = t == "connection_refused";
            Plan {
                kind: if refused { "refused" } else { "timeout" },
                impairment: if refused {
                    Impairment::Refuse(c.port)
                } else {
                    Impairment::Blackhole(c.port)
                },
                jitter_ms: 0,
                port: c.port,
                timeout_ms: c.probe_timeout_ms,
                probes: 1,
                measure_ms: 0,
                target: c.target,
                peers: c.peers,
                delay_ms: c.delay_ms,
                duration_ms: c.duration_ms,
            }
        }
        "bandwidth_limit" => {
            let c: tables::Bandwidth = injection_config(inj)?;
            Plan {
                kind: "bandwidth",
                impairment: Impairment::Bandwidth(c.rate_kbit),
                jitter_ms: 0,
                port: 0,
                timeout_ms: 0,
                probes: 0,
                measure_ms: c.measure_ms,
                target: c.target,
                peers: c.peers,
                delay_ms: c.delay_ms,
                duration_ms: c.duration_ms,
            }
        }
        other => return Err(unhandled(crate::NAME, other).to_string()),
    })
}

/// What a measurement found: the span attribute, the value, and whether it
/// shows the fault (or, after healing, its absence).
struct Seen {
    key: &'static str,
    value: f64,
    faulty: bool,
    detail: String,
    /// The probe's outcome (refused/timeout).
    outcome: Option<ProbeOutcome>,
    /// Latency: the probes' smallest and largest RTT.
    min_max_ms: Option<(f64, f64)>,
}

/// The baseline needs fewer loss probes than the claim: none may be lost.
const BASELINE_LOSS_PROBES: u32 = 20;

fn measure(p: &Plan, target: &str, peer: &str) -> Result<Seen, String> {
    measure_n(p, target, peer, p.probes)
}

fn measure_n(p: &Plan, target: &str, peer: &str, probes: u32) -> Result<Seen, String> {
    match p.impairment {
        Impairment::Latency(ms) => {
            let mut rtts = Vec::new();
            for _ in 0..probes {
                let r = probe(peer, target, p.port, p.timeout_ms)?;
                if !reachable(&r) {
                    return Err(format!(
                        "probe {peer} -> {target}:{} {}",
                        p.port,
                        name(r.outcome)
                    ));
                }
                rtts.push(r.rtt_us as f64 / 1000.0);
            }
            let min = rtts.iter().cloned().fold(f64::INFINITY, f64::min);
            let max = rtts.iter().cloned().fold(0.0, f64::max);
            let mean = rtts.iter().sum::<f64>() / rtts.len().max(1) as f64;
            // With jitter, every packet is held at least latency - jitter.
            let floor = ms.saturating_sub(p.jitter_ms) as f64;
            Ok(Seen {
                key: "latency.measured_ms",
                value: (mean * 10.0).round() / 10.0,
                faulty: min >= floor,
                detail: format!(
                    "RTT {mean:.1} ms (min {min:.1}, max {max:.1}) over {} probes",
                    rtts.len()
                ),
                outcome: None,
                min_max_ms: Some(((min * 10.0).round() / 10.0, (max * 10.0).round() / 10.0)),
            })
        }
        Impairment::Loss(_) => {
            let mut lost = 0u32;
            for _ in 0..probes {
                let r = probe(peer, target, p.port, p.timeout_ms)?;
                match r.outcome {
                    ProbeOutcome::TimedOut => lost += 1,
                    ProbeOutcome::Unreachable => {
                        return Err(format!("probe {peer} -> {target}: unreachable"))
                    }
                    _ => {}
                }
            }
            let pct = lost as f64 * 100.0 / probes as f64;
            Ok(Seen {
                key: "loss.measured_percent",
                value: (pct * 10.0).round() / 10.0,
                faulty: lost > 0,
                detail: format!("{lost} of {probes} probes lost ({pct:.1} %)"),
                outcome: None,
                min_max_ms: None,
            })
        }
        Impairment::Refuse(_) | Impairment::Blackhole(_) => {
            let r = probe(peer, target, p.port, p.timeout_ms)?;
            let want = if matches!(p.impairment, Impairment::Refuse(_)) {
                ProbeOutcome::Refused
            } else {
                ProbeOutcome::TimedOut
            };
            Ok(Seen {
                key: "probe.outcome",
                value: r.rtt_us as f64 / 1000.0,
                faulty: r.outcome == want,
                detail: format!(
                    "connect {peer} -> {target}:{} {} after {:.1} ms",
                    p.port,
                    name(r.outcome),
                    r.rtt_us as f64 / 1000.0
                ),
                outcome: Some(r.outcome),
                min_max_ms: None,
            })
        }
        Impairment::Bandwidth(kbit) => {
            let got = net::throughput(target, peer, p.measure_ms)
                .map_err(|e| format!("throughput {target} -> {peer}: {e}"))?;
            Ok(Seen {
                key: "rate.measured_kbit",
                value: got as f64,
                // tbf lets a burst through on top of the rate.
                faulty: got <= kbit as u64 * 5 / 4,
                detail: format!("{got} kbit/s from {target} to {peer}"),
                outcome: None,
                min_max_ms: None,
            })
        }
        Impairment::Partition => Err("partitions are measured by partition.rs".into()),
    }
}

fn configured(span: &FaultSpan, p: &Plan) {
    match p.impairment {
        Impairment::Latency(ms) => {
            span.int("latency.ms", ms as i64);
            if p.jitter_ms > 0 {
                span.int("latency.jitter_ms", p.jitter_ms as i64);
            }
        }
        Impairment::Loss(l) => span.float("loss.percent", l.percent),
        Impairment::Refuse(port) | Impairment::Blackhole(port) => span.int("port", port as i64),
        Impairment::Bandwidth(k) => span.int("rate.kbit", k as i64),
        Impairment::Partition => {}
    }
}

fn record(span: &FaultSpan, s: &Seen, p: &Plan) {
    match p.impairment {
        Impairment::Refuse(_) | Impairment::Blackhole(_) => {}
        Impairment::Latency(_) if p.jitter_ms > 0 => {
            span.float(s.key, s.value);
            // `*measured_ms`: volatile in the digest, as the mean is.
            if let Some((min, max)) = s.min_max_ms {
                span.float("latency.min_measured_ms", min);
                span.float("latency.max_measured_ms", max);
            }
        }
        Impairment::Latency(_) | Impairment::Loss(_) => span.float(s.key, s.value),
        _ => span.int(s.key, s.value as i64),
    }
}

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let p = plan(inj)?;
    let target = target(p.target.as_deref(), inj)?;
    let span = FaultSpan::start(
        "clnrm.network.chaos",
        inj.parent,
        p.kind,
        &target,
        p.delay_ms,
    );
    span.str("target", &target);
    configured(&span, &p);
    let peers = peers_of(&p.peers, &target, inj).or_else(|e| span.fail(e))?;
    span.str("peers", &peers.join(","));
    let peer = peers[0].clone();

    clock::sleep_ms(p.delay_ms);
    require_running(&span, &target)?;
    // The baseline: the fault must not be there before we inject it. A
    // service may still be starting its listener: wait for it a while.
    let start = clock::now_ms();
    let before = loop {
        let n = match p.impairment {
            Impairment::Loss(_) => p.probes.min(BASELINE_LOSS_PROBES),
            _ => p.probes,
        };
        let b = measure_n(&p, &target, &peer, n).or_else(|e| span.fail(e))?;
        if !b.faulty {
            break b;
        }
        if clock::now_ms().saturating_sub(start) >= probe::RECOVERY_MS {
            return span.fail(format!(
                "{} already before the fault ({}): nothing to show",
                p.kind, b.detail
            ));
        }
        clock::sleep_ms(probe::RETRY_MS);
    };
    let applied = match p.impairment {
        Impairment::Latency(ms) if p.jitter_ms > 0 => {
            // The delays come from this injection's own seeded stream.
            let delay = net::JitteredLatency {
                latency_ms: ms,
                jitter_ms: p.jitter_ms,
                seed: rng::next_u64(),
            };
            net::impair_jittered(&target, &peers, delay)
        }
        imp => net::impair(&target, &peers, imp),
    };
    let imp = match applied {
        Ok(i) => i,
        Err(e) => return span.fail(format!("impair `{target}`: {e}")),
    };
    span.str("network.mechanism", &imp.mechanism);
    span.event("network.impaired");
    let during = measure(&p, &target, &peer).or_else(|e| span.fail(e))?;
    record(&span, &during, &p);
    if let Ok(c) = net::counters(imp.id) {
        if imp.mechanism == "nfqueue" {
            span.int("packets.seen", c.seen as i64);
            span.int("packets.dropped", c.dropped as i64);
        }
    }
    if !during.faulty {
        return span.fail(format!("{} not observed: {}", p.kind, during.detail));
    }
    span.bool("network.degraded", true);
    span.event("network.degraded");
    let mut summary = format!(
        "{} on {target} ({}, {}): {}",
        p.kind,
        imp.mechanism,
        peers.join(","),
        during.detail
    );
    if let Some(d) = p.duration_ms {
        clock::sleep_ms(d);
        let c = net::heal(imp.id).map_err(|e| format!("heal `{target}`: {e}"));
        let c = c.or_else(|e| span.fail(e))?;
        if imp.mechanism == "nfqueue" {
            span.int("packets.seen", c.seen as i64);
            span.int("packets.dropped", c.dropped as i64);
        }
        span.event("network.healed");
        let after = recovered(&p, &target, &peer, &before).or_else(|e| span.fail(e))?;
        match after {
            Ok(ms) => recovery(span.0, ms),
            Err(detail) => {
                return span.fail(format!("{} still there after healing: {detail}", p.kind))
            }
        }
        summary.push_str(&format!(", healed after {d} ms"));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary,
    })
}

/// Probe until the path behaves as before the fault.
fn recovered(
    p: &Plan,
    target: &str,
    peer: &str,
    before: &Seen,
) -> Result<Result<u64, String>, String> {
    match p.impairment {
        Impairment::Latency(ms) => {
            // Under the smallest delay the fault could still give.
            let floor = ms.saturating_sub(p.jitter_ms).max(1) as u64;
            let r = until(peer, target, p.port, p.timeout_ms, |r| {
                reachable(r) && r.rtt_us < floor * 500
            })?;
            Ok(r.map_err(|r| format!("RTT {:.1} ms", r.rtt_us as f64 / 1000.0)))
        }
        Impairment::Loss(_) => {
            // Ten answered probes in a row.
            let start = clock::now_ms();
            let mut ok = 0;
            while ok < 10 {
                let r = probe(peer, target, p.port, 1_000)?;
                ok = if reachable(&r) { ok + 1 } else { 0 };
                if clock::now_ms() - start > probe::RECOVERY_MS {
                    return Ok(Err("probes still lost".into()));
                }
            }
            Ok(Ok(clock::now_ms() - start))
        }
        Impairment::Refuse(_) | Impairment::Blackhole(_) => {
            // As before the fault, or better: a listener that was still
            // starting at the baseline ("refused") may answer by now.
            let r = until(peer, target, p.port, p.timeout_ms, |r| {
                Some(r.outcome) == before.outcome || r.outcome == ProbeOutcome::Connected
            })?;
            Ok(r.map_err(|r| name(r.outcome).to_string()))
        }
        Impairment::Bandwidth(_) => {
            let start = clock::now_ms();
            let m = measure(p, target, peer)?;
            Ok(if m.faulty {
                Err(m.detail)
            } else {
                Ok(clock::now_ms() - start)
            })
        }
        Impairment::Partition => Err("partitions recover in partition.rs".into()),
    }
}
