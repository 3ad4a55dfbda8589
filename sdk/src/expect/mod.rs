//! Span expectations (docs/toml-reference.md, the expectation tables), shared by the first-party validators: a plain-Rust
//! span model, attribute matchers and the `[[expect.span]]` checker. Nothing here touches
//! the WIT bindings, so it is all tested natively with `cargo test -p clnrm-sdk`.
//!
//! - [`model`]: [`Span`], [`Trace`], [`AttrValue`], [`Finding`].
//! - [`matcher`]: [`Matcher`], the right-hand side of `attrs.all = { key = <matcher> }`.
//! - [`span`]: [`check_spans`], the `[[expect.span]]` checker.
//! - [`config`]: reading free-form configs by hand with structured
//!   [`ConfigError`](crate::config::ConfigError)s; reusable by other validators.

pub mod chaos;
mod common;
pub mod concurrent;
pub mod config;
pub mod counts;
pub mod graph;
pub mod hermeticity;
pub mod isolation;
pub mod matcher;
pub mod model;
pub mod order;
pub mod resources;
mod rules;
pub mod span;
pub mod status;
pub mod timeouts;
pub mod window;

pub use chaos::{check_chaos, parse_chaos, ChaosExpectation, CHAOS_KEYS};
pub use concurrent::{check_concurrent, parse_concurrent, ConcurrentExpectation, CONCURRENT_KEYS};
pub use counts::{
    check_counts, parse_counts, Bounds, CountCheck, CountsExpectation, Metric, COUNTS_KEYS,
};
pub use graph::{check_graph, parse_graph, GraphCheck, GraphExpectation, GraphRule, GRAPH_KEYS};
pub use hermeticity::{
    check_hermeticity, parse_hermeticity, HermeticityExpectation, HERMETICITY_KEYS,
};
pub use isolation::{check_isolation, parse_isolation, IsolationExpectation, ISOLATION_KEYS};
pub use matcher::{Matcher, Op, OPERATORS};
pub use model::{AttrValue, Event, Finding, Kind, Span, Status, Trace, CLNRM_SERVICE};
pub use order::{check_order, parse_order, OrderExpectation, OrderRule, ORDER_KEYS};
pub use resources::{check_resources, parse_resources, ResourcesExpectation, RESOURCES_KEYS};
pub use span::{
    check_spans, parse_span_expectations, CountBounds, DurationBounds, SpanExpectation, SPAN_KEYS,
};
pub use status::{check_status, glob_matches, parse_status, StatusExpectation, STATUS_KEYS};
pub use timeouts::{check_timeouts, parse_timeouts, TimeoutsExpectation, TIMEOUTS_KEYS};
pub use window::{check_window, parse_window, Window, WindowExpectation, WINDOW_KEYS};

#[cfg(test)]
mod app_tests;
#[cfg(test)]
mod tests;
