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
//! - `resource_cleanup` (`true`, or `"complete"` as the original clnrm files write it):
//!   there is at least one `clnrm.cleanup.verification` span and every one has
//!   `verification.clean` = true.
//! - `recovery_verified`: there is at least one `clnrm.cleanup` span, and every one has a
//!   direct `clnrm.recovery` child with `recovery.success` = true that starts at or after
//!   the cleanup's start.
//! - `graceful_degradation`: at least one step span has `degraded` = true (the engine sets
//!   it when a step passed while a fault hit its service, resource pressure a plugin
//!   observed included), every such step has `result` = "pass" (a missing `degraded`
//!   means false) and a span with `chaos.type` on its service (`target.service` =
//!   its `service.id`, same scenario) overlapping it in time, or a child span with
//!   `pressure.source` = "limits" and `pressure.level` = "high" (its service's static
//!   limits, observed by the engine); and every step that passed while an observed fault
//!   span on its service lay within it, or with such a child, is degraded. No degraded
//!   step fails the rule: nothing showed the system working under a fault.
//! - `injections_observed`: there is at least one span with a `chaos.type` attribute (an
//!   injection span), and every one has `chaos.observed` = true and status OK.
//! - `min_injections = N`: there are at least `N` injection spans.
//!
//! Boolean attributes match `true` or the string `"true"`. A failure names every
//! offending span (up to 10) with `Trace::describe` and the condition it missed.

use serde_json::Value;

use cleanup::{cleanup_matches_failures, recovered};
use failures::{
    cascading_failures_detected, concurrent_failures_handled, network_degradation_detected,
    no_crashes, processes_remaining, recovery_successful,
};
use steps::{failed, is_step, on_service_of, overlaps};

use crate::config::ConfigError;
use crate::expect::config::{self, child, invalid, wrong_type};
use crate::expect::counts::{bounds, Bounds};
use crate::expect::model::{Finding, Span, Status, Trace};
use crate::expect::rules::{self, every, finding, CLEANUP, RECOVERY, VERIFICATION};
use crate::expect::timeouts::{self, TimeoutsExpectation};

/// Keys of `[expect.chaos]`.
pub const CHAOS_KEYS: [&str; 18] = [
    "cleanup_spans_match_failures",
    "zombie_processes",
    "resource_cleanup",
    "recovery_verified",
    "graceful_degradation",
    "injections_observed",
    "min_injections",
    "no_crashes",
    "recovery_successful",
    "concurrent_failures_handled",
    "cascading_failures_detected",
    "no_zombie_processes",
    "network_degradation_detected",
    "timeout_enforcement_verified",
    "cleanup_after_timeout",
    "enforcement_tolerance_ms",
    "cleanup_max_duration_ms",
    "max_timeout_duration_ms",
];

/// Step `error.type`s that mean the step's container died under it.
pub const CRASHES: [&str; 2] = ["container_killed", "oom_killed"];
/// Spans that report a recovery, each with the attributes that say it succeeded.
pub const RECOVERIES: [(&str, &[&str]); 4] = [
    ("clnrm.recovery", &["recovery.success"]),
    ("clnrm.network.recovery", &["recovery.success"]),
    ("clnrm.resource.recovery", &["recovery.success"]),
    (
        "clnrm.recovery.success",
        &["recovery.complete", "system.stable"],
    ),
];
/// The span a cascade of failures is reported with (issue 11).
pub const CASCADE: &str = "clnrm.failure.cascade";

/// The attribute that marks a span as an injection.
pub const CHAOS_TYPE: &str = "chaos.type";

/// A parsed `[expect.chaos]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChaosExpectation {
    pub cleanup_spans_match_failures: bool,
    /// `zombie_processes = false | "none" | <count bounds>`: the bounds every
    /// verification's `processes.remaining` must satisfy (`false`/`"none"`: `eq 0`).
    pub zombie_processes: Option<Bounds>,
    pub resource_cleanup: bool,
    pub recovery_verified: bool,
    pub graceful_degradation: bool,
    pub injections_observed: bool,
    pub min_injections: Option<u64>,
    pub no_crashes: bool,
    pub recovery_successful: bool,
    pub concurrent_failures_handled: bool,
    pub cascading_failures_detected: bool,
    /// `no_zombie_processes = true`: `processes.remaining` = 0 on every verification.
    pub no_zombie_processes: bool,
    pub network_degradation_detected: bool,
    pub timeout_enforcement_verified: bool,
    pub cleanup_after_timeout: bool,
    /// `enforcement_tolerance_ms`, `cleanup_max_duration_ms`, `max_timeout_duration_ms`:
    /// the rules of `[expect.timeouts]`, findings labelled `expect.chaos.<key>`.
    pub timeouts: TimeoutsExpectation,
}

/// Parses `[expect.chaos]`.
pub fn parse_chaos(config: &Value) -> Result<ChaosExpectation, ConfigError> {
    let path: &[String] = &[];
    let t = rules::top_table(config, "chaos", &CHAOS_KEYS)?;
    let zombie_processes = match t.get("zombie_processes") {
        None => None,
        Some(Value::Bool(false)) => Some(Bounds {
            eq: Some(0),
            ..Bounds::default()
        }),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("none") => Some(Bounds {
            eq: Some(0),
            ..Bounds::default()
        }),
        Some(Value::Bool(true)) => {
            return Err(invalid(
                &child(path, "zombie_processes"),
                "true would allow zombie processes, which clnrm never \
                 checks for; write false, \"none\" or a count such as { eq = 0 } to require none, or remove the key"
                    .to_string(),
            ))
        }
        Some(v @ Value::Object(_)) => Some(bounds(v, &child(path, "zombie_processes"))?),
        Some(v) => {
            return Err(wrong_type(
                &child(path, "zombie_processes"),
                "false, \"none\" or a count table such as { eq = 0 }",
                v,
            ))
        }
    };
    Ok(ChaosExpectation {
        cleanup_spans_match_failures: rules::flag(t, "cleanup_spans_match_failures", path)?,
        zombie_processes,
        resource_cleanup: match t.get("resource_cleanup") {
            // The original clnrm files write `resource_cleanup = "complete"`.
            Some(Value::String(s)) if s == "complete" => true,
            Some(Value::String(_)) => {
                return Err(wrong_type(
                    &child(path, "resource_cleanup"),
                    "true, false or \"complete\"",
                    &t["resource_cleanup"],
                ))
            }
            _ => rules::flag(t, "resource_cleanup", path)?,
        },
        recovery_verified: rules::flag(t, "recovery_verified", path)?,
        graceful_degradation: rules::flag(t, "graceful_degradation", path)?,
        injections_observed: rules::flag(t, "injections_observed", path)?,
        min_injections: t
            .get("min_injections")
            .map(|v| config::count(v, &child(path, "min_injections")))
            .transpose()?,
        no_crashes: rules::flag(t, "no_crashes", path)?,
        recovery_successful: rules::flag(t, "recovery_successful", path)?,
        concurrent_failures_handled: rules::flag(t, "concurrent_failures_handled", path)?,
        cascading_failures_detected: rules::flag(t, "cascading_failures_detected", path)?,
        no_zombie_processes: rules::flag(t, "no_zombie_processes", path)?,
        network_degradation_detected: rules::flag(t, "network_degradation_detected", path)?,
        timeout_enforcement_verified: rules::flag(t, "timeout_enforcement_verified", path)?,
        cleanup_after_timeout: rules::flag(t, "cleanup_after_timeout", path)?,
        timeouts: TimeoutsExpectation::from_table(t, path)?,
    })
}

/// Checks `[expect.chaos]` against `trace`: one finding per rule given.
///
/// Only clnrm's own spans are read (see [`Trace::clnrm_only`]): an application span named
/// like a fault, a recovery or a cleanup cannot satisfy or fail these checks.
pub fn check_chaos(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let own = trace.clnrm_only();
    check_chaos_own(config, &own)
}

fn check_chaos_own(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
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
    if let Some(b) = &e.zombie_processes {
        out.push(finding(
            "expect.chaos.zombie_processes".into(),
            processes_remaining(trace, b),
        ));
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
        // Faults by parent: `on_service_of` needs the same parent, so each step only
        // looks at its siblings (linear in the trace, not steps x faults).
        let mut faults: std::collections::HashMap<Option<u32>, Vec<&Span>> =
            std::collections::HashMap::new();
        for f in injections() {
            faults.entry(f.parent).or_default().push(f);
        }
        let siblings = |s: &Span| faults.get(&s.parent).into_iter().flatten();
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
                if siblings(s).any(|f| on_service_of(f, s) && overlaps(f, s))
                    || limits_high(trace, s).is_some()
                {
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
                    let f = siblings(s)
                        .find(|f| {
                            on_service_of(f, s)
                                && rules::is_true(f.attr("chaos.observed"))
                                && f.start_ns >= s.start_ns
                                && f.end_ns <= s.end_ns
                        })
                        .copied()
                        .or_else(|| limits_high(trace, s))?;
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
    if e.no_crashes {
        out.push(finding("expect.chaos.no_crashes".into(), no_crashes(trace)));
    }
    if e.recovery_successful {
        out.push(finding(
            "expect.chaos.recovery_successful".into(),
            recovery_successful(trace),
        ));
    }
    if e.concurrent_failures_handled {
        out.push(finding(
            "expect.chaos.concurrent_failures_handled".into(),
            concurrent_failures_handled(trace),
        ));
    }
    if e.cascading_failures_detected {
        out.push(finding(
            "expect.chaos.cascading_failures_detected".into(),
            cascading_failures_detected(trace),
        ));
    }
    if e.no_zombie_processes {
        let zero = Bounds {
            eq: Some(0),
            ..Bounds::default()
        };
        out.push(finding(
            "expect.chaos.no_zombie_processes".into(),
            processes_remaining(trace, &zero),
        ));
    }
    if e.network_degradation_detected {
        out.push(finding(
            "expect.chaos.network_degradation_detected".into(),
            network_degradation_detected(trace),
        ));
    }
    if e.timeout_enforcement_verified {
        out.push(finding(
            "expect.chaos.timeout_enforcement_verified".into(),
            timeouts::enforcement_verified(trace),
        ));
    }
    if e.cleanup_after_timeout {
        out.push(finding(
            "expect.chaos.cleanup_after_timeout".into(),
            timeouts::cleanup_after_timeout(trace),
        ));
    }
    out.extend(e.timeouts.check("expect.chaos", trace));
    Ok(out)
}

mod cleanup;
mod failures;
mod steps;

#[cfg(test)]
mod tests;

/// A child of `step` that observed its service's static limits at `high`
/// pressure (the engine's `pressure.source = "limits"` spans).
fn limits_high<'a>(trace: &'a Trace, step: &Span) -> Option<&'a Span> {
    trace.children(step.id).find(|c| {
        c.attr("pressure.source").map(|v| v.canonical()).as_deref() == Some("limits")
            && c.attr("pressure.level").map(|v| v.canonical()).as_deref() == Some("high")
    })
}
