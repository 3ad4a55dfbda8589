//! Replaying a recording: no Docker, same plugins, every host call checked.

use super::file::SuiteRecording;
use crate::engine::{self, seed};
use crate::runtime::journal::{Divergence, Journal};
use crate::runtime::{ChaosCall, FaultLog, Injection, Limits, Registry, ScenarioCtx};
use crate::trace::{RunClock, Trace};
use std::sync::Arc;
use std::time::Duration;

/// What replaying one suite found.
#[derive(Debug)]
pub struct ReplayReport {
    pub name: String,
    pub digest: String,
    pub recorded_digest: String,
    pub calls: usize,
    pub injections: usize,
    /// The first place a plugin behaved differently.
    pub divergence: Option<String>,
    /// Plugins whose component changed since the recording.
    pub changed_plugins: Vec<String>,
    /// Expectations whose verdict differs from the recorded one.
    pub verdict_changes: Vec<String>,
    pub expectations_passed: usize,
    pub expectations: usize,
    /// The seed replayed with.
    pub seed: u64,
    /// The replayed trace and findings (for the HTML page).
    pub spans: Vec<crate::trace::SpanData>,
    pub findings: Vec<engine::ExpectationOutcome>,
}

impl ReplayReport {
    /// Same plugin behaviour, same digest, same verdicts.
    pub fn matches(&self) -> bool {
        self.divergence.is_none()
            && self.digest == self.recorded_digest
            && self.verdict_changes.is_empty()
    }
}

/// Replay one suite. Err: the recording cannot be replayed at all (its suite
/// no longer loads, a plugin is missing): bad input.
pub async fn replay(
    registry: &std::sync::Arc<Registry>,
    rec: &SuiteRecording,
    seed_override: Option<u64>,
) -> Result<ReplayReport, String> {
    let suite = crate::suite::load_recorded(&rec.path, rec.source.clone())
        .map_err(|e| format!("{:?}", miette::Report::new(e)))?;
    let plugins = registry.resolve(&suite).await.map_err(|e| e.to_string())?;
    let changed_plugins = rec
        .plugins
        .iter()
        .filter_map(|(name, then)| {
            let now = plugins.infos().get(name).map(|p| p.sha256.clone());
            (now.as_deref() != Some(then.sha256.as_str())).then(|| {
                format!(
                    "{name}: sha256 {} at recording, {} now",
                    short(&then.sha256),
                    now.as_deref().map(short).unwrap_or("missing")
                )
            })
        })
        .collect();
    let seed = seed_override.unwrap_or(rec.seed);
    let trace = Trace::for_replay(rec.spans.clone(), RunClock::new(Some(rec.epoch_unix_ns)));
    let mut divergence = None;
    let mut calls = 0;
    for inj in &rec.injections {
        let Some(plugin) = plugins.chaos.get(&inj.fault_type) else {
            divergence = Some(format!(
                "scenario `{}`: no plugin handles `{}` any more",
                inj.scenario, inj.fault_type
            ));
            break;
        };
        calls += count_calls(&inj.calls);
        let limits = Limits::chaos(Duration::from_secs(60));
        let compose = suite
            .scenarios
            .iter()
            .find(|s| s.name == inj.scenario)
            .and_then(|sc| registry.composer(&plugins, &suite, sc, limits, rec.epoch_unix_ns));
        let sctx = Arc::new(ScenarioCtx {
            backend: Arc::new(crate::backend::Replay),
            containers: Default::default(),
            network: None,
            trace: trace.clone(),
            faults: FaultLog::default(),
            slots: Default::default(),
            // Answered from the recording; never read in replay.
            steps_done: Default::default(),
            schedule: Default::default(),
            compose,
            finished: Default::default(),
        });
        let call = ChaosCall {
            stream_seed: seed::stream_seed(seed, &inj.scenario, &plugin.info.name, inj.index),
            epoch_ns: rec.epoch_unix_ns,
            limits,
            scenario: sctx,
            journal: Journal::replay(inj.calls.clone()),
            ready: None,
            depth: 0,
        };
        let injection = Injection {
            fault_type: inj.fault_type.clone(),
            config_json: inj.config_json.clone(),
            scenario: inj.scenario.clone(),
            services: inj.services.clone(),
            parent: inj.parent,
        };
        let ret = registry.inject(plugin, &injection, call).await;
        let place = format!(
            "plugin `{}`, scenario `{}`, injection {}",
            plugin.info.name, inj.scenario, inj.index
        );
        if let Some(Divergence {
            index,
            expected,
            actual,
        }) = ret.divergence
        {
            divergence = Some(format!(
                "{place}: host call #{index}: expected {expected}, got {actual}"
            ));
            break;
        }
        let outcome = engine::outcome_of(&inj.fault_type, &plugin.info.name, ret.result);
        if outcome != inj.outcome {
            divergence = Some(format!(
                "{place}: the plugin returned {:?}, the recording has {:?}",
                outcome, inj.outcome
            ));
            break;
        }
    }
    if divergence.is_none() {
        let left = trace.unreplayed();
        if !left.is_empty() {
            divergence = Some(format!(
                "{} recorded plugin span(s) were not emitted again (span ids {:?})",
                left.len(),
                left.iter().map(|s| s.0).collect::<Vec<_>>()
            ));
        }
    }
    let spans = trace.snapshot();
    let digest = crate::trace::digest::digest_with(&spans, suite.digest_app_spans);
    let (findings, invalid) = engine::validate(registry, &suite, &plugins, &spans).await;
    if let Some(msg) = invalid {
        return Err(msg);
    }
    let verdict_changes = findings
        .iter()
        .filter_map(|f| {
            let then = rec
                .expectations
                .iter()
                .find(|r| r.expectation == f.expectation)?;
            (then.passed != f.passed).then(|| {
                format!(
                    "{}: {} at recording, {} now ({})",
                    f.expectation,
                    verdict(then.passed),
                    verdict(f.passed),
                    f.message
                )
            })
        })
        .collect();
    Ok(ReplayReport {
        name: rec.name.clone(),
        digest,
        recorded_digest: rec.digest.clone(),
        calls,
        injections: rec.injections.len(),
        divergence,
        changed_plugins,
        verdict_changes,
        expectations_passed: findings.iter().filter(|f| f.passed).count(),
        expectations: findings.len(),
        seed,
        spans,
        findings,
    })
}

/// Host calls in a recording, composed plugins' calls included.
fn count_calls(calls: &[crate::runtime::journal::CallRecord]) -> usize {
    calls
        .iter()
        .map(|c| 1 + c.nested.iter().map(|n| count_calls(n)).sum::<usize>())
        .sum()
}

fn verdict(passed: bool) -> &'static str {
    if passed {
        "pass"
    } else {
        "fail"
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
