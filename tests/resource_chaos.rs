//! chaos-resource against the real Docker daemon and kernel: limits lowered
//! live are back after `duration_ms`, as the container's own cgroup files
//! and /proc say (read by a step, not by the plugin that restored them).

mod support;

use support::*;

/// The spans named `name` an injection made (not the engine's observations
/// of static limits, which say `pressure.source = "limits"`).
fn injected<'a>(rep: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    spans_named(rep, name)
        .into_iter()
        .filter(|s| attr(s, "pressure.source").is_none())
        .collect()
}

const LIVE: &str = r#"
[meta]
name = "resource_live"

[service.app]
image = "clnrm-base:latest"
limits = { memory_mb = 128, cpu_millicores = 500, max_file_descriptors = 256 }

[[scenario]]
name = "lowered_and_restored"
service = "app"
run = """
  cd /tmp && for i in $(seq 100); do : > f$i; done
  sleep 0.6
  tail -f f* >/dev/null 2>err & p=$!
  dd if=/dev/zero of=/tmp/big bs=1M count=96 2>/dev/null && rm -f /tmp/big
  i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
  sleep 0.3; kill $p
  echo emfile=$(grep -c 'Too many open files' err)
  sleep 2.5
  echo memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
  echo memsw=$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes)
  echo quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)
  echo nofile=$(grep 'Max open files' /proc/$$/limits | awk '{print $4 "/" $5}')"""
chaos_injection = [
  { type = "memory_pressure", memory_mb = 64, delay_ms = 300, duration_ms = 1500 },
  { type = "cpu_throttle", cpu_percent = 20, delay_ms = 300, duration_ms = 1500 },
  { type = "fd_exhaustion", max_file_descriptors = 64, delay_ms = 300, duration_ms = 1500 },
]
"#;

#[test]
fn live_limits_are_restored_after_duration_ms() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "live.clnrm.toml", LIVE);
    let recording = dir.path().join("live.recording.json");
    let r = run_recorded(dir.path(), &p, &recording);
    assert_eq!(r.code, 0, "the suite passes");
    let rep = read_report(dir.path(), "resource_live");
    let out = rep["scenarios"][0]["steps"][0]["stdout"]
        .as_str()
        .unwrap()
        .to_string();
    // While lowered: the step's own tail met EMFILE under 64 fds.
    assert!(!out.contains("emfile=0"), "{out}");
    // After duration_ms: what the service started with, read from inside.
    for want in [
        "memory=134217728",
        "memsw=134217728",
        "quota=50000",
        "nofile=256/256",
    ] {
        assert!(out.lines().any(|l| l == want), "{want} not in:\n{out}");
    }
    // The spans claimed the lowered limits, read back, and their restoration.
    let mem = injected(&rep, "clnrm.resource.memory_pressure");
    assert_eq!(attr(mem[0], "limit.mb"), Some(&serde_json::json!(64)));
    let cpu = injected(&rep, "clnrm.resource.cpu_throttle");
    assert_eq!(
        attr(cpu[0], "limit.millicores"),
        Some(&serde_json::json!(200))
    );
    let fd = injected(&rep, "clnrm.resource.fd_exhaustion");
    assert_eq!(attr(fd[0], "limit"), Some(&serde_json::json!(64)));
    assert_eq!(attr(fd[0], "fd.exhausted"), Some(&serde_json::json!(true)));
    let rec = spans_named(&rep, "clnrm.resource.recovery");
    assert_eq!(rec.len(), 3);
    for s in rec {
        assert_eq!(s["status"], "OK");
        assert_eq!(attr(s, "recovery.success"), Some(&serde_json::json!(true)));
    }
    assert_no_leftovers(rep["run_id"].as_str().unwrap());

    // The cgroup calls were journaled: the run replays without Docker (or a
    // kernel to read) to the same digest.
    assert_replays_to(&recording, rep["digest"].as_str().unwrap());
}

const FILL: &str = r#"
[meta]
name = "resource_fill_killed"

[service.app]
image = "clnrm-base:latest"
limits = { tmpfs = { "/data" = 8 } }

[[scenario]]
name = "filled"
service = "app"
run = "sleep 20"
chaos_injection = { type = "disk_fill", path = "/data", duration_ms = 20000 }
"#;

fn owned_by(pid: u32) -> Vec<String> {
    let label = format!("clnrm.pid={pid}");
    ["container", "network", "volume"]
        .iter()
        .flat_map(|w| engine_ls(w, &label))
        .collect()
}

#[test]
fn sigkill_during_disk_fill_then_gc_leaves_nothing() {
    // gc collects every dead run: nothing else of this binary runs meanwhile.
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "fill.clnrm.toml", FILL);
    let mut child = spawn_quiet_run(&[], &p, dir.path());
    let pid = child.id();
    // Wait until the filler is in the container's tmpfs and the tmpfs is full.
    let t = std::time::Instant::now();
    let full = loop {
        let ids = engine_ls("container", &format!("clnrm.pid={pid}"));
        if let Some(id) = ids.first() {
            let out = std::process::Command::new("docker")
                .args([
                    "exec",
                    id,
                    "sh",
                    "-c",
                    "ls /data/.clnrm-fill && df /data | tail -1",
                ])
                .output()
                .expect("docker exec");
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if out.status.success() && text.contains("100%") {
                break text;
            }
        }
        assert!(t.elapsed().as_secs() < 30, "the filler never filled /data");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    child.kill().expect("SIGKILL clnrm");
    let _ = child.wait();
    assert!(
        !owned_by(pid).is_empty(),
        "a killed run leaves its container ({full})"
    );
    let r = run(clnrm().arg("gc"));
    assert_eq!(r.code, 0, "gc succeeds");
    assert!(owned_by(pid).is_empty(), "after gc: {:?}", owned_by(pid));
}

const UNTIL_STEPS_END: &str = r#"
[meta]
name = "resource_until_steps_end"

[service.app]
image = "clnrm-base:latest"
limits = { memory_mb = 128 }

[[scenario]]
name = "held_while_steps_run"
service = "app"
steps = [
  { name = "early", run = "sleep 0.6; echo memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" },
  { name = "late", run = "sleep 1.2; dd if=/dev/zero of=/tmp/big bs=1M count=96 2>/dev/null; rm -f /tmp/big; echo memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" },
]
chaos_injection = { type = "memory_pressure", memory_mb = 64, delay_ms = 100 }
"#;

/// `duration_ms` absent: the limit stays lowered for every step (2.2 s here,
/// past any fixed default) and is restored only once the last step is done.
#[test]
fn without_duration_ms_pressure_is_held_until_the_steps_end() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "until.clnrm.toml", UNTIL_STEPS_END);
    let recording = dir.path().join("until.recording.json");
    let r = run_recorded(dir.path(), &p, &recording);
    assert_eq!(r.code, 0, "the suite passes: {}", r.stderr);
    let rep = read_report(dir.path(), "resource_until_steps_end");
    let steps = &rep["scenarios"][0]["steps"];
    for i in 0..2 {
        let out = steps[i]["stdout"].as_str().unwrap_or_default();
        assert!(
            out.lines().any(|l| l == "memory=67108864"),
            "step {i} ran under the lowered limit: {out}"
        );
    }
    let mem = injected(&rep, "clnrm.resource.memory_pressure");
    assert_eq!(mem.len(), 1);
    assert_eq!(
        attr(mem[0], "hold"),
        Some(&serde_json::json!("until_steps_end"))
    );
    // Released after the last step ended, and proven restored.
    let late = spans_named(&rep, "clnrm.step:late");
    let late = late.first().expect("the late step's span");
    let end = |s: &serde_json::Value| s["end_ns"].as_u64().unwrap();
    let rec = spans_named(&rep, "clnrm.resource.recovery");
    assert_eq!(rec.len(), 1);
    assert_eq!(
        attr(rec[0], "recovery.success"),
        Some(&serde_json::json!(true))
    );
    assert!(
        rec[0]["start_ns"].as_u64().unwrap() >= end(late),
        "restored only after the steps: recovery {} vs late step end {}",
        rec[0]["start_unix_nano"],
        end(late)
    );
    assert_no_leftovers(rep["run_id"].as_str().unwrap());

    // `scenario.steps-done` is journaled: the replay needs no Docker.
    assert_replays_to(&recording, rep["digest"].as_str().unwrap());
}

const STATIC: &str = r#"
[meta]
name = "resource_static_limits"

[service.app]
image = "clnrm-base:latest"
limits = { memory_mb = 64, cpu_millicores = 500, max_file_descriptors = 64, tmpfs = { "/data" = 8 } }

# No chaos_injection: only the service's own limits.
[[scenario]]
name = "observed"
service = "app"
steps = [
  { name = "quiet", run = "echo hi" },
  { name = "hog", run = "dd if=/dev/zero of=/tmp/big bs=1M count=200 2>/dev/null; rm -f /tmp/big; echo wrote" },
  { name = "fill", run = "dd if=/dev/zero of=/data/x bs=1M count=20 2>/dev/null; sleep 0.3; rm -f /data/x; echo filled" },
  { name = "fds", run = "cd /tmp && for i in $(seq 80); do : > f$i; done; tail -f f* >/dev/null 2>err & p=$!; sleep 0.5; kill $p; grep -c 'Too many open files' err" },
]

# Degraded steps explained by the limits alone, with no injection span.
[expect.chaos]
graceful_degradation = true
"#;

/// A service's static limits are read around every step, with no injection:
/// one span per limited resource per step (child of the step, with its
/// index), its level from the readings, and high pressure degrades the step.
#[test]
fn static_limits_are_observed_on_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let p = suite(dir.path(), "static.clnrm.toml", STATIC);
    let recording = dir.path().join("static.recording.json");
    let r = run_recorded(dir.path(), &p, &recording);
    assert_eq!(r.code, 0, "the suite passes: {}", r.stderr);
    let rep = read_report(dir.path(), "resource_static_limits");
    let steps = ["quiet", "hog", "fill", "fds"];
    // (span name, what `pressure.level` must be in each step; None: not judged here)
    let kinds: [(&str, [Option<&str>; 4]); 4] = [
        (
            "clnrm.resource.memory_pressure",
            [Some("low"), Some("high"), None, None],
        ),
        ("clnrm.resource.cpu_throttle", [None; 4]),
        (
            "clnrm.resource.fd_exhaustion",
            [Some("low"), None, None, Some("high")],
        ),
        (
            "clnrm.resource.disk_full",
            [Some("low"), None, Some("high"), None],
        ),
    ];
    for (name, levels) in kinds {
        let all = spans_named(&rep, name);
        assert_eq!(all.len(), 4, "one {name} per step: {all:#?}");
        for (i, step) in steps.iter().enumerate() {
            let s = all
                .iter()
                .find(|s| attr(s, "step.index") == Some(&serde_json::json!(i)))
                .unwrap_or_else(|| panic!("{name} for step {i}"));
            assert_eq!(
                parent_name(&rep, s).as_deref(),
                Some(&*format!("clnrm.step:{step}"))
            );
            assert_eq!(
                attr(s, "pressure.source"),
                Some(&serde_json::json!("limits"))
            );
            assert_eq!(s["status"], "OK");
            assert!(attr(s, "chaos.type").is_none(), "nothing was injected");
            let level = attr(s, "pressure.level").and_then(|v| v.as_str());
            assert!(matches!(level, Some("low" | "medium" | "high")), "{s:#?}");
            if let Some(want) = levels[i] {
                assert_eq!(level, Some(want), "{name} in step {step}: {s:#?}");
            }
        }
    }
    let disk = spans_named(&rep, "clnrm.resource.disk_full");
    assert!(disk
        .iter()
        .all(|s| attr(s, "path") == Some(&serde_json::json!("/data"))));
    let mem = spans_named(&rep, "clnrm.resource.memory_pressure");
    assert!(mem
        .iter()
        .all(|s| attr(s, "limit.mb") == Some(&serde_json::json!(64))));
    // The steps that went through high pressure passed degraded; the quiet
    // one under no pressure did not.
    for (step, degraded) in [
        ("hog", true),
        ("fill", true),
        ("fds", true),
        ("quiet", false),
    ] {
        let s = spans_named(&rep, &format!("clnrm.step:{step}"));
        assert_eq!(
            attr(s[0], "result"),
            Some(&serde_json::json!("pass")),
            "{step}"
        );
        assert_eq!(
            attr(s[0], "degraded"),
            Some(&serde_json::json!(degraded)),
            "{step}: {:#?}",
            s[0]
        );
    }
    assert_no_leftovers(rep["run_id"].as_str().unwrap());
    // Engine spans are kept by the recording: the replay gives the digest.
    assert_replays_to(&recording, rep["digest"].as_str().unwrap());
}
