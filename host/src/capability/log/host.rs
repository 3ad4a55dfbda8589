//! `clnrm:chaos/log`: the plugin's messages to the host's log (`clnrm -v`).
//! Always granted, never journaled.

use crate::runtime::bindings::chaos::clnrm::chaos::log;
use crate::runtime::host::PluginState;

impl log::Host for PluginState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let p = &self.plugin;
        match level {
            log::Level::Trace => tracing::trace!(plugin = %p, "{message}"),
            log::Level::Debug => tracing::debug!(plugin = %p, "{message}"),
            log::Level::Info => tracing::info!(plugin = %p, "{message}"),
            log::Level::Warn => tracing::warn!(plugin = %p, "{message}"),
            log::Level::Error => tracing::error!(plugin = %p, "{message}"),
        }
        Ok(())
    }
}
