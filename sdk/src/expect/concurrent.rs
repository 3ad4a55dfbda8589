//! The `[expect.concurrent]` checker: many things failing at once were still cleaned up,
//! nothing hung, and the system answered afterwards.
//!
//! ```toml
//! [expect.concurrent]
//! cleanup_complete = true          # every parallel cleanup removed everything
//! no_deadlocks = true              # nothing hung until a safety bound
//! system_responsive = true         # the system was seen answering after the chaos
//! max_concurrent = { gte = 5 }     # at peak, this many steps ran at once
//! ```
//!
//! The table must give at least one key; each gives one finding `expect.concurrent.<key>`.
//! Boolean rules run when `true` and are skipped when `false`.
//!
//! - `cleanup_complete`: there is at least one `clnrm.cleanup.concurrent` span (the engine
//!   emits it when it removes more than one container at once), and each is OK with
//!   `cleanup.parallel = true`, and every `clnrm.cleanup.verification` under the same
//!   `clnrm.cleanup` reports `containers.remaining = 0` and `processes.remaining = 0`.
//! - `no_deadlocks`: at least one step ran, no `clnrm.timeout.enforced` has
//!   `timeout.source = "max_duration_seconds"` (a step that ran until the scenario's safety
//!   bound rather than a bound it was given), and no span ended with a status message
//!   saying a plugin did not finish within its deadline.
//! - `system_responsive`: there is at least one span showing the system answering after
//!   the chaos, and every one does: `clnrm.recovery.success` with `recovery.complete = true`
//!   and `system.stable = true`, or `clnrm.resource.recovery` with
//!   `recovery.check = "probe"` and `recovery.success = true` (the scenario's
//!   `recovery_probe` exited 0).
//! - `max_concurrent = <count or { eq, gte, lte, gt, lt }>`: the most step spans
//!   (`clnrm.step:*`) that ran at the same time, anywhere in the trace, satisfies the
//!   bounds. Steps of `run = [...]` run at once; sequential steps count 1.

use serde_json::Value;

use super::config::child;
use super::counts::{bounds, Bounds};
use super::model::{Finding, Span, Status, Trace};
use super::rules::{self, every, finding, STEP_PREFIX, VERIFICATION};
use crate::config::ConfigError;

/// Keys of `[expect.concurrent]`.
pub const CONCURRENT_KEYS: [&str; 4] = [
    "cleanup_complete",
    "no_deadlocks",
    "system_responsive",
    "max_concurrent",
];

/// The engine's span around a parallel removal.
pub const CLEANUP_CONCURRENT: &str = "clnrm.cleanup.concurrent";
/// A span that says the system recovered and is stable (issue 11's concurrent chaos).
pub const RECOVERY_SUCCESS: &str = "clnrm.recovery.success";

/// A parsed `[expect.concurrent]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConcurrentExpectation {
    pub cleanup_complete: bool,
    pub no_deadlocks: bool,
    pub system_responsive: bool,
    pub max_concurrent: Option<Bounds>,
}

/// Parses `[expect.concurrent]`.
pub fn parse_concurrent(config: &Value) -> Result<ConcurrentExpectation, ConfigError> {
    let path: &[String] = &[];
    let t = rules::top_table(config, "concurrent", &CONCURRENT_KEYS)?;
    Ok(ConcurrentExpectation {
        cleanup_complete: rules::flag(t, "cleanup_complete", path)?,
        no_deadlocks: rules::flag(t, "no_deadlocks", path)?,
        system_responsive: rules::flag(t, "system_responsive", path)?,
        max_concurrent: t
            .get("max_concurrent")
            .map(|v| bounds(v, &child(path, "max_concurrent")))
            .transpose()?,
    })
}

/// Checks `[expect.concurrent]` against `trace`.
pub fn check_concurrent(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let e = parse_concurrent(config)?;
    let mut out = Vec::new();
    if e.cleanup_complete {
        let verdict = every(
            trace,
            trace.named(CLEANUP_CONCURRENT),
            &format!("{CLEANUP_CONCURRENT} span(s)"),
            "removed everything (OK, cleanup.parallel = true, nothing remaining)",
            Some(format!(
                "no {CLEANUP_CONCURRENT:?} span in the trace: no scenario removed several containers at once"
            )),
            |c| complete(trace, c),
        );
        out.push(finding(
            "expect.concurrent.cleanup_complete".into(),
            verdict,
        ));
    }
    if e.no_deadlocks {
        out.push(finding(
            "expect.concurrent.no_deadlocks".into(),
            no_deadlocks(trace),
        ));
    }
    if e.system_responsive {
        let answering = trace.spans().iter().filter(|s| {
            s.name == RECOVERY_SUCCESS
                || (s.name == super::resources::RESOURCE_RECOVERY
                    && s.attr("recovery.check")
                        .is_some_and(|v| v.canonical() == "probe"))
        });
        let verdict = every(
            trace,
            answering,
            &format!("{RECOVERY_SUCCESS} / probe span(s)"),
            "show the system answering",
            Some(format!(
                "no {RECOVERY_SUCCESS:?} span and no recovery probe (clnrm.resource.recovery with recovery.check = \"probe\"): nothing shows the system answering after the chaos"
            )),
            |s| {
                if s.name == RECOVERY_SUCCESS {
                    let mut unmet = Vec::new();
                    for k in ["recovery.complete", "system.stable"] {
                        if let Err(why) = rules::must_be_true(s, k) {
                            unmet.push(why);
                        }
                    }
                    if unmet.is_empty() {
                        Ok(())
                    } else {
                        Err(unmet.join("; "))
                    }
                } else {
                    rules::must_be_true(s, "recovery.success")
                }
            },
        );
        out.push(finding(
            "expect.concurrent.system_responsive".into(),
            verdict,
        ));
    }
    if let Some(b) = &e.max_concurrent {
        let (peak, at) = peak_steps(trace);
        let shown = match at {
            Some(names) => format!("at most {peak} step(s) ran at once ({})", names.join(", ")),
            None => "no step ran".to_string(),
        };
        let verdict = if b.holds(peak) {
            (true, format!("{shown}; {} holds", b.describe()))
        } else {
            (false, format!("{shown}; expected {}", b.describe()))
        };
        out.push(finding("expect.concurrent.max_concurrent".into(), verdict));
    }
    Ok(out)
}

fn complete(trace: &Trace, c: &Span) -> Result<(), String> {
    let mut unmet = Vec::new();
    if c.status != Status::Ok {
        unmet.push(format!("status is {}, expected OK", c.status));
    }
    if let Err(why) = rules::must_be_true(c, "cleanup.parallel") {
        unmet.push(why);
    }
    match c.parent {
        Some(p) => {
            let verifications: Vec<&Span> = trace
                .children(p)
                .filter(|s| s.name == VERIFICATION)
                .collect();
            if verifications.is_empty() {
                unmet.push(format!("its cleanup has no {VERIFICATION}"));
            }
            for v in verifications {
                for k in ["containers.remaining", "processes.remaining"] {
                    if let Err(why) = rules::zero(v, k) {
                        unmet.push(format!("verification #{}: {why}", v.id));
                    }
                }
            }
        }
        None => unmet.push("it has no parent cleanup".into()),
    }
    if unmet.is_empty() {
        Ok(())
    } else {
        Err(unmet.join("; "))
    }
}

fn no_deadlocks(trace: &Trace) -> (bool, String) {
    let steps = trace
        .spans()
        .iter()
        .filter(|s| s.name.starts_with(STEP_PREFIX))
        .count();
    if steps == 0 {
        return (
            false,
            "no step ran: nothing shows the run made progress".into(),
        );
    }
    let hung: Vec<(&Span, String)> = trace
        .spans()
        .iter()
        .filter_map(|s| {
            if s.name == "clnrm.timeout.enforced"
                && s.attr("timeout.source")
                    .is_some_and(|v| v.canonical() == "max_duration_seconds")
            {
                return Some((
                    s,
                    "a step ran until [limits] max_duration_seconds, the safety bound".to_string(),
                ));
            }
            let msg = s.status_message.as_deref()?;
            msg.contains("did not finish within its deadline")
                .then(|| (s, format!("ended with {msg:?}")))
        })
        .collect();
    if hung.is_empty() {
        (
            true,
            format!("{steps} step span(s); none ran until a safety bound and no plugin hit its deadline"),
        )
    } else {
        (
            false,
            format!(
                "{} span(s) show something hanging: {}",
                hung.len(),
                rules::offenders(trace, &hung)
            ),
        )
    }
}

/// The most step spans open at one instant, and their names (None: no step at all).
fn peak_steps(trace: &Trace) -> (u64, Option<Vec<String>>) {
    let steps: Vec<&Span> = trace
        .spans()
        .iter()
        .filter(|s| s.name.starts_with(STEP_PREFIX))
        .collect();
    if steps.is_empty() {
        return (0, None);
    }
    // Sweep: at each step's start, count the steps open then (start <= t < end).
    let mut best: Vec<&Span> = Vec::new();
    for s in &steps {
        let t = s.start_ns;
        let open: Vec<&Span> = steps
            .iter()
            .copied()
            .filter(|o| o.start_ns <= t && (t < o.end_ns || o.id == s.id))
            .collect();
        if open.len() > best.len() {
            best = open;
        }
    }
    let names = best.iter().map(|s| format!("{:?}", s.name)).collect();
    (best.len() as u64, Some(names))
}

#[cfg(test)]
#[path = "concurrent_tests.rs"]
mod tests;
