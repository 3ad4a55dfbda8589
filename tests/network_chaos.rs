//! Network chaos on the real Docker daemon and kernel (needs root): the
//! network_partitions suite is green and leaves the host's own iptables and
//! nftables rule sets byte-identical; a run SIGKILLed mid-partition leaves
//! nothing once `clnrm gc` ran; the same seed drops the same packets; a
//! recorded network run replays without Docker.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

/// The host's own rule sets (iptables-save, `nft -s list ruleset`), as
/// sorted lines: iptables-save's dated comments dropped, and so are Docker's
/// per-bridge rules (`br-<network id>`), which come and go with every Docker
/// network on the host, anyone's, while the test runs. Sorted because dockerd
/// re-inserts its global jumps (`FORWARD -j DOCKER-ISOLATION-STAGE-1`) in
/// another order whenever anyone creates a network. Deduplicated because a
/// freshly started dockerd can hold its `FORWARD -j DOCKER-USER` jump twice
/// and drops one at the next network create (seen on a just-booted machine).
/// Every rule must still be there and nothing else; a rule of ours is caught
/// by name in [`assert_host_rules_unchanged`], duplicated or not.
fn host_rules() -> Vec<String> {
    let out = |cmd: &str, args: &[&str]| {
        let o = Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(o.status.success(), "{cmd} {args:?} failed");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let text = out("iptables-save", &[]) + "\n" + &out("nft", &["-s", "list", "ruleset"]);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains("br-"))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// The host's rules equal `before` (dockerd may be mid-update for a moment
/// when another network comes or goes: look again for up to 10 s), and none
/// of them is ours.
fn assert_host_rules_unchanged(before: &[String]) {
    let t = Instant::now();
    let mut now = host_rules();
    while now != before && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(200));
        now = host_rules();
    }
    for l in &now {
        assert!(
            !l.contains("clnrm") && !l.contains("NFQUEUE") && !l.contains("queue"),
            "a rule of ours in the host's namespace: {l}"
        );
    }
    assert_eq!(now, before, "the host's rule sets changed");
}

fn root() -> bool {
    euid() == 0
}

/// The effective uid, from /proc/self/status.
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

fn float_attr(span: &serde_json::Value, key: &str) -> f64 {
    let v = attr(span, key).unwrap_or_else(|| panic!("{key} missing on {span}"));
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{key} = {v} is not a number"))
}

fn chaos_span<'a>(rep: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    spans_named(rep, "clnrm.network.chaos")
        .into_iter()
        .find(|s| attr(s, "chaos.type").and_then(|v| v.as_str()) == Some(kind))
        .unwrap_or_else(|| panic!("no clnrm.network.chaos of type {kind}"))
}

#[test]
fn the_network_suite_is_green_and_the_host_rules_are_untouched() {
    if !root() {
        eprintln!("skipped: network faults need root");
        return;
    }
    let before = host_rules();
    let dir = tempfile::tempdir().unwrap();
    let suite = workspace().join("tests/chaos/network_partitions.clnrm.toml");
    let r = run(clnrm()
        .arg("run")
        .arg(&suite)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0, "the suite passes");
    let rep = read_report(dir.path(), "network_partitions");
    let lat = chaos_span(&rep, "latency");
    let rtt = float_attr(lat, "latency.measured_ms");
    eprintln!("latency 500 ms configured: RTT {rtt} ms measured");
    assert!(
        (500.0..550.0).contains(&rtt),
        "RTT {rtt} ms not within 10 % of 500"
    );
    let loss = chaos_span(&rep, "loss");
    let pct = float_attr(loss, "loss.measured_percent");
    eprintln!("loss 30 % configured: {pct} % of 200 probes lost");
    assert!((20.0..=40.0).contains(&pct), "{pct} % lost");
    let bw = chaos_span(&rep, "bandwidth");
    eprintln!(
        "bandwidth 256 kbit/s configured: {} kbit/s measured",
        float_attr(bw, "rate.measured_kbit")
    );
    assert_host_rules_unchanged(&before);
}

/// A partition with no end, under a step that outlives the test's patience.
const HANGING: &str = r#"
[service.server]
image = "clnrm-base:latest"
[service.client]
image = "clnrm-base:latest"
[service.other]
image = "clnrm-base:latest"

[[scenario]]
name = "cut_forever"
service = "client"
parallel_services = ["server", "other"]
run = "sleep 60"
chaos_injection = [
  { type = "network_partition", target = "server", peers = ["client"], probe_timeout_ms = 300 },
  { type = "packet_loss", target = "other", peers = ["client"], loss_percent = 50, probes = 20, probe_timeout_ms = 100 },
]
"#;

/// Whether a container's namespace holds a table of ours.
fn has_clnrm_rules(container: &str) -> bool {
    let pid = Command::new("docker")
        .args(["inspect", "-f", "{{.State.Pid}}", container])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if pid.is_empty() || pid == "0" {
        return false;
    }
    Command::new("nsenter")
        .args([
            &format!("--net=/proc/{pid}/ns/net"),
            "nft",
            "list",
            "ruleset",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("clnrm_"))
        .unwrap_or(false)
}

#[test]
fn sigkill_mid_partition_then_gc_leaves_no_container_and_no_rule() {
    if !root() {
        eprintln!("skipped: network faults need root");
        return;
    }
    let _alone = exclusive();
    let before = host_rules();
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "hang.clnrm.toml", HANGING);
    let mut child = spawn_quiet_run(&[], &p, dir.path());
    let pid = child.id();
    let label = format!("clnrm.pid={pid}");
    // Wait until the partition is in force inside the server's namespace
    // and the loss consumer is running.
    let t = Instant::now();
    let mut cut = false;
    while t.elapsed() < Duration::from_secs(30) && !cut {
        std::thread::sleep(Duration::from_millis(200));
        cut = engine_ls("container", &label)
            .iter()
            .filter(|c| has_clnrm_rules(c))
            .count()
            >= 2;
    }
    assert!(cut, "the partition and the loss rules were applied");
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        !engine_ls("container", &label).is_empty(),
        "SIGKILL leaves containers"
    );
    let r = run(clnrm().arg("gc"));
    assert_eq!(r.code, 0);
    assert_nothing_labelled(&label, "after gc");
    assert_host_rules_unchanged(&before);
}

/// Loss on probe traffic alone: nothing else crosses the queue.
const LOSS: &str = r#"
[determinism]
seed = 4242

[service.server]
image = "clnrm-base:latest"
[service.client]
image = "clnrm-base:latest"

[[scenario]]
name = "lossy"
service = "client"
parallel_services = ["server"]
# Outlasts the baseline probes: the loss lands mid-step (`degraded`).
run = "sleep 2"
chaos_injection = { type = "packet_loss", target = "server", peers = ["client"], loss_percent = 30, probes = 200, duration_ms = 100 }

[expect.chaos]
injections_observed = true
"#;

#[test]
fn the_same_seed_drops_the_same_packets_and_replays_without_docker() {
    if !root() {
        eprintln!("skipped: network faults need root");
        return;
    }
    let dropped = |rec: Option<&std::path::Path>| {
        let dir = tempfile::tempdir().unwrap();
        let p = suite(dir.path(), "loss.clnrm.toml", LOSS);
        let mut cmd = clnrm();
        cmd.arg("run").arg(&p).arg("--report-dir").arg(dir.path());
        if let Some(rec) = rec {
            cmd.arg("--record").arg(rec);
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 0);
        let rep = read_report(dir.path(), "loss");
        let s = chaos_span(&rep, "loss");
        (
            float_attr(s, "packets.seen") as u64,
            float_attr(s, "packets.dropped") as u64,
            rep["digest"].as_str().unwrap().to_string(),
        )
    };
    let rec_dir = tempfile::tempdir().unwrap();
    let rec = rec_dir.path().join("loss.recording.json");
    let (seen1, dropped1, digest) = dropped(Some(&rec));
    let (seen2, dropped2, digest2) = dropped(None);
    eprintln!("seed 4242: {dropped1}/{seen1} then {dropped2}/{seen2} packets dropped");
    assert_eq!(seen1, 200, "the probes' SYNs, and nothing else");
    assert_eq!(
        (seen1, dropped1),
        (seen2, dropped2),
        "same seed, same drops"
    );
    assert_eq!(digest, digest2);

    assert_replays_to(&rec, &digest);
}

/// Jittered latency on probe traffic alone: 200 ± 80 ms per packet.
const JITTER: &str = r#"
[determinism]
seed = 77

[service.server]
image = "clnrm-base:latest"
[service.client]
image = "clnrm-base:latest"

[[scenario]]
name = "jittery"
service = "client"
parallel_services = ["server"]
run = "sleep 1"
chaos_injection = { type = "network_latency", target = "server", peers = ["client"], latency_ms = 200, jitter_ms = 80, probes = 12, duration_ms = 100 }

[expect.chaos]
injections_observed = true
"#;

#[test]
fn jittered_latency_spreads_the_rtts_within_latency_plus_minus_jitter() {
    if !root() {
        eprintln!("skipped: network faults need root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "jitter.clnrm.toml", JITTER);
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0, "the jitter suite passes");
    let rep = read_report(dir.path(), "jitter");
    let s = chaos_span(&rep, "latency");
    assert_eq!(float_attr(s, "latency.ms"), 200.0);
    assert_eq!(float_attr(s, "latency.jitter_ms"), 80.0);
    assert_eq!(
        attr(s, "chaos.observed").and_then(|v| v.as_bool()),
        Some(true)
    );
    let (min, max) = (
        float_attr(s, "latency.min_measured_ms"),
        float_attr(s, "latency.max_measured_ms"),
    );
    eprintln!("200 ± 80 ms configured: 12 RTTs from {min} to {max} ms");
    // Each probe's SYN is held once; its SYN-ACK is not. Slack for a loaded machine.
    assert!(min >= 120.0, "min RTT {min} ms under latency - jitter");
    assert!(
        max <= 280.0 + 40.0,
        "max RTT {max} ms over latency + jitter + slack"
    );
    // 12 uniform draws over 160 ms do not all land within a few ms.
    assert!(max - min > 10.0, "no spread: {min}..{max} ms");
    assert!(
        !spans_named(&rep, "clnrm.network.recovery").is_empty(),
        "healed and observed again"
    );
}

/// DNS failure by timeout on globs, under a step that sees it from inside.
const DNS: &str = r#"
[determinism]
seed = 5

[service.api]
image = "clnrm-base:latest"
[service.store]
image = "clnrm-base:latest"
[service.cache]
image = "clnrm-base:latest"

[[scenario]]
name = "dns_timeout"
service = "api"
parallel_services = ["store", "cache"]
run = """
i=0
while timeout 2 nslookup store >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "store never failed" >&2; exit 1; }
  sleep 0.1
done
nslookup cache >/dev/null || { echo "cache stopped resolving" >&2; exit 1; }
i=0
until timeout 2 nslookup store >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "store never came back" >&2; exit 1; }
  sleep 0.1
done
"""
chaos_injection = { type = "dns_failure", target = "api", names = ["st*", "*.internal"], mode = "timeout", probe_name = "store", duration_ms = 3000, probe_timeout_ms = 500 }

[expect.chaos]
injections_observed = true
"#;

#[test]
fn dns_failure_times_out_matching_names_only_and_replays_without_docker() {
    if !root() {
        eprintln!("skipped: network faults need root");
        return;
    }
    let before = host_rules();
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "dns.clnrm.toml", DNS);
    let rec = dir.path().join("dns.recording.json");
    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path())
        .arg("--record")
        .arg(&rec));
    assert_eq!(r.code, 0, "the DNS suite passes");
    let rep = read_report(dir.path(), "dns");
    let s = spans_named(&rep, "clnrm.network.dns");
    assert_eq!(s.len(), 1);
    let s = s[0];
    let str_attr = |k: &str| attr(s, k).and_then(|v| v.as_str()).map(str::to_string);
    assert_eq!(str_attr("dns.names").as_deref(), Some("st*,*.internal"));
    assert_eq!(str_attr("dns.mode").as_deref(), Some("timeout"));
    assert_eq!(str_attr("dns.answer").as_deref(), Some("timeout"));
    assert_eq!(str_attr("dns.control_answer").as_deref(), Some("noerror"));
    assert_eq!(str_attr("dns.resolver").as_deref(), Some("127.0.0.11"));
    assert_eq!(attr(s, "dns.failed").and_then(|v| v.as_bool()), Some(true));
    assert!(
        float_attr(s, "packets.dropped") >= 1.0,
        "the probe's query was dropped"
    );
    let rec_span = spans_named(&rep, "clnrm.network.recovery");
    assert_eq!(rec_span.len(), 1, "healed and resolved again");
    assert_eq!(
        parent_name(&rep, rec_span[0]).as_deref(),
        Some("clnrm.network.dns")
    );
    assert_host_rules_unchanged(&before);
    assert_replays_to(&rec, rep["digest"].as_str().unwrap());
}

/// A DNS failure with no end, under a step that outlives the test's patience.
const DNS_HANGING: &str = r#"
[service.api]
image = "clnrm-base:latest"
[service.store]
image = "clnrm-base:latest"

[[scenario]]
name = "dns_forever"
service = "api"
parallel_services = ["store"]
run = "sleep 60"
chaos_injection = { type = "dns_failure", target = "api", names = ["store"], mode = "servfail" }
"#;

/// Whether a container's namespace holds a DNS chain of ours.
fn has_dns_chain(container: &str) -> bool {
    let pid = Command::new("docker")
        .args(["inspect", "-f", "{{.State.Pid}}", container])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if pid.is_empty() || pid == "0" {
        return false;
    }
    Command::new("nsenter")
        .args([
            &format!("--net=/proc/{pid}/ns/net"),
            "iptables-save",
            "-t",
            "mangle",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("clnrm_dns_"))
        .unwrap_or(false)
}

#[test]
fn sigkill_mid_dns_failure_then_gc_leaves_nothing_and_the_host_rules_unchanged() {
    if !root() {
        eprintln!("skipped: network faults need root");
        return;
    }
    let _alone = exclusive();
    let before = host_rules();
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "dnshang.clnrm.toml", DNS_HANGING);
    let mut child = spawn_quiet_run(&[], &p, dir.path());
    let label = format!("clnrm.pid={}", child.id());
    let t = Instant::now();
    let mut failing = false;
    while t.elapsed() < Duration::from_secs(30) && !failing {
        std::thread::sleep(Duration::from_millis(200));
        failing = engine_ls("container", &label)
            .iter()
            .any(|c| has_dns_chain(c));
    }
    assert!(failing, "the DNS chain was applied in api's namespace");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        !engine_ls("container", &label).is_empty(),
        "SIGKILL leaves containers"
    );
    let r = run(clnrm().arg("gc"));
    assert_eq!(r.code, 0);
    assert_nothing_labelled(&label, "after gc");
    assert_host_rules_unchanged(&before);
}
