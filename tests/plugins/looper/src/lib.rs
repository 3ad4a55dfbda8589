//! A deliberately bad chaos plugin: `inject` spins forever. The host must stop it
//! with its deadline and still clean the scenario up.
#![cfg(target_family = "wasm")]

use clnrm_sdk::chaos::clnrm::chaos::types::PluginInfo;
use clnrm_sdk::chaos::exports::clnrm::chaos::chaos::{Guest, Injection, Outcome};

struct Looper;

impl Guest for Looper {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "looper".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: clnrm_sdk::WIT_VERSION.into(),
            handles: vec!["loop_forever".into()],
            capabilities: vec![],
        }
    }

    fn check(_fault_type: String, _config_json: String) -> Result<(), String> {
        Ok(())
    }

    fn inject(_injection: Injection) -> Result<Outcome, String> {
        let mut x: u64 = 1;
        loop {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

clnrm_sdk::export_chaos_plugin!(Looper);
