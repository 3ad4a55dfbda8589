//! The `[expect.resources]` checker: the resources a fault pressed on were given back.
//!
//! ```toml
//! [expect.resources]
//! memory_leak_detected = false   # every memory pressure was followed by a restored limit
//! cpu_runaway_detected = false   # every CPU throttle was followed by a restored quota
//! disk_leak_detected = false     # every disk fill was followed by its space freed
//! ```
//!
//! Each key names a kind of `chaos-resource` span (docs/spans.md):
//! `memory_leak_detected` → `clnrm.resource.memory_pressure`, `cpu_runaway_detected` →
//! `clnrm.resource.cpu_throttle`, `disk_leak_detected` → `clnrm.resource.disk_full`. A
//! pressure span is *released* when a `clnrm.resource.recovery` span of the same scenario
//! (same parent) on the same `target.service` starts at or after it starts and has
//! `recovery.success = true` (the plugin emits it at the end of the pressure window,
//! while the pressure span is still open) (the plugin read the old limit, or the freed space, back from
//! the kernel). A pressure span that is not released is a *leak*.
//!
//! Spans with `pressure.source = "limits"` (the engine observing a service's static
//! limits) pressed on nothing and are not counted.
//!
//! - `false`: there is at least one span of that kind (otherwise nothing was pressed on,
//!   and nothing proves a release: the rule fails), and none leaked.
//! - `true`: at least one span of that kind leaked (for suites that prove a leak is seen).
//!
//! Each key gives one finding `expect.resources.<key>`; the table must give at least one.

use serde_json::Value;

use super::config::{child, wrong_type};
use super::model::{Finding, Span, Trace};
use super::rules::{self, finding};
use crate::config::ConfigError;

/// Keys of `[expect.resources]`.
pub const RESOURCES_KEYS: [&str; 3] = [
    "memory_leak_detected",
    "cpu_runaway_detected",
    "disk_leak_detected",
];

/// Each key and the pressure span it reads.
pub const PRESSURE_SPANS: [(&str, &str); 3] = [
    ("memory_leak_detected", "clnrm.resource.memory_pressure"),
    ("cpu_runaway_detected", "clnrm.resource.cpu_throttle"),
    ("disk_leak_detected", "clnrm.resource.disk_full"),
];

/// The span a `chaos-resource` injection ends with once it restored what it changed.
pub const RESOURCE_RECOVERY: &str = "clnrm.resource.recovery";

/// A parsed `[expect.resources]` table: (key, pressure span, leak expected).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcesExpectation {
    pub rules: Vec<(&'static str, &'static str, bool)>,
}

/// Parses `[expect.resources]`.
pub fn parse_resources(config: &Value) -> Result<ResourcesExpectation, ConfigError> {
    let t = rules::top_table(config, "resources", &RESOURCES_KEYS)?;
    let mut e = ResourcesExpectation::default();
    for (key, span) in PRESSURE_SPANS {
        if let Some(v) = t.get(key) {
            let leak = v
                .as_bool()
                .ok_or_else(|| wrong_type(&child(&[], key), "a boolean", v))?;
            e.rules.push((key, span, leak));
        }
    }
    Ok(e)
}

/// Checks `[expect.resources]` against `trace`.
pub fn check_resources(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let e = parse_resources(config)?;
    Ok(e.rules
        .iter()
        .map(|(key, span, leak_expected)| {
            let pressures: Vec<&Span> = trace.named(span).filter(|s| pressed(s)).collect();
            let leaks: Vec<(&Span, String)> = pressures
                .iter()
                .filter(|p| released_by(trace, p).is_none())
                .map(|p| {
                    (
                        *p,
                        format!(
                            "no successful {RESOURCE_RECOVERY} on {} after it",
                            rules::shown("target.service", p.attr("target.service"))
                        ),
                    )
                })
                .collect();
            let verdict = match (*leak_expected, pressures.is_empty(), leaks.is_empty()) {
                (false, true, _) => (
                    false,
                    format!("no {span:?} span in the trace: nothing was pressed on, so no release is proven"),
                ),
                (false, false, true) => (
                    true,
                    format!(
                        "{} {span} span(s) each released by a successful {RESOURCE_RECOVERY} (span ids {})",
                        pressures.len(),
                        super::common::ids(pressures.iter().copied())
                    ),
                ),
                (false, false, false) => (
                    false,
                    format!(
                        "{} of {} {span} span(s) leaked: {}",
                        leaks.len(),
                        pressures.len(),
                        rules::offenders(trace, &leaks)
                    ),
                ),
                (true, _, false) => (
                    true,
                    format!(
                        "{} {span} span(s) leaked, as expected: {}",
                        leaks.len(),
                        rules::offenders(trace, &leaks)
                    ),
                ),
                (true, _, true) => (
                    false,
                    format!(
                        "expected a leak, but all {} {span} span(s) were released",
                        pressures.len()
                    ),
                ),
            };
            finding(format!("expect.resources.{key}"), verdict)
        })
        .collect())
}

/// The successful recovery that released `pressure`, if any.
/// Whether a resource span says something was pressed on: the engine's
/// observations of a service's static limits (`pressure.source = "limits"`)
/// changed nothing, so there is nothing to release.
pub(crate) fn pressed(s: &Span) -> bool {
    s.attr("pressure.source").map(|v| v.canonical()).as_deref() != Some("limits")
}

pub(crate) fn released_by<'a>(trace: &'a Trace, pressure: &Span) -> Option<&'a Span> {
    let target = pressure.attr("target.service").map(|v| v.canonical());
    trace.named(RESOURCE_RECOVERY).find(|r| {
        r.parent == pressure.parent
            && r.attr("target.service").map(|v| v.canonical()) == target
            && r.start_ns >= pressure.start_ns
            && rules::is_true(r.attr("recovery.success"))
    })
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
