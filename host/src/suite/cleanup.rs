//! `[cleanup]`: what to remove after each scenario, and how to check it.

use serde::{Deserialize, Serialize};
use std::time::Duration;

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
    /// The same as text (`"30s"`), as the original clnrm files write it.
    pub cleanup_timeout: Option<super::de::DurationText>,
    /// Remove a scenario's containers at once (default true) or one by one.
    pub parallel_cleanup: Option<bool>,
    /// Fail the cleanup when a resource a fault pressed on was not given back.
    pub verify_resources_freed: Option<bool>,
    /// Stop running containers with SIGTERM and this long before SIGKILL
    /// (default: SIGKILL at once).
    pub kill_timeout_ms: Option<u64>,
    /// The same as text (`"5s"`).
    pub kill_timeout: Option<super::de::DurationText>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// The original clnrm's spelling: clean up, and the reports say what
    /// failed (they always do; it is `cleanup` under another name).
    CleanupAndReport,
    Keep,
}

/// The `[cleanup]` policy, resolved.
#[derive(Debug, Clone)]
pub struct CleanupSpec {
    pub containers: Policy,
    pub networks: Policy,
    pub volumes: Policy,
    pub verify: bool,
    pub timeout: Duration,
    /// `parallel_cleanup`: remove the containers at once.
    pub parallel: bool,
    /// `verify_resources_freed`.
    pub verify_resources_freed: bool,
    /// `kill_timeout_ms`: SIGTERM, this grace, then SIGKILL; None: SIGKILL.
    pub kill_timeout: Option<Duration>,
}

impl Default for CleanupSpec {
    fn default() -> Self {
        CleanupSpec {
            containers: Policy::Always,
            networks: Policy::Always,
            volumes: Policy::Always,
            verify: true,
            timeout: Duration::from_secs(30),
            parallel: true,
            verify_resources_freed: false,
            kill_timeout: None,
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

impl Cleanup {
    /// Nothing to check beyond the types: every combination is valid.
    pub fn spec(&self) -> CleanupSpec {
        let keep = self.on_failure == Some(OnFailure::Keep);
        // on_failure = "keep" turns every unset policy into on_success.
        let policy = |p: Option<Policy>| {
            p.unwrap_or(if keep {
                Policy::OnSuccess
            } else {
                Policy::Always
            })
        };
        let d = CleanupSpec::default();
        CleanupSpec {
            containers: policy(self.containers),
            networks: policy(self.networks),
            volumes: policy(self.volumes),
            verify: self.verify_cleanup.unwrap_or(d.verify),
            timeout: self
                .cleanup_timeout_ms
                .map(Duration::from_millis)
                .or(self.cleanup_timeout.map(|t| t.0))
                .unwrap_or(d.timeout),
            parallel: self.parallel_cleanup.unwrap_or(d.parallel),
            verify_resources_freed: self
                .verify_resources_freed
                .unwrap_or(d.verify_resources_freed),
            kill_timeout: self
                .kill_timeout_ms
                .map(Duration::from_millis)
                .or(self.kill_timeout.map(|t| t.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::testing::{fails, load_text, OK};

    #[test]
    fn on_failure_keep_turns_unset_policies_into_on_success() {
        let s = load_text(OK).unwrap();
        assert_eq!(
            (s.cleanup.containers, s.cleanup.verify, s.cleanup.timeout),
            (Policy::Always, true, Duration::from_secs(30))
        );
        let s = load_text(&format!(
            "[cleanup]\non_failure = \"keep\"\nvolumes = \"never\"\nverify_cleanup = false\ncleanup_timeout_ms = 5\n{OK}"
        ))
        .unwrap();
        let c = &s.cleanup;
        assert_eq!(
            (c.containers, c.networks, c.volumes),
            (Policy::OnSuccess, Policy::OnSuccess, Policy::Never)
        );
        assert_eq!((c.verify, c.timeout), (false, Duration::from_millis(5)));
        assert!(CleanupSpec::removes(Policy::OnSuccess, true));
        assert!(!CleanupSpec::removes(Policy::OnSuccess, false));
        assert!(!CleanupSpec::removes(Policy::Never, true));
    }

    #[test]
    fn the_original_suites_cleanup_keys() {
        let s = load_text(&format!(
            "[cleanup]\non_failure = \"cleanup_and_report\"\nparallel_cleanup = false\nverify_resources_freed = true\nkill_timeout_ms = 5000\n{OK}"
        ))
        .unwrap();
        let c = &s.cleanup;
        assert_eq!(c.containers, Policy::Always, "cleanup_and_report cleans up");
        assert!(!c.parallel && c.verify_resources_freed);
        assert_eq!(c.kill_timeout, Some(Duration::from_secs(5)));
        let d = load_text(OK).unwrap().cleanup;
        assert!(d.parallel && !d.verify_resources_freed && d.kill_timeout.is_none());
        // As text, as the original files write them.
        let t = load_text(&format!(
            "[cleanup]\nkill_timeout = \"5s\"\ncleanup_timeout = \"30s\"\n{OK}"
        ))
        .unwrap()
        .cleanup;
        assert_eq!(
            (t.kill_timeout, t.timeout),
            (Some(Duration::from_secs(5)), Duration::from_secs(30))
        );
        let (l, c, _, h) = fails(&format!(
            "[cleanup]\non_failure = \"cleanup_and_reprot\"\n{OK}"
        ));
        assert_eq!((l, c), (2, 14));
        assert!(h.contains("did you mean \"cleanup_and_report\""), "{h}");
    }

    #[test]
    fn unknown_policy_lists_the_valid_ones() {
        let (l, c, _, h) = fails(&format!("[cleanup]\ncontainers = \"sometimes\"\n{OK}"));
        assert_eq!((l, c), (2, 14));
        assert!(h.contains("\"always\", \"on_success\", \"never\""), "{h}");
    }
}
