//! Network faults inside a container's network namespace, and the probes that
//! observe them. Each impairment is one nftables table of its own
//! (`inet clnrm_<id>`), one `tbf` root qdisc, or one NFQUEUE consumer:
//! lifting it removes exactly that, and the container's end removes
//! everything (the namespace goes with it), so a killed run leaves nothing in
//! the kernel.
//!
//! Mechanisms on a kernel without `sch_netem` (detected once per run, see
//! [`super::netns::has_netem`]): partition, refused and timeout through
//! nftables; bandwidth through `tbf`; latency and seeded loss through NFQUEUE
//! handled here ([`super::nfqueue`]), fail-open (`bypass`) so traffic flows if
//! clnrm dies. With `sch_netem`, latency uses a netem qdisc instead.

pub use super::impairment::Fault;
use super::netns::{command, has_netem, Netns};
use super::nfqueue::Queue;
pub use super::nfqueue::QueueStats;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How an impairment was applied: what `heal` removes.
pub struct Applied {
    pub mechanism: &'static str,
    ns: Netns,
    undo: Undo,
}

enum Undo {
    Table(String),
    Qdisc(String),
    Queue { chain: String, queue: Queue },
    Dns(super::dnsfault::DnsFailure),
}

impl Applied {
    /// A DNS failure ([`super::dnsfault`]), healed and counted like the rest.
    pub fn dns(ns: Netns, f: super::dnsfault::DnsFailure) -> Applied {
        Applied {
            mechanism: "nfqueue-dns",
            ns,
            undo: Undo::Dns(f),
        }
    }
}

/// Apply `fault` to the traffic between the target (namespace `ns`) and
/// `peers` (their addresses on the scenario network). `id` names the table
/// and the queue; unique within a run.
pub async fn apply(
    ns: Netns,
    peers: Vec<Ipv4Addr>,
    fault: Fault,
    id: u64,
) -> Result<Applied, String> {
    if peers.is_empty() && !matches!(fault, Fault::Bandwidth(_)) {
        return Err("no peer to impair the traffic with".into());
    }
    let table = format!("clnrm_{id}");
    match fault {
        Fault::Partition | Fault::Refuse(_) | Fault::Blackhole(_) => {
            let script = nft_script(&table, &fault, &peers);
            ns.run(move || command("nft", &["-f", "-"], Some(&script)))
                .await?;
            Ok(Applied {
                mechanism: "nftables",
                ns,
                undo: Undo::Table(table),
            })
        }
        Fault::Bandwidth(kbit) => {
            let dev = ns
                .run(move || {
                    let dev = default_dev()?;
                    let args = tbf_args(&dev, kbit);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    command("tc", &args, None)?;
                    Ok(dev)
                })
                .await?;
            Ok(Applied {
                mechanism: "tbf",
                ns,
                undo: Undo::Qdisc(dev),
            })
        }
        Fault::Latency(ms) if has_netem() => {
            let dev = ns
                .run(move || {
                    let dev = default_dev()?;
                    let delay = format!("{ms}ms");
                    command(
                        "tc",
                        &[
                            "qdisc", "replace", "dev", &dev, "root", "netem", "delay", &delay,
                        ],
                        None,
                    )?;
                    Ok(dev)
                })
                .await?;
            Ok(Applied {
                mechanism: "netem",
                ns,
                undo: Undo::Qdisc(dev),
            })
        }
        Fault::Latency(_) | Fault::Jitter { .. } | Fault::Loss { .. } => {
            // Queue numbers are per namespace; the id keeps two impairments
            // of one target apart.
            let num = 1000 + (id % 60_000) as u16;
            let queue = Queue::start(ns, num, fault.clone()).await?;
            let chain = table.clone();
            let r = ns
                .run(move || {
                    for args in queue_rules(&chain, &peers, num) {
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        command("iptables", &args, None)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = r {
                queue.stop().await;
                return Err(e);
            }
            Ok(Applied {
                mechanism: "nfqueue",
                ns,
                undo: Undo::Queue {
                    chain: table,
                    queue,
                },
            })
        }
    }
}

impl Applied {
    /// Packets the NFQUEUE consumer handled so far (zero for the others).
    pub fn counters(&self) -> QueueStats {
        match &self.undo {
            Undo::Queue { queue, .. } => queue.stats(),
            Undo::Dns(f) => f.stats(),
            _ => QueueStats::default(),
        }
    }

    /// Remove what `apply` added. A container already gone took it along.
    pub async fn heal(self) -> Result<QueueStats, String> {
        let ns = self.ns;
        let stats = self.counters();
        if !ns.alive() {
            match self.undo {
                Undo::Queue { queue, .. } => {
                    queue.stop().await;
                }
                Undo::Dns(f) => return f.heal().await,
                _ => {}
            }
            return Ok(stats);
        }
        match self.undo {
            Undo::Dns(f) => return f.heal().await,
            Undo::Table(t) => {
                ns.run(move || command("nft", &["delete", "table", "inet", &t], None))
                    .await?;
            }
            Undo::Qdisc(dev) => {
                ns.run(move || command("tc", &["qdisc", "del", "dev", &dev, "root"], None))
                    .await?;
            }
            Undo::Queue { chain, queue } => {
                // Rules first, so no packet is queued to a consumer that is gone.
                let r = ns
                    .run(move || {
                        for args in unqueue_rules(&chain) {
                            let args: Vec<&str> = args.iter().map(String::as_str).collect();
                            command("iptables", &args, None)?;
                        }
                        Ok(())
                    })
                    .await;
                let stats = queue.stop().await;
                r?;
                return Ok(stats);
            }
        }
        Ok(stats)
    }
}

/// The nftables table for one impairment. Inbound rules sit on the target's
/// input hook (what the peers send it), outbound ones on its output hook;
/// priority -10 runs them before Docker's own filter rules.
pub fn nft_script(table: &str, fault: &Fault, peers: &[Ipv4Addr]) -> String {
    let set = format!(
        "{{ {} }}",
        peers
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let syn = "tcp flags & (syn | ack) == syn";
    let (input, output) = match fault {
        Fault::Partition => (
            format!("ip saddr {set} drop"),
            Some(format!("ip daddr {set} drop")),
        ),
        Fault::Refuse(port) => (
            format!("ip saddr {set} tcp dport {port} {syn} reject with tcp reset"),
            None,
        ),
        Fault::Blackhole(port) => (format!("ip saddr {set} tcp dport {port} {syn} drop"), None),
        // Queued through iptables (`queue_rules`); tc for bandwidth.
        Fault::Latency(_) | Fault::Jitter { .. } | Fault::Loss { .. } | Fault::Bandwidth(_) => {
            (String::new(), None)
        }
    };
    let mut s = format!(
        "table inet {table} {{\n  chain input {{\n    type filter hook input priority -10; policy accept;\n    {input}\n  }}\n"
    );
    if let Some(out) = output {
        s.push_str(&format!(
            "  chain output {{\n    type filter hook output priority -10; policy accept;\n    {out}\n  }}\n"
        ));
    }
    s.push_str("}\n");
    s
}

/// `iptables` invocations that send what the peers send the target to NFQUEUE
/// `num` (fail-open: `--queue-bypass`), from a chain of its own. This
/// kernel's nftables has no `queue` expression; iptables' NFQUEUE target
/// (through nf_tables' xt compatibility) is there.
fn queue_rules(chain: &str, peers: &[Ipv4Addr], num: u16) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let sources = peers
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let num = num.to_string();
    vec![
        s(&["-w", "-N", chain]),
        s(&[
            "-w",
            "-A",
            chain,
            "-s",
            &sources,
            "-j",
            "NFQUEUE",
            "--queue-num",
            &num,
            "--queue-bypass",
        ]),
        s(&["-w", "-I", "INPUT", "1", "-j", chain]),
    ]
}

/// Undo [`queue_rules`].
fn unqueue_rules(chain: &str) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        s(&["-w", "-D", "INPUT", "-j", chain]),
        s(&["-w", "-F", chain]),
        s(&["-w", "-X", chain]),
    ]
}

/// `tc` arguments for a token bucket of `kbit` on `dev`'s egress: a burst of
/// at least one full-size packet, a queue of at most 200 ms.
fn tbf_args(dev: &str, kbit: u32) -> Vec<String> {
    let burst_bytes = (kbit as u64 * 1000 / 8 / 10).max(4096);
    [
        "qdisc",
        "replace",
        "dev",
        dev,
        "root",
        "tbf",
        "rate",
        &format!("{kbit}kbit"),
        "burst",
        &burst_bytes.to_string(),
        "latency",
        "200ms",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The interface of the namespace's default route (the scenario network).
fn default_dev() -> Result<String, String> {
    let out = command("ip", &["-o", "route", "show", "default"], None)?;
    out.split_whitespace()
        .skip_while(|w| *w != "dev")
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| format!("no default route in the container's namespace: {out:?}"))
}

/// How a probe's TCP connect ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    Connected,
    Refused,
    TimedOut,
    Unreachable,
}

/// A TCP connect from namespace `from` to `to:port`; outcome and time taken.
pub async fn probe(
    from: Netns,
    to: Ipv4Addr,
    port: u16,
    timeout: Duration,
) -> Result<(ProbeOutcome, Duration), String> {
    from.run(move || {
        let addr = SocketAddr::from((to, port));
        let t0 = Instant::now();
        let r = TcpStream::connect_timeout(&addr, timeout);
        let took = t0.elapsed();
        Ok((
            match r {
                Ok(_) => ProbeOutcome::Connected,
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => ProbeOutcome::Refused,
                Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
                    ProbeOutcome::TimedOut
                }
                Err(_) => ProbeOutcome::Unreachable,
            },
            took,
        ))
    })
    .await
}

/// Send from namespace `from` to a receiver opened in namespace `to` (at
/// `to_addr`) for `dur` after the first byte arrives; the rate the receiver
/// saw, in kbit/s. The receiver hangs up when its window closes, so data
/// still queued behind a slow link is not waited for.
pub async fn throughput(
    from: Netns,
    to: Netns,
    to_addr: Ipv4Addr,
    dur: Duration,
) -> Result<u64, String> {
    let listener = to
        .run(|| TcpListener::bind(("0.0.0.0", 0)).map_err(|e| format!("receiver: {e}")))
        .await?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("receiver: {e}"))?
        .port();
    let bound = dur * 2 + Duration::from_secs(5);
    let receiver = std::thread::spawn(move || -> Result<(u64, Duration), String> {
        let started = Instant::now();
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let mut s = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock && started.elapsed() < bound => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(format!("accept: {e}")),
            }
        };
        s.set_nonblocking(false).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 16384];
        let (mut n, mut first) = (0u64, None::<Instant>);
        loop {
            if first.is_some_and(|f| f.elapsed() >= dur) || started.elapsed() > bound {
                break;
            }
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => {
                    first.get_or_insert_with(Instant::now);
                    n += k as u64;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(format!("receive: {e}")),
            }
        }
        Ok((n, first.map(|f| f.elapsed()).unwrap_or_default()))
    });
    let sent = from.run(move || {
        let mut s = TcpStream::connect_timeout(&SocketAddr::from((to_addr, port)), bound)
            .map_err(|e| format!("connect to the receiver: {e}"))?;
        s.set_write_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| e.to_string())?;
        let chunk = [0x5au8; 4096];
        let t0 = Instant::now();
        // Until the receiver hangs up (or the bound passes).
        while t0.elapsed() < bound {
            match s.write(&chunk) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => break,
            }
        }
        Ok(())
    });
    // The sender ends when the receiver, its window closed, hangs up.
    let (sent, received) = tokio::join!(sent, tokio::task::spawn_blocking(move || receiver.join()));
    let received = received
        .map_err(|e| e.to_string())?
        .map_err(|_| "the receiver thread died".to_string())?;
    sent?;
    let (bytes, took) = received?;
    let ms = took.as_millis().max(1) as u64;
    Ok(bytes * 8 / ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(s: &[&str]) -> Vec<Ipv4Addr> {
        s.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn a_partition_drops_both_ways_and_only_the_peers() {
        let s = nft_script(
            "clnrm_3",
            &Fault::Partition,
            &ips(&["10.0.0.2", "10.0.0.3"]),
        );
        assert_eq!(
            s,
            "table inet clnrm_3 {\n  chain input {\n    type filter hook input priority -10; policy accept;\n    \
             ip saddr { 10.0.0.2, 10.0.0.3 } drop\n  }\n  chain output {\n    type filter hook output priority -10; policy accept;\n    \
             ip daddr { 10.0.0.2, 10.0.0.3 } drop\n  }\n}\n"
        );
    }

    #[test]
    fn refused_resets_new_connections_and_timeout_drops_their_syn() {
        let p = ips(&["10.0.0.2"]);
        let r = nft_script("t", &Fault::Refuse(8080), &p);
        assert!(r.contains("ip saddr { 10.0.0.2 } tcp dport 8080 tcp flags & (syn | ack) == syn reject with tcp reset"), "{r}");
        assert!(!r.contains("output"), "{r}");
        let b = nft_script("t", &Fault::Blackhole(8080), &p);
        assert!(
            b.contains("tcp dport 8080 tcp flags & (syn | ack) == syn drop"),
            "{b}"
        );
    }

    #[test]
    fn queued_traffic_goes_through_a_chain_of_its_own_and_bypasses_without_a_consumer() {
        let q = queue_rules("clnrm_4", &ips(&["10.0.0.2", "10.0.0.3"]), 1004);
        let q: Vec<String> = q.iter().map(|a| a.join(" ")).collect();
        assert_eq!(
            q,
            [
                "-w -N clnrm_4",
                "-w -A clnrm_4 -s 10.0.0.2,10.0.0.3 -j NFQUEUE --queue-num 1004 --queue-bypass",
                "-w -I INPUT 1 -j clnrm_4",
            ]
        );
        let u: Vec<String> = unqueue_rules("clnrm_4")
            .iter()
            .map(|a| a.join(" "))
            .collect();
        assert_eq!(
            u,
            ["-w -D INPUT -j clnrm_4", "-w -F clnrm_4", "-w -X clnrm_4"]
        );
    }

    /// Every mechanism applied, observed with a probe and healed, for real,
    /// in a namespace of the test's own (loopback as the "peer").
    #[tokio::test]
    async fn each_fault_is_applied_probed_and_healed_inside_a_namespace() {
        use crate::capability::net::netns::tests::{root, TestNs};
        if !root() {
            return;
        }
        let Some(t) = TestNs::new() else { return };
        let ns = t.ns;
        let lo: Ipv4Addr = Ipv4Addr::LOCALHOST;
        let _listener = ns
            .run(|| TcpListener::bind("127.0.0.1:8080").map_err(|e| e.to_string()))
            .await
            .unwrap();
        let p = |port| probe(ns, lo, port, Duration::from_millis(300));
        assert_eq!(p(9).await.unwrap().0, ProbeOutcome::Refused);
        assert_eq!(p(8080).await.unwrap().0, ProbeOutcome::Connected);

        let a = apply(ns, vec![lo], Fault::Partition, 1).await.unwrap();
        assert_eq!(a.mechanism, "nftables");
        let o = p(9).await.unwrap().0;
        assert!(
            matches!(o, ProbeOutcome::TimedOut | ProbeOutcome::Unreachable),
            "{o:?}"
        );
        a.heal().await.unwrap();
        assert_eq!(p(9).await.unwrap().0, ProbeOutcome::Refused);

        let a = apply(ns, vec![lo], Fault::Refuse(8080), 2).await.unwrap();
        let (o, took) = p(8080).await.unwrap();
        assert_eq!(o, ProbeOutcome::Refused);
        assert!(took < Duration::from_millis(100), "{took:?}");
        a.heal().await.unwrap();
        assert_eq!(p(8080).await.unwrap().0, ProbeOutcome::Connected);

        let a = apply(ns, vec![lo], Fault::Blackhole(8080), 3)
            .await
            .unwrap();
        assert_eq!(p(8080).await.unwrap().0, ProbeOutcome::TimedOut);
        assert_eq!(
            p(9).await.unwrap().0,
            ProbeOutcome::Refused,
            "other ports untouched"
        );
        a.heal().await.unwrap();
        assert_eq!(p(8080).await.unwrap().0, ProbeOutcome::Connected);

        if !has_netem() {
            let a = apply(ns, vec![lo], Fault::Latency(200), 4).await.unwrap();
            assert_eq!(a.mechanism, "nfqueue");
            let (o, took) = probe(ns, lo, 9, Duration::from_secs(3)).await.unwrap();
            assert_eq!(o, ProbeOutcome::Refused);
            assert!(took >= Duration::from_millis(200), "{took:?}");
            let c = a.heal().await.unwrap();
            assert!(c.seen >= 1 && c.dropped == 0, "{c:?}");
            let (_, took) = p(9).await.unwrap();
            assert!(took < Duration::from_millis(100), "healed: {took:?}");

            let a = apply(
                ns,
                vec![lo],
                Fault::Loss {
                    percent: 100.0,
                    seed: 1,
                },
                5,
            )
            .await
            .unwrap();
            assert_eq!(p(9).await.unwrap().0, ProbeOutcome::TimedOut);
            assert!(a.counters().dropped >= 1);
            a.heal().await.unwrap();
            assert_eq!(p(9).await.unwrap().0, ProbeOutcome::Refused);
        }
        // Nothing of ours is left in the namespace.
        let left = ns
            .run(|| {
                Ok(command("nft", &["list", "ruleset"], None)?
                    + &command("iptables-save", &[], None)?)
            })
            .await
            .unwrap();
        assert!(!left.contains("clnrm_"), "{left}");

        let kbit = throughput(ns, ns, lo, Duration::from_millis(200))
            .await
            .unwrap();
        assert!(kbit > 10_000, "loopback at {kbit} kbit/s");
        // No default route in this namespace: bandwidth says so.
        let e = apply(ns, vec![], Fault::Bandwidth(256), 6)
            .await
            .err()
            .unwrap();
        assert!(e.contains("no default route"), "{e}");
    }

    #[test]
    fn tbf_gets_a_burst_of_at_least_one_packet() {
        let a = tbf_args("eth0", 256);
        assert_eq!(
            a.join(" "),
            "qdisc replace dev eth0 root tbf rate 256kbit burst 4096 latency 200ms"
        );
        assert!(tbf_args("eth0", 100_000)
            .join(" ")
            .contains("burst 1250000"));
    }
}
