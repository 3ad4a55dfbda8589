//! The `[expect.counts]` checker (docs/toml-reference.md, the expectation tables): how many spans, errors and events.
//!
//! - `spans_total`: number of spans in the trace.
//! - `errors_total`: number of spans with status ERROR.
//! - `events_total`: number of events over all spans.
//! - `by_name = { "<span name>" = <bound>, ... }`: number of spans with that name.
//!
//! A bound is a plain integer (exactly that many) or a table of `eq`, `gte`, `lte`, `gt`,
//! `lt`, every one given having to hold. `[expect.counts]` is one table; `[[expect.counts]]`
//! is accepted too. One finding per bound, labelled `expect.counts.spans_total`,
//! `expect.counts.by_name."clnrm.cleanup"`; failures read `spans_total: expected gte 10,
//! found 7`.

use serde_json::Value;

use super::common::{ids, no_such_span, tables};
use super::config::{self, check_keys, child, invalid, wrong_type};
use super::model::{Finding, Span, Status, Trace};
use crate::config::render_path;
use crate::config::ConfigError;

/// Keys of one `[expect.counts]` table.
pub const COUNTS_KEYS: [&str; 4] = ["spans_total", "errors_total", "events_total", "by_name"];
/// Operators of a count bound table.
pub const BOUND_KEYS: [&str; 5] = ["eq", "gte", "lte", "gt", "lt"];

/// A bound on a count; every bound given must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bounds {
    pub eq: Option<u64>,
    pub gt: Option<u64>,
    pub gte: Option<u64>,
    pub lt: Option<u64>,
    pub lte: Option<u64>,
}

impl Bounds {
    pub fn holds(&self, n: u64) -> bool {
        self.eq.is_none_or(|b| n == b)
            && self.gt.is_none_or(|b| n > b)
            && self.gte.is_none_or(|b| n >= b)
            && self.lt.is_none_or(|b| n < b)
            && self.lte.is_none_or(|b| n <= b)
    }

    /// `eq 3`, `gt 1 and lte 4`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("eq", self.eq),
            ("gt", self.gt),
            ("gte", self.gte),
            ("lt", self.lt),
            ("lte", self.lte),
        ]
        .into_iter()
        .filter_map(|(op, b)| b.map(|b| format!("{op} {b}")))
        .collect();
        parts.join(" and ")
    }

    /// Whether some count satisfies every bound.
    fn satisfiable(&self) -> bool {
        if let Some(eq) = self.eq {
            return self.holds(eq);
        }
        let lo = match (self.gte, self.gt.map(|g| g.checked_add(1))) {
            (_, Some(None)) => return false,
            (a, Some(Some(b))) => a.unwrap_or(0).max(b),
            (a, None) => a.unwrap_or(0),
        };
        let hi = match (self.lte, self.lt.map(|l| l.checked_sub(1))) {
            (_, Some(None)) => return false,
            (a, Some(Some(b))) => a.unwrap_or(u64::MAX).min(b),
            (a, None) => a.unwrap_or(u64::MAX),
        };
        lo <= hi
    }
}

/// What is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    SpansTotal,
    ErrorsTotal,
    EventsTotal,
    /// Spans with this name.
    ByName(String),
}

/// One bound with the label its finding carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountCheck {
    /// E.g. `expect.counts.by_name."clnrm.cleanup"`.
    pub label: String,
    /// The key as messages name it: `spans_total`, `by_name."clnrm.cleanup"`.
    pub key: String,
    pub metric: Metric,
    pub bounds: Bounds,
}

/// A parsed `[expect.counts]` config: every bound of every table, in config order
/// (`by_name` entries in key order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountsExpectation {
    pub checks: Vec<CountCheck>,
}

/// Parses `[expect.counts]` (a table or an array of tables). `Err` says what is wrong.
pub fn parse_counts(config: &Value) -> Result<CountsExpectation, ConfigError> {
    let mut checks = Vec::new();
    for (at, t) in tables(config, "expect.counts")? {
        let path = &at.keys;
        check_keys(t, &COUNTS_KEYS, path)?;
        if t.is_empty() {
            return Err(invalid(
                path,
                format!(
                    "checks nothing; give at least one of {}",
                    COUNTS_KEYS.join(", ")
                ),
            ));
        }
        for (key, metric) in [
            ("spans_total", Metric::SpansTotal),
            ("errors_total", Metric::ErrorsTotal),
            ("events_total", Metric::EventsTotal),
        ] {
            if let Some(v) = t.get(key) {
                checks.push(CountCheck {
                    bounds: bounds(v, &child(path, key))?,
                    label: render_path(&at.label, &[key.to_owned()]),
                    key: key.to_owned(),
                    metric,
                });
            }
        }
        if let Some(v) = t.get("by_name") {
            let p = child(path, "by_name");
            let names = config::table(v, &p)?;
            if names.is_empty() {
                return Err(invalid(
                    &p,
                    "checks nothing; give at least one span name, e.g. \"clnrm.cleanup\" = 1"
                        .to_string(),
                ));
            }
            for (name, v) in names {
                let np = child(&p, name);
                if name.is_empty() {
                    return Err(invalid(&np, "the span name must not be empty"));
                }
                checks.push(CountCheck {
                    bounds: bounds(v, &np)?,
                    label: render_path(&at.label, &np[path.len()..]),
                    key: render_path("by_name", std::slice::from_ref(name)),
                    metric: Metric::ByName(name.clone()),
                });
            }
        }
    }
    Ok(CountsExpectation { checks })
}

/// Checks `[expect.counts]` against `trace`: one finding per bound. `Err` means the config
/// itself is invalid.
pub fn check_counts(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    Ok(parse_counts(config)?
        .checks
        .into_iter()
        .map(|c| {
            let (passed, message) = c.evaluate(trace);
            Finding {
                expectation: c.label,
                passed,
                message,
            }
        })
        .collect())
}

impl CountCheck {
    /// The verdict and its message.
    pub fn evaluate(&self, trace: &Trace) -> (bool, String) {
        let spans = trace.spans();
        let (found, counted): (u64, Option<Vec<&Span>>) = match &self.metric {
            Metric::SpansTotal => (spans.len() as u64, None),
            Metric::EventsTotal => (spans.iter().map(|s| s.events.len() as u64).sum(), None),
            Metric::ErrorsTotal => {
                let errors: Vec<&Span> =
                    spans.iter().filter(|s| s.status == Status::Error).collect();
                (errors.len() as u64, Some(errors))
            }
            Metric::ByName(name) => {
                let named: Vec<&Span> = trace.named(name).collect();
                (named.len() as u64, Some(named))
            }
        };
        let key = &self.key;
        let want = self.bounds.describe();
        if self.bounds.holds(found) {
            return (true, format!("{key}: {want} holds, found {found}"));
        }
        let mut msg = format!("{key}: expected {want}, found {found}");
        match (&self.metric, counted) {
            (Metric::ByName(name), Some(named)) if named.is_empty() => {
                msg.push_str("; ");
                msg.push_str(&no_such_span(name, trace));
            }
            (Metric::ErrorsTotal, Some(errors)) if !errors.is_empty() => {
                let first = errors[0];
                let why = first
                    .status_message
                    .as_deref()
                    .map(|m| format!(": {m:?}"))
                    .unwrap_or_default();
                msg.push_str(&format!(
                    " (span ids {}); first: {}{why}",
                    ids(errors.iter().copied()),
                    trace.describe(first)
                ));
            }
            (_, Some(spans)) if !spans.is_empty() => {
                msg.push_str(&format!(" (span ids {})", ids(spans)));
            }
            _ => {}
        }
        (false, msg)
    }
}

/// A plain integer (`eq`) or a non-empty table of [`BOUND_KEYS`] that some count satisfies.
pub fn bounds(v: &Value, path: &[String]) -> Result<Bounds, ConfigError> {
    let expected = "a non-negative integer or a table of eq, gte, lte, gt, lt";
    let t = match v {
        Value::Number(_) => {
            return v
                .as_u64()
                .map(|n| Bounds {
                    eq: Some(n),
                    ..Bounds::default()
                })
                .ok_or_else(|| wrong_type(path, expected, v))
        }
        Value::Object(t) => t,
        other => return Err(wrong_type(path, expected, other)),
    };
    check_keys(t, &BOUND_KEYS, path)?;
    if t.is_empty() {
        return Err(invalid(
            path,
            format!("give at least one of {}", BOUND_KEYS.join(", ")),
        ));
    }
    let get = |k: &str| {
        t.get(k)
            .map(|v| config::count(v, &child(path, k)))
            .transpose()
    };
    let b = Bounds {
        eq: get("eq")?,
        gt: get("gt")?,
        gte: get("gte")?,
        lt: get("lt")?,
        lte: get("lte")?,
    };
    if !b.satisfiable() {
        return Err(invalid(path, format!("{} can never hold", b.describe())));
    }
    Ok(b)
}

#[cfg(test)]
#[path = "counts_tests.rs"]
mod tests;
