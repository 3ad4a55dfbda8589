//! concurrent_recovery: proves a system comes back from several faults at
//! once. Phases, as events on `clnrm.recovery.phase`: `normal` (every
//! service answers its probe), `chaos` (the faults, all at once, through
//! `compose.run-all`; each must be observed by its plugin), `recovery` (the
//! faults have ended; wait until every service answers again), and
//! `verification` (every service answers once more). Then
//! `clnrm.recovery.success`. A service answers its probe when Docker reports
//! its container running (not paused, not exited) and, with `probe_port`, a
//! TCP connect to that port from another service completes.

use crate::composed;
use crate::tables::{FaultEntry, Recovery};
use clnrm_sdk::chaos::clnrm::chaos::types::{AttrValue, SpanKind};
use clnrm_sdk::prelude::*;

const POLL_MS: u64 = 50;
const PROBE_TIMEOUT_MS: u32 = 1_000;

/// Why `service` does not answer its probe now, if it does not.
fn unanswered(service: &str, peer: Option<&str>, port: Option<u16>) -> Option<String> {
    match container::inspect(service) {
        Err(e) => return Some(format!("{service}: inspect: {e}")),
        Ok(st) if st.status != "running" => return Some(format!("{service}: {}", st.status)),
        Ok(_) => {}
    }
    let (Some(peer), Some(port)) = (peer, port) else {
        return None;
    };
    match net::probe(peer, service, port, PROBE_TIMEOUT_MS) {
        Ok(r) if r.outcome == net::ProbeOutcome::Connected => None,
        Ok(r) => Some(format!("{service}:{port} from {peer}: {:?}", r.outcome)),
        Err(e) => Some(format!("{service}:{port} from {peer}: {e}")),
    }
}

/// Every service that does not answer now.
fn unhealthy(services: &[String], all: &[String], port: Option<u16>) -> Vec<String> {
    services
        .iter()
        .filter_map(|svc| {
            let peer = all.iter().find(|p| *p != svc).map(String::as_str);
            unanswered(svc, peer, port)
        })
        .collect()
}

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Recovery = injection_config(inj)?;
    let services = composed::targets(&cfg.services, inj)?;
    let span = composed::span("clnrm.recovery.phase", inj.parent, "concurrent_recovery");
    span.int("services.total", services.len() as i64);
    let types: Vec<&str> = cfg.faults.iter().map(|f| f.fault_type()).collect();
    span.str("chaos.types", &types.join(","));
    span.int("chaos.count", cfg.faults.len() as i64);
    span.int("delay_ms", cfg.delay_ms as i64);
    clock::sleep_ms(cfg.delay_ms);

    let sick = unhealthy(&services, &inj.services, cfg.probe_port);
    if !sick.is_empty() {
        return span.fail(format!(
            "not healthy before the faults: {}",
            sick.join("; ")
        ));
    }
    composed::event(
        &span,
        "normal",
        &[("services.healthy", AttrValue::Int(services.len() as i64))],
    );

    let list: Vec<(&FaultEntry, Option<&str>)> = cfg.faults.iter().map(|f| (f, None)).collect();
    composed::event(
        &span,
        "chaos",
        &[("chaos.count", AttrValue::Int(list.len() as i64))],
    );
    let results = composed::run_all(&list, span.0);
    let failures: Vec<String> = cfg
        .faults
        .iter()
        .zip(&results)
        .filter_map(|(f, r)| composed::failure(f.fault_type(), r))
        .collect();
    if !failures.is_empty() {
        return span.fail(format!("faults not observed: {}", failures.join("; ")));
    }

    // The faults have ended (each composed call returns once its fault is
    // lifted): now the system must come back by itself.
    let t0 = clock::now_ms();
    composed::event(
        &span,
        "recovery",
        &[("chaos.observed_count", AttrValue::Int(results.len() as i64))],
    );
    loop {
        let sick = unhealthy(&services, &inj.services, cfg.probe_port);
        if sick.is_empty() {
            break;
        }
        if clock::now_ms().saturating_sub(t0) > cfg.recover_timeout_ms {
            return span.fail(format!(
                "not recovered within {} ms: {}",
                cfg.recover_timeout_ms,
                sick.join("; ")
            ));
        }
        clock::sleep_ms(POLL_MS);
    }
    let recovered_ms = clock::now_ms().saturating_sub(t0);

    let sick = unhealthy(&services, &inj.services, cfg.probe_port);
    composed::event(
        &span,
        "verification",
        &[(
            "services.stable",
            AttrValue::Int((services.len() - sick.len()) as i64),
        )],
    );
    let ok = FaultSpan(spans::start(
        "clnrm.recovery.success",
        span.0,
        SpanKind::Internal,
    ));
    ok.str("chaos.type", "concurrent_recovery");
    ok.bool("recovery.complete", true);
    ok.bool("system.stable", sick.is_empty());
    ok.int("services.total", services.len() as i64);
    ok.int("services.stable", (services.len() - sick.len()) as i64);
    ok.int("recovery.elapsed_ms", recovered_ms as i64);
    ok.str(
        "recovery.check",
        if cfg.probe_port.is_some() {
            "running+tcp"
        } else {
            "running"
        },
    );
    if !sick.is_empty() {
        let msg = format!("recovered, then unstable again: {}", sick.join("; "));
        let _ = ok.fail::<()>(msg.clone());
        return span.fail(msg);
    }
    ok.observed();
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "{} faults at once ({}); all {} services answered again after {recovered_ms} ms",
            cfg.faults.len(),
            types.join(", "),
            services.len()
        ),
    })
}
