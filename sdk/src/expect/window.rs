//! The `[[expect.window]]` checker (docs/toml-reference.md, the expectation tables): spans that must happen within others.
//!
//! Each table has `outer = "<name>"`, `contains = ["a", "b", ...]` and optionally
//! `max_duration_ms`. Every span named in `contains` must lie inside some span named
//! `outer` (`start >= outer.start` and `end <= outer.end`, bounds included) and, with
//! `max_duration_ms`, last at most that long. A name in `contains` with no span at all
//! fails (a window around nothing is almost always a typo), as does a missing `outer`.
//!
//! `[[expect.window]]` is an array of tables; a single `[expect.window]` table is
//! accepted too. One finding per name in `contains`, labelled
//! `expect.window[0].contains[1] clnrm.cleanup in clnrm.scenario`.

use serde_json::Value;

use super::common::{interval, ms, name, no_such_span, tables};
use super::config::{self, check_keys, child, invalid, wrong_type};
use super::model::{format_float, Finding, Span, Trace};
use crate::config::ConfigError;

/// Keys of one `[[expect.window]]` table.
pub const WINDOW_KEYS: [&str; 3] = ["outer", "contains", "max_duration_ms"];

/// One `[[expect.window]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// `expect.window[0]`: where its labels and errors start.
    pub path: String,
    pub outer: String,
    pub contains: Vec<String>,
    pub max_duration_ms: Option<f64>,
}

/// A parsed `[[expect.window]]` config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowExpectation {
    pub windows: Vec<Window>,
}

/// Parses `[[expect.window]]` (an array of tables, or one table). `Err` says what is wrong.
pub fn parse_window(config: &Value) -> Result<WindowExpectation, ConfigError> {
    let mut windows = Vec::new();
    for (at, t) in tables(config, "expect.window")? {
        let path = &at.keys;
        check_keys(t, &WINDOW_KEYS, path)?;
        let outer = match t.get("outer") {
            Some(v) => name(v, &child(path, "outer"))?,
            None => return Err(ConfigError::missing_key(path, "outer")),
        };
        let contains = match t.get("contains") {
            Some(v) => {
                let p = child(path, "contains");
                let names = config::string_list(v, &p)?;
                if names.is_empty() {
                    return Err(invalid(&p, "give at least one span name".to_string()));
                }
                for (i, n) in names.iter().enumerate() {
                    if n.is_empty() {
                        return Err(invalid(
                            &child(&p, &i.to_string()),
                            "must not be empty".to_string(),
                        ));
                    }
                    if *n == outer {
                        return Err(invalid(&child(&p, &i.to_string()), format!("{n:?} is the outer span itself, and a span always lies inside itself"
                        )));
                    }
                }
                names
            }
            None => return Err(ConfigError::missing_key(path, "contains")),
        };
        let max_duration_ms = match t.get("max_duration_ms") {
            None => None,
            Some(v) => {
                let p = child(path, "max_duration_ms");
                let x = config::number(v, &p)?;
                if x < 0.0 {
                    return Err(wrong_type(&p, "a non-negative number", v));
                }
                Some(x)
            }
        };
        windows.push(Window {
            path: at.label,
            outer,
            contains,
            max_duration_ms,
        });
    }
    Ok(WindowExpectation { windows })
}

/// Checks `[[expect.window]]` against `trace`: one finding per name in each `contains`.
/// `Err` means the config itself is invalid.
pub fn check_window(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let parsed = parse_window(config)?;
    let mut findings = Vec::new();
    for w in &parsed.windows {
        for (i, inner) in w.contains.iter().enumerate() {
            let (passed, message) = w.evaluate(inner, trace);
            findings.push(Finding {
                expectation: format!("{}.contains[{i}] {inner} in {}", w.path, w.outer),
                passed,
                message,
            });
        }
    }
    Ok(findings)
}

/// Whether `inner` lies within `outer`, bounds included.
pub fn lies_inside(inner: &Span, outer: &Span) -> bool {
    outer.start_ns <= inner.start_ns && inner.end_ns <= outer.end_ns
}

/// "Does any of these spans contain this one?" in O(log n) per question, so a window over
/// thousands of scenarios stays linear-ish rather than inner x outer: the outers sorted by
/// start, with the latest end among each prefix. Some outer contains `s` exactly when
/// the latest end among the outers starting at or before `s` reaches `s`'s end.
struct Cover {
    starts: Vec<u64>,
    max_end: Vec<u64>,
}

impl Cover {
    fn new(outers: &[&Span]) -> Cover {
        let mut by_start: Vec<(u64, u64)> = outers.iter().map(|o| (o.start_ns, o.end_ns)).collect();
        by_start.sort_unstable();
        let mut latest = 0;
        let max_end = by_start
            .iter()
            .map(|&(_, end)| {
                latest = latest.max(end);
                latest
            })
            .collect();
        Cover {
            starts: by_start.into_iter().map(|(start, _)| start).collect(),
            max_end,
        }
    }

    /// Whether some outer satisfies [`lies_inside`]`(s, outer)`.
    fn contains(&self, s: &Span) -> bool {
        let n = self.starts.partition_point(|&start| start <= s.start_ns);
        n > 0 && self.max_end[n - 1] >= s.end_ns
    }
}

/// How far `inner` sticks out of `outer`, in nanoseconds (0 when inside).
fn overhang(inner: &Span, outer: &Span) -> u64 {
    outer.start_ns.saturating_sub(inner.start_ns) + inner.end_ns.saturating_sub(outer.end_ns)
}

impl Window {
    /// The verdict for the spans named `inner` (one of `contains`), and its message.
    pub fn evaluate(&self, inner: &str, trace: &Trace) -> (bool, String) {
        let outer = &self.outer;
        let spans: Vec<&Span> = trace.named(inner).collect();
        if spans.is_empty() {
            return (false, no_such_span(inner, trace));
        }
        let outers: Vec<&Span> = trace.named(outer).collect();
        if outers.is_empty() {
            return (
                false,
                format!(
                    "the {} span(s) named {inner:?} have no {outer:?} span to lie inside: {}",
                    spans.len(),
                    no_such_span(outer, trace)
                ),
            );
        }
        let cover = Cover::new(&outers);
        let mut offenders: Vec<(&Span, Vec<String>)> = Vec::new();
        for &s in &spans {
            let mut unmet = Vec::new();
            if !cover.contains(s) {
                // The closest outer sticks out least; ties go to the earliest in the trace.
                if let Some(o) = outers.iter().min_by_key(|o| overhang(s, o)) {
                    let mut how = Vec::new();
                    if o.start_ns > s.start_ns {
                        how.push(format!(
                            "starts {} ms after it",
                            ms(o.start_ns - s.start_ns)
                        ));
                    }
                    if o.end_ns < s.end_ns {
                        how.push(format!("ends {} ms before it", ms(s.end_ns - o.end_ns)));
                    }
                    unmet.push(format!(
                        "not inside any {outer:?} span; closest is span #{} {} which {}",
                        o.id,
                        interval(o),
                        how.join(" and ")
                    ));
                }
            }
            if let Some(max) = self.max_duration_ms.filter(|max| s.duration_ms() > *max) {
                unmet.push(format!(
                    "lasted {} ms, more than max_duration_ms {}",
                    ms(s.duration_ns()),
                    format_float(max)
                ));
            }
            if !unmet.is_empty() {
                offenders.push((s, unmet));
            }
        }
        let Some((first, unmet)) = offenders.first() else {
            let mut msg = format!(
                "all {} span(s) named {inner:?} lie inside a {outer:?} span",
                spans.len()
            );
            if let Some(max) = self.max_duration_ms {
                let longest = spans.iter().map(|s| s.duration_ns()).max().unwrap_or(0);
                msg.push_str(&format!(
                    " and last at most {} ms (longest {} ms)",
                    format_float(max),
                    ms(longest)
                ));
            }
            return (true, msg);
        };
        (
            false,
            format!(
                "{} of {} span(s) named {inner:?} fail; first: {} {}: {}",
                offenders.len(),
                spans.len(),
                trace.describe(first),
                interval(first),
                unmet.join("; ")
            ),
        )
    }
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
