//! `<name>.junit.xml` through `quick-junit`: one `<testsuite>` per suite, one
//! `<testcase>` per scenario (a `<failure>` carrying the scenario's reason),
//! then one per expectation (a `<failure>` carrying the validator's message).
//! The suite's properties hold the seed, the trace digest, the run id and
//! the OTEL trace id. Times are seconds; timestamps come from the run clock,
//! so with `freeze_clock` they are the frozen instant plus elapsed time.

use super::scenario_span;
use crate::confined::ConfinedDir;
use crate::engine::{ScenarioOutcome, SuiteOutcome};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

fn timestamp(unix_ns: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_nanos(i64::try_from(unix_ns).unwrap_or(i64::MAX))
}

/// What the scenario did, one line each (the failure's body).
fn details(sc: &ScenarioOutcome) -> String {
    let mut out = String::new();
    for st in &sc.steps {
        let _ = write!(out, "step {}: {}", st.name, st.result);
        if let Some(t) = &st.error_type {
            let _ = write!(out, " {t}");
        }
        if let Some(c) = st.exit_code {
            let _ = write!(out, " (exit code {c})");
        }
        out.push('\n');
    }
    for inj in &sc.injections {
        match &inj.error {
            Some(e) => {
                let _ = writeln!(out, "chaos {} ({}): ERROR {e}", inj.fault_type, inj.plugin);
            }
            None => {
                let _ = writeln!(
                    out,
                    "chaos {} ({}): {}{}",
                    inj.fault_type,
                    inj.plugin,
                    inj.summary,
                    if inj.observed { "" } else { " [NOT OBSERVED]" }
                );
            }
        }
    }
    let c = &sc.cleanup;
    let _ = writeln!(
        out,
        "cleanup ({}): {} container(s) and {} network(s) removed in {} ms, success {}",
        c.triggered, c.containers_removed, c.networks_removed, c.duration_ms, c.success
    );
    for e in &c.errors {
        let _ = writeln!(out, "cleanup error: {e}");
    }
    out
}

/// The steps' output, labelled, for `<system-out>` / `<system-err>`.
fn output(sc: &ScenarioOutcome, err: bool) -> String {
    let mut out = String::new();
    for st in &sc.steps {
        let text = if err { &st.stderr } else { &st.stdout };
        if !text.is_empty() {
            let _ = writeln!(out, "--- step {} ---\n{}", st.name, text.trim_end());
        }
    }
    out
}

fn scenario_case(outcome: &SuiteOutcome, sc: &ScenarioOutcome) -> TestCase {
    let status = if sc.passed {
        TestCaseStatus::success()
    } else {
        let kind = if sc.environment_error.is_some() {
            NonSuccessKind::Error
        } else {
            NonSuccessKind::Failure
        };
        let mut s = TestCaseStatus::non_success(kind);
        s.set_message(
            sc.reason
                .clone()
                .unwrap_or_else(|| "scenario failed".into()),
        );
        let ty = sc
            .steps
            .iter()
            .find_map(|st| st.error_type)
            .map_or("scenario", |t| t.as_str());
        s.set_type(ty);
        s.set_description(details(sc));
        s
    };
    let mut case = TestCase::new(sc.name.as_str(), status);
    case.set_classname(outcome.name.as_str())
        .set_time(Duration::from_millis(sc.duration_ms));
    if let Some(span) = scenario_span(outcome, &sc.name) {
        case.set_timestamp(timestamp(
            outcome.epoch_unix_ns.saturating_add(span.start_ns),
        ));
    }
    case.add_property(Property::new(
        "expect_failure",
        sc.expect_failure.to_string(),
    ));
    let (out, err) = (output(sc, false), output(sc, true));
    if !out.is_empty() {
        case.set_system_out(out);
    }
    if !err.is_empty() {
        case.set_system_err(err);
    }
    case
}

/// The application spans a validator's message points at (`span #N`), one
/// line each: service, name, status, duration and OTLP ids, so CI names the
/// application's span, not only clnrm's index of it.
fn app_spans_named(outcome: &SuiteOutcome, message: &str) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    for part in message.split("span #").skip(1) {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        let Ok(id) = digits.parse::<u32>() else {
            continue;
        };
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let Some(s) = outcome.spans.iter().find(|s| s.id.0 == id) else {
            continue;
        };
        let Some(app) = &s.app else { continue };
        let _ = writeln!(
            out,
            "application span #{id} {:?} of service {:?}: status {:?}{}, {:.3} ms, trace id {}, span id {}",
            s.name,
            app.service,
            s.status,
            s.status_message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default(),
            s.duration_ns() as f64 / 1e6,
            app.trace_id,
            app.span_id,
        );
    }
    out
}

/// Build the JUnit model (also used by tests).
pub fn junit_report(outcome: &SuiteOutcome) -> Report {
    let started = timestamp(outcome.epoch_unix_ns);
    let mut suite = TestSuite::new(outcome.name.as_str());
    suite
        .set_timestamp(started)
        .set_time(Duration::from_millis(outcome.duration_ms));
    suite.add_properties([
        Property::new("seed", outcome.seed.to_string()),
        Property::new("digest", outcome.digest.as_str()),
        Property::new(
            "digest_app_spans_left_out",
            outcome.digest_app_spans_left_out.to_string(),
        ),
        Property::new("run_id", outcome.run_id.as_str()),
        Property::new(
            "trace_id",
            hex::encode(crate::trace::ids::trace_id(outcome.seed, &outcome.name)),
        ),
        Property::new("path", outcome.path.display().to_string()),
    ]);
    for sc in &outcome.scenarios {
        suite.add_test_case(scenario_case(outcome, sc));
    }
    for e in &outcome.expectations {
        let status = if e.passed {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(e.message.as_str())
                .set_type(format!("expect.{}", e.table));
            let apps = app_spans_named(outcome, &e.message);
            if !apps.is_empty() {
                s.set_description(apps);
            }
            s
        };
        let mut case = TestCase::new(e.expectation.as_str(), status);
        case.set_classname(format!("{}.expect.{}", outcome.name, e.table));
        case.add_property(Property::new("plugin", e.plugin.as_str()));
        if e.passed {
            // The evidence of a pass, where CI shows a test's output.
            case.set_system_out(e.message.as_str());
        }
        suite.add_test_case(case);
    }
    // A suite that could not be judged, or did not finish, is an error case:
    // CI must not show it green because the cases that ran passed.
    let mut problems: Vec<(&str, String)> = Vec::new();
    if let Some(msg) = &outcome.invalid {
        problems.push(("invalid", msg.clone()));
    }
    if let Some(msg) = &outcome.environment_error {
        problems.push((
            "environment",
            format!("Docker became unreachable during the run: {msg}"),
        ));
    }
    if outcome.interrupted {
        problems.push((
            "interrupted",
            format!(
                "the run was interrupted after {} scenario(s)",
                outcome.scenarios.len()
            ),
        ));
    }
    for (name, msg) in problems {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(msg).set_type(name);
        let mut case = TestCase::new(format!("suite {name}"), s);
        case.set_classname(outcome.name.as_str());
        suite.add_test_case(case);
    }
    let mut report = Report::new("clnrm");
    report
        .set_timestamp(started)
        .set_time(Duration::from_millis(outcome.duration_ms));
    report.add_test_suite(suite);
    report
}

pub fn write_junit(
    dir: &ConfinedDir,
    outcome: &SuiteOutcome,
    file: &str,
) -> std::io::Result<PathBuf> {
    let text = junit_report(outcome)
        .to_string()
        .map_err(std::io::Error::other)?;
    dir.write(file, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_and_expectations_are_cases_with_failures_and_properties() {
        let o = crate::report::fixture::outcome();
        let xml = junit_report(&o).to_string().unwrap();
        assert!(
            xml.contains(r#"<testsuite name="demo" tests="4" skipped="0" errors="0" failures="2""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<property name="seed" value="42"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(&format!(
                r#"<property name="digest" value="{}"/>"#,
                o.digest
            )),
            "{xml}"
        );
        assert!(
            xml.contains("step `exit_42` failed: nonzero_exit (exit code 42)"),
            "{xml}"
        );
        assert!(
            xml.contains("exit.code = 42, expected &quot;41&quot;"),
            "{xml}"
        );
        assert!(
            xml.contains(r#"timestamp="2023-11-14T22:13:20"#),
            "frozen clock gives the timestamp: {xml}"
        );
    }

    /// A failed expectation on an application span names it, its service
    /// and its OTLP ids in the failure's text.
    #[test]
    fn a_failure_on_an_application_span_names_it() {
        let mut o = crate::report::fixture::outcome();
        let n = o.spans.len() as u32;
        let mut s = crate::trace::SpanData::finished(
            crate::trace::SpanId(n),
            Some(crate::trace::SpanId(1)),
            "GET /stock",
            5_000_000,
            17_500_000,
        );
        s.status = crate::trace::SpanStatus::Error;
        s.status_message = Some("connection refused".into());
        s.app = Some(Box::new(crate::trace::AppSpan {
            service: "api".into(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: None,
            parent_by: crate::trace::AppParent::Resource,
            resource: Default::default(),
            scope: None,
            renamed_from: None,
        }));
        o.spans.push(s);
        o.expectations[1].message = format!(
            "no span matched; closest is span #{n} \"GET /stock\" (service \"api\", parent \"clnrm.scenario\"): status is ERROR, expected OK"
        );
        let xml = junit_report(&o).to_string().unwrap();
        assert!(
            xml.contains(&format!("application span #{n} &quot;GET /stock&quot; of service &quot;api&quot;: status Error (connection refused), 12.500 ms, trace id 0af7651916cd43dd8448eb211c80319c, span id b7ad6b7169203331")),
            "{xml}"
        );
        // clnrm's own spans named in a message add nothing.
        let plain = junit_report(&crate::report::fixture::outcome())
            .to_string()
            .unwrap();
        assert!(!plain.contains("application span"), "{plain}");
    }
}
