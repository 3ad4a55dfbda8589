//! examples/shop, proven: its two services (built here as `cargo xtask shop` builds them:
//! static musl binaries copied into the image context) run under examples/shop/shop.clnrm.toml
//! twice with the same digest, and the recording of a run replays without Docker to it. The
//! services' own spans (api over OTLP/gRPC, store over OTLP/HTTP) reach clnrm's receiver and
//! land in clnrm's trace.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use support::*;

const TARGET: &str = "x86_64-unknown-linux-musl";
const SERVICES: [&str; 2] = ["api", "store"];

fn shop_dir() -> PathBuf {
    workspace().join("examples/shop")
}

/// `cargo build --locked --target x86_64-unknown-linux-musl` in the example (target dir
/// `target/shop`, shared with `cargo xtask shop`), then each binary copied to `image/bin/`
/// when its bytes changed, as xtask does, so the suite's images keep their build hash.
/// Nothing the outer `cargo test` set (RUSTFLAGS, CARGO_*) leaks in.
fn build_shop() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let target_dir = workspace().join("target/shop");
        let mut cargo = Command::new("cargo");
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if (k.starts_with("CARGO") && k != "CARGO_HOME")
                || k.starts_with("RUSTC")
                || k.starts_with("RUSTDOC")
                || k == "RUSTFLAGS"
            {
                cargo.env_remove(&k);
            }
        }
        cargo
            .current_dir(shop_dir())
            .args(["build", "--locked", "--target", TARGET])
            .env("CARGO_TARGET_DIR", &target_dir);
        let started = std::time::Instant::now();
        let out = cargo.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo build of examples/shop failed (is the {TARGET} target installed? \
             `cargo xtask shop` adds it):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!(
            "examples/shop built in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let bin = shop_dir().join("image/bin");
        std::fs::create_dir_all(&bin).unwrap();
        for s in SERVICES {
            let built = std::fs::read(target_dir.join(TARGET).join("debug").join(s)).unwrap();
            let to = bin.join(s);
            if std::fs::read(&to).ok().as_deref() != Some(&built[..]) {
                let tmp = to.with_extension("tmp");
                std::fs::copy(target_dir.join(TARGET).join("debug").join(s), &tmp).unwrap();
                std::fs::rename(&tmp, &to).unwrap();
            }
        }
        bin
    })
}

fn digest_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("shop.trace.sha256"))
        .expect("digest written")
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

fn passed(r: &Run) {
    assert_eq!(
        r.code, 0,
        "the shop suite passes:\n{}\n{}",
        r.stdout, r.stderr
    );
    assert!(
        r.stdout.contains("PASS shop: 3/3 scenarios"),
        "{}",
        r.stdout
    );
}

#[test]
fn shop_passes_twice_with_one_digest_and_replays_without_docker() {
    build_shop();
    let suite = shop_dir().join("shop.clnrm.toml");
    let first = tempfile::tempdir().unwrap();
    let recording = first.path().join("shop.recording.json");
    let r = run_recorded(first.path(), &suite, &recording);
    passed(&r);
    let digest = digest_of(first.path());

    let report = read_report(first.path(), "shop");
    // The three faults, seen by clnrm.
    assert_eq!(spans_named(&report, "clnrm.network.partition").len(), 1);
    assert_eq!(spans_named(&report, "clnrm.chaos.kill").len(), 1);
    let latency = spans_named(&report, "clnrm.network.chaos")
        .into_iter()
        .find(|s| attr(s, "chaos.type").and_then(|v| v.as_str()) == Some("latency"))
        .expect("the latency fault's span");
    let rtt = attr(latency, "latency.measured_ms").and_then(|v| v.as_f64());
    assert!(
        rtt.is_some_and(|ms| ms >= 300.0),
        "latency measured {rtt:?}"
    );
    // Both images were built by the suite from the binaries above.
    assert_eq!(spans_named(&report, "clnrm.image.build").len(), 2);

    // The services' own spans came in (api over gRPC, store over HTTP), in clnrm's trace:
    // store's server spans under api's client spans, api's start-up under clnrm's start.
    let service = |s: &serde_json::Value| s["app"]["service"].as_str().map(str::to_string);
    let app: Vec<&serde_json::Value> = report["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| service(s).is_some())
        .collect();
    for (svc, name, kind) in [
        ("api", "GET /checkout", "server"),
        ("api", "GET /item/{id}", "client"),
        ("store", "GET /item/{id}", "server"),
        ("api", "api.startup", "internal"),
        ("store", "store.startup", "internal"),
    ] {
        assert!(
            app.iter().any(|s| service(s).as_deref() == Some(svc)
                && s["name"] == name
                && s["kind"]
                    .as_str()
                    .is_some_and(|k| k.eq_ignore_ascii_case(kind))),
            "no {kind} span {name:?} from {svc}"
        );
    }
    let by_id = |id: &serde_json::Value| {
        report["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == *id)
    };
    for s in app
        .iter()
        .filter(|s| service(s).as_deref() == Some("store"))
    {
        let parent = by_id(&s["parent"]).expect("store's spans have a parent in the trace");
        let want = if s["name"] == "store.startup" {
            (None, "clnrm.service.start")
        } else {
            (Some("api".to_string()), "GET /item/{id}")
        };
        assert_eq!(
            (service(parent), parent["name"].as_str().unwrap()),
            want,
            "{s}"
        );
    }
    let trace_ids: std::collections::BTreeSet<&str> = app
        .iter()
        .filter_map(|s| s["app"]["trace_id"].as_str())
        .collect();
    assert_eq!(trace_ids.len(), 1, "one trace: {trace_ids:?}");
    assert!(
        r.stdout.contains("application span(s) left out"),
        "the digest leaves the application spans out and says so:\n{}",
        r.stdout
    );

    let second = tempfile::tempdir().unwrap();
    let r = run(clnrm()
        .arg("run")
        .arg(&suite)
        .arg("--report-dir")
        .arg(second.path()));
    passed(&r);
    assert!(
        r.stderr.contains("unchanged since built, not rebuilt")
            || r.stdout.contains("unchanged since built, not rebuilt"),
        "the second run reuses the images:\n{}",
        r.stderr
    );
    assert_eq!(digest_of(second.path()), digest, "same seed, same digest");

    assert_replays_to(&recording, &digest);
}
