//! The host side of the WIT imports: what a plugin may ask the host to do.
//! Each interface's `Host` impl lives in its capability's folder
//! (`host/src/capability/<name>/host.rs`, registered in
//! [`crate::capability::SPECS`]); plugins built against the frozen 0.2 WIT
//! reach the same code through [`v0_2`]. Here: what they share: the
//! [`Capability`] a plugin declares, its [`Grants`], the [`HostCall`] names of
//! recordings, and [`PluginState`] with `require`, [`PluginState::answered`]
//! (host effects replay answers) and [`PluginState::executed`] (calls replay
//! re-runs and compares).
//!
//! One `PluginState` per call (a fresh store), holding the plugin's granted
//! capabilities, its random stream, and the scenario it acts on.

mod convert;
mod v0_2;

use super::bindings::chaos::clnrm::chaos::types;
use super::journal::{Journal, Step};
use super::scenario::ScenarioCtx;
use crate::trace::{SpanId, SpanStatus, Trace};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use wasmtime::component::ResourceTable;

/// What a network call answers in a scenario without a network of its own.
pub(crate) const NO_NETWORK: &str =
    "this scenario has no network of its own (one service, and no plugin of \
its faults declares `net`): set network = \"own\" on the scenario, or declare `net` in the plugin";
use wasmtime::format_err as anyhow;
use wasmtime::StoreLimits;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A host capability a plugin asks for in `plugin-info.capabilities`: one per
/// WIT interface that is not granted to every plugin (clock, rng, spans and
/// log are). The name is the interface's name in the WIT. Each capability
/// folder declares its own constant (`Capability::NET` in `capability/net`)
/// and grants it in its [`crate::capability::Spec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability(&'static str);

impl Capability {
    pub const fn new(name: &'static str) -> Capability {
        Capability(name)
    }

    /// Every capability a plugin can declare, in the order of
    /// [`crate::capability::SPECS`].
    pub fn all() -> impl Iterator<Item = Capability> {
        crate::capability::SPECS.iter().filter_map(|s| s.grant)
    }

    /// The name a plugin declares, e.g. "container".
    pub const fn name(self) -> &'static str {
        self.0
    }

    /// Its bit in [`Grants`]; none for a capability no Spec grants.
    fn bit(self) -> u32 {
        Capability::all()
            .position(|c| c == self)
            .map_or(0, |i| 1 << i)
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A capability name this host does not know: a load error, so a typo like
/// "containers" is not silently ignored (the plugin would trap mid-run).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("asks for capability \"{name}\", which this host does not know{}; known capabilities: {}",
    .nearest.map(|n| format!(" (did you mean \"{n}\"?)")).unwrap_or_default(),
    Capability::all().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "))]
pub struct UnknownCapability {
    pub name: String,
    pub nearest: Option<&'static str>,
}

impl std::str::FromStr for Capability {
    type Err = UnknownCapability;

    fn from_str(name: &str) -> Result<Capability, UnknownCapability> {
        Capability::all()
            .find(|c| c.name() == name)
            .ok_or_else(|| UnknownCapability {
                name: name.to_string(),
                nearest: crate::suite::nearest(name, Capability::all().map(|c| c.name())),
            })
    }
}

/// The capabilities granted to one plugin: exactly those it declared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grants(u32);

impl Grants {
    /// Parse `plugin-info.capabilities`; an unknown name is an error.
    pub fn from_declared(caps: &[String]) -> Result<Grants, UnknownCapability> {
        caps.iter().try_fold(Grants::default(), |g, c| {
            Ok(Grants(g.0 | c.parse::<Capability>()?.bit()))
        })
    }

    pub fn has(self, cap: Capability) -> bool {
        self.0 & cap.bit() != 0
    }
}

/// A journaled host call, by its name in recordings ("container.kill").
/// Each interface module declares its own calls as associated constants
/// (`HostCall::CONTAINER_KILL` lives in container.rs), so a new interface adds
/// its calls where it implements them. The strings are a wire format: they
/// never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCall(pub(crate) &'static str);

impl HostCall {
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

pub struct PluginState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limits: StoreLimits,
    pub(crate) plugin: String,
    pub(crate) grants: Grants,
    pub(crate) rng: rand_chacha::ChaCha20Rng,
    /// The seed of `rng`: composed faults derive theirs from it.
    pub(crate) stream_seed: [u8; 32],
    /// Faults this call composed so far (numbers their streams).
    pub(crate) composed: u64,
    /// 0 for an injection; n for a fault composed n levels down.
    pub(crate) depth: u32,
    pub(crate) scenario: Option<Arc<ScenarioCtx>>,
    /// Spans this call opened, so the host can close them if the plugin dies.
    pub(crate) opened: Vec<SpanId>,
    /// Live, recording, or replaying host calls.
    pub(crate) journal: Journal,
    /// The plugin's stderr (kept in memory for trap messages).
    pub(crate) stderr: wasmtime_wasi::p2::pipe::MemoryOutputPipe,
    /// Settled at the first journaled host call (see `runtime::schedule`).
    pub(crate) ready: Option<crate::runtime::schedule::Ready>,
    /// Validators: the resource of the run being judged (`trace-resource`, 0.3.2).
    pub(crate) resource: Vec<types::Attribute>,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for PluginState {}

impl PluginState {
    /// Trap unless the plugin declared `cap`: each host module checks its own.
    pub(crate) fn require(&self, cap: Capability) -> wasmtime::Result<()> {
        if !self.grants.has(cap) {
            return Err(anyhow!(
                "plugin `{}` called clnrm:chaos/{cap} without declaring the \"{cap}\" capability",
                self.plugin
            ));
        }
        Ok(())
    }

    pub(crate) fn scenario(&self) -> wasmtime::Result<&Arc<ScenarioCtx>> {
        self.scenario.as_ref().ok_or_else(|| {
            anyhow!(
                "plugin `{}` called a scenario interface outside a scenario",
                self.plugin
            )
        })
    }

    pub(crate) fn span(&self, handle: u64) -> wasmtime::Result<(&Trace, SpanId)> {
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

    /// Close, with an error, every span this call opened and left open.
    pub(crate) fn close_open_spans(&self, why: &str) {
        if let Some(ctx) = &self.scenario {
            for id in &self.opened {
                ctx.trace.end(*id, SpanStatus::Error, Some(why.to_string()));
            }
        }
    }

    /// The plugin is under way: the steps need not wait for it any more.
    pub(crate) fn settle(&mut self) {
        if let Some(r) = self.ready.take() {
            r.settle();
        }
    }

    /// A call replay answers from the recording (host effects, time): in
    /// replay, the recorded result; otherwise `live` runs (it gets the state
    /// only to build its future, which owns what it uses, so the store is not
    /// held across awaits) and its result is recorded.
    pub(crate) async fn answered<T, F, Fut>(
        &mut self,
        call: HostCall,
        args: Value,
        live: F,
    ) -> wasmtime::Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(&Self) -> Fut,
        Fut: Future<Output = wasmtime::Result<T>>,
    {
        self.settle();
        if let Step::Answered(r) = self.journal.answer(call.as_str(), &args)? {
            return Ok(r);
        }
        let r = live(self).await?;
        self.journal.after(call.as_str(), args, &r, None)?;
        Ok(r)
    }

    /// A call every mode runs (rng, spans): in replay the call is checked
    /// against the recording first, and its result after. `run` gets the
    /// recorded result, if any (a replayed span goes back into its slot).
    pub(crate) fn executed<T, F>(
        &mut self,
        call: HostCall,
        args: Value,
        run: F,
    ) -> wasmtime::Result<T>
    where
        T: Serialize,
        F: FnOnce(&mut Self, Option<&Value>) -> wasmtime::Result<T>,
    {
        self.settle();
        let recorded = self.journal.check(call.as_str(), &args)?;
        let r = run(self, recorded.as_ref())?;
        self.journal.after(call.as_str(), args, &r, recorded)?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_parse_and_unknown_names_are_errors_with_a_suggestion() {
        let g = Grants::from_declared(&["container".into()]).unwrap();
        assert!(g.has(Capability::CONTAINER));
        assert!(!g.has(Capability::NET));
        assert!(Grants::from_declared(&["net".into()])
            .unwrap()
            .has(Capability::NET));
        assert!(!Grants::from_declared(&[])
            .unwrap()
            .has(Capability::CONTAINER));
        let e = Grants::from_declared(&["container".into(), "containers".into()]).unwrap_err();
        assert_eq!(e.nearest, Some("container"));
        assert_eq!(
            e.to_string(),
            "asks for capability \"containers\", which this host does not know \
             (did you mean \"container\"?); known capabilities: \"container\", \"net\", \"cgroup\", \"scenario\", \"compose\""
        );
        let g = Grants::from_declared(&["cgroup".into()]).unwrap();
        assert!(g.has(Capability::CGROUP) && !g.has(Capability::CONTAINER));
        let g = Grants::from_declared(&["compose".into()]).unwrap();
        assert!(g.has(Capability::COMPOSE) && !g.has(Capability::CONTAINER));
        let e = Grants::from_declared(&["gpu".into()]).unwrap_err();
        assert_eq!(e.nearest, None);
        assert!(e.to_string().contains("\"gpu\""), "{e}");
    }

    #[test]
    fn host_call_names_are_the_recorded_wire_strings() {
        let all = [
            (HostCall::CONTAINER_KILL, "container.kill"),
            (HostCall::CONTAINER_INSPECT, "container.inspect"),
            (HostCall::CONTAINER_PAUSE, "container.pause"),
            (HostCall::CONTAINER_UNPAUSE, "container.unpause"),
            (
                HostCall::CONTAINER_NETWORK_DISCONNECT,
                "container.network-disconnect",
            ),
            (
                HostCall::CONTAINER_NETWORK_CONNECT,
                "container.network-connect",
            ),
            (
                HostCall::CONTAINER_NETWORK_ATTACHED,
                "container.network-attached",
            ),
            (HostCall::NET_IMPAIR, "net.impair"),
            (HostCall::NET_HEAL, "net.heal"),
            (HostCall::NET_COUNTERS, "net.counters"),
            (HostCall::NET_PROBE, "net.probe"),
            (HostCall::NET_THROUGHPUT, "net.throughput"),
            (HostCall::NET_IMPAIR_JITTERED, "net.impair-jittered"),
            (HostCall::CGROUP_READ, "cgroup.read"),
            (HostCall::CGROUP_SET_LIMITS, "cgroup.set-limits"),
            (HostCall::CGROUP_DISK, "cgroup.disk"),
            (HostCall::CGROUP_FILL, "cgroup.fill"),
            (HostCall::CGROUP_UNFILL, "cgroup.unfill"),
            (HostCall::CGROUP_NOTE_PRESSURE, "cgroup.note-pressure"),
            (HostCall::SCENARIO_STEPS_DONE, "scenario.steps-done"),
            (
                HostCall::SCENARIO_HOLD_FIRST_STEP,
                "scenario.hold-first-step",
            ),
            (HostCall::COMPOSE_RUN, "compose.run"),
            (HostCall::COMPOSE_RUN_ALL, "compose.run-all"),
            (HostCall::COMPOSE_DEPENDENTS, "compose.dependents"),
            (HostCall::CLOCK_NOW_MS, "clock.now-ms"),
            (HostCall::CLOCK_SLEEP_MS, "clock.sleep-ms"),
            (HostCall::RNG_NEXT_U_6_4, "rng.next-u64"),
            (HostCall::RNG_NEXT_F_6_4, "rng.next-f64"),
            (HostCall::SPANS_START, "spans.start"),
            (HostCall::SPANS_SET_ATTRIBUTE, "spans.set-attribute"),
            (HostCall::SPANS_ADD_EVENT, "spans.add-event"),
            (HostCall::SPANS_END, "spans.end"),
        ];
        for (call, wire) in all {
            assert_eq!(call.as_str(), wire);
        }
    }
}
