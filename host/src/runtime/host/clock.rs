//! `clnrm:chaos/clock`: the run's clock. Always granted. Replay answers both
//! calls from the recording (a recording replays without real sleeps).

use super::{HostCall, PluginState};
use crate::runtime::bindings::chaos::clnrm::chaos::clock;
use serde_json::json;
use std::time::Duration;

impl clock::Host for PluginState {
    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        let now = self.scenario()?.trace.clock().now_unix_ms();
        self.answered(HostCall::ClockNowMs, json!([]), |_| async move { Ok(now) })
            .await
    }

    async fn sleep_ms(&mut self, ms: u64) -> wasmtime::Result<()> {
        self.answered(HostCall::ClockSleepMs, json!([ms]), |_| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(())
        })
        .await
    }
}
