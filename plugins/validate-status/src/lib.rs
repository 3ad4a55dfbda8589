//! The `[expect.status]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::status`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-status", table: "status", parse: clnrm_sdk::expect::parse_status, check: clnrm_sdk::expect::check_status);
