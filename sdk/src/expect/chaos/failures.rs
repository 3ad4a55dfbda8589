//! The `[expect.chaos]` rules about failures: leaked processes, crashes, recoveries,
//! concurrent and cascading failures, network degradation.

use super::steps::{failed, is_step};
use super::{CASCADE, CRASHES, RECOVERIES};
use crate::expect::counts::Bounds;
use crate::expect::model::{Span, Status, Trace};
use crate::expect::rules::{self, every, CLEANUP, VERIFICATION};

/// Every verification's `processes.remaining` satisfies `b` (at least one verification).
pub(super) fn processes_remaining(trace: &Trace, b: &Bounds) -> (bool, String) {
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

pub(super) fn no_crashes(trace: &Trace) -> (bool, String) {
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

pub(super) fn recovery_successful(trace: &Trace) -> (bool, String) {
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
pub(super) fn concurrent_failures_handled(trace: &Trace) -> (bool, String) {
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

pub(super) fn cascading_failures_detected(trace: &Trace) -> (bool, String) {
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
                crate::expect::common::ids(detected.iter().copied())
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
pub(super) fn network_degradation_detected(trace: &Trace) -> (bool, String) {
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
            crate::expect::common::ids(seen.iter().copied())
        ),
    )
}
