//! The `[expect.chaos]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::chaos`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-chaos", table: "chaos", parse: clnrm_sdk::expect::parse_chaos, check: clnrm_sdk::expect::check_chaos);
