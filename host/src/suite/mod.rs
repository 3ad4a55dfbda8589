//! Suite files: load a `*.clnrm.toml` into a [`Suite`] the engine can run.
//! Everything wrong is reported as a [`SuiteError`] with file:line:col;
//! nothing is ignored.
//!
//! The flow (`load.rs`): parse the text (TOML 1.1) → substitute `[vars]` on
//! the parsed document (`vars.rs`) → deserialize into the raw types, one per
//! TOML element → check each element, turning raw into resolved → `Suite`.
//!
//! One file per element, each with its raw (serde) type, its checks and its
//! tests: `meta`, `determinism`, `otel`, `plugins`, `service`, `scenario`
//! (with `steps` for `run`/`steps` and `chaos` for `chaos_injection`),
//! `expect`, `limits`, `report`, `cleanup`. Shared pieces: `de` (generic
//! deserializers, used by the element files and using none of them), `diag`
//! (errors, line:col, "did you mean"), `positions` (spans inside the
//! plugin-owned tables, kept at load time for the plugins' errors).

// A `SuiteError` carries the file's text for its snippet: large, but only on
// the cold path, once per bad file.
#![allow(clippy::result_large_err)]

mod build_context;
mod chaos;
mod cleanup;
mod command;
mod de;
mod depends;
mod determinism;
mod diag;
mod expect;
mod files;
mod image;
mod limits;
mod load;
mod meta;
mod otel;
mod plugins;
mod positions;
mod ready;
mod report;
mod retry;
mod scenario;
mod service;
mod steps;
#[cfg(test)]
pub(crate) mod testing;
mod vars;

pub use build_context::{hash as build_hash, BuildContext};
pub use chaos::InjectionSpec;
pub use cleanup::CleanupSpec;
#[cfg(test)]
pub use cleanup::Policy;
pub use command::is_absent_or_bare_shell;
pub use diag::{line_col, nearest, SuiteError};
pub use expect::{span_expectation_services, ExpectSpec};
pub use files::ContainerOptions;
pub use image::{BuildSpec, PullPolicy};
#[cfg(test)]
pub use load::load_str;
pub use load::{load, load_recorded};
pub use meta::Meta;
pub use otel::{Exporter, OtelSpec, ReceiveMode};
pub use positions::Positions;
pub use ready::{Healthcheck, Probe, ProbeCommand, ReadySpec};
pub use report::ReportSpec;
pub use retry::RetryPolicy;
pub use scenario::{Artifact, NetworkMode, ScenarioSpec, TimeoutStrategy};
pub use service::ServiceSpec;
pub use steps::{quoted, StepSpec};

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

/// A checked suite, ready to plan and run.
#[derive(Debug)]
pub struct Suite {
    pub path: PathBuf,
    /// The file's text, kept for diagnostics found later (unknown plugins).
    pub source: String,
    /// Report base name: `[report] name`, else `meta.name`, else the file stem.
    pub name: String,
    pub meta: Meta,
    /// `[determinism] seed`; None lets the CLI pick (and report) one.
    pub seed: Option<u64>,
    /// `freeze_clock` as Unix nanoseconds.
    pub freeze_clock_unix_ns: Option<u64>,
    /// `[determinism] digest_app_spans`: application spans' structure in the digest.
    pub digest_app_spans: bool,
    /// Third-party plugins from `[plugins]`: name, resolved path, span of the path.
    pub plugins: Vec<(String, PathBuf, Range<usize>)>,
    pub services: BTreeMap<String, ServiceSpec>,
    pub scenarios: Vec<ScenarioSpec>,
    pub expectations: Vec<ExpectSpec>,
    pub cleanup: CleanupSpec,
    /// `[vars]`, rendered to strings (already substituted everywhere).
    pub vars: BTreeMap<String, String>,
    /// `[otel]`: where the run's spans are exported.
    pub otel: OtelSpec,
    /// `[report]`: which report files to write.
    pub report: ReportSpec,
}

impl Suite {
    /// For each of `services`, those of `services` whose `depends_on` names
    /// it, in `services`' order (what `compose.dependents` answers).
    pub fn dependents(&self, services: &[String]) -> BTreeMap<String, Vec<String>> {
        services
            .iter()
            .map(|s| {
                let deps = services
                    .iter()
                    .filter(|d| {
                        self.services
                            .get(*d)
                            .is_some_and(|spec| spec.depends_on.contains(s))
                    })
                    .cloned()
                    .collect();
                (s.clone(), deps)
            })
            .collect()
    }

    /// An error pointing into this suite's source.
    pub fn error_at(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> SuiteError {
        SuiteError::at(
            &self.path.display().to_string(),
            &self.source,
            span,
            message,
            help,
        )
    }
}
