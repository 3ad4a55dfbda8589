//! `clnrm:chaos/net` (since 0.3.1): network faults on a service's traffic,
//! applied inside its container's network namespace by the backend's
//! [`NetFaults`] (the kernel's on a real run), and the probes that observe them
//! from a peer's namespace. Needs [`Capability::NET`]. Every call is answered from
//! the recording in replay: a replayed network run needs neither Docker nor
//! root.

use super::dnsfault;
use super::netfault::{Fault, ProbeOutcome, QueueStats};
use super::{Impairments, NetFaults};
use crate::runtime::bindings::chaos::clnrm::chaos::net;
use crate::runtime::host::{Capability, HostCall, PluginState, NO_NETWORK};
use crate::runtime::scenario::{FaultKind, ScenarioCtx};
use serde_json::json;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

/// The calls of `clnrm:chaos/net`, as recordings name them.
impl HostCall {
    pub const NET_IMPAIR: HostCall = HostCall("net.impair");
    pub const NET_HEAL: HostCall = HostCall("net.heal");
    pub const NET_COUNTERS: HostCall = HostCall("net.counters");
    pub const NET_PROBE: HostCall = HostCall("net.probe");
    pub const NET_THROUGHPUT: HostCall = HostCall("net.throughput");
    pub const NET_IMPAIR_JITTERED: HostCall = HostCall("net.impair-jittered");
    pub const NET_DNS_FAIL: HostCall = HostCall("net.dns-fail");
    pub const NET_DNS_PROBE: HostCall = HostCall("net.dns-probe");
}

/// A probe or throughput measurement waits at most this long.
const MAX_WAIT_MS: u32 = 60_000;

type Ctx = wasmtime::Result<Arc<ScenarioCtx>>;

impl PluginState {
    fn net_ctx(&self) -> Ctx {
        self.scenario().cloned()
    }
}

/// A service's container: its id, or the answer for a service that does not exist.
fn container(ctx: &ScenarioCtx, service: &str) -> Result<String, String> {
    ctx.containers.get(service).cloned().ok_or_else(|| {
        let mut known: Vec<_> = ctx.containers.keys().cloned().collect();
        known.sort();
        format!(
            "no service `{service}` in this scenario (services: {})",
            known.join(", ")
        )
    })
}

/// The faults this capability applied in the scenario, in its state slot.
fn impairments(ctx: &ScenarioCtx) -> &Impairments {
    ctx.slots.get(super::SPEC.name)
}

/// The network faults of the scenario's backend.
fn faults(ctx: &ScenarioCtx) -> &dyn NetFaults {
    ctx.backend.net_faults()
}

/// A service's running container's pid: its network namespace and /proc view.
async fn pid_of(ctx: &ScenarioCtx, service: &str) -> Result<u32, String> {
    let id = container(ctx, service)?;
    let st = ctx
        .backend()
        .inspect(&id)
        .await
        .map_err(|e| e.to_string())?;
    st.pid
        .ok_or_else(|| format!("`{service}` is not running ({})", st.status))
}

/// `dns-fail` (0.3.4): queries for `names` from `target` fail ([`dnsfault`]).
async fn dns_fail(
    ctx: Arc<ScenarioCtx>,
    target: String,
    names: Vec<String>,
    mode: net::DnsFailureMode,
) -> Result<net::Impaired, String> {
    let mode = match mode {
        net::DnsFailureMode::Nxdomain => dnsfault::Mode::Nxdomain,
        net::DnsFailureMode::Servfail => dnsfault::Mode::Servfail,
        net::DnsFailureMode::Timeout => dnsfault::Mode::Timeout,
    };
    let pid = pid_of(&ctx, &target).await?;
    let id = impairments(&ctx).next_id();
    let kind = FaultKind::NetworkImpaired;
    let at = ctx.trace.clock().elapsed_ns();
    ctx.faults.record(&target, kind, at);
    match faults(&ctx).dns_fail(pid, names, mode, id).await {
        Ok(applied) => {
            let mechanism = applied.mechanism().to_string();
            impairments(&ctx).insert(id, applied);
            Ok(net::Impaired { id, mechanism })
        }
        Err(e) => {
            ctx.faults.withdraw(&target, kind, at);
            Err(e)
        }
    }
}

/// `dns-probe` (0.3.4): resolve from inside `source`, through its resolver.
async fn dns_probe(
    ctx: Arc<ScenarioCtx>,
    source: String,
    name: String,
    timeout_ms: u32,
) -> Result<net::DnsAnswer, String> {
    let pid = pid_of(&ctx, &source).await?;
    let wait = Duration::from_millis(timeout_ms.min(MAX_WAIT_MS) as u64);
    let a = faults(&ctx).dns_probe(pid, &source, name, wait).await?;
    Ok(net::DnsAnswer {
        rcode: a.rcode,
        addresses: a.addresses.iter().map(|a| a.to_string()).collect(),
        resolver: a.resolver.to_string(),
        rtt_us: a.took.as_micros() as u64,
    })
}

/// A service's address on the scenario's network.
async fn address_of(ctx: &ScenarioCtx, service: &str) -> Result<Ipv4Addr, String> {
    let net = ctx.network.as_ref().ok_or(NO_NETWORK)?;
    let id = container(ctx, service)?;
    let ip = ctx
        .backend()
        .network_address(&net.name, &id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("`{service}` has no address on {}", net.name))?;
    ip.parse()
        .map_err(|_| format!("`{service}` has no IPv4 address on {} ({ip})", net.name))
}

fn fault_of(i: &net::Impairment) -> Result<(Fault, FaultKind), String> {
    Ok(match *i {
        net::Impairment::Partition => (Fault::Partition, FaultKind::NetworkImpaired),
        net::Impairment::Refuse(p) => (Fault::Refuse(p), FaultKind::ConnectionRefused),
        net::Impairment::Blackhole(p) => (Fault::Blackhole(p), FaultKind::ConnectionTimeout),
        net::Impairment::Latency(ms) => (Fault::Latency(ms), FaultKind::NetworkImpaired),
        net::Impairment::Loss(net::Loss { percent, seed }) => {
            if !(0.0..=100.0).contains(&percent) {
                return Err(format!("loss percent {percent} is not within 0..=100"));
            }
            (Fault::Loss { percent, seed }, FaultKind::NetworkImpaired)
        }
        net::Impairment::Bandwidth(0) => return Err("a bandwidth of 0 kbit/s".into()),
        net::Impairment::Bandwidth(k) => (Fault::Bandwidth(k), FaultKind::NetworkImpaired),
    })
}

async fn impair(
    ctx: Arc<ScenarioCtx>,
    target: String,
    peers: Vec<String>,
    imp: net::Impairment,
) -> Result<net::Impaired, String> {
    let (fault, kind) = fault_of(&imp)?;
    impair_with(ctx, target, peers, fault, kind).await
}

/// `impair-jittered` (0.3.4): latency ± jitter per packet.
fn jitter_of(j: &net::JitteredLatency) -> Result<Fault, String> {
    if j.latency_ms == 0 && j.jitter_ms == 0 {
        return Err("a latency of 0 ± 0 ms injects nothing".into());
    }
    Ok(Fault::Jitter {
        latency_ms: j.latency_ms,
        jitter_ms: j.jitter_ms,
        seed: j.seed,
    })
}

async fn impair_with(
    ctx: Arc<ScenarioCtx>,
    target: String,
    peers: Vec<String>,
    fault: Fault,
    kind: FaultKind,
) -> Result<net::Impaired, String> {
    let peers = if peers.is_empty() {
        let mut all: Vec<String> = ctx
            .containers
            .keys()
            .filter(|s| **s != target)
            .cloned()
            .collect();
        all.sort();
        all
    } else {
        peers
    };
    if peers.contains(&target) {
        return Err(format!("`{target}` cannot be its own peer"));
    }
    let pid = pid_of(&ctx, &target).await?;
    let mut ips = Vec::with_capacity(peers.len());
    for p in &peers {
        ips.push(address_of(&ctx, p).await?);
    }
    let id = impairments(&ctx).next_id();
    // Both ends of an impaired path see its effect, possibly before `apply`
    // returns (see `container::live`): recorded first, withdrawn on failure.
    let at = ctx.trace.clock().elapsed_ns();
    let hit: Vec<&String> = std::iter::once(&target).chain(&peers).collect();
    for s in &hit {
        ctx.faults.record(s, kind, at);
    }
    let applied = match faults(&ctx).impair(pid, ips, fault, id).await {
        Ok(a) => a,
        Err(e) => {
            for s in &hit {
                ctx.faults.withdraw(s, kind, at);
            }
            return Err(e);
        }
    };
    let mechanism = applied.mechanism().to_string();
    impairments(&ctx).insert(id, applied);
    Ok(net::Impaired { id, mechanism })
}

fn counters(s: QueueStats) -> net::PacketCounts {
    net::PacketCounts {
        seen: s.seen,
        dropped: s.dropped,
    }
}

impl net::Host for PluginState {
    async fn impair(
        &mut self,
        target: String,
        peers: Vec<String>,
        fault: net::Impairment,
    ) -> wasmtime::Result<Result<net::Impaired, String>> {
        self.require(Capability::NET)?;
        let args = json!([target, peers, fault]);
        self.answered(HostCall::NET_IMPAIR, args, |s| {
            let ctx = s.net_ctx();
            async move { Ok(impair(ctx?, target, peers, fault).await) }
        })
        .await
    }

    async fn impair_jittered(
        &mut self,
        target: String,
        peers: Vec<String>,
        delay: net::JitteredLatency,
    ) -> wasmtime::Result<Result<net::Impaired, String>> {
        self.require(Capability::NET)?;
        let args = json!([target, peers, delay]);
        self.answered(HostCall::NET_IMPAIR_JITTERED, args, |s| {
            let ctx = s.net_ctx();
            async move {
                let ctx = ctx?;
                Ok(match jitter_of(&delay) {
                    Ok(f) => impair_with(ctx, target, peers, f, FaultKind::NetworkImpaired).await,
                    Err(e) => Err(e),
                })
            }
        })
        .await
    }

    async fn dns_fail(
        &mut self,
        target: String,
        names: Vec<String>,
        mode: net::DnsFailureMode,
    ) -> wasmtime::Result<Result<net::Impaired, String>> {
        self.require(Capability::NET)?;
        let args = json!([target, names, mode]);
        self.answered(HostCall::NET_DNS_FAIL, args, |s| {
            let ctx = s.net_ctx();
            async move { Ok(dns_fail(ctx?, target, names, mode).await) }
        })
        .await
    }

    async fn dns_probe(
        &mut self,
        source: String,
        name: String,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<net::DnsAnswer, String>> {
        self.require(Capability::NET)?;
        let args = json!([source, name, timeout_ms]);
        self.answered(HostCall::NET_DNS_PROBE, args, |s| {
            let ctx = s.net_ctx();
            async move { Ok(dns_probe(ctx?, source, name, timeout_ms).await) }
        })
        .await
    }

    async fn heal(&mut self, id: u64) -> wasmtime::Result<Result<net::PacketCounts, String>> {
        self.require(Capability::NET)?;
        self.answered(HostCall::NET_HEAL, json!([id]), |s| {
            let ctx = s.net_ctx();
            async move {
                let ctx = ctx?;
                let Some(applied) = impairments(&ctx).take(id) else {
                    return Ok(Err(format!("no impairment {id} in force")));
                };
                Ok(applied.heal().await.map(counters))
            }
        })
        .await
    }

    async fn counters(&mut self, id: u64) -> wasmtime::Result<Result<net::PacketCounts, String>> {
        self.require(Capability::NET)?;
        self.answered(HostCall::NET_COUNTERS, json!([id]), |s| {
            let ctx = s.net_ctx();
            async move {
                let ctx = ctx?;
                Ok(impairments(&ctx)
                    .counters(id)
                    .map(counters)
                    .ok_or_else(|| format!("no impairment {id} in force")))
            }
        })
        .await
    }

    async fn probe(
        &mut self,
        source: String,
        dest: String,
        port: u16,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<net::ProbeResult, String>> {
        self.require(Capability::NET)?;
        let args = json!([source, dest, port, timeout_ms]);
        self.answered(HostCall::NET_PROBE, args, |s| {
            let ctx = s.net_ctx();
            async move {
                let ctx = ctx?;
                Ok(async {
                    let from = pid_of(&ctx, &source).await?;
                    let to = address_of(&ctx, &dest).await?;
                    let wait = Duration::from_millis(timeout_ms.min(MAX_WAIT_MS) as u64);
                    let (outcome, took) = faults(&ctx).probe(from, to, port, wait).await?;
                    Ok(net::ProbeResult {
                        outcome: match outcome {
                            ProbeOutcome::Connected => net::ProbeOutcome::Connected,
                            ProbeOutcome::Refused => net::ProbeOutcome::Refused,
                            ProbeOutcome::TimedOut => net::ProbeOutcome::TimedOut,
                            ProbeOutcome::Unreachable => net::ProbeOutcome::Unreachable,
                        },
                        rtt_us: took.as_micros() as u64,
                    })
                }
                .await)
            }
        })
        .await
    }

    async fn throughput(
        &mut self,
        source: String,
        dest: String,
        ms: u32,
    ) -> wasmtime::Result<Result<u64, String>> {
        self.require(Capability::NET)?;
        let args = json!([source, dest, ms]);
        self.answered(HostCall::NET_THROUGHPUT, args, |s| {
            let ctx = s.net_ctx();
            async move {
                let ctx = ctx?;
                Ok(async {
                    let from = pid_of(&ctx, &source).await?;
                    let to = pid_of(&ctx, &dest).await?;
                    let addr = address_of(&ctx, &dest).await?;
                    let dur = Duration::from_millis(ms.min(MAX_WAIT_MS) as u64);
                    faults(&ctx).throughput(from, to, addr, dur).await
                }
                .await)
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impairments_map_to_faults_and_the_fault_log_kind() {
        assert_eq!(
            fault_of(&net::Impairment::Refuse(8080)).unwrap(),
            (Fault::Refuse(8080), FaultKind::ConnectionRefused)
        );
        assert_eq!(
            fault_of(&net::Impairment::Blackhole(80)).unwrap(),
            (Fault::Blackhole(80), FaultKind::ConnectionTimeout)
        );
        assert_eq!(
            fault_of(&net::Impairment::Partition).unwrap().1,
            FaultKind::NetworkImpaired
        );
        let bad = net::Impairment::Loss(net::Loss {
            percent: 101.0,
            seed: 1,
        });
        assert!(fault_of(&bad).unwrap_err().contains("0..=100"));
        assert!(fault_of(&net::Impairment::Bandwidth(0)).is_err());
        let j = |latency_ms, jitter_ms| net::JitteredLatency {
            latency_ms,
            jitter_ms,
            seed: 4,
        };
        assert_eq!(
            jitter_of(&j(200, 50)).unwrap(),
            Fault::Jitter {
                latency_ms: 200,
                jitter_ms: 50,
                seed: 4
            }
        );
        assert!(jitter_of(&j(0, 0)).is_err());
    }
}
