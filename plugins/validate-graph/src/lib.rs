//! The `[expect.graph]` validator: all its logic (and its tests) lives in
//! `clnrm_sdk::expect::graph`; this crate only exports it as a plugin.
#![cfg(target_family = "wasm")]

clnrm_sdk::validator_plugin!(name: "validate-graph", table: "graph", parse: clnrm_sdk::expect::parse_graph, check: clnrm_sdk::expect::check_graph);
