//! The `[expect.graph]` checker (docs/toml-reference.md, the expectation tables): the shape of the parent links.
//!
//! - `must_include = [["parent", "child"], ...]`: for each pair, some span named `child`
//!   has a parent named `parent`.
//! - `must_not_cross = [["parent", "child"], ...]`: no span named `child` has a parent
//!   named `parent` (holds when there is no `child` span at all).
//! - `acyclic = true`: following parent links from any span never revisits a span.
//!
//! `[expect.graph]` is one table; `[[expect.graph]]` (an array of tables) is accepted too.
//! One finding per pair and one for `acyclic`, labelled
//! `expect.graph.must_include[0] clnrm.step:x -> clnrm.cleanup` (with `expect.graph[i]`
//! for the i-th table of an array).

use std::collections::HashMap;

use serde_json::Value;

use super::common::{ids, name_pairs, no_such_span, tables};
use super::config::{check_keys, child, invalid, wrong_type};
use super::model::{Finding, Span, Trace};
use crate::config::ConfigError;
use crate::suggest::edit_distance;

/// Keys of one `[expect.graph]` table.
pub const GRAPH_KEYS: [&str; 3] = ["must_include", "must_not_cross", "acyclic"];

/// Candidates listed when `must_include` fails; traces can hold thousands.
const MAX_CANDIDATES: usize = 5;
/// Spans shown of one cycle.
const MAX_CYCLE: usize = 10;

/// One condition on the parent links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphRule {
    /// Some span named `child` has a parent named `parent`.
    MustInclude { parent: String, child: String },
    /// No span named `child` has a parent named `parent`.
    MustNotCross { parent: String, child: String },
    /// No span is its own ancestor.
    Acyclic,
}

/// A rule with the label its finding carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphCheck {
    /// E.g. `expect.graph.must_include[0] clnrm.step:x -> clnrm.cleanup`.
    pub label: String,
    pub rule: GraphRule,
}

/// A parsed `[expect.graph]` config: every rule of every table, in config order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphExpectation {
    pub checks: Vec<GraphCheck>,
}

/// Parses `[expect.graph]` (a table or an array of tables). `Err` says what is wrong.
pub fn parse_graph(config: &Value) -> Result<GraphExpectation, ConfigError> {
    let mut checks = Vec::new();
    for (at, t) in tables(config, "expect.graph")? {
        let path = &at.keys;
        check_keys(t, &GRAPH_KEYS, path)?;
        let before = checks.len();
        for (key, must) in [("must_include", true), ("must_not_cross", false)] {
            let Some(v) = t.get(key) else { continue };
            let pairs = name_pairs(v, &child(path, key), "\"parent\", \"child\"")?;
            for (i, (parent, child)) in pairs.into_iter().enumerate() {
                let label = format!("{}.{key}[{i}] {parent} -> {child}", at.label);
                let rule = if must {
                    GraphRule::MustInclude { parent, child }
                } else {
                    GraphRule::MustNotCross { parent, child }
                };
                checks.push(GraphCheck { label, rule });
            }
        }
        if let Some(v) = t.get("acyclic") {
            let p = child(path, "acyclic");
            if v.as_bool().ok_or_else(|| wrong_type(&p, "a boolean", v))? {
                checks.push(GraphCheck {
                    label: format!("{}.acyclic", at.label),
                    rule: GraphRule::Acyclic,
                });
            }
        }
        if checks.len() == before {
            return Err(invalid(
                path,
                "checks nothing; give must_include, must_not_cross or acyclic = true".to_string(),
            ));
        }
    }
    Ok(GraphExpectation { checks })
}

/// Checks `[expect.graph]` against `trace`: one finding per rule. `Err` means the config
/// itself is invalid.
pub fn check_graph(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    Ok(parse_graph(config)?
        .checks
        .into_iter()
        .map(|c| {
            let (passed, message) = c.rule.evaluate(trace);
            Finding {
                expectation: c.label,
                passed,
                message,
            }
        })
        .collect())
}

impl GraphRule {
    /// The verdict and its message.
    pub fn evaluate(&self, trace: &Trace) -> (bool, String) {
        match self {
            GraphRule::MustInclude { parent, child } => must_include(parent, child, trace),
            GraphRule::MustNotCross { parent, child } => must_not_cross(parent, child, trace),
            GraphRule::Acyclic => acyclic(trace),
        }
    }
}

fn must_include(parent: &str, child: &str, trace: &Trace) -> (bool, String) {
    let children: Vec<&Span> = trace.named(child).collect();
    let matched: Vec<&Span> = children
        .iter()
        .copied()
        .filter(|s| trace.parent_name(s) == Some(parent))
        .collect();
    if !matched.is_empty() {
        return (
            true,
            format!(
                "{} span(s) named {child:?} have a parent named {parent:?} (span ids {})",
                matched.len(),
                ids(matched)
            ),
        );
    }
    if children.is_empty() {
        return (
            false,
            format!(
                "no {child:?} span has a parent named {parent:?}: {}",
                no_such_span(child, trace)
            ),
        );
    }
    // Closest candidates first: the parent name nearest the wanted one; roots and spans
    // whose parent is missing last; ties keep trace order.
    let mut ranked: Vec<(usize, usize, &Span)> = children
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let d = trace
                .parent_name(s)
                .map_or(usize::MAX, |p| edit_distance(p, parent));
            (d, i, *s)
        })
        .collect();
    ranked.sort_unstable_by_key(|(d, i, _)| (*d, *i));
    let mut shown: Vec<String> = ranked
        .iter()
        .take(MAX_CANDIDATES)
        .map(|(_, _, s)| trace.describe(s))
        .collect();
    if ranked.len() > MAX_CANDIDATES {
        shown.push(format!("... ({} more)", ranked.len() - MAX_CANDIDATES));
    }
    let mut msg = format!(
        "no {child:?} span has a parent named {parent:?}; the {} span(s) named {child:?}: {}",
        children.len(),
        shown.join(", ")
    );
    if trace.named(parent).next().is_none() {
        msg.push_str("; and ");
        msg.push_str(&no_such_span(parent, trace));
    }
    (false, msg)
}

fn must_not_cross(parent: &str, child: &str, trace: &Trace) -> (bool, String) {
    let children: Vec<&Span> = trace.named(child).collect();
    let crossing: Vec<&Span> = children
        .iter()
        .copied()
        .filter(|s| trace.parent_name(s) == Some(parent))
        .collect();
    match crossing.first() {
        None if children.is_empty() => (
            true,
            format!("no span named {child:?}, so none has a parent named {parent:?}"),
        ),
        None => (
            true,
            format!(
                "none of the {} span(s) named {child:?} has a parent named {parent:?}",
                children.len()
            ),
        ),
        Some(first) => (
            false,
            format!(
                "{} span(s) named {child:?} have a parent named {parent:?} (span ids {}); first: {}",
                crossing.len(),
                ids(crossing.iter().copied()),
                trace.describe(first)
            ),
        ),
    }
}

/// Every cycle of the parent links (each span has at most one parent, so each span reaches
/// at most one cycle and a walk from each unvisited span finds them all in O(n)).
/// A cycle is listed child first, in the order the links are followed.
pub fn cycles(trace: &Trace) -> Vec<Vec<&Span>> {
    let spans = trace.spans();
    // Lookups by id find the first span with that id, as `Trace::by_id` does.
    let mut index: HashMap<u32, usize> = HashMap::with_capacity(spans.len());
    for (i, s) in spans.iter().enumerate() {
        index.entry(s.id).or_insert(i);
    }
    let parent_of = |i: usize| spans[i].parent.and_then(|p| index.get(&p).copied());
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; spans.len()];
    let mut found = Vec::new();
    for start in 0..spans.len() {
        let mut path: Vec<usize> = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                NEW => {
                    state[i] = ON_PATH;
                    path.push(i);
                    at = parent_of(i);
                }
                ON_PATH => {
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    found.push(path[from..].iter().map(|&j| &spans[j]).collect());
                    break;
                }
                _ => break,
            }
        }
        for i in path {
            state[i] = DONE;
        }
    }
    found
}

fn acyclic(trace: &Trace) -> (bool, String) {
    let found = cycles(trace);
    let Some(first) = found.first() else {
        return (
            true,
            format!(
                "no cycle in the parent links of {} span(s)",
                trace.spans().len()
            ),
        );
    };
    let mut steps: Vec<String> = first
        .iter()
        .take(MAX_CYCLE)
        .map(|s| format!("#{} {:?}", s.id, s.name))
        .collect();
    if first.len() > MAX_CYCLE {
        steps.push(format!("... ({} more)", first.len() - MAX_CYCLE));
    }
    // Close the loop so the reader sees where it comes back.
    steps.push(format!("#{} {:?}", first[0].id, first[0].name));
    let mut msg = format!(
        "parent links loop: span {} (each arrow points to the parent)",
        steps.join(" -> ")
    );
    if found.len() > 1 {
        msg.push_str(&format!("; {} cycles in all", found.len()));
    }
    (false, msg)
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
