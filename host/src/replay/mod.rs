//! `--record FILE` and `clnrm replay FILE`: a run's plugin I/O, stored, and
//! re-run without Docker.
//!
//! A recording holds, per suite: the suite's text, its seed and clock epoch,
//! the engine's spans, every injection's host calls (call, arguments,
//! result, in order) and outcome, the plugins' fingerprints, the findings
//! and the digest. Replay loads the same plugins, re-runs every injection
//! with each host call answered (Docker, clock) or re-executed and checked
//! (rng, spans) from the recording, rebuilds the plugin spans from what the
//! replayed plugins emit, re-runs the validators and recomputes the digest.

mod file;
mod page;
mod run;

pub use file::{Recording, SuiteRecording};
pub use page::report_json;
pub use run::replay;
