//! The engine on the in-memory fake backend: verdicts, cleanup, timeouts,
//! interrupts and the loss of Docker, without Docker and without plugins
//! (but `real_plugin`: a first-party chaos plugin's wasm on the fake backend).
//! Time is tokio's paused clock, so durations are exact and nothing sleeps.

mod app_spans;
mod artifacts;
mod cascade;
mod cleanup;
mod environment;
mod interrupt;
mod jobs;
mod limits;
mod network;
mod race;
mod ready;
mod real_plugin;
mod recovery;
mod retry;
mod step;
mod timeouts;
mod verdicts;

use super::{run_suite, Interrupt, RunCtx, SuiteOutcome};
use crate::backend::Fake;
use crate::runtime::{Registry, ResolvedPlugins};
use crate::suite::Suite;
use crate::trace::{AttrValue, SpanData, SpanStatus};
use std::path::Path;
use std::sync::Arc;

/// The head every test suite starts with: a frozen clock, one service.
const HEAD: &str = r#"
[meta]
name = "fake"

[determinism]
seed = 7
freeze_clock = "2025-01-01T00:00:00Z"

[limits]
max_duration_seconds = 60

[service.app]
image = "clnrm-base:latest"
"#;

pub(super) fn suite(body: &str) -> Suite {
    let src = format!("{HEAD}{body}");
    match crate::suite::load_str(Path::new("fake.clnrm.toml"), src) {
        Ok(s) => s,
        Err(e) => panic!("test suite does not load: {:?}", miette::Report::new(e)),
    }
}

pub(super) fn ctx(fake: &Arc<Fake>, interrupt: Interrupt) -> RunCtx {
    RunCtx {
        images: Default::default(),
        registry: Arc::new(Registry::new().expect("a registry without plugins")),
        backend: fake.clone(),
        run_id: "0123456789abcdef0123".into(),
        interrupt,
        record: false,
        reports: Arc::new(
            crate::confined::ConfinedDir::create(&std::env::temp_dir().join("clnrm-engine-tests"))
                .expect("a scratch report dir"),
        ),
        progress: None,
        jobs: RunCtx::jobs(1),
    }
}

/// Run `body` (after [`HEAD`]) on `fake`.
pub(super) async fn run(fake: &Arc<Fake>, body: &str) -> SuiteOutcome {
    run_loaded(fake, &suite(body)).await
}

pub(super) async fn run_loaded(fake: &Arc<Fake>, suite: &Suite) -> SuiteOutcome {
    let ctx = ctx(fake, Interrupt::never());
    run_suite(&ctx, suite, &ResolvedPlugins::default(), 7).await
}

/// The one span named `name`.
pub(super) fn span<'a>(out: &'a SuiteOutcome, name: &str) -> &'a SpanData {
    let found: Vec<&SpanData> = out.spans.iter().filter(|s| s.name == name).collect();
    match found.as_slice() {
        [one] => one,
        _ => panic!(
            "expected one span `{name}`, found {}; spans: {:?}",
            found.len(),
            names(out)
        ),
    }
}

pub(super) fn has_span(out: &SuiteOutcome, name: &str) -> bool {
    out.spans.iter().any(|s| s.name == name)
}

pub(super) fn names(out: &SuiteOutcome) -> Vec<&str> {
    out.spans.iter().map(|s| s.name.as_str()).collect()
}

/// The name of `s`'s parent span.
pub(super) fn parent<'a>(out: &'a SuiteOutcome, s: &SpanData) -> &'a str {
    let p = s
        .parent
        .unwrap_or_else(|| panic!("`{}` has no parent", s.name));
    out.spans
        .iter()
        .find(|x| x.id == p)
        .map(|x| x.name.as_str())
        .unwrap_or_else(|| panic!("`{}`'s parent is not in the trace", s.name))
}

pub(super) fn str_attr(s: &SpanData, key: &str) -> String {
    match s.attr(key) {
        Some(AttrValue::Str(v)) => v.clone(),
        other => panic!("`{}`.{key}: expected a string, got {other:?}", s.name),
    }
}

pub(super) fn int_attr(s: &SpanData, key: &str) -> i64 {
    match s.attr(key) {
        Some(AttrValue::Int(v)) => *v,
        other => panic!("`{}`.{key}: expected an integer, got {other:?}", s.name),
    }
}

pub(super) fn bool_attr(s: &SpanData, key: &str) -> bool {
    match s.attr(key) {
        Some(AttrValue::Bool(v)) => *v,
        other => panic!("`{}`.{key}: expected a bool, got {other:?}", s.name),
    }
}

pub(super) fn assert_ok(s: &SpanData) {
    assert_eq!(
        s.status,
        SpanStatus::Ok,
        "`{}`: {:?}",
        s.name,
        s.status_message
    );
}

pub(super) fn assert_error(s: &SpanData, message: &str) {
    assert_eq!(
        s.status,
        SpanStatus::Error,
        "`{}` should be an error",
        s.name
    );
    assert_eq!(s.status_message.as_deref(), Some(message), "`{}`", s.name);
}

/// `later` started after `earlier` ended (both ended).
pub(super) fn assert_after(earlier: &SpanData, later: &SpanData) {
    let end = earlier
        .end_ns
        .unwrap_or_else(|| panic!("`{}` never ended", earlier.name));
    assert!(
        later.start_ns >= end && later.id.0 > earlier.id.0,
        "`{}` should start after `{}` ended",
        later.name,
        earlier.name
    );
}

/// The position of `call` in the fake's log (panics when absent).
pub(super) fn at(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no call `{call}` in {calls:?}"))
}

/// Nothing is left in the fake.
pub(super) fn assert_nothing_left(fake: &Fake) {
    let held = fake.held();
    assert!(held.is_empty(), "left behind: {held:?}");
}
