//! Predicates on step and fault spans shared by the `[expect.chaos]` rules.

use crate::expect::model::Span;
use crate::expect::rules::STEP_PREFIX;

/// `fault` (a span with `chaos.type`) acted on `step`'s service in the same
/// scenario (both hang under the scenario's span).
pub(super) fn on_service_of(fault: &Span, step: &Span) -> bool {
    fault.parent == step.parent
        && matches!((fault.attr("target.service"), step.attr("service.id")),
            (Some(a), Some(b)) if a.canonical() == b.canonical())
}

pub(super) fn overlaps(a: &Span, b: &Span) -> bool {
    a.start_ns <= b.end_ns && b.start_ns <= a.end_ns
}

pub(super) fn is_step(s: &Span) -> bool {
    s.name.starts_with(STEP_PREFIX)
}

pub(super) fn failed(s: &Span) -> bool {
    s.attr("result").is_some_and(|v| v.canonical() == "error")
}
