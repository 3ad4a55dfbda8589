//! The `*.clnrm.toml` dialect as Rust types. Every table denies unknown keys:
//! a typo is an error with a suggestion, never silently ignored. Values whose
//! position a later check may need to report are kept `Spanned`. The shapes
//! that are "this or that" (`run`, `parallel_services`, `chaos_injection`)
//! have hand-written deserializers in `de.rs` that say what was expected.

use super::de::{ChaosInjection, ParallelServices, Run, TableOf};
use super::{Exporter, TimeoutStrategy};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    #[serde(default)]
    pub meta: Meta,
    #[serde(default)]
    pub determinism: Determinism,
    /// `[vars]`: substituted before deserializing (see `vars.rs`); kept here
    /// only so the key is known.
    #[allow(dead_code)]
    pub vars: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub otel: Otel,
    /// Third-party plugins: name = path to a `.wasm` component (relative to the suite file).
    #[serde(default)]
    pub plugins: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub service: BTreeMap<String, TableOf<Service>>,
    #[serde(default)]
    pub scenario: Vec<TableOf<Scenario>>,
    /// `[expect.<validator>]` tables, handed as JSON to the plugin named after the table.
    #[serde(default)]
    pub expect: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub report: Report,
    #[serde(default)]
    pub cleanup: Cleanup,
}

#[derive(Debug, Deserialize, Default, Clone, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Determinism {
    pub seed: Option<u64>,
    /// RFC 3339 instant that span timestamps start from: a string or a TOML
    /// offset/local datetime (checked in `load.rs`).
    pub freeze_clock: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Otel {
    pub exporter: Option<Spanned<Exporter>>,
    pub endpoint: Option<Spanned<String>>,
    pub sample_ratio: Option<Spanned<f64>>,
    #[serde(default)]
    pub resources: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Only "generic_container" for now.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// A service plugin by name: not supported yet (an error says so).
    pub plugin: Option<Spanned<String>>,
    pub image: Spanned<String>,
    /// The container's command. Default: a keep-alive (`sleep`) so steps can exec into it.
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub limits: ServiceLimits,
    /// Linux capabilities to add, e.g. ["NET_ADMIN"].
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// A span that must exist before the scenario's steps start.
    pub wait_for_span: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ServiceLimits {
    pub memory_mb: Option<u64>,
    pub cpu_millicores: Option<u64>,
    pub pids: Option<i64>,
    pub max_file_descriptors: Option<u64>,
    /// tmpfs mounts: path = size in MB.
    #[serde(default)]
    pub tmpfs: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: Spanned<String>,
    /// The scenario's main service (the one `run` and `steps` execute in).
    pub service: Option<Spanned<String>>,
    /// A command, or commands run at once in several services.
    pub run: Option<Spanned<Run>>,
    /// Commands run one after another in the main service.
    pub steps: Option<Spanned<Vec<Spanned<TableOf<StepDef>>>>>,
    /// One injection table or an array of them.
    pub chaos_injection: Option<Spanned<ChaosInjection>>,
    pub expect_failure: Option<Spanned<bool>>,
    /// Some steps fail, some pass.
    pub expect_partial_failure: Option<Spanned<bool>>,
    /// `true`: start the scenario's services at once instead of one after
    /// another; a list: also start these services (peers), all at once.
    pub parallel_services: Option<Spanned<ParallelServices>>,
    /// Bound on each step, in milliseconds (the step is killed when it passes).
    pub timeout_ms: Option<u64>,
    pub timeout_strategy: Option<Spanned<TimeoutStrategy>>,
    pub grace_period_ms: Option<Spanned<u64>>,
    /// Absolute bound from scenario start, across all steps.
    pub deadline_ms: Option<Spanned<u64>>,
    pub artifacts: Option<Artifacts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifacts {
    #[serde(default)]
    pub collect: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    pub name: Option<String>,
    pub service: Spanned<String>,
    pub command: String,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    pub name: Option<String>,
    pub run: String,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub cpu_millicores: Option<u64>,
    pub memory_mb: Option<u64>,
    /// Bound on each scenario (steps and injections).
    pub max_duration_seconds: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Base name of the report files (default: `meta.name`, else the file's stem).
    pub name: Option<Spanned<String>>,
    pub json: Option<bool>,
    pub junit: Option<bool>,
    pub digest: Option<bool>,
    pub cleanup: Option<bool>,
}

/// `[cleanup]`: what to remove after each scenario, and how to check it.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Cleanup {
    pub containers: Option<Policy>,
    pub networks: Option<Policy>,
    pub volumes: Option<Policy>,
    /// "keep" keeps everything of a failed scenario (for debugging); "cleanup" (default) does not.
    pub on_failure: Option<OnFailure>,
    /// Ask Docker what is left after cleanup and record it as spans (default true).
    pub verify_cleanup: Option<bool>,
    /// Bound on one scenario's cleanup (default 30000).
    pub cleanup_timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Remove after every scenario (default).
    Always,
    /// Remove only when the scenario passed; keep a failed one's for debugging.
    OnSuccess,
    /// Never remove (`clnrm gc` removes them once the run has ended).
    Never,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    Cleanup,
    Keep,
}

/// Names the table shapes in "expected ..." messages (see `de::TableOf`).
pub trait TableShape {
    const EXPECTING: &'static str;
}

impl TableShape for Service {
    const EXPECTING: &'static str = "a [service.<id>] table (image = \"...\", ...)";
}
impl TableShape for Scenario {
    const EXPECTING: &'static str = "a [[scenario]] table (name, service, run or steps, ...)";
}
impl TableShape for StepDef {
    const EXPECTING: &'static str = "a step table { name, run, timeout_ms }";
}
impl TableShape for RunEntry {
    const EXPECTING: &'static str = "a { service, command } table (name and timeout_ms optional)";
}
