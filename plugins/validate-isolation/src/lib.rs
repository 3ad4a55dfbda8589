//! The `[expect.isolation]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::isolation`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-isolation", table: "isolation", parse: clnrm_sdk::expect::parse_isolation, check: clnrm_sdk::expect::check_isolation);
