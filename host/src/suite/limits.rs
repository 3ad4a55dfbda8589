//! `[limits]`: the bound on each scenario, and the resource limits every
//! service gets unless its own `limits` say otherwise (see `service.rs`).

use super::diag::{Ctx, SuiteError};
use serde::Deserialize;
use std::time::Duration;
use toml::Spanned;

/// Bound on a scenario when `[limits] max_duration_seconds` is absent.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(300);

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub cpu_millicores: Option<u64>,
    pub memory_mb: Option<u64>,
    /// Bound on each scenario (steps and injections).
    pub max_duration_seconds: Option<Spanned<u64>>,
    /// Most containers the suite may run at once; a scenario needing more is
    /// refused before anything starts.
    pub max_containers: Option<Spanned<u64>>,
}

impl Limits {
    /// The bound on each scenario (`ScenarioSpec::max_duration`).
    pub fn max_duration(&self, cx: &Ctx) -> Result<Duration, SuiteError> {
        match &self.max_duration_seconds {
            Some(s) if *s.get_ref() == 0 => Err(cx.err(
                s.span(),
                "`max_duration_seconds` must be at least 1",
                Some("it bounds every scenario; leave it out for the default of 300".into()),
            )),
            Some(s) => Ok(Duration::from_secs(*s.get_ref())),
            None => Ok(DEFAULT_MAX_DURATION),
        }
    }
}

impl Limits {
    /// `max_containers`: scenarios run one after another, and a scenario's
    /// services all run at once, so the most containers alive together is the
    /// largest scenario. One that exceeds the limit is refused here, before
    /// anything starts (not throttled: its services must be up together for
    /// its faults and steps to mean what they say).
    pub fn check_containers(
        &self,
        cx: &Ctx,
        scenarios: &[super::ScenarioSpec],
    ) -> Result<(), SuiteError> {
        let Some(max) = &self.max_containers else {
            return Ok(());
        };
        if *max.get_ref() == 0 {
            return Err(cx.err(
                max.span(),
                "`max_containers` must be at least 1",
                Some("every scenario starts at least its main service".into()),
            ));
        }
        for sc in scenarios {
            if sc.services.len() as u64 > *max.get_ref() {
                return Err(cx.err(
                    max.span(),
                    format!(
                        "scenario `{}` runs {} containers at once ({}), more than max_containers = {}",
                        sc.name,
                        sc.services.len(),
                        sc.services.join(", "),
                        max.get_ref()
                    ),
                    Some("raise [limits] max_containers, or split the scenario: clnrm refuses a suite that would exceed it before starting anything, it does not throttle".into()),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::testing::{fails, load_text, OK};

    #[test]
    fn max_duration_and_service_defaults() {
        let s = load_text(OK).unwrap();
        assert_eq!(s.scenarios[0].max_duration, DEFAULT_MAX_DURATION);
        assert_eq!(s.services["app"].memory_mb, None);
        let s = load_text(&format!(
            "[limits]\nmax_duration_seconds = 7\nmemory_mb = 64\ncpu_millicores = 250\n{OK}"
        ))
        .unwrap();
        assert_eq!(s.scenarios[0].max_duration, Duration::from_secs(7));
        let app = &s.services["app"];
        assert_eq!((app.memory_mb, app.cpu_millicores), (Some(64), Some(250)));
        let (l, c, m, h) = fails(&format!("[limits]\nmax_duration_seconds = 0\n{OK}"));
        assert_eq!((l, c), (2, 24), "{m}");
        assert!(m.contains("at least 1") && h.contains("300"), "{m} / {h}");
        let two = format!("[limits]\nmax_containers = 1\n{OK}\n[service.db]\nimage = \"x\"\n[[scenario]]\nname = \"pair\"\nservice = \"app\"\nparallel_services = [\"db\"]\nrun = \"true\"\n");
        let (l, c, m, h) = fails(&two);
        assert_eq!((l, c), (2, 18), "{m}");
        assert!(
            m.contains(
                "scenario `pair` runs 2 containers at once (app, db), more than max_containers = 1"
            ),
            "{m}"
        );
        assert!(h.contains("does not throttle"), "{h}");
        load_text(&two.replace("max_containers = 1", "max_containers = 2")).unwrap();
        let (l, c, _, h) = fails(&format!("[limits]\nmemory = 1\n{OK}"));
        assert_eq!((l, c), (2, 1));
        assert!(h.contains("did you mean `memory_mb`"), "{h}");
    }
}
