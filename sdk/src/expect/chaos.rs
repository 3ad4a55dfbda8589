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
use super::counts::{bounds, Bounds};
use super::model::{Finding, Span, Status, Trace};
use super::rules::{self, every, finding, CLEANUP, RECOVERY, STEP_PREFIX, VERIFICATION};
use super::timeouts::{self, TimeoutsExpectation};
use crate::config::ConfigError;

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
                if siblings(s).any(|f| on_service_of(f, s) && overlaps(f, s)) {
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
                    let f = siblings(s).find(|f| {
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

/// Every verification's `processes.remaining` satisfies `b` (at least one verification).
fn processes_remaining(trace: &Trace, b: &Bounds) -> (bool, String) {
    // `eq N` alone reads as "= N" / "expected N", as it always has.
    let only_eq = Bounds {
        eq: b.eq,
        ..Bounds::default()
    } == *b;
    let (holds, expected) = match b.eq {
        Some(n) if only_eq => (format!("= {n}"), n.to_string()),
        _ => (b.describe(), b.describe()),
    };
    let (spans, if_none) = rules::verification_spans(trace);
    every(
        trace,
        spans,
        &format!("{VERIFICATION} span(s)"),
        &format!("report processes.remaining {holds}"),
        Some(if_none),
        |s| match s.attr("processes.remaining").and_then(|v| v.as_f64()) {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && b.holds(n as u64) => Ok(()),
            Some(_) => Err(format!(
                "{}, expected {expected}",
                rules::shown("processes.remaining", s.attr("processes.remaining")),
            )),
            None => Err(format!(
                "{} (unknown counts as a leak), expected {expected}",
                rules::shown("processes.remaining", s.attr("processes.remaining")),
            )),
        },
    )
}

fn no_crashes(trace: &Trace) -> (bool, String) {
    every(
        trace,
        trace.spans().iter().filter(|s| is_step(s)),
        "step span(s)",
        "ran without their container dying (no error.type container_killed or oom_killed)",
        Some("no step span in the trace: nothing ran, so nothing shows it survived".into()),
        |s| match s.attr("error.type").map(|v| v.canonical()) {
            Some(t) if CRASHES.contains(&t.as_str()) => {
                Err(format!("its container died: error.type = {t:?}"))
            }
            _ => Ok(()),
        },
    )
}

fn recovery_successful(trace: &Trace) -> (bool, String) {
    let spans = trace
        .spans()
        .iter()
        .filter(|s| RECOVERIES.iter().any(|(n, _)| *n == s.name));
    every(
        trace,
        spans,
        "recovery span(s)",
        "succeeded",
        Some(format!(
            "no recovery span ({}) in the trace: nothing recovered",
            RECOVERIES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        |s| {
            let keys = RECOVERIES
                .iter()
                .find(|(n, _)| *n == s.name)
                .map(|(_, k)| *k)
                .unwrap_or(&[]);
            let mut unmet: Vec<String> = keys
                .iter()
                .filter_map(|k| rules::must_be_true(s, k).err())
                .collect();
            if s.status == Status::Error {
                unmet.push("status is ERROR".into());
            }
            if unmet.is_empty() {
                Ok(())
            } else {
                Err(unmet.join("; "))
            }
        },
    )
}

/// Scenarios where two or more steps failed at overlapping times were each cleaned up
/// (every `clnrm.cleanup` of the scenario OK with `cleanup.success = true`) and verified
/// clean.
fn concurrent_failures_handled(trace: &Trace) -> (bool, String) {
    let failed_steps: Vec<&Span> = trace
        .spans()
        .iter()
        .filter(|s| is_step(s) && failed(s))
        .collect();
    let scenarios: Vec<&Span> = trace
        .named(rules::SCENARIO)
        .filter(|sc| {
            let mine: Vec<&&Span> = failed_steps
                .iter()
                .filter(|s| s.parent == Some(sc.id))
                .collect();
            mine.iter().enumerate().any(|(i, a)| {
                mine.iter()
                    .skip(i + 1)
                    .any(|b| a.start_ns < b.end_ns && b.start_ns < a.end_ns)
            })
        })
        .collect();
    every(
        trace,
        scenarios,
        "scenario(s) with concurrent step failures",
        "were cleaned up and verified clean",
        Some("no scenario had two or more steps failing at the same time: no concurrent failure to handle".into()),
        |sc| {
            let cleanups: Vec<&Span> = trace
                .named(CLEANUP)
                .filter(|c| {
                    rules::nearest_ancestor_named(trace, c, rules::SCENARIO).map(|s| s.id)
                        == Some(sc.id)
                })
                .collect();
            if cleanups.is_empty() {
                return Err(format!("no {CLEANUP} in it{}", rules::scenario_of(sc)));
            }
            let mut unmet = Vec::new();
            for c in &cleanups {
                if c.status != Status::Ok || !rules::is_true(c.attr("cleanup.success")) {
                    unmet.push(format!(
                        "cleanup #{} has status {} and {}",
                        c.id,
                        c.status,
                        rules::shown("cleanup.success", c.attr("cleanup.success"))
                    ));
                }
                for v in trace.children(c.id).filter(|v| v.name == VERIFICATION) {
                    if let Err(why) = rules::must_be_true(v, "verification.clean") {
                        unmet.push(format!("verification #{}: {why}", v.id));
                    }
                }
            }
            if unmet.is_empty() {
                Ok(())
            } else {
                Err(format!("{}{}", unmet.join("; "), rules::scenario_of(sc)))
            }
        },
    )
}

fn cascading_failures_detected(trace: &Trace) -> (bool, String) {
    let cascades: Vec<&Span> = trace.named(CASCADE).collect();
    let detected: Vec<&Span> = cascades
        .iter()
        .copied()
        .filter(|s| {
            rules::is_true(s.attr("cascade.detected"))
                && s.attr("cascade.depth")
                    .and_then(|v| v.as_f64())
                    .is_some_and(|d| d >= 2.0)
        })
        .collect();
    if !detected.is_empty() {
        return (
            true,
            format!(
                "{} {CASCADE} span(s) with cascade.detected = true and cascade.depth >= 2 (span ids {})",
                detected.len(),
                super::common::ids(detected.iter().copied())
            ),
        );
    }
    if cascades.is_empty() {
        return (
            false,
            format!("no {CASCADE:?} span in the trace: no cascade was detected"),
        );
    }
    let why: Vec<(&Span, String)> = cascades
        .iter()
        .map(|s| {
            (
                *s,
                format!(
                    "{} and {}, expected true and >= 2",
                    rules::shown("cascade.detected", s.attr("cascade.detected")),
                    rules::shown("cascade.depth", s.attr("cascade.depth"))
                ),
            )
        })
        .collect();
    (
        false,
        format!(
            "no {CASCADE} span shows a cascade of depth >= 2: {}",
            rules::offenders(trace, &why)
        ),
    )
}

/// At least one network fault span says the network was seen degraded.
fn network_degradation_detected(trace: &Trace) -> (bool, String) {
    let seen: Vec<&Span> = trace
        .spans()
        .iter()
        .filter(|s| {
            rules::is_true(s.attr("network.degraded"))
                || rules::is_true(s.attr("partition.detected"))
        })
        .collect();
    if seen.is_empty() {
        let tried = trace
            .spans()
            .iter()
            .filter(|s| s.name.starts_with("clnrm.network."))
            .count();
        return (
            false,
            format!("no span has network.degraded = true or partition.detected = true ({tried} clnrm.network.* span(s) in the trace): no network degradation was observed"),
        );
    }
    (
        true,
        format!(
            "{} span(s) observed the network degraded (span ids {})",
            seen.len(),
            super::common::ids(seen.iter().copied())
        ),
    )
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
