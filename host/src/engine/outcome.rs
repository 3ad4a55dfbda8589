//! What a run found, as data: the report and the summary are views of it.

use crate::backend::Leftovers;
use crate::runtime::journal::CallRecord;
use crate::runtime::PluginInfo;
use crate::trace::SpanData;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Serialize)]
pub struct SuiteOutcome {
    pub name: String,
    pub path: PathBuf,
    pub meta: crate::suite::Meta,
    pub run_id: String,
    pub seed: u64,
    /// Unix ns the span times count from (`freeze_clock` when set).
    pub epoch_unix_ns: u64,
    /// Canonical SHA-256 of the trace (see trace::digest).
    pub digest: String,
    pub passed: bool,
    /// Ctrl-C / SIGTERM arrived: scenarios after the current one did not run.
    pub interrupted: bool,
    /// Docker became unreachable mid-run (exit 2).
    pub environment_error: Option<String>,
    /// Set when the suite could not be judged (e.g. an invalid expectation).
    pub invalid: Option<String>,
    pub duration_ms: u64,
    pub scenarios: Vec<ScenarioOutcome>,
    pub expectations: Vec<ExpectationOutcome>,
    pub plugins: BTreeMap<String, PluginInfo>,
    #[serde(skip)]
    pub spans: Vec<SpanData>,
}

#[derive(Debug, Serialize)]
pub struct ScenarioOutcome {
    pub name: String,
    pub passed: bool,
    pub expect_failure: bool,
    /// Why it failed, in one line; None when it passed.
    pub reason: Option<String>,
    pub duration_ms: u64,
    /// Docker became unreachable during this scenario.
    pub environment_error: Option<String>,
    pub steps: Vec<StepOutcome>,
    pub injections: Vec<InjectionOutcome>,
    pub cleanup: CleanupOutcome,
    /// With `--record`: every host call of every injection.
    #[serde(skip)]
    pub recordings: Vec<InjectionRecording>,
}

/// One injection as `--record` stores it: what the plugin was asked, every
/// host call it made (in order), and what it returned.
#[derive(Debug, Serialize, serde::Deserialize, Clone)]
pub struct InjectionRecording {
    pub scenario: String,
    pub index: usize,
    pub fault_type: String,
    pub plugin: String,
    pub config_json: String,
    pub services: Vec<String>,
    /// Span handle of the scenario the plugin's spans hang under.
    pub parent: u64,
    pub calls: Vec<CallRecord>,
    pub outcome: InjectionOutcome,
}

#[derive(Debug, Serialize, Clone)]
pub struct StepOutcome {
    pub name: String,
    pub service: String,
    /// "pass" or "error".
    pub result: String,
    pub exit_code: Option<i64>,
    /// container_killed, oom_killed, nonzero_exit, timeout, service_failed, ...
    pub error_type: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub duration_ms: u64,
}

impl StepOutcome {
    pub fn failed(&self) -> bool {
        self.result != "pass"
    }
}

#[derive(Debug, Serialize, serde::Deserialize, Clone, PartialEq)]
pub struct InjectionOutcome {
    pub fault_type: String,
    pub plugin: String,
    /// True only when the plugin saw the fault take effect.
    pub observed: bool,
    pub summary: String,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Clone, Default)]
pub struct CleanupOutcome {
    pub triggered: String,
    /// What the scenario created: container and network ids.
    pub created: Vec<String>,
    pub containers_removed: usize,
    pub networks_removed: usize,
    /// Kept on purpose by the `[cleanup]` policy.
    pub kept: Vec<String>,
    pub success: bool,
    pub remaining: Leftovers,
    pub duration_ms: u64,
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize, serde::Deserialize, Clone)]
pub struct ExpectationOutcome {
    pub expectation: String,
    pub table: String,
    pub plugin: String,
    pub passed: bool,
    pub message: String,
}
