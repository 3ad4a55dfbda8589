//! `clnrm:chaos/rng`: the plugin instance's seeded random stream. Always
//! granted. Replay draws again and compares (a changed seed shows up).

use crate::runtime::bindings::chaos::clnrm::chaos::rng;
use crate::runtime::host::{HostCall, PluginState};
use rand_core::Rng;
use serde_json::json;

/// The calls of `clnrm:chaos/rng`, as recordings name them.
impl HostCall {
    pub const RNG_NEXT_U_6_4: HostCall = HostCall("rng.next-u64");
    pub const RNG_NEXT_F_6_4: HostCall = HostCall("rng.next-f64");
}

impl rng::Host for PluginState {
    async fn next_u64(&mut self) -> wasmtime::Result<u64> {
        self.executed(HostCall::RNG_NEXT_U_6_4, json!([]), |s, _| {
            Ok(s.rng.next_u64())
        })
    }

    async fn next_f64(&mut self) -> wasmtime::Result<f64> {
        self.executed(HostCall::RNG_NEXT_F_6_4, json!([]), |s, _| {
            // 53 random bits -> [0, 1).
            Ok((s.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64))
        })
    }
}
