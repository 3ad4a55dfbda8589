//! `clnrm:chaos/clock`: the run's clock. Always granted. Replay answers both
//! calls from the recording (a recording replays without real sleeps).

use crate::runtime::bindings::chaos::clnrm::chaos::clock;
use crate::runtime::host::{HostCall, PluginState};
use serde_json::json;
use std::time::Duration;

/// The calls of `clnrm:chaos/clock`, as recordings name them.
impl HostCall {
    pub const CLOCK_NOW_MS: HostCall = HostCall("clock.now-ms");
    pub const CLOCK_SLEEP_MS: HostCall = HostCall("clock.sleep-ms");
}

impl clock::Host for PluginState {
    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        let now = self.scenario()?.trace.clock().now_unix_ms();
        self.answered(
            HostCall::CLOCK_NOW_MS,
            json!([]),
            |_| async move { Ok(now) },
        )
        .await
    }

    async fn sleep_ms(&mut self, ms: u64) -> wasmtime::Result<()> {
        self.answered(HostCall::CLOCK_SLEEP_MS, json!([ms]), |_| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(())
        })
        .await
    }
}
