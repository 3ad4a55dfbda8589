//! Suite files: load (parse + check) a `*.clnrm.toml` into a [`Suite`] the
//! engine can run. Everything wrong is reported as a [`SuiteError`] with
//! file:line:col; nothing is ignored.

mod diag;
mod load;
mod model;

pub use diag::{line_col, nearest, SuiteError};
pub use load::{load, load_str};
pub use model::{Meta, Policy};

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
        CleanupSpec { containers: Policy::Always, networks: Policy::Always, volumes: Policy::Always, verify: true, timeout: Duration::from_secs(30) }
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
    pub parallel_services: bool,
    /// Bound on the whole scenario (steps and injections), from `[limits]`.
    pub max_duration: Duration,
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
    /// Where the table is in the file (for "unknown chaos type" errors).
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct ExpectSpec {
    /// The `X` of `[expect.X]`.
    pub table: String,
    pub config_json: String,
    pub span: Range<usize>,
}

impl Suite {
    /// An error pointing into this suite's source.
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>, help: Option<String>) -> SuiteError {
        SuiteError::at(&self.path.display().to_string(), &self.source, span, message, help)
    }
}
