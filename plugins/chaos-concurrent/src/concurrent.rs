//! concurrent_faults and concurrent_stress: faults at the same moment,
//! through one `compose.run-all` (the host runs them concurrently and waits
//! for all). The span counts what the composed plugins observed.

use crate::composed::{self, s};
use crate::tables::{Concurrent, FaultEntry, Stress};
use clnrm_sdk::chaos::clnrm::chaos::types::AttrValue;
use clnrm_sdk::prelude::*;

/// Run `faults` at once under `span`; (observed count, plugins, failures).
fn all_at_once(
    span: &FaultSpan,
    faults: &[(&FaultEntry, Option<&str>)],
) -> (usize, Vec<String>, Vec<String>) {
    let results = composed::run_all(faults, span.0);
    let mut plugins: Vec<String> = Vec::new();
    let mut failures = Vec::new();
    let mut observed = 0;
    for ((f, t), r) in faults.iter().zip(&results) {
        let what = format!(
            "{}{}",
            f.fault_type(),
            t.map(|t| format!(" on {t}")).unwrap_or_default()
        );
        if let Ok(c) = r {
            if !plugins.contains(&c.plugin) {
                plugins.push(c.plugin.clone());
            }
        }
        match composed::failure(&what, r) {
            None => observed += 1,
            Some(why) => failures.push(why),
        }
        composed::event(
            span,
            "fault.done",
            &[
                ("fault", s(f.fault_type())),
                ("target", s(t.unwrap_or(""))),
                (
                    "observed",
                    AttrValue::Boolean(matches!(r, Ok(c) if c.observed)),
                ),
            ],
        );
    }
    plugins.sort();
    (observed, plugins, failures)
}

pub fn faults(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Concurrent = injection_config(inj)?;
    let span = composed::span("clnrm.chaos.concurrent", inj.parent, "concurrent_faults");
    let types: Vec<&str> = cfg.faults.iter().map(|f| f.fault_type()).collect();
    span.bool("concurrent", true);
    span.str("chaos.types", &types.join(","));
    span.int("chaos.count", cfg.faults.len() as i64);
    span.int("delay_ms", cfg.delay_ms as i64);
    clock::sleep_ms(cfg.delay_ms);
    let list: Vec<(&FaultEntry, Option<&str>)> = cfg.faults.iter().map(|f| (f, None)).collect();
    let (observed, plugins, failures) = all_at_once(&span, &list);
    span.int("chaos.observed_count", observed as i64);
    span.str("chaos.plugins", &plugins.join(","));
    if !failures.is_empty() {
        return span.fail(format!(
            "{} of {} concurrent faults failed: {}",
            failures.len(),
            cfg.faults.len(),
            failures.join("; ")
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "{} faults at once ({}) through {}, all observed",
            cfg.faults.len(),
            types.join(", "),
            plugins.join(", ")
        ),
    })
}

pub fn stress(inj: &Injection) -> Result<Outcome, String> {
    let cfg: Stress = injection_config(inj)?;
    let targets = composed::targets(&cfg.targets, inj)?;
    let span = composed::span("clnrm.stress.concurrent", inj.parent, "concurrent_stress");
    span.str("stress.fault", cfg.fault.fault_type());
    span.int("containers.concurrent", targets.len() as i64);
    span.str("stress.targets", &targets.join(","));
    span.int("delay_ms", cfg.delay_ms as i64);
    clock::sleep_ms(cfg.delay_ms);
    for t in &targets {
        require_running(&span, t)?;
    }
    let list: Vec<(&FaultEntry, Option<&str>)> = targets
        .iter()
        .map(|t| (&cfg.fault, Some(t.as_str())))
        .collect();
    let (observed, _, failures) = all_at_once(&span, &list);
    span.int("failures.total", observed as i64);
    if !failures.is_empty() {
        return span.fail(format!(
            "{} of {} containers not failed: {}",
            failures.len(),
            targets.len(),
            failures.join("; ")
        ));
    }
    span.observed();
    Ok(Outcome {
        observed: true,
        summary: format!(
            "{} on {} containers at once, {observed} failures observed",
            cfg.fault.fault_type(),
            targets.len()
        ),
    })
}
