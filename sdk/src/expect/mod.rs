//! Span expectations (DESIGN.md §8), shared by the first-party validators: a plain-Rust
//! span model, attribute matchers and the `[[expect.span]]` checker. Nothing here touches
//! the WIT bindings, so it is all tested natively with `cargo test -p clnrm-sdk`.
//!
//! - [`model`]: [`Span`], [`Trace`], [`AttrValue`], [`Finding`].
//! - [`matcher`]: [`Matcher`], the right-hand side of `attrs.all = { key = <matcher> }`.
//! - [`span`]: [`check_spans`], the `[[expect.span]]` checker.
//! - [`config`], [`suggest`]: reading configs with precise, "did you mean" errors; reusable
//!   by other validators.

pub mod config;
pub mod matcher;
pub mod model;
pub mod span;
pub mod suggest;

pub use matcher::{Matcher, Op, OPERATORS};
pub use model::{AttrValue, Event, Finding, Kind, Span, Status, Trace};
pub use span::{
    check_spans, parse_span_expectations, CountBounds, DurationBounds, SpanExpectation, SPAN_KEYS,
};

#[cfg(test)]
mod tests;
