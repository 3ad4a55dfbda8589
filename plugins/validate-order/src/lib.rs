//! The `[expect.order]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::order`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-order", table: "order", parse: clnrm_sdk::expect::parse_order, check: clnrm_sdk::expect::check_order);
