//! clnrm: a chaos-engineering test runner. Data flows
//! suite (load/check) → engine (scenarios) → runtime (wasm plugins) →
//! backend (docker) → trace (spans) → report.

pub mod backend;
pub mod cli;
pub mod confined;
pub mod engine;
pub mod replay;
pub mod report;
pub mod runtime;
pub mod suite;
pub mod trace;
