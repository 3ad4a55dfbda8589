//! The `[expect.resources]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::resources`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-resources", table: "resources", parse: clnrm_sdk::expect::parse_resources, check: clnrm_sdk::expect::check_resources);
