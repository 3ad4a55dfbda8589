//! The `[[expect.window]]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::window`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-window", table: "window", parse: clnrm_sdk::expect::parse_window, check: clnrm_sdk::expect::check_window);
