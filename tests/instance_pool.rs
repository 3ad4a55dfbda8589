//! The plugin instance pool of a run (`CLNRM_PLUGIN_INSTANCES`, default 128): calls that
//! find every slot in use wait for one instead of failing. Here the pool has one slot and
//! eight validator calls run at once; without the wait seven fail with wasmtime's
//! "maximum concurrent limit of 1 for component instances reached". And `validate`'s
//! on-demand engine and a run's pooled one share the precompiled cache. No Docker.

mod support;

use clnrm::runtime::{Limits, Registry, ValidateCall, ValidatorJob, ValidatorTrace};
use clnrm::trace::{SpanData, SpanId, SpanStatus};
use std::sync::Arc;
use support::*;

#[test]
fn calls_wait_for_a_free_slot_when_the_pool_is_full() {
    // Set before any thread of this binary reads the environment (one test here). A cache
    // of its own: the first load below must compile.
    let cache = tempfile::tempdir().expect("a scratch cache dir");
    std::env::set_var("CLNRM_CACHE_DIR", cache.path());
    std::env::set_var("CLNRM_PLUGIN_INSTANCES", "1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let path = plugin_dir().join("validate-span.wasm");
    assert!(
        path.is_file(),
        "run `cargo xtask plugins`: {} is missing",
        path.display()
    );
    // What `clnrm validate` compiles and caches, a run loads from the cache.
    let checks = Registry::for_checks().expect("an on-demand registry");
    let compiled = rt
        .block_on(checks.load("validate-span", &path))
        .expect("validate-span loads");
    assert!(!compiled.from_cache, "a fresh cache dir cannot hold it");
    let registry = Arc::new(Registry::new().expect("a registry"));
    let plugin = rt
        .block_on(registry.load("validate-span", &path))
        .expect("validate-span loads");
    assert!(
        plugin.from_cache,
        "the pooled engine takes what the on-demand one cached"
    );

    let mut spans = Vec::new();
    for i in 0..200u32 {
        let mut s = SpanData::finished(SpanId(i), i.checked_sub(1).map(SpanId), "clnrm.step", 0, 1);
        s.status = SpanStatus::Ok;
        spans.push(s);
    }
    let trace = Arc::new(ValidatorTrace::new(&spans).expect("packs"));
    // One expectation that holds and one that does not: each call has findings to compare.
    let config = r#"[{"name":"clnrm.step","count":{"eq":200}},{"name":"clnrm.absent"}]"#;
    let jobs: Vec<ValidatorJob> = (0..8)
        .map(|_| ValidatorJob {
            plugin: plugin.clone(),
            table: "span".into(),
            config_json: config.into(),
        })
        .collect();
    let results = rt.block_on(registry.validate_all(jobs, trace.clone(), Vec::new(), 8));
    let alone = rt
        .block_on(registry.validate(
            &plugin,
            "span",
            config,
            &trace,
            ValidateCall {
                limits: Limits::VALIDATOR,
                resource: Vec::new(),
            },
        ))
        .expect("one call alone");
    assert_eq!(alone.len(), 2, "{alone:?}");
    assert!(
        alone.iter().any(|f| f.passed) && alone.iter().any(|f| !f.passed),
        "{alone:?}"
    );
    for (i, r) in results.into_iter().enumerate() {
        let findings = r.unwrap_or_else(|e| panic!("call {i} failed: {e}"));
        assert_eq!(format!("{findings:?}"), format!("{alone:?}"), "call {i}");
    }
}
