//! cascade_failure: fail the root (a composed fault, `kill_container` by
//! default), then watch the services that `depends_on` it, and theirs in
//! turn, fail: a dependent has failed when Docker reports its container
//! stopped (its own health check on what it depends on gave up:
//! `failed.by = "stopped"`), or when a step run in it failed after what it
//! depends on had failed (`failed.by = "step"`, from the engine's
//! `scenario.finished-steps`, WIT 0.3.5). Each dependent gets
//! `observe_timeout_ms` from the failure of what it depends on; one that
//! outlives it contained the cascade there.

use crate::composed::{self, s};
use crate::tables::Cascade;
use clnrm_sdk::chaos::clnrm::chaos::types::AttrValue;
use clnrm_sdk::prelude::*;

const POLL_MS: u64 = 50;

/// A dependent being watched: who, how deep, since when its cause failed
/// (at the earliest: a step of it that ended before then failed for
/// another reason).
struct Watch {
    service: String,
    depth: u32,
    since_ms: u64,
}

pub fn run(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Cascade = injection_config(inj)?;
    let root = target(Some(&cfg.root), inj)?;
    let span = FaultSpan::start(
        "clnrm.failure.cascade",
        inj.parent,
        "cascade_failure",
        &root,
        cfg.delay_ms,
    );
    span.str("cascade.source", "depends_on");
    span.str("cascade.root", &root);
    span.str("cascade.fault", cfg.fault.fault_type());

    // Everything downstream must be up before the root fails, or a failure
    // seen later could be older than the fault.
    let mut downstream: Vec<String> = Vec::new();
    let mut next = vec![root.clone()];
    while let Some(s) = next.pop() {
        for d in compose::dependents(&s) {
            if d != root && !downstream.contains(&d) {
                downstream.push(d.clone());
                next.push(d);
            }
        }
    }
    if downstream.is_empty() {
        return span.fail(format!(
            "no service of scenario `{}` has `depends_on = [\"{root}\"]`: nothing to cascade to",
            inj.scenario
        ));
    }
    clock::sleep_ms(cfg.delay_ms);
    for d in &downstream {
        require_running(&span, d)?;
    }

    let struck_ms = clock::now_ms();
    let r = composed::run(&cfg.fault, Some(&root), span.0);
    if let Some(why) = composed::failure(&format!("{} on {root}", cfg.fault.fault_type()), &r) {
        return span.fail(format!("the root did not fail: {why}"));
    }
    composed::event(
        &span,
        "cascade.failed",
        &[("service", s(&root)), ("cascade.depth", AttrValue::Int(1))],
    );

    let mut path = vec![root.clone()];
    let mut depth = 1u32;
    let mut contained: Vec<String> = Vec::new();
    let mut watching: Vec<Watch> = compose::dependents(&root)
        .into_iter()
        .map(|service| Watch {
            service,
            depth: 2,
            since_ms: struck_ms,
        })
        .collect();
    // The previous poll: a container seen stopped now stopped after it.
    let mut polled = clock::now_ms();
    while !watching.is_empty() {
        let now = clock::now_ms();
        let steps = scenario::finished_steps();
        let mut still = Vec::new();
        let mut newly = Vec::new();
        for w in watching {
            let state = match container::inspect(&w.service) {
                Ok(st) => st,
                Err(e) => return span.fail(format!("inspect `{}`: {e}", w.service)),
            };
            let failed = if !state.running {
                let code = state.exit_code.unwrap_or(-1);
                Some((
                    polled,
                    vec![
                        ("failed.by", s("stopped")),
                        ("exit.code", AttrValue::Int(i64::from(code))),
                    ],
                ))
            } else {
                // A step of it that failed after its cause did.
                steps
                    .iter()
                    .find(|st| st.service == w.service && !st.passed && st.ended_ms >= w.since_ms)
                    .map(|st| {
                        let mut attrs = vec![("failed.by", s("step")), ("step.name", s(&st.name))];
                        if let Some(c) = st.exit_code {
                            attrs.push(("exit.code", AttrValue::Int(c)));
                        }
                        (st.ended_ms, attrs)
                    })
            };
            if let Some((at_ms, how)) = failed {
                let mut attrs = vec![
                    ("service", s(&w.service)),
                    ("cascade.depth", AttrValue::Int(w.depth as i64)),
                ];
                attrs.extend(how);
                composed::event(&span, "cascade.failed", &attrs);
                path.push(w.service.clone());
                depth = depth.max(w.depth);
                for d in compose::dependents(&w.service) {
                    if !path.contains(&d) && !newly.iter().any(|n: &Watch| n.service == d) {
                        newly.push(Watch {
                            service: d,
                            depth: w.depth + 1,
                            since_ms: at_ms,
                        });
                    }
                }
            } else if now.saturating_sub(w.since_ms) > cfg.observe_timeout_ms {
                composed::event(&span, "cascade.contained", &[("service", s(&w.service))]);
                contained.push(w.service);
            } else {
                still.push(w);
            }
        }
        // A service already watched keeps its first cause.
        for n in newly {
            if !still.iter().any(|w| w.service == n.service) && !contained.contains(&n.service) {
                still.push(n);
            }
        }
        watching = still;
        polled = now;
        if !watching.is_empty() {
            clock::sleep_ms(POLL_MS);
        }
    }
    span.bool("cascade.detected", depth >= 2);
    span.int("cascade.depth", depth as i64);
    span.str("cascade.path", &path.join(" -> "));
    span.str("cascade.contained", &contained.join(","));
    if depth < 2 {
        return span.fail(format!(
            "`{root}` failed but none of its dependents ({}) failed within {} ms",
            downstream.join(", "),
            cfg.observe_timeout_ms
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "cascade from {root}: {} (depth {depth}){}",
            path.join(" -> "),
            if contained.is_empty() {
                String::new()
            } else {
                format!(", contained at {}", contained.join(", "))
            }
        ),
    })
}
