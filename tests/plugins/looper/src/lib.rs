//! A deliberately bad chaos plugin for the sandbox tests. Each fault type
//! misbehaves in one way the host must contain, and the scenario's cleanup
//! must still run:
//! - `loop_forever`: spins without calling the host (the deadline stops it);
//! - `trap`: panics (a wasm trap);
//! - `bloat`: allocates until the memory cap stops it.
#![cfg(target_family = "wasm")]

use clnrm_sdk::chaos::clnrm::chaos::types::{ConfigError, PluginInfo};
use clnrm_sdk::chaos::exports::clnrm::chaos::chaos::{Guest, Injection, Outcome};

struct Looper;

impl Guest for Looper {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "looper".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            wit_version: clnrm_sdk::WIT_VERSION.into(),
            handles: vec!["loop_forever".into(), "trap".into(), "bloat".into()],
            capabilities: vec![],
        }
    }

    fn check(_fault_type: String, _config_json: String) -> Result<(), ConfigError> {
        Ok(())
    }

    fn inject(injection: Injection) -> Result<Outcome, String> {
        match injection.fault_type.as_str() {
            "trap" => panic!("looper: deliberate trap"),
            "bloat" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    // Touch every page so the memory is really committed.
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            _ => {
                let mut x: u64 = 1;
                loop {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
        }
    }
}

clnrm_sdk::export_chaos_plugin!(Looper);
