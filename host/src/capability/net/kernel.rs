//! [`NetFaults`] on this machine's kernel: each call enters the container's
//! network namespace ([`super::netns`]) and applies or observes there.

use super::dnsfault::{self, Answer, Mode as DnsMode};
use super::faults::{Held, NetFaults};
use super::netfault::{self, Applied, Fault, ProbeOutcome, QueueStats};
use super::netns::Netns;
use std::net::Ipv4Addr;
use std::time::Duration;

/// The kernel's network faults (a local Docker's containers).
pub struct Kernel;

#[async_trait::async_trait]
impl NetFaults for Kernel {
    async fn impair(
        &self,
        pid: u32,
        peers: Vec<Ipv4Addr>,
        fault: Fault,
        id: u64,
    ) -> Result<Box<dyn Held>, String> {
        let ns = Netns::of(pid)?;
        Ok(Box::new(netfault::apply(ns, peers, fault, id).await?))
    }

    async fn dns_fail(
        &self,
        pid: u32,
        names: Vec<String>,
        mode: DnsMode,
        id: u64,
    ) -> Result<Box<dyn Held>, String> {
        let ns = Netns::of(pid)?;
        // The resolver tries each name with the search domains too (Podman's
        // `dns.podman`): those answers must fail as well.
        let conf = tokio::fs::read_to_string(format!("/proc/{pid}/root/etc/resolv.conf"))
            .await
            .unwrap_or_default();
        let names = dnsfault::with_search_domains(names, &conf);
        let f = dnsfault::apply(ns, names, mode, id).await?;
        Ok(Box::new(Applied::dns(ns, f)))
    }

    async fn probe(
        &self,
        pid: u32,
        to: Ipv4Addr,
        port: u16,
        wait: Duration,
    ) -> Result<(ProbeOutcome, Duration), String> {
        netfault::probe(Netns::of(pid)?, to, port, wait).await
    }

    async fn dns_probe(
        &self,
        pid: u32,
        who: &str,
        name: String,
        wait: Duration,
    ) -> Result<Answer, String> {
        let ns = Netns::of(pid)?;
        let path = format!("/proc/{pid}/root/etc/resolv.conf");
        let conf = tokio::fs::read_to_string(&path)
            .await
            .map_err(|e| format!("`{who}`'s resolv.conf ({path}): {e}"))?;
        let resolver = dnsfault::resolver_of(&conf)
            .ok_or_else(|| format!("`{who}`'s resolv.conf names no IPv4 nameserver"))?;
        dnsfault::probe(ns, resolver, name, wait).await
    }

    async fn throughput(
        &self,
        from: u32,
        to: u32,
        addr: Ipv4Addr,
        dur: Duration,
    ) -> Result<u64, String> {
        netfault::throughput(Netns::of(from)?, Netns::of(to)?, addr, dur).await
    }
}

#[async_trait::async_trait]
impl Held for Applied {
    fn mechanism(&self) -> &'static str {
        self.mechanism
    }

    fn counters(&self) -> QueueStats {
        Applied::counters(self)
    }

    async fn heal(self: Box<Self>) -> Result<QueueStats, String> {
        Applied::heal(*self).await
    }
}
