//! `cargo xtask bench`: build the host in release, run every benchmark, print one table.
//!
//! Benchmarks print their raw figures as they go and one `@bench <key> <value>` line per
//! figure; the table is built from those lines:
//! - `host/benches/plugin_call.rs` (`cargo bench -p clnrm --bench plugin_call`): plugin load
//!   cold vs cache hit, one validate-span call vs the same check natively;
//! - `bench/kill_vs_docker.sh`: the kill scenario through `clnrm run` vs by hand with the
//!   docker CLI; `bench/kill_vs_podman.sh`: the same on Podman vs the podman CLI (skipped,
//!   said, when Podman's API does not answer);
//! - `host/benches/validators.rs`: 100k spans through every validator, wasm vs native;
//! - `bench/cleanup_vs_docker.sh`: cleanup of 1 and 5 containers vs `docker rm -f`;
//! - `bench/jobs_container.sh`: the container suite with `-j 1` vs `-j 4` (same digest);
//! - `bench/five_suites.sh`: the five chaos suites in one `clnrm run`, wall time;
//! - `bench/pull_vs_docker.sh`: `clnrm pull` of an image already present vs `docker pull`
//!   (a local `docker-registry`).
//! - `bench/ready_latency.sh`: a service's "listening" log line to the end of its
//!   `clnrm.service.ready` span (tcp probe), median and max of 5.
//! - `host/benches/otel_ingest.rs`: the OTLP receiver's ingest over HTTP protobuf and gRPC
//!   (load generator in the same process, loopback) vs prost decoding the same bytes;
//! - `bench/receiver_overhead.sh`: the kill scenario without and with `[otel] receive = true`.

use std::collections::HashMap;
use std::time::Instant;

use crate::proc::{step, Failure};
use crate::workspace::Workspace;

/// Figures by key, from `@bench <key> <value>` lines.
type Figures = HashMap<String, f64>;

pub fn run(ws: &Workspace) -> Result<(), Failure> {
    step("building clnrm (release) ...");
    let started = Instant::now();
    ws.cargo()
        .args(["build", "--release", "-p", "clnrm"])
        .run_checked()?;
    let build_secs = started.elapsed().as_secs_f64();
    step(format_args!("release build took {build_secs:.1}s"));
    ws.cargo()
        .args([
            "bench",
            "-p",
            "clnrm",
            "--bench",
            "plugin_call",
            "--bench",
            "validators",
            "--bench",
            "otel_ingest",
            "--no-run",
        ])
        .run_checked()?;

    let clnrm = ws.target_dir.join("release").join("clnrm");
    let cargo_bench = |name: &str| ws.cargo().args(["bench", "-p", "clnrm", "--bench", name]);
    let script = |name: &str| {
        ws.command(ws.root.join("bench").join(format!("{name}.sh")))
            .env("CLNRM", &clnrm.to_string_lossy())
    };
    let benches = [
        ("plugin_call", cargo_bench("plugin_call")),
        ("kill_vs_docker", script("kill_vs_docker")),
        ("kill_vs_podman", script("kill_vs_podman")),
        ("validators (100k spans)", cargo_bench("validators")),
        ("cleanup_vs_docker", script("cleanup_vs_docker")),
        ("jobs_container", script("jobs_container")),
        ("five_suites", script("five_suites")),
        ("pull_vs_docker", script("pull_vs_docker")),
        ("ready_latency", script("ready_latency")),
        ("otel_ingest", cargo_bench("otel_ingest")),
        ("receiver_overhead", script("receiver_overhead")),
    ];
    // Each prints its figures as it goes; one that fails still leaves the others'.
    let mut figures = Figures::new();
    let mut failed = Vec::new();
    for (name, cmd) in benches {
        step(format_args!("benchmark: {name} ..."));
        let (code, out) = cmd.run_tee()?;
        collect(&out, &mut figures);
        if code != 0 {
            failed.push(format!("{name} (exit code {code})"));
        }
    }

    println!();
    print!("{}", table(&figures));
    println!(
        "release build of clnrm (`cargo build --release -p clnrm`, this run): {build_secs:.1}s"
    );
    // Shared 2-core machines: say how busy it was, the figures mean little without it.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!(
            "load average at the end: {} (cores: {})",
            load.join(" "),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::step(format!(
            "benchmark(s) failed: {}",
            failed.join(", ")
        )))
    }
}

fn collect(out: &str, figures: &mut Figures) {
    for line in out.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("@bench") {
            continue;
        }
        if let (Some(key), Some(Ok(value))) = (words.next(), words.next().map(str::parse)) {
            figures.insert(key.to_string(), value);
        }
    }
}

fn table(f: &Figures) -> String {
    let get = |k: &str| f.get(k).copied();
    let spans = get("trace_spans").map_or(String::new(), |n| format!("{n:.0} spans"));
    let mut rows: Vec<[String; 4]> = vec![
        row(
            "plugin load (cold compile)",
            get("plugin_load_cold_ms").map(ms),
            None,
            None,
        ),
        row(
            "plugin load (cache hit)",
            get("plugin_load_warm_ms").map(ms),
            None,
            None,
        ),
        pair(
            &format!("validate-span call ({spans})"),
            get("validate_wasm_us").map(us),
            get("validate_native_us").map(|v| format!("{} (native)", us(v))),
            get("validate_wasm_us"),
            get("validate_native_us"),
        ),
        pair(
            "  same, p90",
            get("validate_wasm_p90_us").map(us),
            get("validate_native_p90_us").map(|v| format!("{} (native)", us(v))),
            get("validate_wasm_p90_us"),
            get("validate_native_p90_us"),
        ),
        pair(
            "  same, 6 expectations",
            get("validate6_wasm_us").map(us),
            get("validate6_native_us").map(|v| format!("{} (native)", us(v))),
            get("validate6_wasm_us"),
            get("validate6_native_us"),
        ),
        pair(
            "all 9 validators, 100k spans",
            get("validators_all_wasm_ms").map(ms),
            get("validators_all_native_ms").map(|v| format!("{} (native)", ms(v))),
            get("validators_all_wasm_ms"),
            get("validators_all_native_ms"),
        ),
        row(
            "  of which the trace packed once",
            get("validators_pack_ms").map(ms),
            None,
            None,
        ),
        row(
            "  the 9 at once (engine, wall)",
            get("validators_all_concurrent_ms").map(ms),
            None,
            None,
        ),
        pair(
            "cleanup, 1 container + network",
            get("cleanup_1_clnrm_ms").map(ms),
            get("cleanup_1_docker_ms").map(|v| format!("{} (docker CLI)", ms(v))),
            get("cleanup_1_clnrm_ms"),
            get("cleanup_1_docker_ms"),
        ),
        pair(
            "cleanup, 5 containers + network",
            get("cleanup_5_clnrm_ms").map(ms),
            get("cleanup_5_docker_ms").map(|v| format!("{} (docker CLI)", ms(v))),
            get("cleanup_5_clnrm_ms"),
            get("cleanup_5_docker_ms"),
        ),
        pair(
            "kill scenario (wall)",
            get("kill_clnrm_ms").map(ms),
            get("kill_docker_ms").map(|v| format!("{} (docker CLI)", ms(v))),
            get("kill_clnrm_ms"),
            get("kill_docker_ms"),
        ),
        pair(
            "  vs by hand + own network",
            get("kill_clnrm_ms").map(ms),
            get("kill_docker_net_ms").map(|v| format!("{} (docker CLI)", ms(v))),
            get("kill_clnrm_ms"),
            get("kill_docker_net_ms"),
        ),
        pair(
            "kill scenario on Podman (wall)",
            get("kill_podman_clnrm_ms").map(ms),
            get("kill_podman_cli_ms").map(|v| format!("{} (podman CLI)", ms(v))),
            get("kill_podman_clnrm_ms"),
            get("kill_podman_cli_ms"),
        ),
        pair(
            "container suite, -j 4 vs -j 1 (wall)",
            get("jobs_j4_ms").map(ms),
            get("jobs_j1_ms").map(|v| format!("{} (-j 1)", ms(v))),
            get("jobs_j4_ms"),
            get("jobs_j1_ms"),
        ),
        pair(
            "pull, image present (pull = always)",
            get("pull_clnrm_ms").map(ms),
            get("pull_docker_ms").map(|v| format!("{} (docker pull)", ms(v))),
            get("pull_clnrm_ms"),
            get("pull_docker_ms"),
        ),
        row(
            "  same, pull = missing (no registry)",
            get("pull_missing_clnrm_ms").map(ms),
            None,
            None,
        ),
        row(
            "five chaos suites, one run (wall)",
            get("suites_wall_ms").map(ms),
            None,
            None,
        ),
        // Start-up of every command: process, parse, plugins resolved from the
        // cache (the kill suite's one fault type loads only its plugin).
        row(
            "  clnrm validate of the kill suite (no Docker)",
            get("clnrm_validate_ms").map(ms),
            Some(format!("{} (budget)", ms(VALIDATE_BUDGET_MS))),
            get("clnrm_validate_ms").map(|v| {
                if v <= VALIDATE_BUDGET_MS {
                    "within".to_string()
                } else {
                    "OVER BUDGET".to_string()
                }
            }),
        ),
        pair(
            "OTLP ingest, HTTP protobuf (spans/s)",
            get("otel_http_spans_s").map(per_s),
            get("otel_decode_spans_s").map(|v| format!("{} (prost decode)", per_s(v))),
            get("otel_decode_spans_s"),
            get("otel_http_spans_s"),
        ),
        pair(
            "OTLP ingest, gRPC (spans/s)",
            get("otel_grpc_spans_s").map(per_s),
            get("otel_decode_spans_s").map(|v| format!("{} (prost decode)", per_s(v))),
            get("otel_decode_spans_s"),
            get("otel_grpc_spans_s"),
        ),
        // Kept requests are converted when the scenario ends, off the export's path.
        row(
            "  + conversion at the scenario's end (HTTP / gRPC)",
            get("otel_http_finish_ns")
                .zip(get("otel_grpc_finish_ns"))
                .map(|(h, g)| format!("{} / {} ns/span", sig(h), sig(g))),
            get("otel_decode_spans_s").map(|d| format!("{} ns/span (prost decode)", sig(1e9 / d))),
            None,
        ),
        pair(
            "kill scenario with the OTLP receiver",
            get("kill_receiver_on_ms").map(ms),
            get("kill_receiver_off_ms").map(|v| format!("{} (without)", ms(v))),
            get("kill_receiver_on_ms"),
            get("kill_receiver_off_ms"),
        ),
        row(
            "ready noticed after the service's log line (median)",
            get("ready_after_log_ms").map(ms),
            get("ready_after_log_max_ms").map(|v| format!("{} (max)", ms(v))),
            None,
        ),
    ];
    // Where the kill scenario's time went (bench/phases.py), in run order.
    for (key, label) in [
        ("startup", "start-up"),
        ("network_create", "network create"),
        ("container_start", "container create + start"),
        ("until_fault", "until the fault (delay_ms)"),
        ("docker_kill", "docker kill"),
        ("step_to_cleanup", "step -> cleanup"),
        ("remove", "remove (container, network)"),
        ("verification", "verification"),
        ("tail", "validators, reports, exit"),
    ] {
        if let Some(v) = get(&format!("phase_{key}_ms")) {
            rows.push(row(
                &format!("  kill phase: {label}"),
                Some(ms(v)),
                None,
                None,
            ));
        }
    }
    // Columns as wide as their widest cell, two spaces apart.
    let header = ["benchmark", "ours", "raw", "ratio"].map(String::from);
    let width = |i: usize| {
        rows.iter()
            .chain([&header])
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
            + 2
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut s = String::new();
    for [name, ours, raw, ratio] in [header].iter().chain(&rows) {
        s.push_str(&format!("{name:<w0$}{ours:<w1$}{raw:<w2$}{ratio}\n"));
    }
    s
}

/// `clnrm validate` of the kill suite: the median must stay at or under this.
const VALIDATE_BUDGET_MS: f64 = 10.0;

fn row(
    name: &str,
    ours: Option<String>,
    raw: Option<String>,
    ratio: Option<String>,
) -> [String; 4] {
    let dash = || "-".to_string();
    [
        name.to_string(),
        ours.unwrap_or_else(|| "failed".into()),
        raw.unwrap_or_else(dash),
        ratio.unwrap_or_else(dash),
    ]
}

/// A row comparing ours with a baseline; the ratio is ours/raw.
fn pair(
    name: &str,
    ours: Option<String>,
    raw: Option<String>,
    a: Option<f64>,
    b: Option<f64>,
) -> [String; 4] {
    let ratio = match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".into(),
    };
    let raw = raw.or_else(|| Some("failed".into()));
    row(name, ours, raw, Some(ratio))
}

fn ms(v: f64) -> String {
    format!("{} ms", sig(v))
}

/// A rate: 254000 -> "254k/s". Its ratio row is time per span, ours over prost's.
fn per_s(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k/s", sig(v / 1000.0))
    } else {
        format!("{}/s", sig(v))
    }
}

fn us(v: f64) -> String {
    format!("{} µs", sig(v))
}

/// Three significant figures or so: 1250, 86.1, 0.42.
fn sig(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_bench_lines_and_builds_the_table() {
        let mut f = Figures::new();
        collect(
            "noise\n@bench plugin_load_cold_ms 86.14\n@bench validate_wasm_us 55\n\
             @bench validate_native_us 3\n@bench bad x\n@bench kill_clnrm_ms 1250\n\
             @bench kill_docker_ms 1100\n",
            &mut f,
        );
        assert_eq!(f.len(), 5);
        // Cells, with the padding between them collapsed.
        let t: String = table(&f)
            .lines()
            .map(|l| {
                let cells: Vec<&str> = l
                    .split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                cells.join(" | ") + "\n"
            })
            .collect();
        assert!(
            t.contains("plugin load (cold compile) | 86.1 ms | - | -"),
            "{t}"
        );
        assert!(t.contains("55.0 µs | 3.0 µs (native) | 18.33x"), "{t}");
        assert!(t.contains("1250 ms | 1100 ms (docker CLI) | 1.14x"), "{t}");
        assert!(t.contains("plugin load (cache hit) | failed"), "{t}");
    }
}
