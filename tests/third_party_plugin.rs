//! An out-of-tree plugin, proven: `examples/third-party-plugin` (its own crate and
//! workspace, on `clnrm-sdk` by path) is built with exactly the commands of
//! docs/plugin-guide.md, loaded through `[plugins]`, and run against a real container;
//! its spans are checked by `[[expect.span]]` and `[expect.chaos]` in the suite and in the
//! JSON report. Also: the guide's Rust code is the example's code, byte for byte.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use support::*;

fn example_dir() -> PathBuf {
    workspace().join("examples/third-party-plugin")
}

/// The guide's build commands, run in the example's directory as a plugin author would:
/// `rustup target add wasm32-wasip2` (a no-op once installed) and
/// `cargo build --release --target wasm32-wasip2`. The only difference: a target
/// directory under the workspace's `target/`, so the tree stays clean and re-runs are
/// cached. Nothing the outer `cargo test` set (RUSTFLAGS, CARGO_*) leaks in.
fn build_example() -> &'static Path {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let target_dir = workspace().join("target/third-party-plugin");
        let author_env = |cmd: &mut Command| {
            for (k, _) in std::env::vars_os() {
                let k = k.to_string_lossy().into_owned();
                let outer = (k.starts_with("CARGO") && k != "CARGO_HOME")
                    || k.starts_with("RUSTC")
                    || k.starts_with("RUSTDOC")
                    || k == "RUSTFLAGS";
                if outer {
                    cmd.env_remove(&k);
                }
            }
            cmd.current_dir(example_dir());
        };
        let mut rustup = Command::new("rustup");
        rustup.args(["target", "add", "wasm32-wasip2"]);
        author_env(&mut rustup);
        let out = rustup.output().expect("rustup runs");
        assert!(
            out.status.success(),
            "rustup target add wasm32-wasip2: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let mut cargo = Command::new("cargo");
        cargo.args(["build", "--release", "--target", "wasm32-wasip2"]);
        author_env(&mut cargo);
        cargo.env("CARGO_TARGET_DIR", &target_dir);
        let out = cargo.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo build of the example failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let wasm = target_dir.join("wasm32-wasip2/release/freeze_then_kill.wasm");
        assert!(wasm.is_file(), "{} was not built", wasm.display());
        wasm
    })
}

fn suite_text(wasm: &Path, injection: &str) -> String {
    format!(
        r#"[plugins]
mine = "{wasm}"

[meta]
name = "third_party"

[determinism]
seed = 42

[service.app]
image = "clnrm-base:latest"

[[scenario]]
name = "frozen_then_killed"
service = "app"
run = "echo started; sleep 30; echo never-printed"
expect_failure = true
chaos_injection = {injection}

[[expect.span]]
name = "chaos.freeze_then_kill"
status = "OK"
parent = "clnrm.scenario"
attrs.all = {{ "chaos.type" = "freeze_then_kill", "chaos.observed" = true, "target.service" = "app", "container.exit_code" = 137, "signal" = "SIGKILL" }}
events.all = ["container.paused", "container.resumed", "signal.sent"]

[[expect.span]]
name = "clnrm.step:frozen_then_killed"
status = "ERROR"
attrs.all = {{ "exit.code" = 137 }}

[expect.chaos]
injections_observed = true
min_injections = 1
"#,
        wasm = wasm.display()
    )
}

#[test]
fn the_example_plugin_builds_loads_and_its_fault_is_observed() {
    let wasm = build_example();
    let dir = tempfile::tempdir().unwrap();
    let text = suite_text(
        wasm,
        r#"{ type = "freeze_then_kill", delay_ms = 300, freeze_ms = 400 }"#,
    );
    let p = suite(dir.path(), "third_party.clnrm.toml", &text);

    let r = run(clnrm().arg("validate").arg(&p));
    assert_eq!(r.code, 0, "clnrm validate loads and checks the plugin");

    let r = run(clnrm()
        .arg("run")
        .arg(&p)
        .arg("--report-dir")
        .arg(dir.path()));
    assert_eq!(r.code, 0, "the suite passes");
    assert!(
        r.stdout
            .contains("froze app for 400 ms, thawed it, then SIGKILL ended it with exit code 137"),
        "the plugin's summary is shown: {}",
        r.stdout
    );

    let rep = read_report(dir.path(), "third_party");
    let run_id = rep["run_id"].as_str().expect("run_id");
    let fault = spans_named(&rep, "chaos.freeze_then_kill");
    assert_eq!(fault.len(), 1, "one fault span");
    let f = fault[0];
    assert_eq!(f["status"], "OK");
    assert_eq!(parent_name(&rep, f).as_deref(), Some("clnrm.scenario"));
    for (k, v) in [
        ("chaos.type", serde_json::json!("freeze_then_kill")),
        ("chaos.observed", serde_json::json!(true)),
        ("target.service", serde_json::json!("app")),
        ("freeze_ms", serde_json::json!(400)),
        ("container.exit_code", serde_json::json!(137)),
    ] {
        assert_eq!(attr(f, k), Some(&v), "attribute {k} of {f}");
    }
    let events: Vec<&str> = f["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(
        events,
        ["container.paused", "container.resumed", "signal.sent"],
        "each effect observed, in order"
    );
    let sc = &rep["scenarios"][0];
    assert_eq!(sc["injections"][0]["observed"], true);
    assert_eq!(sc["steps"][0]["exit_code"], 137);
    assert_no_leftovers(run_id);
}

/// A typo in the plugin's own config is the plugin's structured `check` error: exit 2
/// before any container starts, with the key and a suggestion.
#[test]
fn a_bad_key_in_the_plugins_config_is_bad_input() {
    let wasm = build_example();
    let dir = tempfile::tempdir().unwrap();
    let text = suite_text(wasm, r#"{ type = "freeze_then_kill", freez_ms = 400 }"#);
    let p = suite(dir.path(), "bad.clnrm.toml", &text);
    for cmd in ["validate", "run"] {
        let mut c = clnrm();
        c.arg(cmd).arg(&p);
        if cmd == "run" {
            c.arg("--report-dir").arg(dir.path());
        }
        let r = run(c.env("DOCKER_HOST", "unix:///nonexistent/third-party/docker.sock"));
        assert_eq!(r.code, 2, "{cmd}: bad input");
        assert!(!r.stderr.contains("panicked"), "{cmd}: no panic");
        assert!(
            r.stderr
                .contains("unknown key \"freez_ms\" in chaos_injection")
                && r.stderr.contains("did you mean \"freeze_ms\"?"),
            "{cmd}: names the key and the fix: {}",
            r.stderr
        );
        // The plugin names the key by its path; the host points at the key itself.
        assert!(
            r.stderr.contains("bad.clnrm.toml:18:48"),
            "{cmd}: file:line:col: {}",
            r.stderr
        );
    }

    let text = suite_text(
        wasm,
        r#"{ type = "freeze_then_kill", signal = "SIGBOGUS" }"#,
    );
    let p = suite(dir.path(), "bad_signal.clnrm.toml", &text);
    let r = run(clnrm()
        .arg("validate")
        .arg(&p)
        .env("DOCKER_HOST", "unix:///nonexistent/third-party/docker.sock"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("signal: unknown signal `SIGBOGUS`"),
        "{}",
        r.stderr
    );
}

/// The guide's Rust code block is the example's `src/lib.rs`, byte for byte, and its
/// Cargo.toml block the example's Cargo.toml: the test above keeps that code compiling
/// and working, this one keeps the guide showing it.
#[test]
fn the_guide_shows_the_example_verbatim() {
    let guide = std::fs::read_to_string(workspace().join("docs/plugin-guide.md")).unwrap();
    let block = |lang: &str, after: &str| -> String {
        let start = guide
            .find(after)
            .unwrap_or_else(|| panic!("docs/plugin-guide.md lacks {after:?}"));
        let fence = format!("```{lang}\n");
        let open = start
            + guide[start..]
                .find(&fence)
                .unwrap_or_else(|| panic!("no ```{lang} block after {after:?}"))
            + fence.len();
        let close = open + guide[open..].find("\n```\n").expect("closing fence") + 1;
        guide[open..close].to_string()
    };
    let lib = std::fs::read_to_string(example_dir().join("src/lib.rs")).unwrap();
    assert_eq!(
        block("rust", "<!-- example: src/lib.rs -->"),
        lib,
        "the guide's code must equal examples/third-party-plugin/src/lib.rs"
    );
    let toml = std::fs::read_to_string(example_dir().join("Cargo.toml")).unwrap();
    assert_eq!(
        block("toml", "<!-- example: Cargo.toml -->"),
        toml,
        "the guide's Cargo.toml must equal examples/third-party-plugin/Cargo.toml"
    );
}
