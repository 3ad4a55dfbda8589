//! Observation through the host's probes: TCP connects from one service's
//! namespace to another's address. A closed port answers with a reset, so a
//! `refused` or `connected` outcome means "reachable".

use clnrm_sdk::prelude::*;
use net::{ProbeOutcome, ProbeResult};

/// How often recovery is probed again, and for how long at most.
pub const RETRY_MS: u64 = 100;
pub const RECOVERY_MS: u64 = 5_000;

pub fn probe(from: &str, to: &str, port: u16, timeout_ms: u32) -> Result<ProbeResult, String> {
    net::probe(from, to, port, timeout_ms).map_err(|e| format!("probe {from} -> {to}:{port}: {e}"))
}

pub fn reachable(r: &ProbeResult) -> bool {
    matches!(r.outcome, ProbeOutcome::Connected | ProbeOutcome::Refused)
}

pub fn name(o: ProbeOutcome) -> &'static str {
    match o {
        ProbeOutcome::Connected => "connected",
        ProbeOutcome::Refused => "refused",
        ProbeOutcome::TimedOut => "timed_out",
        ProbeOutcome::Unreachable => "unreachable",
    }
}

/// Probe until `ok` holds or [`RECOVERY_MS`] pass: how long it took, or the
/// last result on timeout.
pub fn until(
    from: &str,
    to: &str,
    port: u16,
    timeout_ms: u32,
    ok: impl Fn(&ProbeResult) -> bool,
) -> Result<Result<u64, ProbeResult>, String> {
    let start = clock::now_ms();
    loop {
        let r = probe(from, to, port, timeout_ms)?;
        let waited = clock::now_ms().saturating_sub(start);
        if ok(&r) {
            return Ok(Ok(waited));
        }
        if waited >= RECOVERY_MS {
            return Ok(Err(r));
        }
        clock::sleep_ms(RETRY_MS);
    }
}

/// The other services of the scenario, when `peers` is empty.
pub fn peers_of(
    configured: &[String],
    target: &str,
    inj: &Injection,
) -> Result<Vec<String>, String> {
    let peers: Vec<String> = if configured.is_empty() {
        inj.services
            .iter()
            .filter(|s| *s != target)
            .cloned()
            .collect()
    } else {
        configured.to_vec()
    };
    for p in &peers {
        if !inj.services.contains(p) {
            return Err(format!(
                "peer `{p}` is not a service of scenario `{}` (services: {})",
                inj.scenario,
                inj.services.join(", ")
            ));
        }
    }
    if peers.is_empty() {
        return Err(format!(
            "scenario `{}` has no service besides `{target}` to impair the traffic with",
            inj.scenario
        ));
    }
    Ok(peers)
}

/// A child span that says the impaired path works again.
pub fn recovery(parent: u64, after_ms: u64) {
    use clnrm_sdk::chaos::clnrm::chaos::types::{AttrValue, SpanKind, SpanStatus};
    let s = spans::start("clnrm.network.recovery", parent, SpanKind::Internal);
    spans::set_attribute(s, "recovery.success", &AttrValue::Boolean(true));
    spans::set_attribute(
        s,
        "recovery.type",
        &AttrValue::Str("network_restore".into()),
    );
    spans::set_attribute(s, "recovery.observed_ms", &AttrValue::Int(after_ms as i64));
    spans::end(s, SpanStatus::Ok, None);
}
