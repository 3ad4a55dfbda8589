//! The `[[expect.span]]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::span`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-span", table: "span", parse: clnrm_sdk::expect::parse_span_expectations, check: clnrm_sdk::expect::check_spans);
