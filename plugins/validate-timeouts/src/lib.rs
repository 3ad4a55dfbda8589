//! The `[expect.timeouts]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::timeouts`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-timeouts", table: "timeouts", parse: clnrm_sdk::expect::parse_timeouts, check: clnrm_sdk::expect::check_timeouts);
