//! The `[expect.isolation]` checker: scenarios did not share containers or state, and each
//! one proved its own cleanup.
//!
//! ```toml
//! [expect.isolation]
//! unique_container_ids = true
//! no_persistent_state = true
//! cleanup_verified = true
//! ```
//!
//! Every key is a boolean, checked when `true` and skipped when `false`; the table must
//! give at least one, and unknown keys are errors with the nearest valid key. Each rule
//! yields one finding labelled `expect.isolation.<rule>`, in the order of
//! [`ISOLATION_KEYS`].
//!
//! - `unique_container_ids`: the `container.id` values of the `clnrm.service.start` spans
//!   (across all scenarios) are pairwise distinct. Spans without a (non-empty)
//!   `container.id`, i.e. services that never started, are not compared; if no span has
//!   one, the rule fails, since nothing proves any container was isolated. A duplicate
//!   names both spans.
//! - `no_persistent_state`: there is at least one `clnrm.cleanup.verification` span, and
//!   every one has `volumes.remaining` = 0 and `containers.remaining` = 0 (a missing count
//!   is unknown and fails): nothing a scenario wrote can survive into the next.
//! - `cleanup_verified`: there is at least one `clnrm.scenario` span, and every one has a
//!   descendant `clnrm.cleanup.verification` span (at any depth: the engine hangs cleanup
//!   under the failed step) with `verification.clean` = true. A scenario whose
//!   verifications are all unclean is reported with the first of them.
//!
//! A failure names every offending span (up to 10) with `Trace::describe`, the scenario
//! it belongs to when known, and the condition it missed.

use std::collections::HashMap;

use serde_json::Value;

use super::model::{Finding, Span, Trace};
use super::rules::{self, every, finding, SCENARIO, SERVICE_START, VERIFICATION};
use crate::config::ConfigError;

/// Keys of `[expect.isolation]`.
pub const ISOLATION_KEYS: [&str; 3] = [
    "unique_container_ids",
    "no_persistent_state",
    "cleanup_verified",
];

/// A parsed `[expect.isolation]` table: which rules are switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IsolationExpectation {
    pub unique_container_ids: bool,
    pub no_persistent_state: bool,
    pub cleanup_verified: bool,
}

/// Parses `[expect.isolation]`.
pub fn parse_isolation(config: &Value) -> Result<IsolationExpectation, ConfigError> {
    let path: &[String] = &[];
    let t = rules::top_table(config, "isolation", &ISOLATION_KEYS)?;
    Ok(IsolationExpectation {
        unique_container_ids: rules::flag(t, "unique_container_ids", path)?,
        no_persistent_state: rules::flag(t, "no_persistent_state", path)?,
        cleanup_verified: rules::flag(t, "cleanup_verified", path)?,
    })
}

/// Checks `[expect.isolation]` against `trace`: one finding per rule switched on.
pub fn check_isolation(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let e = parse_isolation(config)?;
    let mut out = Vec::new();
    if e.unique_container_ids {
        out.push(finding(
            "expect.isolation.unique_container_ids".into(),
            unique_container_ids(trace),
        ));
    }
    if e.no_persistent_state {
        let (spans, if_none) = rules::verification_spans(trace);
        let verdict = every(
            trace,
            spans,
            &format!("{VERIFICATION} span(s)"),
            "report volumes.remaining = 0 and containers.remaining = 0",
            Some(if_none),
            |s| {
                let unmet: Vec<String> = ["volumes.remaining", "containers.remaining"]
                    .into_iter()
                    .filter_map(|k| rules::zero(s, k).err())
                    .collect();
                if unmet.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{}{}", unmet.join(" and "), rules::scenario_of(s)))
                }
            },
        );
        out.push(finding(
            "expect.isolation.no_persistent_state".into(),
            verdict,
        ));
    }
    if e.cleanup_verified {
        // Each verification under its nearest scenario, found with one walk
        // up per verification (not one per scenario and verification).
        let mut by_scenario: std::collections::HashMap<u32, Vec<&Span>> =
            std::collections::HashMap::new();
        for v in trace.named(VERIFICATION) {
            if let Some(sc) = rules::nearest_ancestor_named(trace, v, SCENARIO) {
                by_scenario.entry(sc.id).or_default().push(v);
            }
        }
        let verdict = every(
            trace,
            trace.named(SCENARIO),
            &format!("{SCENARIO} span(s)"),
            &format!("have a {VERIFICATION} descendant with verification.clean = true"),
            Some(format!(
                "no {SCENARIO:?} span in the trace: no scenario to verify"
            )),
            |sc| {
                let mine: Vec<&&Span> = by_scenario
                    .get(&sc.id)
                    .map(|v| v.iter().collect())
                    .unwrap_or_default();
                if mine
                    .iter()
                    .any(|v| rules::is_true(v.attr("verification.clean")))
                {
                    return Ok(());
                }
                let of = rules::scenario_of(sc);
                match mine.first() {
                    None => Err(format!("no {VERIFICATION} descendant{of}")),
                    Some(v) => Err(format!(
                        "its verification {} has {}, expected true{of}",
                        trace.describe(v),
                        rules::shown("verification.clean", v.attr("verification.clean"))
                    )),
                }
            },
        );
        out.push(finding("expect.isolation.cleanup_verified".into(), verdict));
    }
    Ok(out)
}

fn unique_container_ids(trace: &Trace) -> (bool, String) {
    let started: Vec<(&Span, String)> = trace
        .named(SERVICE_START)
        .filter_map(|s| s.attr("container.id").map(|v| (s, v.canonical())))
        .filter(|(_, id)| !id.is_empty())
        .collect();
    if started.is_empty() {
        return (
            false,
            format!(
                "no {SERVICE_START:?} span carries a container.id: no container started, so nothing proves isolation"
            ),
        );
    }
    let mut first: HashMap<&str, &Span> = HashMap::new();
    let mut dups: Vec<(&Span, String)> = Vec::new();
    for (span, id) in &started {
        match first.get(id.as_str()) {
            Some(earlier) => dups.push((
                span,
                format!("container.id {id:?} is also on {}", trace.describe(earlier)),
            )),
            None => {
                first.insert(id, span);
            }
        }
    }
    if dups.is_empty() {
        let spans: Vec<&Span> = started.iter().map(|(s, _)| *s).collect();
        return (
            true,
            format!(
                "{} {SERVICE_START} span(s) carry distinct container.id values (span ids {})",
                spans.len(),
                super::common::ids(spans.iter().copied())
            ),
        );
    }
    (
        false,
        format!(
            "{} duplicate container.id value(s) among {} {SERVICE_START} span(s): {}",
            dups.len(),
            started.len(),
            rules::offenders(trace, &dups)
        ),
    )
}

#[cfg(test)]
#[path = "isolation_tests.rs"]
mod tests;
