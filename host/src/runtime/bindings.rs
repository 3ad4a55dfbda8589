//! Host-side bindings generated from the WIT. Imports are async (a plugin can
//! `sleep-ms(500)` then `kill`) and trappable (a bad handle traps the plugin
//! instead of panicking the host).
//!
//! Two sets: the current package (`wit/clnrm.wit`) and, in [`v0_2`], the
//! frozen `wit/compat/0.2.0/clnrm.wit`, so plugins built against 0.2.x keep
//! loading (docs/wit-versioning.md). Both link into the same `Linker`s: the
//! import names differ by version (`clnrm:chaos/container@0.2.0` and
//! `@0.3.0`).

pub mod chaos {
    wasmtime::component::bindgen!({
        world: "chaos-plugin",
        path: "../wit/clnrm.wit",
        imports: { default: async | trappable },
        exports: { default: async },
        // Host-call arguments and results are recorded for replay.
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    });
}

pub mod validator {
    wasmtime::component::bindgen!({
        world: "validator-plugin",
        path: "../wit/clnrm.wit",
        imports: { default: async | trappable },
        exports: { default: async },
        // One set of shared types and one `log` implementation for both worlds.
        with: {
            "clnrm:chaos/types": super::chaos::clnrm::chaos::types,
            "clnrm:chaos/log": super::chaos::clnrm::chaos::log,
        },
    });
}

/// `clnrm:chaos@0.2.0`, frozen. Its shared types are the current ones (the
/// 0.3 `types` interface only added to them; wasmtime type-checks records and
/// variants by structure, not by package), so only the interfaces with
/// functions get 0.2 types of their own.
pub mod v0_2 {
    pub mod chaos {
        wasmtime::component::bindgen!({
            world: "chaos-plugin",
            path: "../wit/compat/0.2.0/clnrm.wit",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "clnrm:chaos/types": crate::runtime::bindings::chaos::clnrm::chaos::types,
            },
        });
    }

    pub mod validator {
        wasmtime::component::bindgen!({
            world: "validator-plugin",
            path: "../wit/compat/0.2.0/clnrm.wit",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "clnrm:chaos/types": crate::runtime::bindings::chaos::clnrm::chaos::types,
                "clnrm:chaos/log": super::chaos::clnrm::chaos::log,
            },
        });
    }
}

pub use chaos::clnrm::chaos::types::{
    AttrValue, ConfigError, PluginInfo as WitPluginInfo, SpanKind, SpanStatus,
};
