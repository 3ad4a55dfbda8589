//! The `[expect.hermeticity]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::hermeticity`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-hermeticity", table: "hermeticity", parse: clnrm_sdk::expect::parse_hermeticity, check: clnrm_sdk::expect::check_hermeticity);
