//! An in-memory host for testing plugin logic natively (feature `fake-host`, non-wasm
//! targets): what [`crate::host`] calls instead of the WIT imports.
//!
//! One [`FakeHost`] per test thread. A test scripts it ([`reset`], then [`with`] to add
//! services, dependents, cgroup readings, hooks, timed events with [`FakeHost::at`]), calls
//! the plugin's `inject` (or any function), then inspects what the plugin did: every host
//! call in order ([`FakeHost::calls`]), the spans it recorded ([`FakeHost::span`]), its logs.
//!
//! The defaults behave like a healthy host: services run until killed (exit 128 + signal),
//! `pause` freezes, impairments show in probes (a partition times out, `refuse` is refused,
//! latency adds its delay, loss drops its share, bandwidth caps throughput), `dns_fail`
//! fails matching names from the target. The clock is virtual: `sleep_ms` advances it, so a
//! 30 s fault takes no time, and the rng is seeded, so a test is reproducible.

pub mod imports;
mod model;
mod netsim;

pub use model::{idle_usage, Container, FakeSpan};

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::chaos::clnrm::chaos::cgroup::{DiskUsage, Limits, Usage};
use crate::chaos::clnrm::chaos::compose::{Composed, Fault};
use crate::chaos::clnrm::chaos::log::Level;
use crate::chaos::clnrm::chaos::net::{DnsAnswer, ProbeResult};
use crate::chaos::clnrm::chaos::scenario::FinishedStep;
use crate::chaos::clnrm::chaos::types::SpanHandle;
use crate::chaos::exports::clnrm::chaos::chaos::Injection;
pub use netsim::Applied;

/// The network a disconnected service was removed from.
pub const NETWORK: &str = "clnrm-fake-net";

/// A probe answer a test substitutes: `None` falls through to the default simulation.
pub type ProbeHook =
    Box<dyn FnMut(&FakeHost, &str, &str, u16) -> Option<Result<ProbeResult, String>>>;
/// A DNS answer a test substitutes.
pub type DnsHook = Box<dyn FnMut(&FakeHost, &str, &str) -> Option<Result<DnsAnswer, String>>>;
/// What a composed fault returns (default: observed).
pub type ComposeHook =
    Box<dyn FnMut(&mut FakeHost, &Fault, SpanHandle) -> Result<Composed, String>>;
/// A cgroup reading a test substitutes (default: [`FakeHost::usage`]).
pub type UsageHook = Box<dyn FnMut(&FakeHost, &str) -> Option<Result<Usage, String>>>;
type Event = Box<dyn FnOnce(&mut FakeHost)>;

/// The fake host's whole state; fields are public so tests script and read it directly.
#[derive(Default)]
pub struct FakeHost {
    /// Virtual time, ms.
    pub now_ms: u64,
    /// Every host call, in order, as `"interface.function args"` (clock, rng, spans and
    /// log are not listed: they have their own records).
    pub calls: Vec<String>,
    /// The virtual time of each of `calls`.
    pub call_times: Vec<u64>,
    pub containers: BTreeMap<String, Container>,
    /// `compose.dependents`: service -> services that depend on it.
    pub dependents: BTreeMap<String, Vec<String>>,
    /// Per-service cgroup reading returned by `cgroup.read` (default: an idle v2 cgroup).
    pub usage: BTreeMap<String, Usage>,
    /// Limits set through `cgroup.set_limits`.
    pub limits: BTreeMap<String, Limits>,
    /// Percent `cgroup.fill` filled, by service.
    pub filled: BTreeMap<String, u8>,
    /// `scenario.steps-done` answers true from this time on (None: never).
    pub steps_done_at: Option<u64>,
    /// What `scenario.hold-first-step` reports held (None: the delay asked for).
    pub held_ms: Option<u64>,
    /// The scenario's steps as they end: `scenario.finished-steps` answers those whose
    /// `ended_ms` has come.
    pub finished_steps: Vec<FinishedStep>,
    /// Active impairments by id, and the ones healed (for assertions).
    pub active: BTreeMap<u64, netsim::Active>,
    pub healed: Vec<u64>,
    /// Base round trip of a probe, µs.
    pub base_rtt_us: u64,
    /// Unimpaired throughput, kbit/s.
    pub line_rate_kbit: u64,
    /// Make `net.impair*` / `net.dns_fail` fail with this message.
    pub impair_error: Option<String>,
    pub spans: Vec<FakeSpan>,
    pub logs: Vec<(Level, String)>,
    pub on_probe: Option<ProbeHook>,
    pub on_dns: Option<DnsHook>,
    pub on_compose: Option<ComposeHook>,
    pub on_read: Option<UsageHook>,
    rng_state: u64,
    net_rng: u64,
    next_id: u64,
    timeline: Vec<(u64, Event)>,
}

thread_local! {
    static HOST: RefCell<FakeHost> = RefCell::new(FakeHost::new(0));
}

/// A fresh host for this thread, its rng seeded with `seed` (the suite's seed).
pub fn reset(seed: u64) {
    HOST.with(|h| *h.borrow_mut() = FakeHost::new(seed));
}

/// Runs `f` on this thread's host (to script it or read it). Not re-entrant: do not call
/// plugin code from inside `f`.
pub fn with<T>(f: impl FnOnce(&mut FakeHost) -> T) -> T {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

/// An injection of `config_json` (its `type` is the fault type) into a scenario `"s"`
/// whose services are `services` (the first is the main one), parented under span 1.
pub fn injection(config_json: &str, services: &[&str]) -> Injection {
    let v: serde_json::Value = serde_json::from_str(config_json).expect("config is JSON");
    Injection {
        fault_type: v["type"].as_str().expect("config has a `type`").to_string(),
        config_json: config_json.to_string(),
        scenario: "s".into(),
        services: services.iter().map(|s| (*s).to_string()).collect(),
        parent: 1,
    }
}

/// `clock.sleep-ms`: advance the clock, firing due events in time order, each with the
/// clock set to its time.
pub(crate) fn advance(ms: u64) {
    let until = with(|h| h.now_ms + ms);
    loop {
        let due = with(|h| {
            let i = (0..h.timeline.len())
                .filter(|&i| h.timeline[i].0 <= until)
                .min_by_key(|&i| h.timeline[i].0)?;
            let (at, ev) = h.timeline.remove(i);
            h.now_ms = h.now_ms.max(at);
            Some(ev)
        });
        match due {
            Some(ev) => with(ev),
            None => break,
        }
    }
    with(|h| h.now_ms = until);
}

impl FakeHost {
    pub fn new(seed: u64) -> FakeHost {
        FakeHost {
            rng_state: seed,
            net_rng: seed ^ 0x5eed,
            next_id: 1,
            base_rtt_us: 200,
            line_rate_kbit: 1_000_000,
            ..FakeHost::default()
        }
    }

    /// Adds running, attached services.
    pub fn services(&mut self, names: &[&str]) -> &mut Self {
        for n in names {
            self.containers
                .insert((*n).to_string(), Container::running());
        }
        self
    }

    /// `dependent` depends on `on` (`compose.dependents(on)` lists it).
    pub fn depends(&mut self, dependent: &str, on: &str) -> &mut Self {
        self.dependents
            .entry(on.to_string())
            .or_default()
            .push(dependent.to_string());
        self
    }

    /// Runs `f` when the virtual clock reaches `at_ms` (during a plugin's `sleep_ms`).
    pub fn at(&mut self, at_ms: u64, f: impl FnOnce(&mut FakeHost) + 'static) -> &mut Self {
        self.timeline.push((at_ms, Box::new(f)));
        self
    }

    pub fn container(&self, service: &str) -> Result<&Container, String> {
        self.containers
            .get(service)
            .ok_or_else(|| format!("no such service `{service}`"))
    }

    pub fn container_mut(&mut self, service: &str) -> Result<&mut Container, String> {
        self.containers
            .get_mut(service)
            .ok_or_else(|| format!("no such service `{service}`"))
    }

    /// Ends `service` as if its process exited with `code`.
    pub fn exit(&mut self, service: &str, code: i32) {
        if let Ok(c) = self.container_mut(service) {
            c.exit(code);
        }
    }

    /// The calls whose text starts with `prefix` (e.g. `"container.kill"`).
    pub fn calls_to(&self, prefix: &str) -> Vec<&str> {
        self.calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }

    /// When the first call starting with `prefix` was made.
    pub fn first_call_at(&self, prefix: &str) -> Option<u64> {
        let i = self.calls.iter().position(|c| c.starts_with(prefix))?;
        Some(self.call_times[i])
    }

    /// The first span named `name`.
    pub fn span(&self, name: &str) -> Option<&FakeSpan> {
        self.spans.iter().find(|s| s.name == name)
    }

    /// Every span named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<&FakeSpan> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    fn kill(&mut self, service: &str, signal: &str) -> Result<(), String> {
        let sig = crate::fault::Signal::parse(signal)?;
        let now = self.now_ms;
        let c = self.container_mut(service)?;
        if !c.running {
            return Err(format!("container `{service}` is not running"));
        }
        if !c.ignores.iter().any(|s| s == sig.name()) {
            c.exit(128 + sig.number());
            c.down_at = Some(now);
        }
        Ok(())
    }

    fn set_status(&mut self, service: &str, status: &str, running: bool) -> Result<(), String> {
        let c = self.container_mut(service)?;
        if !c.running {
            return Err(format!("container `{service}` is not running"));
        }
        c.status = status.to_string();
        c.running = running;
        Ok(())
    }

    fn read_usage(&mut self, service: &str) -> Result<Usage, String> {
        self.container(service)?;
        if let Some(mut hook) = self.on_read.take() {
            let r = hook(self, service);
            self.on_read = Some(hook);
            if let Some(r) = r {
                return r;
            }
        }
        let mut u = self
            .usage
            .get(service)
            .copied()
            .unwrap_or_else(model::idle_usage);
        if let Some(l) = self.limits.get(service) {
            u.memory_limit = u.memory_limit.or(l.memory_mb.map(|m| m << 20));
            u.cpu_limit_millicores = u.cpu_limit_millicores.or(l.cpu_millicores);
            u.fd_limit = u.fd_limit.or(l.max_file_descriptors);
        }
        Ok(u)
    }

    fn disk(&self, service: &str) -> DiskUsage {
        let total = 1u64 << 30;
        let used = self.filled.get(service).copied().unwrap_or(0) as u64;
        // Rounded up, as blocks are: a fill to N % leaves at most (100 - N) % free.
        DiskUsage {
            total_bytes: total,
            free_bytes: total - (total * used).div_ceil(100),
        }
    }

    fn fill(&mut self, service: &str, percent: u8) -> Result<u64, String> {
        self.container(service)?;
        self.filled.insert(service.to_string(), percent.min(100));
        Ok((1u64 << 30) * percent.min(100) as u64 / 100)
    }

    fn compose(&mut self, fault: &Fault, parent: SpanHandle) -> Result<Composed, String> {
        if let Some(mut hook) = self.on_compose.take() {
            let r = hook(self, fault, parent);
            self.on_compose = Some(hook);
            return r;
        }
        // The container faults take effect on the fake's containers (a kill stops its
        // target with 137, a stop with 143); any other fault is simply observed.
        let cfg: serde_json::Value = serde_json::from_str(&fault.config_json).unwrap_or_default();
        let code = match fault.fault_type.as_str() {
            "kill_container" => Some(137),
            "stop_container" => Some(143),
            _ => None,
        };
        if let (Some(code), Some(t)) = (code, cfg["target"].as_str()) {
            let now = self.now_ms;
            let c = self.container_mut(t)?;
            if !c.running {
                return Err(format!("`{t}` was already {}", c.status));
            }
            c.exit(code);
            c.down_at = Some(now);
        }
        Ok(Composed {
            observed: true,
            summary: format!("{} observed", fault.fault_type),
            plugin: "fake".into(),
        })
    }

    fn next_u64(&mut self) -> u64 {
        model::splitmix(&mut self.rng_state)
    }
}
