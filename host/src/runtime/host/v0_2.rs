//! The imports of `clnrm:chaos@0.2.0` (wit/compat/0.2.0), for plugins built
//! against 0.2.x: every function delegates to the current implementation, so
//! capabilities, journaling and recordings are exactly those of 0.3 (a
//! recording does not say which WIT version made a call).

use super::PluginState;
use crate::runtime::bindings::chaos::clnrm::chaos as now;
use crate::runtime::bindings::v0_2::chaos::clnrm::chaos::{clock, container, log, rng, spans};
use crate::runtime::bindings::{AttrValue, SpanKind, SpanStatus};
use now::types::Attribute;

impl container::Host for PluginState {
    async fn kill(
        &mut self,
        service: String,
        signal: String,
    ) -> wasmtime::Result<Result<(), String>> {
        now::container::Host::kill(self, service, signal).await
    }

    async fn inspect(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<container::ContainerState, String>> {
        Ok(now::container::Host::inspect(self, service)
            .await?
            .map(|s| container::ContainerState {
                status: s.status,
                running: s.running,
                exit_code: s.exit_code,
                oom_killed: s.oom_killed,
            }))
    }

    async fn pause(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        now::container::Host::pause(self, service).await
    }

    async fn unpause(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        now::container::Host::unpause(self, service).await
    }

    async fn network_disconnect(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<String, String>> {
        now::container::Host::network_disconnect(self, service).await
    }

    async fn network_connect(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        now::container::Host::network_connect(self, service).await
    }

    async fn network_attached(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<bool, String>> {
        now::container::Host::network_attached(self, service).await
    }
}

impl clock::Host for PluginState {
    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        now::clock::Host::now_ms(self).await
    }

    async fn sleep_ms(&mut self, ms: u64) -> wasmtime::Result<()> {
        now::clock::Host::sleep_ms(self, ms).await
    }
}

impl rng::Host for PluginState {
    async fn next_u64(&mut self) -> wasmtime::Result<u64> {
        now::rng::Host::next_u64(self).await
    }

    async fn next_f64(&mut self) -> wasmtime::Result<f64> {
        now::rng::Host::next_f64(self).await
    }
}

impl spans::Host for PluginState {
    async fn start(&mut self, name: String, parent: u64, kind: SpanKind) -> wasmtime::Result<u64> {
        now::spans::Host::start(self, name, parent, kind).await
    }

    async fn set_attribute(
        &mut self,
        span: u64,
        key: String,
        value: AttrValue,
    ) -> wasmtime::Result<()> {
        now::spans::Host::set_attribute(self, span, key, value).await
    }

    async fn add_event(
        &mut self,
        span: u64,
        name: String,
        attributes: Vec<Attribute>,
    ) -> wasmtime::Result<()> {
        now::spans::Host::add_event(self, span, name, attributes).await
    }

    async fn end(
        &mut self,
        span: u64,
        status: SpanStatus,
        message: Option<String>,
    ) -> wasmtime::Result<()> {
        now::spans::Host::end(self, span, status, message).await
    }
}

impl log::Host for PluginState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => now::log::Level::Trace,
            log::Level::Debug => now::log::Level::Debug,
            log::Level::Info => now::log::Level::Info,
            log::Level::Warn => now::log::Level::Warn,
            log::Level::Error => now::log::Level::Error,
        };
        now::log::Host::log(self, level, message).await
    }
}
