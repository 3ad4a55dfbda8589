//! `dns_failure`: resolution of some names fails inside one service's network
//! namespace (the host catches the queries leaving it: `net.dns-fail`, WIT
//! 0.3.4). Shown by resolution probes from inside that namespace, through its
//! own resolver: the probed name resolved before, fails as configured while
//! the fault is in force, and a name outside `names` keeps resolving; after
//! healing, the probed name resolves again before recovery is claimed.

use crate::probe::{self, recovery};
use crate::tables::{self, dns_matches, DnsMode};
use clnrm_sdk::prelude::*;
use net::{DnsAnswer, DnsFailureMode};

/// How an answer reads on the span: `noerror`, `nxdomain`, `servfail`,
/// `rcode_N`, or `timeout` (no answer).
fn answer_name(a: &DnsAnswer) -> String {
    match a.rcode {
        None => "timeout".into(),
        Some(0) => "noerror".into(),
        Some(2) => "servfail".into(),
        Some(3) => "nxdomain".into(),
        Some(n) => format!("rcode_{n}"),
    }
}

/// Whether the answer is the configured failure.
fn failed_as(mode: DnsMode, a: &DnsAnswer) -> bool {
    match mode {
        DnsMode::Nxdomain => a.rcode == Some(3),
        DnsMode::Servfail => a.rcode == Some(2),
        DnsMode::Timeout => a.rcode.is_none(),
    }
}

/// A name that resolves: an answer with an address.
fn resolves(a: &DnsAnswer) -> bool {
    a.rcode == Some(0) && !a.addresses.is_empty()
}

fn resolve(target: &str, name: &str, timeout_ms: u32) -> Result<DnsAnswer, String> {
    net::dns_probe(target, name, timeout_ms)
        .map_err(|e| format!("resolve `{name}` in {target}: {e}"))
}

/// Resolve until `ok` holds or the recovery window passes: how long it took,
/// or the last answer.
fn until(
    target: &str,
    name: &str,
    timeout_ms: u32,
    ok: impl Fn(&DnsAnswer) -> bool,
) -> Result<Result<u64, DnsAnswer>, String> {
    let start = clock::now_ms();
    loop {
        let a = resolve(target, name, timeout_ms)?;
        let waited = clock::now_ms().saturating_sub(start);
        if ok(&a) {
            return Ok(Ok(waited));
        }
        if waited >= probe::RECOVERY_MS {
            return Ok(Err(a));
        }
        clock::sleep_ms(probe::RETRY_MS);
    }
}

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let c: tables::Dns = injection_config(inj)?;
    let target = target(c.target.as_deref(), inj)?;
    let span = FaultSpan::start("clnrm.network.dns", inj.parent, "dns", &target, c.delay_ms);
    span.str("target", &target);
    span.str("dns.names", &c.names.join(","));
    span.str("dns.mode", c.mode.name());
    let probe_name = c
        .probe_name
        .clone()
        .or_else(|| c.names.iter().find(|n| !n.contains('*')).cloned())
        .ok_or_else(|| "no name to probe: set `probe_name`".to_string())
        .or_else(|e| span.fail(e))?;
    let control = match c.control_name.clone().or_else(|| {
        inj.services
            .iter()
            .find(|s| !c.names.iter().any(|n| dns_matches(n, s)))
            .cloned()
    }) {
        Some(n) => n,
        None => {
            return span.fail(
                "every service name matches `names`: set `control_name` to a name that must keep resolving"
                    .into(),
            )
        }
    };
    span.str("dns.probe_name", &probe_name);
    span.str("dns.control_name", &control);

    clock::sleep_ms(c.delay_ms);
    require_running(&span, &target)?;
    // The baseline: the probed name resolves (a service may still be
    // joining the network: wait a while), and so does the control.
    let t = c.probe_timeout_ms;
    if let Err(a) = until(&target, &probe_name, t, resolves).or_else(|e| span.fail(e))? {
        return span.fail(format!(
            "`{probe_name}` does not resolve in {target} before the fault ({}): nothing to show",
            answer_name(&a)
        ));
    }
    if let Err(a) = until(&target, &control, t, resolves).or_else(|e| span.fail(e))? {
        return span.fail(format!(
            "control `{control}` does not resolve in {target} before the fault ({})",
            answer_name(&a)
        ));
    }
    let mode = match c.mode {
        DnsMode::Nxdomain => DnsFailureMode::Nxdomain,
        DnsMode::Servfail => DnsFailureMode::Servfail,
        DnsMode::Timeout => DnsFailureMode::Timeout,
    };
    let imp = match net::dns_fail(&target, &c.names, mode) {
        Ok(i) => i,
        Err(e) => return span.fail(format!("dns_failure on `{target}`: {e}")),
    };
    span.str("network.mechanism", &imp.mechanism);
    span.event("dns.failing");
    let during = resolve(&target, &probe_name, t).or_else(|e| span.fail(e))?;
    span.str("dns.answer", &answer_name(&during));
    if let Some(rcode) = during.rcode {
        span.int("dns.rcode", rcode as i64);
    }
    span.str("dns.resolver", &during.resolver);
    if !failed_as(c.mode, &during) {
        return span.fail(format!(
            "`{probe_name}` answered {} in {target} under {} (expected {})",
            answer_name(&during),
            c.mode.name(),
            c.mode.name()
        ));
    }
    let other = resolve(&target, &control, t).or_else(|e| span.fail(e))?;
    span.str("dns.control_answer", &answer_name(&other));
    if !resolves(&other) {
        return span.fail(format!(
            "control `{control}` stopped resolving too ({}): the fault is not limited to `names`",
            answer_name(&other)
        ));
    }
    if let Ok(n) = net::counters(imp.id) {
        span.int("packets.seen", n.seen as i64);
        span.int("packets.dropped", n.dropped as i64);
    }
    span.bool("dns.failed", true);
    span.event("dns.failed");
    let mut summary = format!(
        "`{probe_name}` answered {} in {target} ({}), `{control}` still resolves",
        answer_name(&during),
        c.names.join(",")
    );
    if let Some(d) = c.duration_ms {
        clock::sleep_ms(d);
        let n = net::heal(imp.id)
            .map_err(|e| format!("heal DNS on `{target}`: {e}"))
            .or_else(|e| span.fail(e))?;
        span.int("packets.seen", n.seen as i64);
        span.int("packets.dropped", n.dropped as i64);
        span.event("dns.healed");
        match until(&target, &probe_name, t, resolves).or_else(|e| span.fail(e))? {
            Ok(ms) => recovery(span.0, ms),
            Err(a) => {
                return span.fail(format!(
                    "`{probe_name}` still fails after healing ({})",
                    answer_name(&a)
                ))
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
