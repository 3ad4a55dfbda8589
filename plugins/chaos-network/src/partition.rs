//! network_partition: a target cut off from its peers, or a split brain
//! (`groups`: each group reaches only itself; a service in no group keeps
//! reaching everyone). Every pair across groups is probed both ways before
//! (reachable), while cut (both directions fail, and each group still reaches
//! itself) and after healing (reachable again).

use crate::probe::{name, peers_of, probe, reachable, recovery, until};
use crate::tables;
use clnrm_sdk::chaos::clnrm::chaos::types::{AttrValue, SpanKind, SpanStatus};
use clnrm_sdk::prelude::*;
use net::Impairment;

/// Pairs of services in different groups.
fn across(groups: &[Vec<String>]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, gi) in groups.iter().enumerate() {
        for gj in &groups[i + 1..] {
            for a in gi {
                for b in gj {
                    out.push((a.clone(), b.clone()));
                }
            }
        }
    }
    out
}

/// Pairs of services in the same group.
fn within(groups: &[Vec<String>]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for g in groups {
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

fn render(groups: &[Vec<String>]) -> String {
    groups
        .iter()
        .map(|g| g.join(","))
        .collect::<Vec<_>>()
        .join("|")
}

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let c: tables::Partition = injection_config(inj)?;
    let groups = match &c.groups {
        Some(g) => {
            for s in g.iter().flatten() {
                if !inj.services.contains(s) {
                    return Err(format!(
                        "group member `{s}` is not a service of scenario `{}` (services: {})",
                        inj.scenario,
                        inj.services.join(", ")
                    ));
                }
            }
            g.clone()
        }
        None => {
            let t = target(c.target.as_deref(), inj)?;
            let peers = peers_of(&c.peers, &t, inj)?;
            vec![vec![t], peers]
        }
    };
    let main = groups[0][0].clone();
    let span = FaultSpan::start(
        "clnrm.network.chaos",
        inj.parent,
        "partition",
        &main,
        c.delay_ms,
    );
    span.str("target", &main);
    span.str("partition.groups", &render(&groups));
    let (port, wait) = (c.probe_port, c.probe_timeout_ms);

    clock::sleep_ms(c.delay_ms);
    for s in groups.iter().flatten() {
        require_running(&span, s)?;
    }
    let pairs = across(&groups);
    for (a, b) in &pairs {
        for (x, y) in [(a, b), (b, a)] {
            let r = probe(x, y, port, wait).or_else(|e| span.fail(e))?;
            if !reachable(&r) {
                return span.fail(format!(
                    "{x} cannot reach {y} before the partition ({})",
                    name(r.outcome)
                ));
            }
        }
    }
    // Each service of a group is cut from every later group, both ways.
    let mut ids = Vec::new();
    let mut mechanism = String::new();
    for (i, gi) in groups.iter().enumerate() {
        let later: Vec<String> = groups[i + 1..].iter().flatten().cloned().collect();
        if later.is_empty() {
            continue;
        }
        for a in gi {
            match net::impair(a, &later, Impairment::Partition) {
                Ok(imp) => {
                    mechanism = imp.mechanism;
                    ids.push(imp.id);
                }
                Err(e) => {
                    return span.fail(format!("partition `{a}` from {}: {e}", later.join(",")))
                }
            }
        }
    }
    span.str("network.mechanism", &mechanism);
    span.event("network.impaired");
    for (a, b) in &pairs {
        for (x, y) in [(a, b), (b, a)] {
            let r = probe(x, y, port, wait).or_else(|e| span.fail(e))?;
            if reachable(&r) {
                return span.fail(format!(
                    "partition not observed: {x} still reaches {y} ({})",
                    name(r.outcome)
                ));
            }
        }
    }
    for (a, b) in within(&groups) {
        let r = probe(&a, &b, port, wait).or_else(|e| span.fail(e))?;
        if !reachable(&r) {
            return span.fail(format!(
                "{a} lost {b}, in its own group ({})",
                name(r.outcome)
            ));
        }
    }
    span.bool("network.degraded", true);
    span.bool("partition.both_ways", true);
    span.int("probes.pairs", pairs.len() as i64);

    let part = spans::start("clnrm.network.partition", span.0, SpanKind::Internal);
    let attr = |k: &str, v: AttrValue| spans::set_attribute(part, k, &v);
    attr("partition.detected", AttrValue::Boolean(true));
    attr("partition.groups", AttrValue::Str(render(&groups)));
    if c.groups.is_some() {
        attr("partition.split_brain", AttrValue::Boolean(true));
    }
    let mut summary = format!(
        "partitioned {} ({mechanism}); {} pairs fail both ways",
        render(&groups),
        pairs.len()
    );
    if let Some(d) = c.duration_ms {
        attr("partition.duration_ms", AttrValue::Int(d as i64));
        clock::sleep_ms(d);
        for id in &ids {
            if let Err(e) = net::heal(*id) {
                spans::end(part, SpanStatus::Error, Some(&e));
                return span.fail(format!("heal: {e}"));
            }
        }
        span.event("network.healed");
        let start = clock::now_ms();
        for (a, b) in &pairs {
            for (x, y) in [(a, b), (b, a)] {
                match until(x, y, port, wait, reachable) {
                    Ok(Ok(_)) => {}
                    Ok(Err(r)) => {
                        let e = format!(
                            "{x} still cannot reach {y} after healing ({})",
                            name(r.outcome)
                        );
                        spans::end(part, SpanStatus::Error, Some(&e));
                        return span.fail(e);
                    }
                    Err(e) => {
                        spans::end(part, SpanStatus::Error, Some(&e));
                        return span.fail(e);
                    }
                }
            }
        }
        recovery(part, clock::now_ms() - start);
        summary.push_str(&format!(", healed after {d} ms"));
    }
    spans::end(part, SpanStatus::Ok, None);
    span.observed();
    Ok(Outcome {
        observed: true,
        summary,
    })
}
