//! The host side of the WIT imports: what a plugin may ask the host to do.
//! One `PluginState` per call (a fresh store), holding the plugin's granted
//! capabilities, its random stream, and the scenario it acts on.

use super::bindings::chaos::clnrm::chaos::{clock, container, log, rng, spans, types};
use super::bindings::{AttrValue as WitAttr, SpanKind as WitKind, SpanStatus as WitStatus};
use super::journal::{Journal, Step};
use super::scenario::{FaultKind, ScenarioCtx};
use crate::backend::ContainerBackend;
use crate::trace::{AttrValue, SpanId, SpanKind, SpanStatus, Trace};
use serde_json::json;

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;
use rand_core::Rng;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::format_err as anyhow;
use wasmtime::StoreLimits;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Host capabilities a plugin can be granted (declared in `plugin-info`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Grants {
    pub container: bool,
}

impl Grants {
    pub fn from_declared(caps: &[String]) -> Grants {
        Grants {
            container: caps.iter().any(|c| c == "container"),
        }
    }
}

pub struct PluginState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limits: StoreLimits,
    pub(super) plugin: String,
    pub(super) grants: Grants,
    pub(super) rng: rand_chacha::ChaCha20Rng,
    pub(super) scenario: Option<Arc<ScenarioCtx>>,
    /// Spans this call opened, so the host can close them if the plugin dies.
    pub(super) opened: Vec<SpanId>,
    /// Live, recording, or replaying host calls.
    pub(super) journal: Journal,
    /// The plugin's stderr (kept in memory for trap messages).
    pub(super) stderr: wasmtime_wasi::p2::pipe::MemoryOutputPipe,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl PluginState {
    fn scenario(&self) -> wasmtime::Result<&ScenarioCtx> {
        self.scenario.as_deref().ok_or_else(|| {
            anyhow!(
                "plugin `{}` called a scenario interface outside a scenario",
                self.plugin
            )
        })
    }

    fn grant_container(&self) -> wasmtime::Result<()> {
        if !self.grants.container {
            return Err(anyhow!("plugin `{}` called clnrm:chaos/container without declaring the \"container\" capability", self.plugin));
        }
        Ok(())
    }

    /// The scenario and the container id for a service.
    fn container_of(
        &self,
        service: &str,
    ) -> wasmtime::Result<Result<(Arc<ScenarioCtx>, String), String>> {
        let ctx = self.scenario.clone().ok_or_else(|| {
            anyhow!(
                "plugin `{}` called a scenario interface outside a scenario",
                self.plugin
            )
        })?;
        Ok(match ctx.containers.get(service) {
            Some(id) => Ok((ctx.clone(), id.clone())),
            None => Err(format!(
                "no service `{service}` in this scenario (services: {})",
                ctx.containers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        })
    }

    fn span(&self, handle: u64) -> wasmtime::Result<(&Trace, SpanId)> {
        let trace = &self.scenario()?.trace;
        let id = SpanId(
            u32::try_from(handle).map_err(|_| anyhow!("span handle {handle} out of range"))?,
        );
        if !trace.contains(id) {
            return Err(anyhow!(
                "plugin `{}` used span handle {handle}, which does not exist",
                self.plugin
            ));
        }
        Ok((trace, id))
    }
}

impl PluginState {
    /// Close, with an error, every span this call opened and left open.
    pub(super) fn close_open_spans(&self, why: &str) {
        if let Some(ctx) = &self.scenario {
            for id in &self.opened {
                ctx.trace.end(*id, SpanStatus::Error, Some(why.to_string()));
            }
        }
    }
}

impl types::Host for PluginState {}

/// Run a Docker operation on a service's container and, when it is a fault
/// and took effect, note it in the fault log. `op` gets the Docker client,
/// the container id and the scenario's network (checked present when
/// `needs_network`). Owns what it uses: the store is not held across awaits.
async fn live<F>(
    target: Result<(Arc<ScenarioCtx>, String), String>,
    service: String,
    kind: FaultKind,
    needs_network: bool,
    op: F,
) -> wasmtime::Result<Result<String, String>>
where
    F: FnOnce(
        Arc<dyn ContainerBackend>,
        String,
        Option<crate::backend::Network>,
    ) -> BoxFuture<Result<String, crate::backend::DockerError>>,
{
    let (ctx, id) = match target {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    if needs_network && ctx.network.is_none() {
        return Ok(Err("this scenario has no network of its own".into()));
    }
    let r = op(ctx.backend(), id, ctx.network.clone())
        .await
        .map_err(|e| e.to_string());
    if r.is_ok() && kind != FaultKind::None {
        ctx.faults
            .record(&service, kind, ctx.trace.clock().elapsed_ns());
    }
    Ok(r)
}

/// Answer from the replay, or run `$live` and record it.
macro_rules! journaled {
    ($self:ident, $call:literal, [$($arg:expr),*], $live:expr) => {{
        let args = json!([$($arg),*]);
        if let Step::Answered(r) = $self.journal.answer($call, &args)? {
            return Ok(r);
        }
        let r = $live;
        $self.journal.after($call, args, &r, None)?;
        Ok(r)
    }};
}

impl container::Host for PluginState {
    async fn kill(
        &mut self,
        service: String,
        signal: String,
    ) -> wasmtime::Result<Result<(), String>> {
        self.grant_container()?;
        journaled!(
            self,
            "container.kill",
            [service, signal],
            live(
                self.container_of(&service)?,
                service.clone(),
                FaultKind::Signal,
                false,
                |d, id, _| Box::pin(
                    async move { d.kill(&id, &signal).await.map(|_| String::new()) }
                )
            )
            .await?
            .map(|_| ())
        )
    }

    async fn pause(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        self.grant_container()?;
        journaled!(
            self,
            "container.pause",
            [service],
            live(
                self.container_of(&service)?,
                service.clone(),
                FaultKind::Pause,
                false,
                |d, id, _| Box::pin(async move { d.pause(&id).await.map(|_| String::new()) })
            )
            .await?
            .map(|_| ())
        )
    }

    async fn unpause(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        self.grant_container()?;
        journaled!(
            self,
            "container.unpause",
            [service],
            live(
                self.container_of(&service)?,
                service.clone(),
                FaultKind::None,
                false,
                |d, id, _| Box::pin(async move { d.unpause(&id).await.map(|_| String::new()) })
            )
            .await?
            .map(|_| ())
        )
    }

    async fn network_disconnect(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<String, String>> {
        self.grant_container()?;
        journaled!(
            self,
            "container.network-disconnect",
            [service],
            live(
                self.container_of(&service)?,
                service.clone(),
                FaultKind::NetworkCut,
                true,
                |d, id, net| Box::pin(async move {
                    let net = net.unwrap_or_default();
                    d.network_disconnect(&net.id, &id).await.map(|_| net.name)
                })
            )
            .await?
        )
    }

    async fn network_connect(&mut self, service: String) -> wasmtime::Result<Result<(), String>> {
        self.grant_container()?;
        let alias = service.clone();
        journaled!(
            self,
            "container.network-connect",
            [service],
            live(
                self.container_of(&service)?,
                service.clone(),
                FaultKind::None,
                true,
                |d, id, net| Box::pin(async move {
                    let net = net.unwrap_or_default();
                    d.network_connect(&net.id, &id, &alias)
                        .await
                        .map(|_| String::new())
                })
            )
            .await?
            .map(|_| ())
        )
    }

    async fn network_attached(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<bool, String>> {
        self.grant_container()?;
        journaled!(
            self,
            "container.network-attached",
            [service],
            live(
                self.container_of(&service)?,
                service.clone(),
                FaultKind::None,
                true,
                |d, id, net| Box::pin(async move {
                    let net = net.unwrap_or_default();
                    d.network_attached(&net.name, &id)
                        .await
                        .map(|a| a.to_string())
                })
            )
            .await?
            .map(|a| a == "true")
        )
    }

    async fn inspect(
        &mut self,
        service: String,
    ) -> wasmtime::Result<Result<container::ContainerState, String>> {
        self.grant_container()?;
        journaled!(self, "container.inspect", [service], {
            match self.container_of(&service)? {
                Err(e) => Err(e),
                Ok((ctx, id)) => ctx
                    .backend()
                    .inspect(&id)
                    .await
                    .map_err(|e| e.to_string())
                    .map(|s| container::ContainerState {
                        status: s.status,
                        running: s.running,
                        exit_code: s.exit_code.map(|c| c as i32),
                        oom_killed: s.oom_killed,
                    }),
            }
        })
    }
}

impl clock::Host for PluginState {
    async fn now_ms(&mut self) -> wasmtime::Result<u64> {
        let now = self.scenario()?.trace.clock().now_unix_ms();
        journaled!(self, "clock.now-ms", [], now)
    }

    async fn sleep_ms(&mut self, ms: u64) -> wasmtime::Result<()> {
        // Replay answers without sleeping: a recording replays fast.
        journaled!(
            self,
            "clock.sleep-ms",
            [ms],
            tokio::time::sleep(Duration::from_millis(ms)).await
        )
    }
}

impl rng::Host for PluginState {
    async fn next_u64(&mut self) -> wasmtime::Result<u64> {
        let recorded = self.journal.check("rng.next-u64", &json!([]))?;
        let v = self.rng.next_u64();
        self.journal
            .after("rng.next-u64", json!([]), &v, recorded)?;
        Ok(v)
    }

    async fn next_f64(&mut self) -> wasmtime::Result<f64> {
        let recorded = self.journal.check("rng.next-f64", &json!([]))?;
        // 53 random bits -> [0, 1).
        let v = (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        self.journal
            .after("rng.next-f64", json!([]), &v, recorded)?;
        Ok(v)
    }
}

/// Span calls are executed in every mode (a replayed plugin rebuilds its own
/// spans); in replay their arguments and results are checked as well.
impl spans::Host for PluginState {
    async fn start(&mut self, name: String, parent: u64, kind: WitKind) -> wasmtime::Result<u64> {
        let args = json!([name, parent, kind]);
        let recorded = self.journal.check("spans.start", &args)?;
        let (trace, parent_id) = self.span(parent)?;
        let id = match recorded.as_ref().and_then(|v| v.as_u64()) {
            // Replay: the span goes back into the slot it had.
            Some(h) => trace.start_at(
                SpanId(h as u32),
                name,
                Some(parent_id),
                kind.into(),
                &self.plugin,
            ),
            None => trace.start_plugin(name, Some(parent_id), kind.into(), &self.plugin),
        };
        self.opened.push(id);
        self.journal
            .after("spans.start", args, &(id.0 as u64), recorded)?;
        Ok(id.0 as u64)
    }

    async fn set_attribute(
        &mut self,
        span: u64,
        key: String,
        value: WitAttr,
    ) -> wasmtime::Result<()> {
        let args = json!([span, key, value]);
        let recorded = self.journal.check("spans.set-attribute", &args)?;
        let (trace, id) = self.span(span)?;
        trace.set_attr(id, key, AttrValue::from(value));
        self.journal
            .after("spans.set-attribute", args, &(), recorded)
    }

    async fn add_event(
        &mut self,
        span: u64,
        name: String,
        attributes: Vec<types::Attribute>,
    ) -> wasmtime::Result<()> {
        let args = json!([span, name, attributes]);
        let recorded = self.journal.check("spans.add-event", &args)?;
        let (trace, id) = self.span(span)?;
        trace.add_event(
            id,
            name,
            attributes
                .into_iter()
                .map(|a| (a.key, a.value.into()))
                .collect(),
        );
        self.journal.after("spans.add-event", args, &(), recorded)
    }

    async fn end(
        &mut self,
        span: u64,
        status: WitStatus,
        message: Option<String>,
    ) -> wasmtime::Result<()> {
        let args = json!([span, status, message]);
        let recorded = self.journal.check("spans.end", &args)?;
        let (trace, id) = self.span(span)?;
        trace.end(id, status.into(), message);
        self.journal.after("spans.end", args, &(), recorded)
    }
}

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

impl From<WitAttr> for AttrValue {
    fn from(v: WitAttr) -> Self {
        match v {
            WitAttr::Str(s) => AttrValue::Str(s),
            WitAttr::Int(i) => AttrValue::Int(i),
            WitAttr::Float(f) => AttrValue::Float(f),
            WitAttr::Boolean(b) => AttrValue::Bool(b),
        }
    }
}

impl From<&AttrValue> for WitAttr {
    fn from(v: &AttrValue) -> Self {
        match v {
            AttrValue::Str(s) => WitAttr::Str(s.clone()),
            AttrValue::Int(i) => WitAttr::Int(*i),
            AttrValue::Float(f) => WitAttr::Float(*f),
            AttrValue::Bool(b) => WitAttr::Boolean(*b),
        }
    }
}

impl From<WitKind> for SpanKind {
    fn from(k: WitKind) -> Self {
        match k {
            WitKind::Internal => SpanKind::Internal,
            WitKind::Server => SpanKind::Server,
            WitKind::Client => SpanKind::Client,
            WitKind::Producer => SpanKind::Producer,
            WitKind::Consumer => SpanKind::Consumer,
        }
    }
}

impl From<SpanKind> for WitKind {
    fn from(k: SpanKind) -> Self {
        match k {
            SpanKind::Internal => WitKind::Internal,
            SpanKind::Server => WitKind::Server,
            SpanKind::Client => WitKind::Client,
            SpanKind::Producer => WitKind::Producer,
            SpanKind::Consumer => WitKind::Consumer,
        }
    }
}

impl From<WitStatus> for SpanStatus {
    fn from(s: WitStatus) -> Self {
        match s {
            WitStatus::Unset => SpanStatus::Unset,
            WitStatus::Ok => SpanStatus::Ok,
            WitStatus::Error => SpanStatus::Error,
        }
    }
}

impl From<SpanStatus> for WitStatus {
    fn from(s: SpanStatus) -> Self {
        match s {
            SpanStatus::Unset => WitStatus::Unset,
            SpanStatus::Ok => WitStatus::Ok,
            SpanStatus::Error => WitStatus::Error,
        }
    }
}
