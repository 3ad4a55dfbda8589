//! The `[expect.chaos]` checker: faults were really injected, every failure they caused
//! was cleaned up and recovered from, and nothing (zombie processes included) survived.
//!
//! ```toml
//! [expect.chaos]
//! cleanup_spans_match_failures = true
//! zombie_processes = "none"        # or false
//! resource_cleanup = true
//! recovery_verified = true
//! graceful_degradation = true
//! injections_observed = true
//! min_injections = 1
//! ```
//!
//! Every key is optional, but the table must give at least one; unknown keys are errors
//! with the nearest valid key. Boolean rules are checked when `true` and skipped when
//! `false`. Each rule yields one finding labelled `expect.chaos.<rule>`, in the order of
//! [`CHAOS_KEYS`]. Step spans are the spans named `clnrm.step:<name>`.
//!
//! - `cleanup_spans_match_failures`: every step span with `result` = "error" has a
//!   `clnrm.cleanup` below it (its child, or the child of the `clnrm.timeout.enforced` /
//!   `clnrm.deadline.enforced` span that ended it), or failed together with a sibling step
//!   (same parent) that has one (concurrent failures share one cleanup); conversely, every `clnrm.cleanup` whose parent is a step
//!   span hangs under a step with `result` = "error" (cleanup reacts to a failure, never
//!   to a pass). A trace with neither passes, saying there was nothing to match.
//! - `zombie_processes = false` or `"none"`: there is at least one
//!   `clnrm.cleanup.verification` span and every one has `processes.remaining` = 0; a
//!   missing count is unknown and fails. `true` (zombies allowed) is a config error:
//!   remove the key to skip the rule.
//! - `resource_cleanup`: there is at least one `clnrm.cleanup.verification` span and every
//!   one has `verification.clean` = true.
//! - `recovery_verified`: there is at least one `clnrm.cleanup` span, and every one has a
//!   direct `clnrm.recovery` child with `recovery.success` = true that starts at or after
//!   the cleanup's start.
//! - `graceful_degradation`: at least one step span has `degraded` = true (the engine sets
//!   it when a step passed while a fault hit its service, resource pressure a plugin
//!   observed included), every such step has `result` = "pass" (a missing `degraded`
//!   means false) and a span with `chaos.type` on its service (`target.service` =
//!   its `service.id`, same scenario) overlapping it in time; and every step that passed
//!   while an observed fault span on its service lay within it is degraded. No degraded
//!   step fails the rule: nothing showed the system working under a fault.
//! - `injections_observed`: there is at least one span with a `chaos.type` attribute (an
//!   injection span), and every one has `chaos.observed` = true and status OK.
//! - `min_injections = N`: there are at least `N` injection spans.
//!
//! Boolean attributes match `true` or the string `"true"`. A failure names every
//! offending span (up to 10) with `Trace::describe` and the condition it missed.

use serde_json::Value;

use super::config::{self, child, invalid, wrong_type};
use super::model::{Finding, Span, Status, Trace};
use super::rules::{self, every, finding, CLEANUP, RECOVERY, STEP_PREFIX, VERIFICATION};
use crate::config::ConfigError;

/// Keys of `[expect.chaos]`.
pub const CHAOS_KEYS: [&str; 7] = [
    "cleanup_spans_match_failures",
    "zombie_processes",
    "resource_cleanup",
    "recovery_verified",
    "graceful_degradation",
    "injections_observed",
    "min_injections",
];

/// The attribute that marks a span as an injection.
pub const CHAOS_TYPE: &str = "chaos.type";

/// A parsed `[expect.chaos]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChaosExpectation {
    pub cleanup_spans_match_failures: bool,
    /// `zombie_processes = false | "none"`: require `processes.remaining` = 0.
    pub no_zombie_processes: bool,
    pub resource_cleanup: bool,
    pub recovery_verified: bool,
    pub graceful_degradation: bool,
    pub injections_observed: bool,
    pub min_injections: Option<u64>,
}

/// Parses `[expect.chaos]`.
pub fn parse_chaos(config: &Value) -> Result<ChaosExpectation, ConfigError> {
    let path: &[String] = &[];
    let t = rules::top_table(config, "chaos", &CHAOS_KEYS)?;
    let no_zombie_processes = match t.get("zombie_processes") {
        None => false,
        Some(Value::Bool(false)) => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("none") => true,
        Some(Value::Bool(true)) => {
            return Err(invalid(
                &child(path, "zombie_processes"),
                "true would allow zombie processes, which clnrm never \
                 checks for; write false or \"none\" to require none, or remove the key"
                    .to_string(),
            ))
        }
        Some(v) => {
            return Err(wrong_type(
                &child(path, "zombie_processes"),
                "false or \"none\"",
                v,
            ))
        }
    };
    Ok(ChaosExpectation {
        cleanup_spans_match_failures: rules::flag(t, "cleanup_spans_match_failures", path)?,
        no_zombie_processes,
        resource_cleanup: rules::flag(t, "resource_cleanup", path)?,
        recovery_verified: rules::flag(t, "recovery_verified", path)?,
        graceful_degradation: rules::flag(t, "graceful_degradation", path)?,
        injections_observed: rules::flag(t, "injections_observed", path)?,
        min_injections: t
            .get("min_injections")
            .map(|v| config::count(v, &child(path, "min_injections")))
            .transpose()?,
    })
}

/// Checks `[expect.chaos]` against `trace`: one finding per rule given.
pub fn check_chaos(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let e = parse_chaos(config)?;
    let mut out = Vec::new();
    let steps = || trace.spans().iter().filter(|s| is_step(s));
    let injections = || {
        trace
            .spans()
            .iter()
            .filter(|s| s.attr(CHAOS_TYPE).is_some())
    };

    if e.cleanup_spans_match_failures {
        out.push(finding(
            "expect.chaos.cleanup_spans_match_failures".into(),
            cleanup_matches_failures(trace),
        ));
    }
    if e.no_zombie_processes {
        let (spans, if_none) = rules::verification_spans(trace);
        let verdict = every(
            trace,
            spans,
            &format!("{VERIFICATION} span(s)"),
            "report processes.remaining = 0",
            Some(if_none),
            |s| rules::zero(s, "processes.remaining"),
        );
        out.push(finding("expect.chaos.zombie_processes".into(), verdict));
    }
    if e.resource_cleanup {
        let (spans, if_none) = rules::verification_spans(trace);
        let verdict = every(
            trace,
            spans,
            &format!("{VERIFICATION} span(s)"),
            "report verification.clean = true",
            Some(if_none),
            |s| rules::must_be_true(s, "verification.clean"),
        );
        out.push(finding("expect.chaos.resource_cleanup".into(), verdict));
    }
    if e.recovery_verified {
        let verdict = every(
            trace,
            trace.named(CLEANUP),
            &format!("{CLEANUP} span(s)"),
            &format!("have a successful {RECOVERY} child starting at or after them"),
            Some(format!(
                "no {CLEANUP:?} span in the trace: nothing was cleaned up, so nothing recovered"
            )),
            |c| recovered(trace, c),
        );
        out.push(finding("expect.chaos.recovery_verified".into(), verdict));
    }
    if e.graceful_degradation {
        let faults: Vec<&Span> = injections().collect();
        let mut verdict = every(
            trace,
            steps().filter(|s| rules::is_true(s.attr("degraded"))),
            "step span(s) with degraded = true",
            "have result = \"pass\" and a fault span on their service",
            // No degraded step proves nothing: the system was never seen
            // working under a fault.
            Some("no step ran degraded (passed while a fault hit its service): nothing shows graceful degradation".into()),
            |s| {
                match s.attr("result") {
                    Some(v) if v.canonical() == "pass" => {}
                    v => {
                        return Err(format!(
                            "degraded, but {}, expected \"pass\"",
                            rules::shown("result", v)
                        ))
                    }
                }
                if faults.iter().any(|f| on_service_of(f, s) && overlaps(f, s)) {
                    Ok(())
                } else {
                    Err(format!(
                        "degraded, but no span with {CHAOS_TYPE} on its service ({}) overlaps it",
                        rules::shown("service.id", s.attr("service.id"))
                    ))
                }
            },
        );
        // Conversely: a step that passed while a fault was observed on its
        // service from start to end of the fault's span ran degraded (this
        // failure is the more telling one, so it wins).
        {
            let missed: Vec<(&Span, String)> = steps()
                .filter(|s| !failed(s) && !rules::is_true(s.attr("degraded")))
                .filter_map(|s| {
                    let f = faults.iter().find(|f| {
                        on_service_of(f, s)
                            && rules::is_true(f.attr("chaos.observed"))
                            && f.start_ns >= s.start_ns
                            && f.end_ns <= s.end_ns
                    })?;
                    Some((
                        s,
                        format!(
                            "passed while span #{} \"{}\" was observed on its service, but degraded is not true",
                            f.id, f.name
                        ),
                    ))
                })
                .collect();
            if !missed.is_empty() {
                verdict = (
                    false,
                    format!(
                        "{} step span(s) not degraded under an observed fault: {}",
                        missed.len(),
                        rules::offenders(trace, &missed)
                    ),
                );
            }
        }
        out.push(finding("expect.chaos.graceful_degradation".into(), verdict));
    }
    if e.injections_observed {
        let verdict = every(
            trace,
            injections(),
            &format!("span(s) with {CHAOS_TYPE}"),
            "were observed (chaos.observed = true, status OK)",
            Some(format!(
                "no span carries {CHAOS_TYPE}: no injection was recorded"
            )),
            |s| {
                let mut unmet = Vec::new();
                if let Err(why) = rules::must_be_true(s, "chaos.observed") {
                    unmet.push(why);
                }
                if s.status != Status::Ok {
                    let msg = s
                        .status_message
                        .as_deref()
                        .map(|m| format!(" ({m:?})"))
                        .unwrap_or_default();
                    unmet.push(format!("status is {}{msg}, expected OK", s.status));
                }
                if unmet.is_empty() {
                    Ok(())
                } else {
                    let ty = rules::shown(CHAOS_TYPE, s.attr(CHAOS_TYPE));
                    Err(format!("{ty}: {}", unmet.join(" and ")))
                }
            },
        );
        out.push(finding("expect.chaos.injections_observed".into(), verdict));
    }
    if let Some(min) = e.min_injections {
        let found: Vec<&Span> = injections().collect();
        let n = found.len() as u64;
        let listed = if found.is_empty() {
            String::new()
        } else {
            format!(" (span ids {})", super::common::ids(found.iter().copied()))
        };
        let verdict = if n >= min {
            (
                true,
                format!("{n} span(s) with {CHAOS_TYPE}, at least {min} required{listed}"),
            )
        } else {
            (
                false,
                format!("{n} span(s) with {CHAOS_TYPE}, expected at least {min}{listed}"),
            )
        };
        out.push(finding("expect.chaos.min_injections".into(), verdict));
    }
    Ok(out)
}

/// `fault` (a span with `chaos.type`) acted on `step`'s service in the same
/// scenario (both hang under the scenario's span).
fn on_service_of(fault: &Span, step: &Span) -> bool {
    fault.parent == step.parent
        && matches!((fault.attr("target.service"), step.attr("service.id")),
            (Some(a), Some(b)) if a.canonical() == b.canonical())
}

fn overlaps(a: &Span, b: &Span) -> bool {
    a.start_ns <= b.end_ns && b.start_ns <= a.end_ns
}

fn is_step(s: &Span) -> bool {
    s.name.starts_with(STEP_PREFIX)
}

fn failed(s: &Span) -> bool {
    s.attr("result").is_some_and(|v| v.canonical() == "error")
}

fn cleanup_matches_failures(trace: &Trace) -> (bool, String) {
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
            super::common::ids(failed_steps.iter().copied())
        ),
    )
}

fn recovered(trace: &Trace, cleanup: &Span) -> Result<(), String> {
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
fn fmt_ms(ns: u64) -> String {
    let s = format!("{:.3}", ns as f64 / 1_000_000.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
#[path = "chaos_tests.rs"]
mod tests;
