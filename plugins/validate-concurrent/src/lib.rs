//! The `[expect.concurrent]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::concurrent`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-concurrent", table: "concurrent", parse: clnrm_sdk::expect::parse_concurrent, check: clnrm_sdk::expect::check_concurrent);
