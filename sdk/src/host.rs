//! The one switch between a plugin and its host. Plugins (and the SDK's own helpers) call
//! the host interfaces through these modules, never through the raw bindings, so that:
//!
//! - in a plugin (`wasm32`), they are the WIT imports, unchanged;
//! - with the `fake-host` feature on a native target (a plugin's `cargo test`), they are
//!   [`crate::fake`]: the same functions and types, answered by an in-memory host the test
//!   scripts and then inspects. Plugin logic is tested without Docker or wasmtime.

#[cfg(not(all(feature = "fake-host", not(target_arch = "wasm32"))))]
pub use crate::chaos::clnrm::chaos::{
    cgroup, clock, compose, container, log, net, rng, scenario, spans,
};

#[cfg(all(feature = "fake-host", not(target_arch = "wasm32")))]
pub use crate::fake::imports::{cgroup, clock, compose, container, log, net, rng, scenario, spans};
