//! The crate clnrm plugin authors depend on.
//!
//! - [`chaos`]: bindings for the `chaos-plugin` world; implement
//!   `chaos::exports::clnrm::chaos::chaos::Guest` and call
//!   `clnrm_sdk::export_chaos_plugin!(MyPlugin)`.
//! - [`validator`]: bindings for the `validator-plugin` world; implement
//!   `validator::exports::clnrm::chaos::validator::Guest` and call
//!   `clnrm_sdk::export_validator_plugin!(MyPlugin)`.
//! - [`expect`]: the span model and attribute matchers of DESIGN.md §8, shared by
//!   the first-party validators (pure Rust, tested natively).
//! - [`validator_support`]: WIT records <-> [`expect`] model glue for validator plugins.
//!
//! See `docs/plugin-guide.md` for a walk-through.

/// The WIT package version this SDK builds plugins for: the `package` line of
/// `wit/clnrm.wit` (the host's tests check that they agree).
pub const WIT_VERSION: &str = "0.3.0";

/// Bindings for the `chaos-plugin` world.
pub mod chaos {
    wit_bindgen::generate!({
        world: "chaos-plugin",
        path: "../wit/clnrm.wit",
        pub_export_macro: true,
        export_macro_name: "export_chaos_plugin",
        default_bindings_module: "clnrm_sdk::chaos",
    });
}

/// Bindings for the `validator-plugin` world.
pub mod validator {
    wit_bindgen::generate!({
        world: "validator-plugin",
        path: "../wit/clnrm.wit",
        pub_export_macro: true,
        export_macro_name: "export_validator_plugin",
        default_bindings_module: "clnrm_sdk::validator",
    });
}

pub mod expect;
pub mod validator_support;

pub use chaos::export_chaos_plugin;
pub use validator::export_validator_plugin;
