//! clnrm: a chaos-engineering test runner. Data flows
//! suite (load/check) → engine (scenarios) → runtime (wasm plugins) →
//! backend (docker) → trace (spans) → report.
//!
//! The library exists for the `clnrm` binary ([`cli`]), the benches (which
//! drive the plugin [`runtime`] directly) and the integration tests (which read
//! [`trace`] types); everything else is internal.

mod backend;
mod capability;
pub mod cli;
mod confined;
mod engine;
mod fmt;
mod migrate;
#[cfg(test)]
mod module_graph;
pub mod otel_receiver;
mod replay;
mod report;
pub mod runtime;
mod shard;
mod suite;
pub mod trace;
mod trace_view;
mod user_dirs;
