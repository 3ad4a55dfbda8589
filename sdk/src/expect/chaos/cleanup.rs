//! The `[expect.chaos]` rules about cleanup: every failed step was cleaned up, and
//! every cleanup recovered.

use super::steps::{failed, is_step};
use crate::expect::model::{Span, Trace};
use crate::expect::rules::{self, CLEANUP, RECOVERY};

pub(super) fn cleanup_matches_failures(trace: &Trace) -> (bool, String) {
    let failed_steps: Vec<&Span> = trace
        .spans()
        .iter()
        .filter(|s| is_step(s) && failed(s))
        .collect();
    // A cleanup reacts to a failed step as its child, or as the child of
    // the timeout/deadline enforcement that ended it.
    let cleanup_below = |step: &Span| {
        trace.children(step.id).any(|c| {
            c.name == CLEANUP
                || (c.name.ends_with(".enforced")
                    && trace.children(c.id).any(|g| g.name == CLEANUP))
        })
    };
    let mut bad: Vec<(&Span, String)> = Vec::new();
    for step in &failed_steps {
        // Steps that failed together (one scenario, e.g. `run = [...]` at
        // once) share the one cleanup under the first of them.
        let shared = || {
            failed_steps
                .iter()
                .any(|o| o.parent == step.parent && cleanup_below(o))
        };
        if !cleanup_below(step) && !shared() {
            bad.push((step, format!("result = \"error\" but no {CLEANUP} below it or below a step that failed with it")));
        }
    }
    let mut under_steps = 0;
    for c in trace.named(CLEANUP) {
        match trace.parent(c) {
            Some(p) if is_step(p) => {
                under_steps += 1;
                if !failed(p) {
                    bad.push((
                        c,
                        format!(
                            "cleanup under a step that did not fail ({})",
                            rules::shown("result", p.attr("result"))
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    if !bad.is_empty() {
        return (
            false,
            format!(
                "{} mismatch(es) between failed steps and cleanups: {}",
                bad.len(),
                rules::offenders(trace, &bad)
            ),
        );
    }
    if failed_steps.is_empty() && under_steps == 0 {
        return (
            true,
            format!("no step failed and no {CLEANUP} hangs under a step; nothing to match"),
        );
    }
    (
        true,
        format!(
            "{} failed step span(s) each have a {CLEANUP} child (span ids {})",
            failed_steps.len(),
            crate::expect::common::ids(failed_steps.iter().copied())
        ),
    )
}

pub(super) fn recovered(trace: &Trace, cleanup: &Span) -> Result<(), String> {
    let recoveries: Vec<&Span> = trace
        .children(cleanup.id)
        .filter(|c| c.name == RECOVERY)
        .collect();
    if recoveries.is_empty() {
        return Err(format!("no {RECOVERY} child"));
    }
    let mut reasons = Vec::new();
    for r in &recoveries {
        let mut unmet = Vec::new();
        if let Err(why) = rules::must_be_true(r, "recovery.success") {
            unmet.push(why);
        }
        if r.start_ns < cleanup.start_ns {
            unmet.push(format!(
                "starts {} ms before the cleanup",
                fmt_ms(cleanup.start_ns - r.start_ns)
            ));
        }
        if unmet.is_empty() {
            return Ok(());
        }
        reasons.push(format!(
            "its recovery {} has {}",
            trace.describe(r),
            unmet.join(" and ")
        ));
    }
    Err(reasons.join("; "))
}

/// Nanoseconds as milliseconds with at most 3 decimals, trailing zeros dropped.
pub(super) fn fmt_ms(ns: u64) -> String {
    let s = format!("{:.3}", ns as f64 / 1_000_000.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
