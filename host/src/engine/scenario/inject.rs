//! The chaos injections: every one of the scenario's, at once, each through
//! the plugin that handles its fault type.

use crate::engine::outcome::{InjectionOutcome, InjectionRecording};
use crate::engine::{seed, RunCtx};
use crate::runtime::journal::Journal;
use crate::runtime::{ChaosCall, Limits, ResolvedPlugins, ScenarioCtx};
use crate::suite::{InjectionSpec, ScenarioSpec};
use crate::trace::SpanId;
use futures_util::future::join_all;
use std::sync::Arc;

/// Every injection of the scenario at once, each outcome with its recording.
pub(super) async fn run_injections(
    ctx: &RunCtx,
    span: SpanId,
    sc: &ScenarioSpec,
    plugins: &ResolvedPlugins,
    run_seed: u64,
    sctx: &Arc<ScenarioCtx>,
) -> Vec<(InjectionOutcome, InjectionRecording)> {
    join_all(
        sc.injections
            .iter()
            .enumerate()
            .map(|(i, inj)| inject_one(ctx, span, sc, plugins, run_seed, sctx, i, inj)),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn inject_one(
    ctx: &RunCtx,
    span: SpanId,
    sc: &ScenarioSpec,
    plugins: &ResolvedPlugins,
    run_seed: u64,
    sctx: &Arc<ScenarioCtx>,
    index: usize,
    inj: &InjectionSpec,
) -> (InjectionOutcome, InjectionRecording) {
    let injection = crate::runtime::Injection {
        fault_type: inj.fault_type.clone(),
        config_json: inj.config_json.clone(),
        scenario: sc.name.clone(),
        services: sc.services.clone(),
        parent: span.0 as u64,
    };
    let mut recording = InjectionRecording {
        scenario: sc.name.clone(),
        index,
        fault_type: inj.fault_type.clone(),
        plugin: String::new(),
        config_json: inj.config_json.clone(),
        services: sc.services.clone(),
        parent: injection.parent,
        calls: Vec::new(),
        outcome: InjectionOutcome {
            fault_type: inj.fault_type.clone(),
            plugin: String::new(),
            observed: false,
            summary: String::new(),
            error: None,
        },
    };
    let ready = sctx.schedule.ready();
    let Some(plugin) = plugins.chaos.get(&inj.fault_type) else {
        ready.settle();
        recording.outcome.error = Some(format!("no plugin handles `{}`", inj.fault_type));
        return (recording.outcome.clone(), recording);
    };
    let call = ChaosCall {
        stream_seed: seed::stream_seed(run_seed, &sc.name, &plugin.info.name, index),
        epoch_ns: sctx.trace.clock().epoch_unix_ns(),
        limits: Limits::chaos(sc.max_duration),
        scenario: sctx.clone(),
        journal: if ctx.record {
            Journal::Record(Vec::new())
        } else {
            Journal::Live
        },
        ready: Some(ready),
        depth: 0,
    };
    let ret = ctx.registry.inject(plugin, &injection, call).await;
    recording.plugin = plugin.info.name.clone();
    recording.outcome = outcome_of(&inj.fault_type, &plugin.info.name, ret.result);
    recording.calls = ret.journal.into_calls();
    (recording.outcome.clone(), recording)
}

/// The engine's view of what an injection did.
pub fn outcome_of(
    fault_type: &str,
    plugin: &str,
    result: Result<crate::runtime::Outcome, crate::runtime::PluginError>,
) -> InjectionOutcome {
    match result {
        Ok(o) => InjectionOutcome {
            fault_type: fault_type.to_string(),
            plugin: plugin.to_string(),
            observed: o.observed,
            summary: o.summary,
            error: None,
        },
        Err(e) => InjectionOutcome {
            fault_type: fault_type.to_string(),
            plugin: plugin.to_string(),
            observed: false,
            summary: String::new(),
            error: Some(e.to_string()),
        },
    }
}
