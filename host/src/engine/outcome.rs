//! What a run found, as data: the report and the summary are views of it.

use crate::backend::Leftovers;
use crate::runtime::journal::CallRecord;
use crate::runtime::PluginInfo;
use crate::trace::SpanData;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Serialize, serde::Deserialize)]
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
    /// Application spans the digest left out (all of them, unless
    /// `[determinism] digest_app_spans`; then 0).
    pub digest_app_spans_left_out: usize,
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
    /// `--shard I/N`: the run ran only this shard's scenarios (and no
    /// `[expect.*]`); `clnrm report merge` joins the shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    #[serde(skip)]
    pub spans: Vec<SpanData>,
}

#[derive(Debug, Serialize, serde::Deserialize)]
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

#[derive(Debug, Serialize, serde::Deserialize, Clone)]
pub struct StepOutcome {
    pub name: String,
    pub service: String,
    pub result: StepResult,
    pub exit_code: Option<i64>,
    pub error_type: Option<ErrorType>,
    pub stdout: String,
    pub stderr: String,
    pub duration_ms: u64,
}

impl StepOutcome {
    pub fn failed(&self) -> bool {
        self.result != StepResult::Pass
    }
}

/// Wire strings of the typed outcomes (reports, span attributes): one
/// definition each, `as_str` and serde agree.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v,)+
        }

        impl $name {
            #[cfg(test)]
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// A step's `result`.
    StepResult {
        Pass => "pass",
        Error => "error",
    }
}

wire_enum! {
    /// Why a step failed (`error.type` on its span, `error_type` in reports),
    /// decided from Docker's own account.
    ErrorType {
        /// Ended by a signal (exit >= 128), or removed under the step.
        ContainerKilled => "container_killed",
        /// Docker's OOMKilled, or the cgroup's OOM counter went up.
        OomKilled => "oom_killed",
        /// The command exited non-zero in a container that lives on.
        NonzeroExit => "nonzero_exit",
        /// A non-zero exit after the service's network was cut or impaired.
        NetworkFailure => "network_failure",
        /// A non-zero exit after new connections to its peer were refused.
        ConnectionRefused => "connection_refused",
        /// A non-zero exit after new connections to its peer were swallowed.
        ConnectionTimeout => "connection_timeout",
        /// The step's bound passed and it was stopped.
        Timeout => "timeout",
        /// The daemon stopped answering.
        DockerUnreachable => "docker_unreachable",
        /// Docker refused the exec.
        ExecFailed => "exec_failed",
        /// The container stopped in an orderly way (exit < 128).
        ContainerStopped => "container_stopped",
        /// Docker could not tell the exit code of a container that lives on.
        ExitUnknown => "exit_unknown",
    }
}

wire_enum! {
    /// The event a scenario's cleanup reacted to (`cleanup.triggered`).
    CleanupTrigger {
        /// Every step passed.
        Success => "success",
        /// A step failed.
        Failure => "failure",
        /// A step's bound passed.
        Timeout => "timeout",
        /// Setup or an injection went wrong.
        Error => "error",
        /// Ctrl-C / SIGTERM.
        Interrupt => "interrupt",
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

#[derive(Debug, Serialize, serde::Deserialize, Clone)]
pub struct CleanupOutcome {
    pub triggered: CleanupTrigger,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire strings reports and span attributes have always carried.
    #[test]
    fn wire_strings_are_todays_and_serde_agrees() {
        fn check<T: Serialize + Copy>(all: &[T], as_str: fn(T) -> &'static str, want: &[&str]) {
            let got: Vec<&str> = all.iter().map(|v| as_str(*v)).collect();
            assert_eq!(got, want);
            for v in all {
                assert_eq!(
                    serde_json::to_value(v).ok(),
                    Some(serde_json::Value::from(as_str(*v)))
                );
            }
        }
        check(StepResult::ALL, StepResult::as_str, &["pass", "error"]);
        check(
            ErrorType::ALL,
            ErrorType::as_str,
            &[
                "container_killed",
                "oom_killed",
                "nonzero_exit",
                "network_failure",
                "connection_refused",
                "connection_timeout",
                "timeout",
                "docker_unreachable",
                "exec_failed",
                "container_stopped",
                "exit_unknown",
            ],
        );
        check(
            CleanupTrigger::ALL,
            CleanupTrigger::as_str,
            &["success", "failure", "timeout", "error", "interrupt"],
        );
        let back: ErrorType = serde_json::from_str("\"network_failure\"").unwrap();
        assert_eq!(back, ErrorType::NetworkFailure);
    }
}
