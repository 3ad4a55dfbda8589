//! Suite files: load (parse + check) a `*.clnrm.toml` into a [`Suite`] the
//! engine can run. Everything wrong is reported as a [`SuiteError`] with
//! file:line:col; nothing is ignored.

// A `SuiteError` carries the file's text for its snippet: large, but only on
// the cold path, once per bad file.
#![allow(clippy::result_large_err)]

mod clock;
mod de;
mod diag;
mod load;
mod model;
mod positions;
mod vars;

pub use diag::{line_col, nearest, SuiteError};
pub use load::{load, load_str};
pub use model::{Meta, Policy};
pub use positions::{KeyPath, Positions};

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

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

/// `[otel]`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct OtelSpec {
    pub exporter: Exporter,
    /// Collector endpoint; always `Some` when `exporter` is `Otlp`.
    pub endpoint: Option<String>,
    /// Fraction of traces exported, 0.0..=1.0.
    pub sample_ratio: f64,
    /// Resource attributes added to every exported span.
    pub resources: BTreeMap<String, String>,
}

impl Default for OtelSpec {
    fn default() -> Self {
        OtelSpec {
            exporter: Exporter::Stdout,
            endpoint: None,
            sample_ratio: 1.0,
            resources: BTreeMap::new(),
        }
    }
}

/// `[otel] exporter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Exporter {
    Stdout,
    Otlp,
    None,
}

impl Exporter {
    pub fn as_str(self) -> &'static str {
        match self {
            Exporter::Stdout => "stdout",
            Exporter::Otlp => "otlp",
            Exporter::None => "none",
        }
    }
}

/// `[report]`: which of the four report files to write (all by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportSpec {
    /// `<name>.report.json`
    pub json: bool,
    /// `<name>.junit.xml`
    pub junit: bool,
    /// `<name>.trace.sha256`
    pub digest: bool,
    /// `<name>.cleanup.json`
    pub cleanup: bool,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            json: true,
            junit: true,
            digest: true,
            cleanup: true,
        }
    }
}

/// `[[scenario]] timeout_strategy`: what happens to a step whose bound passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutStrategy {
    /// Kill at once (SIGKILL).
    #[default]
    Hard,
    /// SIGTERM, then SIGKILL after `grace_period`.
    Graceful,
}

/// The `[cleanup]` policy, resolved.
#[derive(Debug, Clone)]
pub struct CleanupSpec {
    pub containers: Policy,
    pub networks: Policy,
    pub volumes: Policy,
    pub verify: bool,
    pub timeout: Duration,
}

impl Default for CleanupSpec {
    fn default() -> Self {
        CleanupSpec {
            containers: Policy::Always,
            networks: Policy::Always,
            volumes: Policy::Always,
            verify: true,
            timeout: Duration::from_secs(30),
        }
    }
}

impl CleanupSpec {
    /// Whether a resource under `policy` is removed after a scenario that
    /// `passed` (so far).
    pub fn removes(policy: Policy, passed: bool) -> bool {
        match policy {
            Policy::Always => true,
            Policy::OnSuccess => passed,
            Policy::Never => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub id: String,
    pub image: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub memory_mb: Option<u64>,
    pub cpu_millicores: Option<u64>,
    pub pids: Option<i64>,
    pub max_file_descriptors: Option<u64>,
    pub tmpfs: BTreeMap<String, u64>,
    pub capabilities: Vec<String>,
    /// `wait_for_span`: a span that must exist before the scenario's steps start.
    pub wait_for_span: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ScenarioSpec {
    pub name: String,
    /// Services to start, the main one first.
    pub services: Vec<String>,
    pub steps: Vec<StepSpec>,
    /// Steps run at once (`run = [{ service, command }, ...]`) instead of in order.
    pub parallel: bool,
    pub injections: Vec<InjectionSpec>,
    pub expect_failure: bool,
    /// Some steps fail and some pass (exclusive with `expect_failure`).
    pub expect_partial_failure: bool,
    pub parallel_services: bool,
    /// Bound on the whole scenario (steps and injections), from `[limits]`.
    pub max_duration: Duration,
    pub timeout_strategy: TimeoutStrategy,
    /// `grace_period_ms`: SIGTERM-to-SIGKILL delay (only with `Graceful`).
    pub grace_period: Option<Duration>,
    /// `deadline_ms`: absolute bound from scenario start across all steps.
    pub deadline: Option<Duration>,
    /// `artifacts.collect`: absolute paths to copy out of the containers.
    pub artifacts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StepSpec {
    pub name: String,
    pub service: String,
    pub command: String,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct InjectionSpec {
    pub fault_type: String,
    /// The `chaos_injection` table as JSON.
    pub config_json: String,
    /// Where the table is in the file (for "unknown chaos type" errors): the
    /// whole value, or this entry of an array of them.
    pub span: Range<usize>,
    /// Every key and value inside the table (for a plugin's `check` errors).
    pub positions: Positions,
}

#[derive(Debug, Clone)]
pub struct ExpectSpec {
    /// The `X` of `[expect.X]`.
    pub table: String,
    pub config_json: String,
    pub span: Range<usize>,
    /// Every key and value inside `[expect.X]`; for `[[expect.X]]` the first
    /// path segment is the entry's index.
    pub positions: Positions,
}

impl Suite {
    /// The position of entry `index` of an `[[expect.<table>]]` array (its
    /// header line), for errors a validator reports about one entry.
    pub fn expect_entry_span(&self, table: &str, index: usize) -> Option<Range<usize>> {
        let header = format!("[[expect.{table}]]");
        let mut offset = 0;
        let mut seen = 0;
        for line in self.source.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if trimmed.starts_with(&header) {
                if seen == index {
                    let start = offset + (line.len() - trimmed.len());
                    return Some(start..start + header.len());
                }
                seen += 1;
            }
            offset += line.len();
        }
        None
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
