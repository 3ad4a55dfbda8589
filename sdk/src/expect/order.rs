//! The `[expect.order]` checker (docs/toml-reference.md, the expectation tables): which spans happen after which.
//!
//! - `must_precede = [["A", "B"], ...]`: every span named B starts at or after the end of
//!   some span named A (equivalently: of the earliest-ending A).
//! - `must_follow = [["A", "B"], ...]`: every A starts at or after the end of some B, i.e.
//!   `must_precede [B, A]`.
//!
//! A pair whose A or B has no span at all fails: an ordering between spans that never
//! happened proves nothing. `[expect.order]` is one table; `[[expect.order]]` is accepted
//! too. One finding per pair, labelled `expect.order.must_precede[0] A before B` or
//! `expect.order.must_follow[0] A after B`.

use serde_json::Value;

use super::common::{ms, name_pairs, no_such_span, tables};
use super::config::{check_keys, child, invalid};
use super::model::{Finding, Span, Trace};
use crate::config::ConfigError;

/// Keys of one `[expect.order]` table.
pub const ORDER_KEYS: [&str; 2] = ["must_precede", "must_follow"];

/// Every span named `then` starts at or after the end of some span named `first`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRule {
    /// E.g. `expect.order.must_precede[0] clnrm.service.start before clnrm.step:x`.
    pub label: String,
    pub first: String,
    pub then: String,
}

/// A parsed `[expect.order]` config: every pair of every table, `must_follow` pairs
/// turned around, in config order (`must_precede` before `must_follow` within a table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderExpectation {
    pub rules: Vec<OrderRule>,
}

/// Parses `[expect.order]` (a table or an array of tables). `Err` says what is wrong.
pub fn parse_order(config: &Value) -> Result<OrderExpectation, ConfigError> {
    let mut rules = Vec::new();
    for (at, t) in tables(config, "expect.order")? {
        let path = &at.keys;
        check_keys(t, &ORDER_KEYS, path)?;
        let before = rules.len();
        for (key, precede) in [("must_precede", true), ("must_follow", false)] {
            let Some(v) = t.get(key) else { continue };
            let p = child(path, key);
            let shape = if precede {
                "\"A\", \"B\" (A first)"
            } else {
                "\"A\", \"B\" (B first)"
            };
            for (i, (a, b)) in name_pairs(v, &p, shape)?.into_iter().enumerate() {
                if a == b {
                    return Err(invalid(
                        &child(&p, &i.to_string()),
                        format!("both names are {a:?}; a span cannot come after itself"),
                    ));
                }
                let (label, first, then) = if precede {
                    (format!("{}.{key}[{i}] {a} before {b}", at.label), a, b)
                } else {
                    (format!("{}.{key}[{i}] {a} after {b}", at.label), b, a)
                };
                rules.push(OrderRule { label, first, then });
            }
        }
        if rules.len() == before {
            return Err(invalid(
                path,
                "checks nothing; give must_precede or must_follow".to_string(),
            ));
        }
    }
    Ok(OrderExpectation { rules })
}

/// Checks `[expect.order]` against `trace`: one finding per pair. `Err` means the config
/// itself is invalid.
pub fn check_order(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    Ok(parse_order(config)?
        .rules
        .into_iter()
        .map(|r| {
            let (passed, message) = r.evaluate(trace);
            Finding {
                expectation: r.label,
                passed,
                message,
            }
        })
        .collect())
}

impl OrderRule {
    /// The verdict and its message.
    pub fn evaluate(&self, trace: &Trace) -> (bool, String) {
        let (first, then) = (&self.first, &self.then);
        let thens: Vec<&Span> = trace.named(then).collect();
        // The earliest-ending `first` span decides: B is late enough iff it starts after it.
        // Ties go to the earliest in the trace.
        let earliest = trace.named(first).min_by_key(|s| s.end_ns);
        let Some(earliest) = earliest else {
            if thens.is_empty() {
                return (
                    false,
                    format!(
                        "{}; and {}",
                        no_such_span(first, trace),
                        no_such_span(then, trace)
                    ),
                );
            }
            return (
                false,
                format!(
                    "the {} span(s) named {then:?} have no {first:?} span to come after: {}",
                    thens.len(),
                    no_such_span(first, trace)
                ),
            );
        };
        if thens.is_empty() {
            return (
                false,
                format!(
                    "{} (to check against the {first:?} span(s))",
                    no_such_span(then, trace)
                ),
            );
        }
        let early: Vec<&Span> = thens
            .iter()
            .copied()
            .filter(|s| s.start_ns < earliest.end_ns)
            .collect();
        let Some(bad) = early.first() else {
            return (
                true,
                format!(
                    "all {} span(s) named {then:?} start at or after the end of a {first:?} span (the earliest ends at {} ms)",
                    thens.len(),
                    ms(earliest.end_ns)
                ),
            );
        };
        (
            false,
            format!(
                "{} of {} span(s) named {then:?} start before any {first:?} span has ended; first: {} starts at {} ms, but the earliest {first:?} to end, span #{}, ends at {} ms",
                early.len(),
                thens.len(),
                trace.describe(bad),
                ms(bad.start_ns),
                earliest.id,
                ms(earliest.end_ns)
            ),
        )
    }
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
