//! Running composed faults through the host, and the span helpers the
//! composing faults share.

use crate::tables::FaultEntry;
use clnrm_sdk::chaos::clnrm::chaos::types::{AttrValue, Attribute, SpanKind};
use clnrm_sdk::prelude::*;

pub use compose::Composed;

/// Run one fault aimed at `target` under `parent` and wait for it.
pub fn run(entry: &FaultEntry, target: Option<&str>, parent: u64) -> Result<Composed, String> {
    compose::run(
        &compose::Fault {
            fault_type: entry.fault_type().to_string(),
            config_json: entry.at(target),
        },
        parent,
    )
}

/// Run every `(fault, target)` at the same time under `parent`.
pub fn run_all(
    faults: &[(&FaultEntry, Option<&str>)],
    parent: u64,
) -> Vec<Result<Composed, String>> {
    let list: Vec<compose::Fault> = faults
        .iter()
        .map(|(f, t)| compose::Fault {
            fault_type: f.fault_type().to_string(),
            config_json: f.at(*t),
        })
        .collect();
    compose::run_all(&list, parent)
}

/// A span that is not about one target (FaultSpan::start sets one): its
/// `chaos.type` only.
pub fn span(name: &str, parent: u64, fault_type: &str) -> FaultSpan {
    let s = FaultSpan(spans::start(name, parent, SpanKind::Internal));
    s.str("chaos.type", fault_type);
    s
}

/// An event with attributes.
pub fn event(span: &FaultSpan, name: &str, attrs: &[(&str, AttrValue)]) {
    let attrs: Vec<Attribute> = attrs
        .iter()
        .map(|(k, v)| Attribute {
            key: k.to_string(),
            value: v.clone(),
        })
        .collect();
    spans::add_event(span.0, name, &attrs);
}

pub fn s(v: &str) -> AttrValue {
    AttrValue::Str(v.to_string())
}

/// `targets`, or every service of the scenario; each must be one of them.
pub fn targets(configured: &[String], inj: &Injection) -> Result<Vec<String>, String> {
    if configured.is_empty() {
        return Ok(inj.services.clone());
    }
    for t in configured {
        if !inj.services.contains(t) {
            return Err(format!(
                "target `{t}` is not a service of scenario `{}` (services: {})",
                inj.scenario,
                inj.services.join(", ")
            ));
        }
    }
    Ok(configured.to_vec())
}

/// Why a composed fault does not count: its error, or "not observed".
pub fn failure(what: &str, r: &Result<Composed, String>) -> Option<String> {
    match r {
        Ok(c) if c.observed => None,
        Ok(c) => Some(format!("{what}: not observed ({})", c.summary)),
        Err(e) => Some(format!("{what}: {e}")),
    }
}
