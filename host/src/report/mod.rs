//! Reports: what a run found, for machines and for people. Each is a view of
//! the [`SuiteOutcome`]; docs/reports.md describes every file.
//!
//! - `<name>.report.json`: the whole outcome with its spans (json.rs)
//! - `<name>.report.html`: that JSON as a page, trace as a waterfall (html.rs)
//! - `<name>.junit.xml`: scenarios and expectations as JUnit test cases (junit.rs)
//! - `<name>.trace.sha256`: the canonical trace digest (digest.rs)
//! - `<name>.cleanup.json`: what each scenario created, removed, kept, left (cleanup.rs)
//! - resource, timeout and stress metrics, when `[report]` asks (metrics.rs)
//! - the human summary on stdout (summary.rs)

mod cleanup;
mod digest;
pub mod html;
mod json;
mod junit;
mod metrics;
mod summary;

pub use cleanup::write_cleanup;
pub use digest::write_digest;
pub use json::report_text;
pub use junit::write_junit;
pub use metrics::MetricsKind;
pub use summary::print_summary;

use crate::confined::ConfinedDir;
use crate::engine::SuiteOutcome;
use crate::suite::ReportSpec;
use std::io;
use std::path::PathBuf;

/// Write every report file `spec` asks for into `dir`, under the names it
/// gives, in the order json (with its HTML page beside it), junit, digest,
/// cleanup, resource, timeout and stress metrics. Returns the paths written.
/// The first failure stops it; its message names the file.
pub fn write_all(
    dir: &ConfinedDir,
    outcome: &SuiteOutcome,
    spec: &ReportSpec,
) -> io::Result<Vec<PathBuf>> {
    type Writer = fn(&ConfinedDir, &SuiteOutcome, &str) -> io::Result<PathBuf>;
    let writers: [(&Option<String>, Writer); 6] = [
        (&spec.junit, write_junit),
        (&spec.digest, write_digest),
        (&spec.cleanup, write_cleanup),
        (&spec.resource_metrics, |d, o, f| {
            metrics::write(d, o, f, MetricsKind::Resource)
        }),
        (&spec.timeout_metrics, |d, o, f| {
            metrics::write(d, o, f, MetricsKind::Timeout)
        }),
        (&spec.stress_metrics, |d, o, f| {
            metrics::write(d, o, f, MetricsKind::Stress)
        }),
    ];
    let mut written = Vec::new();
    if let Some(file) = &spec.json {
        // The page is rendered from the very text the JSON file holds.
        let text = report_text(outcome)?;
        written.push(dir.write(file, &text)?);
        written.push(html::write_html(dir, &html::page_name(file), &text)?);
    }
    for (file, write) in writers {
        if let Some(file) = file {
            written.push(write(dir, outcome, file)?);
        }
    }
    Ok(written)
}

/// Unix nanoseconds as RFC 3339 UTC with millisecond precision.
fn rfc3339(unix_ns: u64) -> String {
    humantime::format_rfc3339_millis(
        std::time::UNIX_EPOCH + std::time::Duration::from_nanos(unix_ns),
    )
    .to_string()
}

/// The `clnrm.scenario` span of a scenario, by its `scenario.name` attribute.
fn scenario_span<'a>(
    outcome: &'a SuiteOutcome,
    scenario: &str,
) -> Option<&'a crate::trace::SpanData> {
    outcome.spans.iter().find(|s| {
        s.name == "clnrm.scenario"
            && s.attr("scenario.name")
                .is_some_and(|v| v.to_string() == scenario)
    })
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A small finished outcome (no Docker): a killed step, an exit-42 step,
    //! one passing and one failing expectation.
    use crate::backend::Leftovers;
    use crate::engine::{
        CleanupOutcome, CleanupTrigger, ErrorType, ExpectationOutcome, ScenarioOutcome,
        StepOutcome, StepResult, SuiteOutcome,
    };
    use crate::trace::{AttrValue, RunClock, Trace};

    pub fn outcome() -> SuiteOutcome {
        let t = Trace::new(RunClock::new(Some(1_700_000_000_000_000_000)));
        let root = t.start("clnrm.run", None);
        let mut scenarios = Vec::new();
        for (name, code, err) in [
            ("killed", 137, ErrorType::ContainerKilled),
            ("exit_42", 42, ErrorType::NonzeroExit),
        ] {
            let sc = t.start("clnrm.scenario", Some(root));
            t.set_attr(sc, "scenario.name", name);
            let st = t.start(format!("clnrm.step:{name}"), Some(sc));
            t.set_attr(st, "exit.code", code);
            t.end_error(st, err.as_str());
            let cl = t.start("clnrm.cleanup", Some(st));
            t.set_attr(cl, "scenario.name", name);
            let attrs = |removed: bool| {
                vec![
                    ("service.id".to_string(), AttrValue::from("app")),
                    (
                        "container.id".to_string(),
                        AttrValue::from(format!("c-{name}")),
                    ),
                    ("removed".to_string(), AttrValue::from(removed)),
                ]
            };
            t.add_event(cl, "container.remove", attrs(true));
            let v = t.start("clnrm.cleanup.verification", Some(cl));
            t.set_attr(v, "scenario.name", name);
            t.set_attr(v, "containers.remaining", 0);
            t.set_attr(v, "processes.remaining", 0);
            t.end_ok(v);
            t.end_ok(cl);
            t.end_ok(sc);
            scenarios.push(ScenarioOutcome {
                name: name.into(),
                passed: name == "killed",
                expect_failure: name == "killed",
                reason: (name != "killed")
                    .then(|| format!("step `{name}` failed: nonzero_exit (exit code 42)")),
                duration_ms: 900,
                environment_error: None,
                steps: vec![StepOutcome {
                    name: name.into(),
                    service: "app".into(),
                    result: StepResult::Error,
                    exit_code: Some(code),
                    error_type: Some(err),
                    stdout: "started\n".into(),
                    stderr: String::new(),
                    duration_ms: 600,
                }],
                injections: Vec::new(),
                cleanup: CleanupOutcome {
                    triggered: CleanupTrigger::Failure,
                    created: vec![format!("c-{name}")],
                    containers_removed: 1,
                    networks_removed: 0,
                    kept: Vec::new(),
                    success: true,
                    remaining: Leftovers::default(),
                    duration_ms: 12,
                    errors: Vec::new(),
                },
                recordings: Vec::new(),
            });
        }
        t.end_error(root, "a scenario failed");
        let spans = t.snapshot();
        SuiteOutcome {
            name: "demo".into(),
            path: "demo.clnrm.toml".into(),
            meta: Default::default(),
            run_id: "0123456789abcdef".into(),
            seed: 42,
            epoch_unix_ns: 1_700_000_000_000_000_000,
            digest: crate::trace::digest(&spans),
            digest_app_spans_left_out: 0,
            passed: false,
            interrupted: false,
            environment_error: None,
            invalid: None,
            duration_ms: 2000,
            scenarios,
            expectations: vec![
                ExpectationOutcome { expectation: "expect.span[0] clnrm.step:killed".into(), table: "span".into(), plugin: "validate-span".into(), passed: true, message: "matched 1 span(s) (span ids 2)".into() },
                ExpectationOutcome { expectation: "expect.span[1] clnrm.step:exit_42".into(), table: "span".into(), plugin: "validate-span".into(), passed: false, message: "no span matched; closest clnrm.step:exit_42: exit.code = 42, expected \"41\"".into() },
            ],
            plugins: Default::default(),
            shard: None,
            spans,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_all_honours_the_spec_and_names_files_after_the_suite() {
        let dir = tempfile::tempdir().unwrap();
        let o = fixture::outcome();
        let all = write_all(
            &ConfinedDir::create(dir.path()).unwrap(),
            &o,
            &ReportSpec::defaults("demo"),
        )
        .unwrap();
        let names: Vec<String> = all
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "demo.report.json",
                "demo.report.html",
                "demo.junit.xml",
                "demo.trace.sha256",
                "demo.cleanup.json"
            ]
        );
        let sub = tempfile::tempdir().unwrap();
        let only = write_all(
            &ConfinedDir::create(&sub.path().join("new/dir")).unwrap(),
            &o,
            &ReportSpec {
                json: None,
                cleanup: None,
                ..ReportSpec::defaults("demo")
            },
        )
        .unwrap();
        assert_eq!(only.len(), 2);
        assert!(!sub.path().join("new/dir/demo.report.json").exists());
        assert!(!sub.path().join("new/dir/demo.report.html").exists());
        assert_eq!(
            std::fs::read_to_string(sub.path().join("new/dir/demo.trace.sha256")).unwrap(),
            format!("{}\n", o.digest)
        );
    }

    /// The JSON report carries application spans with their `app` record
    /// (service, ids, parent_by) and says how many the digest left out; read
    /// back, the spans are the same.
    #[test]
    fn the_json_report_carries_application_spans() {
        use crate::trace::{AppParent, AppSpan, SpanData, SpanId};
        let mut o = fixture::outcome();
        let n = o.spans.len() as u32;
        let mut s = SpanData::finished(SpanId(n), Some(SpanId(1)), "GET /stock", 5, 9);
        s.app = Some(Box::new(AppSpan {
            service: "api".into(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: Some("00f067aa0ba902b7".into()),
            parent_by: AppParent::Resource,
            resource: vec![("service.name".into(), "api".into())].into(),
            scope: Some("shop".into()),
            renamed_from: None,
        }));
        o.spans.push(s);
        o.digest_app_spans_left_out = 1;
        let text = report_text(&o).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["digest_app_spans_left_out"], 1);
        let app = &v["spans"][n as usize]["app"];
        assert_eq!(app["service"], "api");
        assert_eq!(app["trace_id"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(app["span_id"], "b7ad6b7169203331");
        assert_eq!(app["parent_span_id"], "00f067aa0ba902b7");
        assert_eq!(app["parent_by"], "resource");
        assert_eq!(app["resource"][0][1], "api");
        // clnrm's own spans have no `app`.
        assert!(v["spans"][0].get("app").is_none());
        let back: Vec<SpanData> = serde_json::from_value(v["spans"].clone()).unwrap();
        assert_eq!(back[n as usize].app, o.spans[n as usize].app);
        assert!(back[0].app.is_none());
    }
}
