//! The fake host's network: impairments applied to a target, and probes that see them.

use crate::chaos::clnrm::chaos::net::{
    DnsAnswer, DnsFailureMode, Impaired, Impairment, JitteredLatency, PacketCounts, ProbeOutcome,
    ProbeResult,
};

use super::{model::splitmix, FakeHost};

/// What a `net` call applied.
#[derive(Clone, Debug)]
pub enum Applied {
    Impairment(Impairment),
    Jittered(JitteredLatency),
    Dns(Vec<String>, DnsFailureMode),
}

/// One impairment in force.
#[derive(Clone, Debug)]
pub struct Active {
    pub target: String,
    /// Empty: every peer.
    pub peers: Vec<String>,
    pub what: Applied,
    /// Packets the probes sent through it, and how many it dropped or failed.
    pub seen: u64,
    pub dropped: u64,
}

impl Active {
    /// Traffic between `a` and `b` crosses it (either way).
    fn between(&self, a: &str, b: &str) -> bool {
        let peer = |p: &str| self.peers.is_empty() || self.peers.iter().any(|x| x == p);
        (self.target == a && peer(b)) || (self.target == b && peer(a))
    }
}

/// `*` matches any run of characters; nothing else is special.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|i| glob(rest, &name[head.len() + i..]))
        }
    }
}

impl FakeHost {
    pub(super) fn apply(
        &mut self,
        target: &str,
        peers: &[String],
        what: Applied,
    ) -> Result<Impaired, String> {
        self.container(target)?;
        if let Some(e) = self.impair_error.clone() {
            return Err(e);
        }
        let id = self.next_id;
        self.next_id += 1;
        let active = Active {
            target: target.into(),
            peers: peers.to_vec(),
            what,
            seen: 0,
            dropped: 0,
        };
        self.active.insert(id, active);
        Ok(Impaired {
            id,
            mechanism: "fake".into(),
        })
    }

    pub(super) fn heal(&mut self, id: u64) -> Result<PacketCounts, String> {
        let a = self
            .active
            .remove(&id)
            .ok_or_else(|| format!("no impairment {id}"))?;
        self.healed.push(id);
        Ok(PacketCounts {
            seen: a.seen,
            dropped: a.dropped,
        })
    }

    pub(super) fn counters(&self, id: u64) -> Result<PacketCounts, String> {
        let a = self
            .active
            .get(&id)
            .ok_or_else(|| format!("no impairment {id}"))?;
        Ok(PacketCounts {
            seen: a.seen,
            dropped: a.dropped,
        })
    }

    pub(super) fn probe(
        &mut self,
        source: &str,
        dest: &str,
        port: u16,
        timeout_ms: u32,
    ) -> Result<ProbeResult, String> {
        if let Some(mut hook) = self.on_probe.take() {
            let r = hook(self, source, dest, port);
            self.on_probe = Some(hook);
            if let Some(r) = r {
                return r;
            }
        }
        self.container(source)?;
        let timeout_us = timeout_ms as u64 * 1000;
        let (src_ok, dst_ok) = (
            self.container(source)?.attached,
            self.container(dest)?.attached,
        );
        if !self.container(dest)?.running || !src_ok || !dst_ok {
            return Ok(ProbeResult {
                outcome: ProbeOutcome::Unreachable,
                rtt_us: 0,
            });
        }
        let mut rtt = self.base_rtt_us;
        let mut outcome = ProbeOutcome::Connected;
        let mut net_rng = self.net_rng;
        for a in self.active.values_mut().filter(|a| a.between(source, dest)) {
            a.seen += 1;
            let hit = match a.what {
                Applied::Impairment(Impairment::Partition) => Some(ProbeOutcome::TimedOut),
                Applied::Impairment(Impairment::Refuse(p)) if p == port && a.target == dest => {
                    Some(ProbeOutcome::Refused)
                }
                Applied::Impairment(Impairment::Blackhole(p)) if p == port && a.target == dest => {
                    Some(ProbeOutcome::TimedOut)
                }
                Applied::Impairment(Impairment::Loss(l)) => {
                    let draw = (splitmix(&mut net_rng) >> 11) as f64 / (1u64 << 53) as f64;
                    (draw * 100.0 < l.percent).then_some(ProbeOutcome::TimedOut)
                }
                Applied::Impairment(Impairment::Latency(ms)) => {
                    rtt += ms as u64 * 1000;
                    None
                }
                Applied::Jittered(j) => {
                    let span = 2 * j.jitter_ms as u64 + 1;
                    let ms = (j.latency_ms - j.jitter_ms) as u64 + splitmix(&mut net_rng) % span;
                    rtt += ms * 1000;
                    None
                }
                _ => None,
            };
            if let Some(o) = hit {
                a.dropped += 1;
                outcome = o;
            }
        }
        self.net_rng = net_rng;
        Ok(match outcome {
            ProbeOutcome::TimedOut => ProbeResult {
                outcome,
                rtt_us: timeout_us,
            },
            _ if rtt > timeout_us => ProbeResult {
                outcome: ProbeOutcome::TimedOut,
                rtt_us: timeout_us,
            },
            _ => ProbeResult {
                outcome,
                rtt_us: rtt,
            },
        })
    }

    pub(super) fn dns_probe(
        &mut self,
        source: &str,
        name: &str,
        _timeout_ms: u32,
    ) -> Result<DnsAnswer, String> {
        if let Some(mut hook) = self.on_dns.take() {
            let r = hook(self, source, name);
            self.on_dns = Some(hook);
            if let Some(r) = r {
                return r;
            }
        }
        self.container(source)?;
        let ok = DnsAnswer {
            rcode: Some(0),
            addresses: vec!["10.89.0.2".into()],
            resolver: "127.0.0.11".into(),
            rtt_us: self.base_rtt_us,
        };
        for a in self.active.values_mut().filter(|a| a.target == source) {
            if let Applied::Dns(names, mode) = &a.what {
                if names.iter().any(|p| glob(p, name)) {
                    a.seen += 1;
                    a.dropped += 1;
                    let rcode = match mode {
                        DnsFailureMode::Nxdomain => Some(3),
                        DnsFailureMode::Servfail => Some(2),
                        DnsFailureMode::Timeout => None,
                    };
                    return Ok(DnsAnswer {
                        rcode,
                        addresses: Vec::new(),
                        ..ok
                    });
                }
            }
        }
        Ok(ok)
    }

    pub(super) fn throughput(&mut self, source: &str, dest: &str, _ms: u32) -> Result<u64, String> {
        self.container(source)?;
        self.container(dest)?;
        let cap = self
            .active
            .values()
            .filter(|a| a.target == source)
            .filter_map(|a| match a.what {
                Applied::Impairment(Impairment::Bandwidth(kbit)) => Some(kbit as u64),
                _ => None,
            })
            .min();
        Ok(cap.map_or(self.line_rate_kbit, |c| c * 9 / 10))
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("store", "store"));
        assert!(glob("*.example", "api.example"));
        assert!(glob("st*e", "store"));
        assert!(!glob("store", "stores"));
        assert!(!glob("*.example", "example"));
    }
}
