//! `clnrm:chaos/scenario` (0.3.2): the engine's progress through the
//! scenario (`steps-done`, and since 0.3.5 `finished-steps`: read-only, always granted) and holds on its steps
//! (`hold-first-step`, a slow start: needs [`Capability::SCENARIO`]). Replay
//! answers both from the recording (the engine's steps are not re-run).

use crate::runtime::bindings::chaos::clnrm::chaos::scenario;
use crate::runtime::host::{Capability, HostCall, PluginState};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The calls of `clnrm:chaos/scenario`, as recordings name them.
impl HostCall {
    pub const SCENARIO_STEPS_DONE: HostCall = HostCall("scenario.steps-done");
    pub const SCENARIO_HOLD_FIRST_STEP: HostCall = HostCall("scenario.hold-first-step");
    pub const SCENARIO_FINISHED_STEPS: HostCall = HostCall("scenario.finished-steps");
}

fn finished(s: crate::runtime::FinishedStep) -> scenario::FinishedStep {
    scenario::FinishedStep {
        index: s.index,
        name: s.name,
        service: s.service,
        passed: s.passed,
        exit_code: s.exit_code,
        ended_ms: s.ended_ms,
    }
}

impl scenario::Host for PluginState {
    async fn finished_steps(&mut self) -> wasmtime::Result<Vec<scenario::FinishedStep>> {
        let steps = self.scenario()?.finished_steps();
        self.answered(
            HostCall::SCENARIO_FINISHED_STEPS,
            json!([]),
            |_| async move { Ok(steps.into_iter().map(finished).collect()) },
        )
        .await
    }

    async fn steps_done(&mut self) -> wasmtime::Result<bool> {
        let done = self.scenario()?.steps_done.load(Ordering::Acquire);
        self.answered(HostCall::SCENARIO_STEPS_DONE, json!([]), |_| async move {
            Ok(done)
        })
        .await
    }

    async fn hold_first_step(
        &mut self,
        service: String,
        delay_ms: u64,
    ) -> wasmtime::Result<Result<u64, String>> {
        self.require(Capability::SCENARIO)?;
        let args = json!([service, delay_ms]);
        self.answered(HostCall::SCENARIO_HOLD_FIRST_STEP, args, |s| {
            let ctx = s.scenario().cloned();
            async move {
                let ctx = ctx?;
                if !ctx.containers.contains_key(&service) {
                    return Ok(Err(format!("no service `{service}` in this scenario")));
                }
                let held = match ctx.schedule.hold(&service, Duration::from_millis(delay_ms)) {
                    Ok(rx) => rx,
                    Err(e) => return Ok(Err(e)),
                };
                Ok(held
                    .await
                    .unwrap_or_else(|_| Err("the scenario ended before the step".into())))
            }
        })
        .await
    }
}
