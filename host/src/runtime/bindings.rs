//! Host-side bindings generated from `wit/clnrm.wit`. Imports are async (a
//! plugin can `sleep-ms(500)` then `kill`) and trappable (a bad handle traps
//! the plugin instead of panicking the host).

pub mod chaos {
    wasmtime::component::bindgen!({
        world: "chaos-plugin",
        path: "../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        // Host-call arguments and results are recorded for replay.
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    });
}

pub mod validator {
    wasmtime::component::bindgen!({
        world: "validator-plugin",
        path: "../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        // One set of shared types and one `log` implementation for both worlds.
        with: {
            "clnrm:chaos/types": super::chaos::clnrm::chaos::types,
            "clnrm:chaos/log": super::chaos::clnrm::chaos::log,
        },
    });
}

pub use chaos::clnrm::chaos::types::{
    AttrValue, PluginInfo as WitPluginInfo, SpanKind, SpanStatus,
};
