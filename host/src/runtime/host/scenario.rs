//! `clnrm:chaos/scenario` (0.3.2): the engine's progress through the
//! scenario, read-only. Always granted. Replay answers from the recording.

use super::{HostCall, PluginState};
use crate::runtime::bindings::chaos::clnrm::chaos::scenario;
use serde_json::json;
use std::sync::atomic::Ordering;

/// The calls of `clnrm:chaos/scenario`, as recordings name them.
impl HostCall {
    pub const SCENARIO_STEPS_DONE: HostCall = HostCall("scenario.steps-done");
}

impl scenario::Host for PluginState {
    async fn steps_done(&mut self) -> wasmtime::Result<bool> {
        let done = self.scenario()?.steps_done.load(Ordering::Acquire);
        self.answered(HostCall::SCENARIO_STEPS_DONE, json!([]), |_| async move {
            Ok(done)
        })
        .await
    }
}
