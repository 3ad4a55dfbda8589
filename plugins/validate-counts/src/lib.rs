//! The `[expect.counts]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::counts`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-counts", table: "counts", parse: clnrm_sdk::expect::parse_counts, check: clnrm_sdk::expect::check_counts);
