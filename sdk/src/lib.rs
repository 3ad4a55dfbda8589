//! The crate clnrm plugin authors depend on.
//!
//! A chaos plugin is `use clnrm_sdk::prelude::*;`, a `#[derive(Deserialize)]` config, an
//! `impl ChaosPlugin` and `clnrm_sdk::chaos_plugin!(MyPlugin);` (see
//! `docs/plugin-guide.md` and `examples/third-party-plugin`).
//!
//! - [`prelude`]: what a plugin author imports.
//! - [`config`]: typed configuration ([`config::parse`]) and [`config::ConfigError`], the
//!   structured error (with the offending key's path) every plugin's `check` returns.
//! - [`fault`]: chaos helpers: the observe-before-claim [`fault::FaultSpan`], target
//!   selection (seeded `"random"`), [`fault::Signal`], waiting for a container state.
//! - [`chaos_support`]: [`ChaosPlugin`] and [`chaos_plugin!`], a chaos plugin's exports.
//! - [`validator_support`] and [`validator_plugin!`]: a validator plugin in one line.
//! - [`suggest`]: "did you mean", shared with the host.
//! - [`vocab`]: span names, attribute keys and `error.type` values, spelled once (ungated:
//!   the host uses it too); [`pressure`]: `pressure.level` from a reading and its limit
//!   (the plugin and the host judge alike).
//! - [`packed`]: the packed trace (WIT 0.3.3 `validate-packed`): the host writes it, a
//!   validator reads it (into [`expect::Trace`] with `Trace::from_packed`); [`otel`]: the
//!   span kind and status it carries.
//! - [`host`]: the host interfaces plugins call (the WIT imports; with the `fake-host`
//!   feature on a native target, [`fake`], an in-memory host for unit tests).
//! - [`chaos`], [`validator`]: the raw WIT bindings of the two worlds.
//!
//! Everything but [`config`], [`suggest`], [`packed`], [`otel`], [`pressure`] and [`vocab`] is behind the default
//! `guest` feature, so the host can depend on this crate (`default-features = false`) for
//! those alone, without the bindings.
//! - [`expect`]: the span model and the first-party validators' checkers (pure Rust,
//!   tested natively).

/// The WIT package version this SDK builds plugins for: the `package` line of
/// `wit/clnrm.wit` (the host's tests check that they agree).
pub const WIT_VERSION: &str = "0.3.5";

/// Bindings for the `chaos-plugin` world.
#[cfg(feature = "guest")]
pub mod chaos {
    wit_bindgen::generate!({
        world: "chaos-plugin",
        path: "../wit/clnrm.wit",
        pub_export_macro: true,
        export_macro_name: "export_chaos_plugin",
        default_bindings_module: "clnrm_sdk::chaos",
        additional_derives: [PartialEq],
    });
}

/// Bindings for the `validator-plugin` world.
#[cfg(feature = "guest")]
pub mod validator {
    wit_bindgen::generate!({
        world: "validator-plugin",
        path: "../wit/clnrm.wit",
        pub_export_macro: true,
        export_macro_name: "export_validator_plugin",
        default_bindings_module: "clnrm_sdk::validator",
        // Tests compare check results (config-error) by value.
        additional_derives: [PartialEq],
    });
}

// The export macros name `clnrm_sdk::...`; this lets the sdk's own tests use them.
extern crate self as clnrm_sdk;

// Always built (the host uses these too, with `default-features = false`).
pub mod config;
pub mod otel;
pub mod packed;
pub mod pressure;
pub mod suggest;
pub mod vocab;

// What plugins need: the `guest` feature (on by default).
#[cfg(feature = "guest")]
pub mod chaos_support;
#[cfg(feature = "guest")]
pub mod expect;
#[cfg(all(feature = "fake-host", not(target_arch = "wasm32")))]
pub mod fake;
#[cfg(feature = "guest")]
pub mod fault;
#[cfg(feature = "guest")]
pub mod host;
#[cfg(feature = "guest")]
pub mod prelude;
#[cfg(feature = "guest")]
pub mod validator_support;

#[cfg(feature = "guest")]
pub use chaos::export_chaos_plugin;
#[cfg(feature = "guest")]
pub use chaos_support::ChaosPlugin;
#[cfg(feature = "guest")]
pub use validator::export_validator_plugin;
