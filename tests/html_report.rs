//! The HTML report as a person sees it: rendered by headless Chromium
//! (Debian's `chromium`, installed here if missing), its DOM read back after
//! the page's scripts ran. Checks one row per scenario, one bar per span, the
//! kill's marker inside the killed step's row, no console message and no
//! network request (Chromium's own net log), and a 10k-span page's time to
//! usable. `clnrm report` must give the run's page byte for byte.
//! `clnrm plugins [describe]` is checked here too (no Docker).

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use support::*;

/// The browser tests share the machine; the 10k-span timing has it to itself
/// (it once read 2160 ms instead of ~1100 ms while the container suite ran
/// beside it in CI).
static MACHINE: RwLock<()> = RwLock::new(());

fn sharing() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().unwrap_or_else(|e| e.into_inner())
}

fn alone() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().unwrap_or_else(|e| e.into_inner())
}

/// Chromium, installed with apt-get on first use; None (and a message) when
/// it cannot be installed here.
fn chromium() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let which = || {
                Command::new("sh")
                    .args(["-c", "command -v chromium"])
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            };
            if let Some(p) = which() {
                return Some(p);
            }
            eprintln!("chromium missing: apt-get update && apt-get install -y chromium");
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium"])
                .status()
                .is_ok_and(|s| s.success());
            let found = which().filter(|_| ok);
            if found.is_none() {
                eprintln!("SKIPPED: Debian's chromium cannot be installed here (apt-get failed); the browser checks did not run");
            }
            found
        })
        .as_deref()
}

/// What Chromium made of a page.
struct Page {
    /// The DOM after the page's scripts ran.
    dom: String,
    /// Console messages (errors, uncaught exceptions, logs) the page produced.
    console: Vec<String>,
    /// URLs the page asked for (the net log's requests initiated by it).
    requests: Vec<String>,
}

/// Flags that silence Chromium's own background traffic, so what the net
/// log still shows with the page's (file://, opaque "null") initiator is the
/// page's doing.
const QUIET: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
];

fn open(browser: &Path, page: &Path, fragment: &str) -> Page {
    let scratch = tempfile::tempdir().unwrap();
    let netlog = scratch.path().join("net.json");
    let out = Command::new(browser)
        .args(QUIET)
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,1000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&netlog).expect("net log"))
        .expect("net log is JSON");
    let mut requests: Vec<String> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            let i = &e["params"]["initiator"];
            i == "null" || i.as_str().is_some_and(|i| i.starts_with("file:"))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .collect();
    requests.dedup();
    Page {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
        requests,
    }
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// The waterfall rows of a dumped DOM: (span id, the row's HTML), one per
/// `.span-item` (a row with its bar and markers).
fn waterfall_rows(dom: &str) -> Vec<(u64, String)> {
    let start = dom.find("class=\"rows\"").expect("waterfall rows");
    let end = start
        + dom[start..]
            .find("</section>")
            .expect("end of the waterfall");
    dom[start..end]
        .split("<div class=\"span-item\"")
        .skip(1)
        .map(|chunk| {
            let id = chunk
                .split("data-span-id=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|n| n.parse().ok())
                .expect("row has a span id");
            (id, chunk.to_string())
        })
        .collect()
}

fn render_ms(dom: &str) -> f64 {
    dom.split("data-render-ms=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("the page records data-render-ms")
}

/// A console message and a request by the page are seen: the checks below
/// cannot pass because the instruments are blind.
fn instruments_see(browser: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("noisy.html");
    std::fs::write(
        &p,
        "<html><body><img id=i><script>document.getElementById('i').setAttribute('s'+'rc','http://127.0.0.1:9/x.png');\
         fetch('http://127.0.0.1:9/y').catch(function(){});throw new Error('boom')</script></body></html>",
    )
    .unwrap();
    let page = open(browser, &p, "");
    assert!(
        page.console
            .iter()
            .any(|l| l.contains("Uncaught Error: boom")),
        "{:?}",
        page.console
    );
    assert!(
        page.requests
            .iter()
            .any(|u| u == "http://127.0.0.1:9/x.png"),
        "{:?}",
        page.requests
    );
    assert!(
        page.requests.iter().any(|u| u == "http://127.0.0.1:9/y"),
        "{:?}",
        page.requests
    );
}

#[test]
fn container_suite_page_in_chromium() {
    let Some(browser) = chromium() else { return };
    let _machine = sharing();
    instruments_see(browser);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let suite = workspace().join("tests/chaos/container_failures.clnrm.toml");
    let recording = dir.path().join("rec.json");
    let r = run(clnrm()
        .arg("run")
        .arg(&suite)
        .arg("--report-dir")
        .arg(&out)
        .arg("--record")
        .arg(&recording));
    assert_eq!(r.code, 0, "the container suite passes");
    let name = "chaos_container_failures";
    let html = out.join(format!("{name}.report.html"));
    assert!(
        r.stdout.contains(&format!("report: {}\n", html.display())),
        "the page is announced after the JSON report"
    );
    let rep = read_report(&out, name);
    assert_no_leftovers(rep["run_id"].as_str().unwrap());

    // `clnrm report` on the run's JSON gives the run's page, byte for byte.
    let again = dir.path().join("again.html");
    let r = run(clnrm()
        .arg("report")
        .arg(out.join(format!("{name}.report.json")))
        .args(["-o".as_ref(), again.as_os_str()]));
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, format!("report: {}\n", again.display()));
    assert!(
        std::fs::read(&html).unwrap() == std::fs::read(&again).unwrap(),
        "same page"
    );

    // Everything expanded: every span has its bar.
    let page = open(browser, &html, "#expand=all");
    assert!(page.console.is_empty(), "console: {:#?}", page.console);
    assert!(
        page.requests.is_empty(),
        "the page fetched {:?}",
        page.requests
    );
    let spans = rep["spans"].as_array().unwrap();
    let scenarios = rep["scenarios"].as_array().unwrap();
    assert_eq!(count(&page.dom, "class=\"scenario-row\""), scenarios.len());
    for sc in scenarios {
        let name = sc["name"].as_str().unwrap();
        assert_eq!(
            count(&page.dom, &format!("data-scenario=\"{name}\"")),
            1,
            "{name}"
        );
    }
    let rows = waterfall_rows(&page.dom);
    let mut ids: Vec<u64> = rows.iter().map(|(id, _)| *id).collect();
    ids.sort();
    let want: Vec<u64> = spans.iter().map(|s| s["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, want, "one row per span");
    assert_eq!(
        count(&page.dom, "class=\"span-bar"),
        spans.len(),
        "one bar per span"
    );
    for (id, row) in &rows {
        assert_eq!(count(row, "class=\"span-bar"), 1, "row {id}");
        assert!(
            row.contains(&format!("data-span-id=\"{id}\" data-status=")),
            "row {id}"
        );
    }

    // The kill is marked inside the killed step's row, at a time within it.
    let step = spans_named(&rep, "clnrm.step:container_killed_mid_step")[0];
    let kill = spans_named(&rep, "clnrm.chaos.kill")
        .into_iter()
        .find(|k| attr(k, "target.service") == Some(&json!("app")))
        .expect("the kill of app");
    assert_eq!(attr(kill, "container.exit_code"), Some(&json!(137)));
    let step_id = step["id"].as_u64().unwrap();
    let (_, row) = rows.iter().find(|(id, _)| *id == step_id).unwrap();
    let marker = format!(
        "class=\"fault-marker\" data-fault-span-id=\"{}\"",
        kill["id"]
    );
    assert_eq!(
        count(row, &marker),
        1,
        "kill marked in the step's row: {row}"
    );
    let at: u64 = row
        .split(&marker)
        .nth(1)
        .and_then(|r| r.split("data-observed-ns=\"").nth(1))
        .and_then(|r| r.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("marker time");
    // At the moment the plugin saw it: the signal plus the measured delay
    // (it may see the container stopped a little after the step ended, which
    // is why the marker's row is the step's, not the bar's extent). The
    // signal itself landed while the step ran.
    let signal = kill["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "signal.sent")
        .expect("signal.sent")["time_ns"]
        .as_u64()
        .unwrap();
    let after_ms = attr(kill, "observed.after_ms").unwrap().as_u64().unwrap();
    let want = (signal + after_ms * 1_000_000).min(kill["end_ns"].as_u64().unwrap());
    assert_eq!(at, want, "marker at the observation");
    let (s0, s1) = (
        step["start_ns"].as_u64().unwrap(),
        step["end_ns"].as_u64().unwrap(),
    );
    // The kill was issued (the span's start plus its delay) while the step
    // ran. `signal.sent` is stamped when Docker's kill returns, which it does
    // once the container is dead: at about the moment the step's exec stream
    // ends, on either side of it.
    let issued = kill["start_ns"].as_u64().unwrap()
        + attr(kill, "delay_ms").unwrap().as_u64().unwrap() * 1_000_000;
    assert!(
        s0 <= issued && issued <= s1 && issued <= signal,
        "kill issued at {issued} (signal.sent {signal}), step {s0}..{s1}"
    );
    assert!(
        row.contains("container.exit_code=137"),
        "what was observed is shown: {row}"
    );
    // Every observed fault is drawn once, none that was not.
    let observed = spans
        .iter()
        .filter(|s| attr(s, "chaos.observed") == Some(&json!(true)))
        .count();
    assert_eq!(count(&page.dom, "class=\"fault-marker\""), observed);

    // Cleanup and verification spans are drawn, hatched.
    for s in spans_named(&rep, "clnrm.cleanup.verification") {
        let (_, row) = rows
            .iter()
            .find(|(id, _)| *id == s["id"].as_u64().unwrap())
            .unwrap();
        assert!(row.contains("class=\"span-bar cleanup\""), "{row}");
    }
    // Every expectation with its verdict and message, linked to its spans.
    let exps = rep["expectations"].as_array().unwrap();
    assert_eq!(count(&page.dom, "class=\"expectation\""), exps.len());
    assert!(page.dom.contains(&format!("href=\"#span-{step_id}\"")));

    // By default only the scenario level is drawn.
    let page = open(browser, &html, "");
    assert!(page.console.is_empty() && page.requests.is_empty());
    let top: Vec<u64> = waterfall_rows(&page.dom)
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let want: Vec<u64> = spans
        .iter()
        .filter(|s| s["parent"].is_null() || s["parent"] == json!(0))
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(top, want);

    // The replayed run, drawn by the same renderer from the replayed trace.
    let replayed = dir.path().join("replayed");
    let r = run(clnrm()
        .arg("replay")
        .arg(&recording)
        .arg("--report-dir")
        .arg(&replayed));
    assert_eq!(r.code, 0);
    let page_path = replayed.join(format!("{name}.report.html"));
    assert!(
        r.stdout
            .ends_with(&format!("report: {}\n", page_path.display())),
        "{}",
        r.stdout
    );
    let page = open(browser, &page_path, "#expand=all");
    assert!(
        page.console.is_empty() && page.requests.is_empty(),
        "{:?} {:?}",
        page.console,
        page.requests
    );
    assert!(page
        .dom
        .contains(&format!("replayed from {}", recording.display())));
    assert_eq!(count(&page.dom, "class=\"scenario-row\""), scenarios.len());
    assert_eq!(count(&page.dom, "class=\"span-bar"), spans.len());
    assert_eq!(count(&page.dom, "class=\"fault-marker\""), observed);
    assert!(page.dom.contains(&format!(
        "data-fact=\"digest\">{}<",
        rep["digest"].as_str().unwrap()
    )));

    let shot = dir.path().join("shot.png");
    let st = Command::new(browser)
        .args(QUIET)
        .args(["--window-size=1400,1750"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}#expand=all", html.display()))
        .output()
        .unwrap();
    assert!(st.status.success());
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

/// A report with `n` spans: one run, `n / 100` scenarios, each with a step,
/// a kill, and the rest nested under the step (with events).
fn big_report(n: usize) -> Value {
    let mut spans = vec![
        json!({"id": 0, "parent": null, "name": "clnrm.run", "kind": "internal",
        "status": "OK", "status_message": null, "start_ns": 0, "end_ns": n as u64 * 1_000_000,
        "attrs": [["suite.name", "big"]], "events": []}),
    ];
    let mut scenarios = Vec::new();
    let per = 100;
    for sc in 0..n / per {
        let base = (sc * per) as u64 * 1_000_000;
        let sid = spans.len();
        let name = format!("s{sc}");
        spans.push(json!({"id": sid, "parent": 0, "name": "clnrm.scenario", "kind": "internal", "status": "OK",
            "status_message": null, "start_ns": base, "end_ns": base + 99_000_000,
            "attrs": [["scenario.name", name]], "events": []}));
        let step = spans.len();
        spans.push(json!({"id": step, "parent": sid, "name": format!("clnrm.step:{name}"), "kind": "internal",
            "status": "ERROR", "status_message": "container_killed (exit code 137)", "start_ns": base + 1_000_000,
            "end_ns": base + 90_000_000, "attrs": [["service.id", "app"], ["result", "error"], ["exit.code", 137],
            ["error.type", "container_killed"], ["degraded", false]], "events": []}));
        let kill = spans.len();
        spans.push(json!({"id": kill, "parent": sid, "name": "clnrm.chaos.kill", "kind": "internal", "status": "OK",
            "status_message": null, "start_ns": base + 1_000_000, "end_ns": base + 60_000_000, "plugin": "chaos-container",
            "attrs": [["chaos.type", "kill_container"], ["target.service", "app"], ["container.exit_code", 137],
                      ["observed.after_ms", 9], ["chaos.observed", true]],
            "events": [{"name": "signal.sent", "time_ns": base + 50_000_000, "attrs": []}]}));
        let mut parent = step;
        for k in spans.len()..sid + per {
            let t = base + 2_000_000 + (k - sid) as u64 * 800_000;
            spans.push(json!({"id": k, "parent": parent, "name": format!("app.work.{}", k % 7), "kind": "internal",
                "status": if k % 13 == 0 { "ERROR" } else { "OK" }, "status_message": null,
                "start_ns": t, "end_ns": t + 700_000, "attrs": [["n", k]],
                "events": [{"name": "tick", "time_ns": t + 100_000, "attrs": [["k", k]]}]}));
            // Some depth: every tenth span opens a level.
            if k % 10 == 0 {
                parent = k;
            }
        }
        scenarios.push(json!({"name": name, "passed": true, "expect_failure": true, "reason": null,
            "duration_ms": 99, "environment_error": null, "steps": [], "injections": [], "cleanup": null}));
    }
    // The root makes one too many: drop the last span (a leaf).
    spans.truncate(n);
    json!({"schema": "clnrm.report/1", "clnrm_version": "0", "trace_id": "0", "started_at": "", "name": "big",
        "path": "big.clnrm.toml", "meta": {}, "run_id": "0", "seed": 1, "epoch_unix_ns": 0, "digest": "0",
        "passed": true, "interrupted": false, "environment_error": null, "invalid": null,
        "duration_ms": n, "scenarios": scenarios, "expectations": [], "plugins": {}, "spans": spans})
}

#[test]
fn ten_thousand_spans_are_usable_within_two_seconds() {
    let Some(browser) = chromium() else { return };
    let _machine = alone();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("big.report.json");
    let report = big_report(10_000);
    assert_eq!(report["spans"].as_array().unwrap().len(), 10_000);
    std::fs::write(&json, report.to_string()).unwrap();
    let r = run(clnrm().arg("report").arg(&json));
    assert_eq!(r.code, 0);
    let html = dir.path().join("big.report.html");
    // A wall-clock budget on a shared 2-core machine: a page that is slow once
    // gets one more try (both figures are printed); a slow page fails both.
    let mut tries = Vec::new();
    for _ in 0..2 {
        let first = open(browser, &html, "");
        assert!(first.console.is_empty(), "{:?}", first.console);
        let all = open(browser, &html, "#expand=all");
        assert!(all.console.is_empty(), "{:?}", all.console);
        assert_eq!(count(&all.dom, "class=\"span-bar"), 10_000);
        assert_eq!(count(&all.dom, "class=\"fault-marker\""), 100);
        let (ms, all_ms) = (render_ms(&first.dom), render_ms(&all.dom));
        eprintln!(
            "10k spans: usable after {ms} ms (scenario level), {all_ms} ms with all 10,000 rows drawn"
        );
        tries.push((ms, all_ms));
        if ms < 2000.0 && all_ms < 2000.0 {
            return;
        }
    }
    panic!("slower than 2000 ms in both tries: {tries:?}");
}

#[test]
fn report_refuses_what_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.report.json");
    std::fs::write(
        &bad,
        "{\n  \"schema\": \"clnrm.report/1\",\n  \"name\": x\n}\n",
    )
    .unwrap();
    let r = run(clnrm().arg("report").arg(&bad));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!(
            "error: {}:3:11: not valid JSON: expected value\n",
            bad.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("help: give the `<name>.report.json`"));
    assert!(!dir.path().join("bad.report.html").exists());
    let old = dir.path().join("old.json");
    std::fs::write(&old, "{\"schema\": \"clnrm.cleanup/1\"}").unwrap();
    let r = run(clnrm().arg("report").arg(&old));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(":1:1: not a clnrm JSON report: schema `clnrm.cleanup/1`; this clnrm reads `clnrm.report/1`"), "{}", r.stderr);
    let r = run(clnrm().arg("report").arg(&old).arg("-o").arg(&old));
    assert_eq!(r.code, 2);
}

/// The WIT version the first-party plugins are built against (the sdk's).
fn wit_version() -> String {
    let wit = std::fs::read_to_string(workspace().join("wit/clnrm.wit")).unwrap();
    let line = wit
        .lines()
        .find(|l| l.starts_with("package clnrm:chaos@"))
        .unwrap();
    line.trim_start_matches("package clnrm:chaos@")
        .trim_end_matches(';')
        .to_string()
}

/// A plugin dir with two first-party plugins (and a file that is not one).
fn small_plugin_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for p in ["chaos-container", "validate-counts"] {
        std::fs::copy(
            plugin_dir().join(format!("{p}.wasm")),
            d.path().join(format!("{p}.wasm")),
        )
        .unwrap();
    }
    std::fs::write(d.path().join("README"), "not a plugin").unwrap();
    d
}

#[test]
fn plugins_lists_what_it_finds() {
    let d = small_plugin_dir();
    let dir = d.path().display().to_string();
    let r = run(clnrm().env("CLNRM_PLUGIN_DIR", d.path()).arg("plugins"));
    assert_eq!(r.code, 0);
    let w = wit_version();
    let want = [
        [
            "NAME",
            "VERSION",
            "WIT",
            "KIND",
            "HANDLES",
            "CAPABILITIES",
            "FOUND",
        ]
        .map(String::from),
        [
            "chaos-container",
            "0.1.0",
            &w,
            "chaos",
            "kill_container,stop_container,pause_container",
            "container",
            &format!("CLNRM_PLUGIN_DIR {dir}/chaos-container.wasm"),
        ]
        .map(String::from),
        [
            "validate-counts",
            "0.1.0",
            &w,
            "validator",
            "counts",
            "-",
            &format!("CLNRM_PLUGIN_DIR {dir}/validate-counts.wasm"),
        ]
        .map(String::from),
    ];
    let widths: Vec<usize> = (0..7)
        .map(|c| want.iter().map(|r| r[c].len()).max().unwrap())
        .collect();
    let text: String = want
        .iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect();
    assert_eq!(r.stdout, text);

    // A [plugins] entry of a suite is listed with where it came from.
    let s = suite(
        d.path(),
        "third.clnrm.toml",
        "[meta]\nname = \"third\"\n\n[plugins]\nextra = \"validate-counts.wasm\"\n\n[service.app]\nimage = \"clnrm-base:latest\"\n\n[[scenario]]\nname = \"s\"\nservice = \"app\"\nrun = \"true\"\n",
    );
    let r = run(clnrm()
        .env("CLNRM_PLUGIN_DIR", d.path())
        .arg("plugins")
        .arg("--suite")
        .arg(&s));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let last = r.stdout.lines().last().unwrap();
    assert!(last.starts_with("validate-counts"), "{last}");
    assert!(
        last.ends_with(&format!(
            "[plugins] of {} {dir}/validate-counts.wasm",
            s.display()
        )),
        "{last}"
    );
}

#[test]
fn plugins_describe_names_the_config_keys() {
    let d = small_plugin_dir();
    let dir = d.path().display().to_string();
    let r = run(clnrm().env("CLNRM_PLUGIN_DIR", d.path()).args([
        "plugins",
        "describe",
        "validate-counts",
    ]));
    assert_eq!(r.code, 0);
    let sha = r
        .stdout
        .lines()
        .find(|l| l.starts_with("sha256: "))
        .unwrap()
        .to_string();
    assert_eq!(sha.len(), "sha256: ".len() + 64);
    assert_eq!(
        r.stdout,
        format!(
            "validate-counts 0.1.0 (validator plugin)\nwit: clnrm:chaos@{w}\ncapabilities: -\n\
             found: CLNRM_PLUGIN_DIR {dir}/validate-counts.wasm\n{sha}\n\
             config keys, per [expect.X] table:\n  expect.counts: spans_total, errors_total, events_total, by_name\n\
             note: keys are what the plugin's `check` names as valid; plugin-info carries no types, defaults or docs\n",
            w = wit_version()
        )
    );
    let r = run(clnrm().env("CLNRM_PLUGIN_DIR", d.path()).args([
        "plugins",
        "describe",
        "chaos-container",
    ]));
    assert_eq!(r.code, 0);
    let keys: Vec<&str> = r.stdout.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(
        keys,
        [
            "  kill_container: type, delay_ms, signal, jitter_ms, target, observe_timeout_ms",
            "  stop_container: type, delay_ms, signal, grace_period_ms, target, observe_timeout_ms",
            "  pause_container: type, delay_ms, duration_ms, target, observe_timeout_ms",
        ]
    );
    // A 0.2 plugin's `check` answers in free text: the gap is said, not guessed.
    let r = run(clnrm().env("CLNRM_PLUGIN_DIR", test_plugin_dir()).args([
        "plugins",
        "describe",
        "wit02-validator",
    ]));
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("\n  expect.legacy: keys not exposed (its check answered in free text: "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.ends_with("; this plugin did not name its keys\n"),
        "{}",
        r.stdout
    );

    let r = run(clnrm().env("CLNRM_PLUGIN_DIR", d.path()).args([
        "plugins",
        "describe",
        "validate-count",
    ]));
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: no plugin named `validate-count`\n  help: did you mean `validate-counts`? plugins found: chaos-container, validate-counts\n"
    );
}

#[test]
fn failing_expectations_link_to_the_span_they_name() {
    let Some(browser) = chromium() else { return };
    let _machine = sharing();
    let dir = tempfile::tempdir().unwrap();
    let mut report = big_report(300);
    report["expectations"] = json!([
        {"expectation": "expect.span[0] clnrm.cleanup", "table": "span", "plugin": "validate-span", "passed": false,
         "message": "no span matched (2 candidates); closest is span #57 \"app.work.1\" (parent \"app.work.0\"): status is OK, expected ERROR"},
        {"expectation": "expect.span[1] clnrm.chaos.kill", "table": "span", "plugin": "validate-span", "passed": false,
         "message": "expected count eq 9, found 3"},
        {"expectation": "expect.counts.spans_total", "table": "counts", "plugin": "validate-counts", "passed": true,
         "message": "spans_total eq 300 holds"}
    ]);
    let json_path = dir.path().join("links.report.json");
    std::fs::write(&json_path, report.to_string()).unwrap();
    assert_eq!(run(clnrm().arg("report").arg(&json_path)).code, 0);
    let html = dir.path().join("links.report.html");
    let page = open(browser, &html, "");
    assert!(page.console.is_empty(), "{:?}", page.console);
    let exps: Vec<&str> = page
        .dom
        .split("<div class=\"expectation\"")
        .skip(1)
        .map(|e| e.split("</section>").next().unwrap())
        .collect();
    assert_eq!(exps.len(), 3);
    assert!(exps[0].starts_with(" data-passed=\"false\""));
    assert!(
        exps[0].contains("href=\"#span-57\""),
        "the closest span: {}",
        exps[0]
    );
    // No id in the message: the first span with the name in the label.
    assert!(exps[1].contains("href=\"#span-3\""), "{}", exps[1]);
    assert!(!exps[2].contains("span-link"), "{}", exps[2]);

    // Following the link (the fragment) draws the span, nested 8 levels
    // deep, and highlights it; its siblings under collapsed parents are not drawn.
    let page = open(browser, &html, "#span-57");
    assert!(page.console.is_empty(), "{:?}", page.console);
    let rows = waterfall_rows(&page.dom);
    let (_, row) = rows
        .iter()
        .find(|(id, _)| *id == 57)
        .expect("span 57 drawn");
    assert!(row.contains("class=\"span-row highlight\""), "{row}");
    assert!(rows.len() < 100, "{} rows drawn", rows.len());
}

/// Application spans (received over OTLP): one colour per service, an ERROR one outlined,
/// the services in the legend, and the fault's window drawn across every row.
#[test]
fn application_spans_are_coloured_by_service_with_fault_windows() {
    let Some(browser) = chromium() else { return };
    let _machine = sharing();
    let app = |id: u32,
               parent: u32,
               name: &str,
               service: &str,
               status: &str,
               (s, e): (u64, u64)| {
        json!({"id": id, "parent": parent, "name": name, "kind": "client", "status": status,
            "status_message": null, "start_ns": s, "end_ns": e, "attrs": [["http.request.method", "GET"]], "events": [],
            "app": {"service": service, "trace_id": "0af7651916cd43dd8448eb211c80319c",
                    "span_id": format!("{:016x}", id), "parent_by": "span",
                    "resource": [["service.name", service]], "scope": "shop"}})
    };
    let ms = 1_000_000u64;
    let spans = vec![
        json!({"id": 0, "parent": null, "name": "clnrm.run", "kind": "internal", "status": "OK",
            "status_message": null, "start_ns": 0, "end_ns": 1000 * ms, "attrs": [], "events": []}),
        json!({"id": 1, "parent": 0, "name": "clnrm.scenario", "kind": "internal", "status": "OK",
            "status_message": null, "start_ns": 0, "end_ns": 1000 * ms, "attrs": [["scenario.name", "partition"]], "events": []}),
        json!({"id": 2, "parent": 1, "name": "clnrm.step:buy", "kind": "internal", "status": "OK",
            "status_message": null, "start_ns": 10 * ms, "end_ns": 900 * ms, "attrs": [["service.id", "api"], ["result", "pass"]], "events": []}),
        json!({"id": 3, "parent": 1, "name": "clnrm.network.partition", "kind": "internal", "status": "OK",
            "status_message": null, "start_ns": 200 * ms, "end_ns": 500 * ms, "plugin": "chaos-network",
            "attrs": [["chaos.type", "network_partition"], ["target.service", "store"], ["chaos.observed", true]], "events": []}),
        app(4, 2, "GET /checkout", "api", "OK", (20 * ms, 880 * ms)),
        app(5, 4, "GET /stock", "api", "ERROR", (250 * ms, 300 * ms)),
        app(6, 4, "GET /stock", "api", "OK", (600 * ms, 650 * ms)),
        app(7, 6, "stock.read", "store", "OK", (610 * ms, 640 * ms)),
    ];
    let report = json!({"schema": "clnrm.report/1", "clnrm_version": "0", "trace_id": "0", "started_at": "",
        "name": "shop", "path": "shop.clnrm.toml", "meta": {}, "run_id": "0", "seed": 1, "epoch_unix_ns": 0,
        "digest": "0", "digest_app_spans_left_out": 4, "passed": true, "interrupted": false,
        "environment_error": null, "invalid": null, "duration_ms": 1000,
        "scenarios": [{"name": "partition", "passed": true, "expect_failure": false, "reason": null,
            "duration_ms": 1000, "environment_error": null, "steps": [], "injections": [], "cleanup": null}],
        "expectations": [], "plugins": {}, "spans": spans});
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("shop.report.json");
    std::fs::write(&json, report.to_string()).unwrap();
    assert_eq!(run(clnrm().arg("report").arg(&json)).code, 0);
    let page = open(browser, &dir.path().join("shop.report.html"), "#expand=all");
    assert!(page.console.is_empty(), "{:?}", page.console);
    let dom = &page.dom;
    assert_eq!(count(dom, "class=\"span-bar app\""), 4, "{dom}");
    assert_eq!(
        count(dom, "class=\"span-bar\""),
        4,
        "clnrm's own bars stay by status"
    );
    // One colour per service: every api bar shares one, store's differs.
    let colour = |service: &str| -> Vec<String> {
        dom.split("class=\"span-bar app\"")
            .skip(1)
            .filter(|c| {
                c.split('>')
                    .next()
                    .unwrap()
                    .contains(&format!("data-service=\"{service}\""))
            })
            .map(|c| {
                c.split("background: ")
                    .nth(1)
                    .and_then(|r| r.split(';').next())
                    .expect("an inline colour")
                    .to_string()
            })
            .collect()
    };
    let (api, store) = (colour("api"), colour("store"));
    assert_eq!(api.len(), 3, "{dom}");
    assert!(api.iter().all(|c| *c == api[0]), "{api:?}");
    assert_eq!(store.len(), 1);
    assert_ne!(store[0], api[0]);
    assert_eq!(count(dom, "class=\"legend-service\""), 2);
    assert!(
        dom.contains("4 from api, store; 4 left out of the digest"),
        "{dom}"
    );
    assert!(dom.contains("data-service=\"store\""));
    // The partition's window, across the rows.
    assert_eq!(count(dom, "class=\"fault-window\""), 1);
    assert!(dom.contains("data-fault-span-id=\"3\""), "{dom}");
    // Without application spans, no window is drawn (the other pages are unchanged).
    let plain = big_report(200);
    let pj = dir.path().join("plain.report.json");
    std::fs::write(&pj, plain.to_string()).unwrap();
    assert_eq!(run(clnrm().arg("report").arg(&pj)).code, 0);
    let p = open(browser, &dir.path().join("plain.report.html"), "");
    assert_eq!(count(&p.dom, "class=\"fault-window\""), 0);
}
