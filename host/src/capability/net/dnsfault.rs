//! DNS failures inside one container's network namespace, whatever resolver
//! it uses (Docker's embedded one at 127.0.0.11, Podman's aardvark-dns on the
//! gateway, anything else): the queries are caught on their way out of the
//! namespace, not at a resolver address.
//!
//! An iptables chain of ours (`clnrm_dns_<id>`, mangle OUTPUT: priority -150,
//! before Docker's DNAT of 127.0.0.11:53 in nat OUTPUT rewrites the port)
//! sends UDP and TCP port 53 to an NFQUEUE the host consumes, fail-open
//! (`--queue-bypass`, and the queue's own flag): if clnrm dies, queries flow.
//! The consumer reads the question name: a name matching none of the patterns
//! is accepted untouched; a matching one is dropped (`timeout`) or, for
//! `nxdomain`/`servfail`, turned into its own answer in place
//! ([`dnswire::answer_in_place`]) and accepted: reinjected on LOCAL_OUT with
//! its addresses changed, the kernel routes it again, back to the asking
//! socket. Over TCP a matching query is dropped whatever the mode (resolvers
//! ask over UDP first). The rules live in the container's namespace, so the
//! container's end (and `clnrm gc`) removes them with it.

use super::dnswire;
use super::netns::{command, Netns};
use super::nfqueue::QueueStats;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a matching query fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Nxdomain,
    Servfail,
    Timeout,
}

/// What the consumer does with one query packet.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// Not a DNS query we can read (a TCP handshake, a second segment):
    /// let it through.
    NotAQuery,
    Accept,
    Drop,
    Answer(Vec<u8>),
}

/// The decision for one packet leaving the namespace to port 53.
fn decide(pkt: &[u8], patterns: &[String], mode: Mode) -> Decision {
    let Some((name, udp)) = dnswire::packet_query(pkt) else {
        return Decision::NotAQuery;
    };
    if !patterns.iter().any(|p| dnswire::matches(p, &name)) {
        return Decision::Accept;
    }
    let rcode = match mode {
        Mode::Timeout => return Decision::Drop,
        Mode::Nxdomain => dnswire::NXDOMAIN,
        Mode::Servfail => dnswire::SERVFAIL,
    };
    match dnswire::answer_in_place(pkt, rcode) {
        Some(a) if udp => Decision::Answer(a),
        _ => Decision::Drop,
    }
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    seen: AtomicU64,
    failed: AtomicU64,
}

/// A DNS failure in force: its chain and its consumer.
pub struct DnsFailure {
    ns: Netns,
    chain: String,
    shared: Arc<Shared>,
    done: Option<std::thread::JoinHandle<()>>,
}

/// Make queries from `ns` for names matching `patterns` fail as `mode` says.
/// `id` names the chain and the queue; unique within a run.
pub async fn apply(
    ns: Netns,
    patterns: Vec<String>,
    mode: Mode,
    id: u64,
) -> Result<DnsFailure, String> {
    if patterns.is_empty() || patterns.iter().any(|p| p.trim().is_empty()) {
        return Err("no name to fail (an empty list or an empty name)".into());
    }
    let num = 1000 + (id % 60_000) as u16;
    let shared = Arc::new(Shared::default());
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let s = shared.clone();
    let done = std::thread::Builder::new()
        .name(format!("clnrm-dns-{num}"))
        .spawn(move || match ns.enter().and_then(|()| open(num)) {
            Ok(q) => {
                let _ = ready_tx.send(Ok(()));
                consume(q, num, ns, &patterns, mode, &s);
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
        })
        .map_err(|e| format!("spawn the DNS consumer: {e}"))?;
    let mut f = DnsFailure {
        ns,
        chain: format!("clnrm_dns_{id}"),
        shared,
        done: Some(done),
    };
    match ready_rx.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err("the DNS consumer died while starting".into()),
    }
    let chain = f.chain.clone();
    let r = ns
        .run(move || {
            for args in rules(&chain, num) {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                command("iptables", &args, None)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = r {
        f.stop().await;
        return Err(e);
    }
    Ok(f)
}

impl DnsFailure {
    /// Queries seen, and those failed.
    pub fn stats(&self) -> QueueStats {
        QueueStats {
            seen: self.shared.seen.load(Ordering::Relaxed),
            dropped: self.shared.failed.load(Ordering::Relaxed),
        }
    }

    async fn stop(&mut self) -> QueueStats {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.done.take() {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
        self.stats()
    }

    /// Remove the chain (rules first: nothing queued to a consumer that is
    /// gone), then stop the consumer; its final counts.
    pub async fn heal(mut self) -> Result<QueueStats, String> {
        let r = if self.ns.alive() {
            let chain = self.chain.clone();
            self.ns
                .run(move || {
                    for args in unrules(&chain) {
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        command("iptables", &args, None)?;
                    }
                    Ok(())
                })
                .await
        } else {
            Ok(())
        };
        let stats = self.stop().await;
        r.map(|()| stats)
    }
}

impl Drop for DnsFailure {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// `iptables` invocations: a chain of ours on mangle OUTPUT (before NAT)
/// queueing port 53, fail-open.
fn rules(chain: &str, num: u16) -> Vec<Vec<String>> {
    let num = num.to_string();
    let mut v = vec![vec!["-w", "-t", "mangle", "-N", chain]];
    for proto in ["udp", "tcp"] {
        v.push(vec![
            "-w",
            "-t",
            "mangle",
            "-A",
            chain,
            "-p",
            proto,
            "--dport",
            "53",
            "-j",
            "NFQUEUE",
            "--queue-num",
            &num,
            "--queue-bypass",
        ]);
    }
    v.push(vec!["-w", "-t", "mangle", "-I", "OUTPUT", "1", "-j", chain]);
    v.into_iter()
        .map(|a| a.into_iter().map(str::to_string).collect())
        .collect()
}

/// Undo [`rules`].
fn unrules(chain: &str) -> Vec<Vec<String>> {
    [
        vec!["-w", "-t", "mangle", "-D", "OUTPUT", "-j", chain],
        vec!["-w", "-t", "mangle", "-F", chain],
        vec!["-w", "-t", "mangle", "-X", chain],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(str::to_string).collect())
    .collect()
}

fn open(num: u16) -> Result<nfq::Queue, String> {
    let mut q = nfq::Queue::open().map_err(|e| format!("open NFQUEUE: {e}"))?;
    q.bind(num)
        .map_err(|e| format!("bind NFQUEUE {num} (nfnetlink_queue): {e}"))?;
    q.set_fail_open(num, true)
        .map_err(|e| format!("NFQUEUE {num} fail-open: {e}"))?;
    // Whole packets: the answer is built from the query.
    q.set_copy_range(num, u16::MAX)
        .map_err(|e| format!("NFQUEUE {num} copy range: {e}"))?;
    q.set_nonblocking(true);
    Ok(q)
}

fn consume(mut q: nfq::Queue, num: u16, ns: Netns, patterns: &[String], mode: Mode, s: &Shared) {
    let mut last_check = Instant::now();
    while !s.stop.load(Ordering::Relaxed) {
        if last_check.elapsed() >= Duration::from_millis(100) {
            if !ns.alive() {
                break;
            }
            last_check = Instant::now();
        }
        match q.recv() {
            Ok(mut msg) => {
                let d = decide(msg.get_payload(), patterns, mode);
                if d != Decision::NotAQuery {
                    s.seen.fetch_add(1, Ordering::Relaxed);
                }
                match d {
                    Decision::Accept | Decision::NotAQuery => msg.set_verdict(nfq::Verdict::Accept),
                    Decision::Drop => {
                        s.failed.fetch_add(1, Ordering::Relaxed);
                        msg.set_verdict(nfq::Verdict::Drop);
                    }
                    Decision::Answer(a) => {
                        s.failed.fetch_add(1, Ordering::Relaxed);
                        msg.set_payload(a);
                        msg.set_verdict(nfq::Verdict::Accept);
                    }
                }
                let _ = q.verdict(msg);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_micros(500));
            }
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => {}
            Err(e) => {
                tracing::warn!("DNS NFQUEUE {num}: {e}; the queue bypasses from now on");
                break;
            }
        }
    }
    let _ = q.unbind(num);
}

/// What a resolution probe got back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// None: no answer within the timeout.
    pub rcode: Option<u8>,
    pub addresses: Vec<Ipv4Addr>,
    pub resolver: Ipv4Addr,
    pub took: Duration,
}

/// The patterns and, for each relative one, the same under each `search`
/// domain of a resolv.conf: a resolver asks for `server.dns.podman` after
/// (or before) `server`, and that answer must fail too.
pub fn with_search_domains(patterns: Vec<String>, resolv_conf: &str) -> Vec<String> {
    let domains: Vec<&str> = resolv_conf
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            matches!(w.next(), Some("search" | "domain")).then_some(w)
        })
        .flatten()
        .map(|d| d.trim_end_matches('.'))
        .filter(|d| !d.is_empty())
        .collect();
    let mut out = patterns.clone();
    for p in patterns.iter().filter(|p| !p.ends_with('.')) {
        for d in &domains {
            let full = format!("{p}.{d}");
            if !out.contains(&full) {
                out.push(full);
            }
        }
    }
    out
}

/// The first IPv4 `nameserver` of a resolv.conf.
pub fn resolver_of(resolv_conf: &str) -> Option<Ipv4Addr> {
    resolv_conf.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("nameserver"))
            .then(|| w.next()?.parse().ok())
            .flatten()
    })
}

/// An A query for `name` from inside `ns` to `resolver`, as the container's
/// own programs would send it.
pub async fn probe(
    ns: Netns,
    resolver: Ipv4Addr,
    name: String,
    timeout: Duration,
) -> Result<Answer, String> {
    ns.run(move || {
        let sock = UdpSocket::bind(("0.0.0.0", 0)).map_err(|e| format!("DNS probe: {e}"))?;
        sock.connect(SocketAddr::from((resolver, 53)))
            .map_err(|e| format!("DNS probe to {resolver}: {e}"))?;
        static NEXT_ID: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0x5a5a);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let query = dnswire::a_query(id, &name)?;
        let t0 = Instant::now();
        sock.send(&query)
            .map_err(|e| format!("DNS probe to {resolver}: {e}"))?;
        let mut buf = [0u8; 1500];
        loop {
            let left = timeout.saturating_sub(t0.elapsed());
            if left.is_zero() {
                break;
            }
            sock.set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            match sock.recv(&mut buf) {
                Ok(n) => {
                    if let Some((rcode, addresses)) = dnswire::parse_answer(id, &buf[..n]) {
                        return Ok(Answer {
                            rcode: Some(rcode),
                            addresses,
                            resolver,
                            took: t0.elapsed(),
                        });
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                // A refused port (ICMP) is no answer either.
                Err(_) => break,
            }
        }
        Ok(Answer {
            rcode: None,
            addresses: vec![],
            resolver,
            took: t0.elapsed(),
        })
    })
    .await
}

#[cfg(test)]
mod tests {

    #[test]
    fn relative_names_fail_under_each_search_domain_too() {
        let conf = "search dns.podman example.org\nnameserver 10.89.0.1\n";
        assert_eq!(
            with_search_domains(vec!["server".into(), "abs.example.".into()], conf),
            [
                "server",
                "abs.example.",
                "server.dns.podman",
                "server.example.org"
            ]
        );
        assert_eq!(
            with_search_domains(vec!["server".into()], "nameserver 127.0.0.11\n"),
            ["server"]
        );
    }

    use super::*;

    fn query_packet(name: &str) -> Vec<u8> {
        let dns = dnswire::a_query(1, name).unwrap();
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
        ];
        p.extend_from_slice(&[0x9c, 0x40, 0, 53, 0, 0, 0, 0]);
        p.extend_from_slice(&dns);
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        let ulen = (p.len() - 20) as u16;
        p[24..26].copy_from_slice(&ulen.to_be_bytes());
        p
    }

    #[test]
    fn only_matching_names_fail_and_each_mode_fails_its_way() {
        let pats = vec!["store".to_string(), "*.internal".to_string()];
        let q = query_packet("api");
        assert_eq!(decide(&q, &pats, Mode::Timeout), Decision::Accept);
        assert_eq!(
            decide(&[1, 2, 3], &pats, Mode::Timeout),
            Decision::NotAQuery
        );
        let s = query_packet("store");
        assert_eq!(decide(&s, &pats, Mode::Timeout), Decision::Drop);
        let Decision::Answer(a) = decide(&query_packet("db.internal"), &pats, Mode::Nxdomain)
        else {
            panic!("nxdomain answers")
        };
        assert_eq!(a[20 + 8 + 3] & 0x0f, dnswire::NXDOMAIN);
        let Decision::Answer(a) = decide(&s, &pats, Mode::Servfail) else {
            panic!("servfail answers")
        };
        assert_eq!(a[20 + 8 + 3] & 0x0f, dnswire::SERVFAIL);
    }

    #[test]
    fn the_chain_is_ours_before_nat_and_fails_open() {
        let r: Vec<String> = rules("clnrm_dns_3", 1003)
            .iter()
            .map(|a| a.join(" "))
            .collect();
        assert_eq!(
            r,
            [
                "-w -t mangle -N clnrm_dns_3",
                "-w -t mangle -A clnrm_dns_3 -p udp --dport 53 -j NFQUEUE --queue-num 1003 --queue-bypass",
                "-w -t mangle -A clnrm_dns_3 -p tcp --dport 53 -j NFQUEUE --queue-num 1003 --queue-bypass",
                "-w -t mangle -I OUTPUT 1 -j clnrm_dns_3",
            ]
        );
        let u: Vec<String> = unrules("clnrm_dns_3").iter().map(|a| a.join(" ")).collect();
        assert_eq!(u[0], "-w -t mangle -D OUTPUT -j clnrm_dns_3");
    }

    /// A resolver on another host (as Podman's aardvark-dns on the
    /// gateway): two namespaces joined by a veth pair, a tiny DNS server in
    /// one answering every A query with 10.77.0.9, the fault and the probes in
    /// the other. Matching names fail in each mode, others resolve, healing
    /// restores, and nothing of ours is left.
    #[tokio::test]
    async fn queries_to_a_resolver_elsewhere_fail_in_each_mode_and_heal() {
        use crate::capability::net::netns::tests::{root, TestNs};
        if !root() {
            return;
        }
        let (Some(a), Some(b)) = (TestNs::new(), TestNs::new()) else {
            return;
        };
        let (ca, cb) = (a.ns, b.ns);
        // The peer end goes to b by the pid of b's thread.
        let b_pid = cb.pid;
        ca.run(move || {
            let pid = b_pid.to_string();
            command(
                "ip",
                &[
                    "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &pid,
                ],
                None,
            )?;
            command("ip", &["addr", "add", "10.77.0.2/24", "dev", "va"], None)?;
            command("ip", &["link", "set", "va", "up"], None)
        })
        .await
        .unwrap();
        let server = cb
            .run(|| {
                command("ip", &["addr", "add", "10.77.0.1/24", "dev", "vb"], None)?;
                command("ip", &["link", "set", "vb", "up"], None)?;
                UdpSocket::bind("10.77.0.1:53").map_err(|e| e.to_string())
            })
            .await
            .unwrap();
        server
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let serving = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !st.load(Ordering::Relaxed) {
                let Ok((n, from)) = server.recv_from(&mut buf) else {
                    continue;
                };
                let mut r = buf[..n].to_vec();
                r[2] |= 0x80;
                r[3] = 0x80;
                r[7] = 1;
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 77, 0, 9]);
                let _ = server.send_to(&r, from);
            }
        });
        let resolver = Ipv4Addr::new(10, 77, 0, 1);
        let ask = |name: &str| probe(ca, resolver, name.to_string(), Duration::from_millis(500));
        // The veth pair takes a moment to come up.
        let mut ok = ask("store").await.unwrap();
        for _ in 0..10 {
            if ok.rcode.is_some() {
                break;
            }
            ok = ask("store").await.unwrap();
        }
        assert_eq!(
            (ok.rcode, ok.addresses.clone()),
            (Some(0), vec![Ipv4Addr::new(10, 77, 0, 9)])
        );
        for (i, (mode, want)) in [
            (Mode::Nxdomain, Some(dnswire::NXDOMAIN)),
            (Mode::Servfail, Some(dnswire::SERVFAIL)),
            (Mode::Timeout, None),
        ]
        .into_iter()
        .enumerate()
        {
            let f = apply(
                ca,
                vec!["store".into(), "*.internal".into()],
                mode,
                10 + i as u64,
            )
            .await
            .unwrap();
            let got = ask("store").await.unwrap();
            assert_eq!(got.rcode, want, "{mode:?}");
            assert!(got.addresses.is_empty());
            assert_eq!(
                ask("db.internal").await.unwrap().rcode,
                want,
                "{mode:?} glob"
            );
            let other = ask("api").await.unwrap();
            assert_eq!(other.rcode, Some(0), "{mode:?}: other names resolve");
            let n = f.heal().await.unwrap();
            assert_eq!((n.seen, n.dropped), (3, 2), "{mode:?}");
            assert_eq!(ask("store").await.unwrap().rcode, Some(0), "healed");
        }

        // Over TCP: a matching query is dropped (whatever the mode), others answered.
        let tcp = cb
            .run(|| std::net::TcpListener::bind("10.77.0.1:53").map_err(|e| e.to_string()))
            .await
            .unwrap();
        let tcp_server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            // Three clients; the dropped one's query never comes: give up on it.
            for conn in tcp.incoming().take(3) {
                let Ok(mut c) = conn else { continue };
                let _ = c.set_read_timeout(Some(Duration::from_millis(300)));
                let mut len = [0u8; 2];
                if c.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                if c.read_exact(&mut q).is_err() {
                    continue;
                }
                q[2] |= 0x80;
                q[3] = 0x80;
                let _ = c.write_all(&(q.len() as u16).to_be_bytes());
                let _ = c.write_all(&q);
            }
        });
        let ask_tcp = |name: &'static str| {
            ca.run(move || {
                use std::io::{Read, Write};
                let to = SocketAddr::from((resolver, 53));
                let mut c = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(2))
                    .map_err(|e| e.to_string())?;
                let q = dnswire::a_query(7, name)?;
                c.write_all(&(q.len() as u16).to_be_bytes())
                    .and_then(|()| c.write_all(&q))
                    .map_err(|e| e.to_string())?;
                c.set_read_timeout(Some(Duration::from_millis(700)))
                    .map_err(|e| e.to_string())?;
                let mut len = [0u8; 2];
                Ok(c.read_exact(&mut len).is_ok())
            })
        };
        let f = apply(ca, vec!["store".into()], Mode::Nxdomain, 20)
            .await
            .unwrap();
        assert!(
            ask_tcp("api").await.unwrap(),
            "other names answered over TCP"
        );
        assert!(
            !ask_tcp("store").await.unwrap(),
            "a matching TCP query is dropped"
        );
        let n = f.heal().await.unwrap();
        assert!(n.dropped >= 1, "{n:?}");
        assert!(ask_tcp("store").await.unwrap(), "healed over TCP");
        tcp_server.join().unwrap();

        let left = ca
            .run(|| command("iptables-save", &[], None))
            .await
            .unwrap();
        assert!(!left.contains("clnrm_dns"), "{left}");
        stop.store(true, Ordering::Relaxed);
        serving.join().unwrap();
    }

    #[test]
    fn the_resolver_is_the_first_ipv4_nameserver() {
        let conf = "# generated\nsearch x\nnameserver fe80::1\nnameserver 127.0.0.11\nnameserver 8.8.8.8\noptions ndots:0\n";
        assert_eq!(resolver_of(conf), Some(Ipv4Addr::new(127, 0, 0, 11)));
        assert_eq!(resolver_of("search x\n"), None);
    }
}
