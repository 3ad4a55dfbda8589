//! The `[expect.timeouts]` checker, and the timeout rules `[expect.chaos]` shares: step
//! bounds were enforced on time, and what followed an enforcement was quick.
//!
//! ```toml
//! [expect.timeouts]
//! enforcement_tolerance_ms = 500     # each bound was enforced within 500 ms of expiring
//! cleanup_max_duration_ms = 2000     # every clnrm.cleanup took at most 2 s
//! max_timeout_duration_ms = 60000    # no timed-out step ran longer than 60 s
//! ```
//!
//! The table must give at least one key; each gives one finding `expect.timeouts.<key>`.
//! An *enforcement span* is a `clnrm.timeout.enforced` or `clnrm.deadline.enforced` span
//! (docs/spans.md); its *bound* is its `timeout.ms`, or `deadline.left_ms` on a deadline
//! (what was left of the deadline when the step started); its *step* is its parent.
//!
//! - `enforcement_tolerance_ms = N`: there is at least one enforcement span, and each one
//!   started between bound − N and bound + N ms after its step started: the host acted on
//!   time, neither early nor late (how long stopping then takes, e.g. a graceful stop's
//!   grace period, is not counted).
//! - `cleanup_max_duration_ms = N`: there is at least one `clnrm.cleanup`, and each lasted
//!   at most N ms.
//! - `max_timeout_duration_ms = N`: there is at least one step that timed out
//!   (`error.type = timeout`), and each lasted at most N ms: nothing hung past its bound.
//!
//! Shared with `[expect.chaos]`: `timeout_enforcement_verified` (every enforcement span is
//! OK with `timeout.observed = true` under a step with `error.type = timeout`) and
//! `cleanup_after_timeout` (every enforcement span's scenario has a successful
//! `clnrm.cleanup` starting at or after it).

use serde_json::Value;

use super::config::{self, child};
use super::model::{Finding, Span, Status, Trace};
use super::rules::{self, every, finding, CLEANUP, SCENARIO};
use crate::config::ConfigError;

/// Keys of `[expect.timeouts]`.
pub const TIMEOUTS_KEYS: [&str; 3] = [
    "enforcement_tolerance_ms",
    "cleanup_max_duration_ms",
    "max_timeout_duration_ms",
];

/// The spans the engine emits when it enforces a step's bound.
pub const ENFORCEMENT: [&str; 2] = ["clnrm.timeout.enforced", "clnrm.deadline.enforced"];

/// A parsed `[expect.timeouts]` table (the same three limits in `[expect.chaos]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeoutsExpectation {
    pub enforcement_tolerance_ms: Option<u64>,
    pub cleanup_max_duration_ms: Option<u64>,
    pub max_timeout_duration_ms: Option<u64>,
}

impl TimeoutsExpectation {
    /// Reads the three keys of `t` (the caller has checked the table's keys).
    pub(crate) fn from_table(t: &config::Table, path: &[String]) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            t.get(k)
                .map(|v| config::count(v, &child(path, k)))
                .transpose()
        };
        Ok(TimeoutsExpectation {
            enforcement_tolerance_ms: get("enforcement_tolerance_ms")?,
            cleanup_max_duration_ms: get("cleanup_max_duration_ms")?,
            max_timeout_duration_ms: get("max_timeout_duration_ms")?,
        })
    }

    /// One finding per limit given, labelled `<root>.<key>`.
    pub(crate) fn check(&self, root: &str, trace: &Trace) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(n) = self.enforcement_tolerance_ms {
            out.push(finding(
                format!("{root}.enforcement_tolerance_ms"),
                enforcement_tolerance(trace, n),
            ));
        }
        if let Some(n) = self.cleanup_max_duration_ms {
            out.push(finding(
                format!("{root}.cleanup_max_duration_ms"),
                cleanup_max_duration(trace, n),
            ));
        }
        if let Some(n) = self.max_timeout_duration_ms {
            out.push(finding(
                format!("{root}.max_timeout_duration_ms"),
                max_timeout_duration(trace, n),
            ));
        }
        out
    }
}

/// Parses `[expect.timeouts]`.
pub fn parse_timeouts(config: &Value) -> Result<TimeoutsExpectation, ConfigError> {
    let t = rules::top_table(config, "timeouts", &TIMEOUTS_KEYS)?;
    TimeoutsExpectation::from_table(t, &[])
}

/// Checks `[expect.timeouts]` against `trace`.
pub fn check_timeouts(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    Ok(parse_timeouts(config)?.check("expect.timeouts", trace))
}

fn enforcements(trace: &Trace) -> impl Iterator<Item = &Span> + '_ {
    trace
        .spans()
        .iter()
        .filter(|s| ENFORCEMENT.contains(&s.name.as_str()))
}

fn no_enforcement() -> Option<String> {
    Some(format!(
        "no {} or {} span in the trace: no step bound was enforced",
        ENFORCEMENT[0], ENFORCEMENT[1]
    ))
}

/// The bound an enforcement span enforced, in ms.
fn bound_ms(enf: &Span) -> Option<f64> {
    enf.attr("timeout.ms")
        .or_else(|| enf.attr("deadline.left_ms"))
        .and_then(|v| v.as_f64())
}

pub(crate) fn enforcement_tolerance(trace: &Trace, tolerance: u64) -> (bool, String) {
    every(
        trace,
        enforcements(trace),
        "enforcement span(s)",
        &format!("acted within {tolerance} ms of their step's bound"),
        no_enforcement(),
        |enf| {
            let bound = bound_ms(enf).ok_or("no timeout.ms or deadline.left_ms".to_string())?;
            let step = trace
                .parent(enf)
                .ok_or("its step is not in the trace".to_string())?;
            // When the host acted, from the step's start (stopping the container
            // takes what it takes: a graceful stop waits for the process).
            let acted = enf.start_ns.saturating_sub(step.start_ns) as f64 / 1_000_000.0;
            let off = (acted - bound).abs();
            if off <= tolerance as f64 {
                Ok(())
            } else {
                Err(format!(
                    "acted {} ms after step {:?} started, for a bound of {} ms: {} ms off, tolerance {tolerance} ms",
                    ms(acted),
                    step.name,
                    ms(bound),
                    ms(off)
                ))
            }
        },
    )
}

pub(crate) fn cleanup_max_duration(trace: &Trace, max: u64) -> (bool, String) {
    every(
        trace,
        trace.named(CLEANUP),
        &format!("{CLEANUP} span(s)"),
        &format!("took at most {max} ms"),
        Some(format!(
            "no {CLEANUP:?} span in the trace: nothing was cleaned up"
        )),
        |c| {
            if c.duration_ms() <= max as f64 {
                Ok(())
            } else {
                Err(format!(
                    "took {} ms, at most {max} ms allowed",
                    ms(c.duration_ms())
                ))
            }
        },
    )
}

pub(crate) fn max_timeout_duration(trace: &Trace, max: u64) -> (bool, String) {
    every(
        trace,
        trace
            .spans()
            .iter()
            .filter(|s| s.name.starts_with(rules::STEP_PREFIX))
            .filter(|s| {
                s.attr("error.type")
                    .is_some_and(|v| v.canonical() == "timeout")
            }),
        "timed-out step span(s)",
        &format!("lasted at most {max} ms"),
        Some("no step timed out (error.type = timeout): no timeout to bound".into()),
        |s| {
            if s.duration_ms() <= max as f64 {
                Ok(())
            } else {
                Err(format!(
                    "lasted {} ms, at most {max} ms allowed",
                    ms(s.duration_ms())
                ))
            }
        },
    )
}

/// `timeout_enforcement_verified` of `[expect.chaos]`.
pub(crate) fn enforcement_verified(trace: &Trace) -> (bool, String) {
    every(
        trace,
        enforcements(trace),
        "enforcement span(s)",
        "stopped their step's container (OK, timeout.observed = true, step error.type = timeout)",
        no_enforcement(),
        |enf| {
            let mut unmet = Vec::new();
            if enf.status != Status::Ok {
                unmet.push(format!("status is {}, expected OK", enf.status));
            }
            if let Err(why) = rules::must_be_true(enf, "timeout.observed") {
                unmet.push(why);
            }
            match trace.parent(enf) {
                Some(step)
                    if step
                        .attr("error.type")
                        .is_some_and(|v| v.canonical() == "timeout") => {}
                Some(step) => unmet.push(format!(
                    "its step {:?} has {}, expected \"timeout\"",
                    step.name,
                    rules::shown("error.type", step.attr("error.type"))
                )),
                None => unmet.push("its step is not in the trace".into()),
            }
            if unmet.is_empty() {
                Ok(())
            } else {
                Err(unmet.join("; "))
            }
        },
    )
}

/// `cleanup_after_timeout` of `[expect.chaos]`.
pub(crate) fn cleanup_after_timeout(trace: &Trace) -> (bool, String) {
    every(
        trace,
        enforcements(trace),
        "enforcement span(s)",
        &format!("were followed by a successful {CLEANUP} of their scenario"),
        no_enforcement(),
        |enf| {
            let scenario = rules::nearest_ancestor_named(trace, enf, SCENARIO)
                .ok_or(format!("no {SCENARIO} above it"))?;
            let cleanups: Vec<&Span> = trace
                .named(CLEANUP)
                .filter(|c| {
                    rules::nearest_ancestor_named(trace, c, SCENARIO).map(|s| s.id)
                        == Some(scenario.id)
                })
                .collect();
            if cleanups.is_empty() {
                return Err(format!("its scenario has no {CLEANUP}"));
            }
            let good = cleanups.iter().any(|c| {
                c.start_ns >= enf.start_ns
                    && c.status == Status::Ok
                    && rules::is_true(c.attr("cleanup.success"))
            });
            if good {
                Ok(())
            } else {
                Err(format!(
                    "no {CLEANUP} of its scenario both starts at or after it and has status OK with cleanup.success = true"
                ))
            }
        },
    )
}

/// Milliseconds for messages: at most 3 decimals, trailing zeros dropped.
pub(crate) fn ms(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
#[path = "timeouts_tests.rs"]
mod tests;
