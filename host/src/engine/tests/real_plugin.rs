//! A real chaos plugin (target/plugins/chaos-container.wasm, built by `cargo xtask plugins`)
//! run by the engine on the fake backend: the plugin's host calls reach the fake, and the
//! fake's answers are what the plugin observes. Real time: the plugin runs in wasmtime.

use super::*;
use crate::backend::fake::Script;

fn plugin(name: &str) -> std::path::PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins")
        .join(format!("{name}.wasm"));
    assert!(
        p.is_file(),
        "{} missing: run `cargo xtask plugins`",
        p.display()
    );
    p
}

/// Runs `body` with the first-party chaos plugin `name` handling every type it declares
/// (loaded by path: no plugin directory, no environment).
async fn run_with_plugin(fake: &Arc<Fake>, name: &str, body: &str) -> SuiteOutcome {
    let suite = suite(body);
    let mut cx: RunCtx = ctx(fake, Interrupt::never());
    let registry = Arc::new(Registry::new().expect("a registry"));
    let loaded = registry
        .load(name, &plugin(name))
        .await
        .expect("the plugin loads");
    let mut resolved = ResolvedPlugins::default();
    for t in &loaded.info.handles {
        resolved.chaos.insert(t.clone(), loaded.clone());
        resolved.composable.insert(t.clone(), loaded.clone());
    }
    cx.registry = registry;
    run_suite(&cx, &suite, &resolved, 7).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_container_kills_on_the_fake_backend_and_observes_it() {
    let fake = Arc::new(Fake::new());
    fake.script("serve", Script::hang());
    let body = r#"
[[scenario]]
name = "killed"
service = "app"
run = "serve"
expect_failure = true
chaos_injection = { type = "kill_container", delay_ms = 50 }
"#;
    let out = run_with_plugin(&fake, "chaos-container", body).await;
    let sc = &out.scenarios[0];
    assert!(out.passed, "{:?}", sc.reason);
    assert!(
        sc.injections[0].error.is_none(),
        "{:?}",
        sc.injections[0].error
    );
    let kill = span(&out, "clnrm.chaos.kill");
    assert_ok(kill);
    assert_eq!(parent(&out, kill), "clnrm.scenario");
    assert!(bool_attr(kill, "chaos.observed"));
    assert_eq!(int_attr(kill, "container.exit_code"), 137);
    assert_eq!(str_attr(kill, "signal"), "SIGKILL");
    let calls = fake.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("kill app") && c.contains("KILL")),
        "the plugin's kill reached the fake: {calls:?}"
    );
    assert_nothing_left(&fake);
}
