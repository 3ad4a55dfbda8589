//! The narrow seam network faults go through: `clnrm:chaos/net` asks a
//! [`NetFaults`] (by the host PID of a container's init, whose namespace it
//! acts in) and keeps what it applied as [`Held`] faults in the scenario's
//! [`Impairments`]. The kernel answers on a real run ([`super::Kernel`]); any
//! other backend refuses by default, so adding a fault family adds a method
//! here and to the kernel, and nothing to the engine, replay or the fake.

use super::dnsfault::{Answer, Mode as DnsMode};
use super::netfault::{Fault, ProbeOutcome, QueueStats};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Network faults and the probes that observe them. Every method refuses by
/// default (see [`NoNetFaults`]).
#[async_trait::async_trait]
pub trait NetFaults: Send + Sync {
    /// Apply `fault` to the traffic between the container of `pid` and `peers`
    /// (their addresses on the scenario network); `id` is unique within a run.
    async fn impair(
        &self,
        _pid: u32,
        _peers: Vec<Ipv4Addr>,
        _fault: Fault,
        _id: u64,
    ) -> Result<Box<dyn Held>, String> {
        Err(refused("impair"))
    }

    /// Make the container's queries for names matching `names` fail as `mode` says.
    async fn dns_fail(
        &self,
        _pid: u32,
        _names: Vec<String>,
        _mode: DnsMode,
        _id: u64,
    ) -> Result<Box<dyn Held>, String> {
        Err(refused("dns-fail"))
    }

    /// A TCP connect from the container of `pid` to `to:port`; outcome and time taken.
    async fn probe(
        &self,
        _pid: u32,
        _to: Ipv4Addr,
        _port: u16,
        _wait: Duration,
    ) -> Result<(ProbeOutcome, Duration), String> {
        Err(refused("probe"))
    }

    /// Resolve `name` from inside the container of `pid` (named `who` in
    /// errors) through the resolver its resolv.conf names.
    async fn dns_probe(
        &self,
        _pid: u32,
        _who: &str,
        _name: String,
        _wait: Duration,
    ) -> Result<Answer, String> {
        Err(refused("dns-probe"))
    }

    /// Send from the container of `from` to the one of `to` (at `addr`) for
    /// `dur`; the rate the receiver saw, in kbit/s.
    async fn throughput(
        &self,
        _from: u32,
        _to: u32,
        _addr: Ipv4Addr,
        _dur: Duration,
    ) -> Result<u64, String> {
        Err(refused("throughput"))
    }
}

/// A fault in force: what `heal` removes.
#[async_trait::async_trait]
pub trait Held: Send + Sync {
    /// How it was applied (`nftables`, `tbf`, `nfqueue`, ...), for the span.
    fn mechanism(&self) -> &'static str;
    /// Packets it handled so far (zero where nothing counts them).
    fn counters(&self) -> QueueStats;
    /// Remove it; the final counts.
    async fn heal(self: Box<Self>) -> Result<QueueStats, String>;
}

/// The network faults of a backend that has none (replay answers every call
/// from the recording before it gets here; the fake has no kernel).
pub struct NoNetFaults;

impl NetFaults for NoNetFaults {}

fn refused(call: &str) -> String {
    format!("net.{call}: network faults are not available from this backend")
}

/// The faults in force in one scenario, by id (1, 2, ... in the order
/// applied, so a recording names them the same way on every machine).
/// Dropping it stops the NFQUEUE consumers; the rest goes with the containers.
#[derive(Default)]
pub struct Impairments {
    next: AtomicU64,
    active: Mutex<HashMap<u64, Box<dyn Held>>>,
}

impl Impairments {
    /// The id the next impairment gets.
    pub fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn insert(&self, id: u64, a: Box<dyn Held>) {
        self.lock().insert(id, a);
    }

    pub fn take(&self, id: u64) -> Option<Box<dyn Held>> {
        self.lock().remove(&id)
    }

    pub fn counters(&self, id: u64) -> Option<QueueStats> {
        self.lock().get(&id).map(|h| h.counters())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Box<dyn Held>>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_backend_without_network_faults_refuses_each_call() {
        let f: &dyn NetFaults = &NoNetFaults;
        let e = f
            .impair(1, vec![], Fault::Partition, 1)
            .await
            .err()
            .unwrap();
        assert_eq!(
            e,
            "net.impair: network faults are not available from this backend"
        );
        let e = f.dns_fail(1, vec![], DnsMode::Nxdomain, 1).await.err();
        assert!(e.unwrap().starts_with("net.dns-fail:"));
        let wait = Duration::from_millis(1);
        assert!(f.dns_probe(1, "api", "x".into(), wait).await.is_err());
        assert!(f.probe(1, Ipv4Addr::LOCALHOST, 80, wait).await.is_err());
        assert!(f.throughput(1, 2, Ipv4Addr::LOCALHOST, wait).await.is_err());
    }
}
