//! Helpers shared by the rule-style validators (`[expect.status]`, `[expect.hermeticity]`,
//! `[expect.isolation]`, `[expect.chaos]`): one table of named rules, each rule one
//! finding that names every offending span (capped) and the condition it missed.

use serde_json::Value;

use super::config::{self, check_keys, child, invalid, wrong_type, Table};
use super::model::{AttrValue, Finding, Span, Trace};
use crate::config::ConfigError;

/// Offending spans listed in one message at most.
pub(crate) const MAX_LISTED: usize = 10;

/// The verification span the engine emits after every cleanup.
pub(crate) const VERIFICATION: &str = "clnrm.cleanup.verification";
pub(crate) const CLEANUP: &str = "clnrm.cleanup";
pub(crate) const RECOVERY: &str = "clnrm.recovery";
pub(crate) const SCENARIO: &str = "clnrm.scenario";
pub(crate) const SERVICE_START: &str = "clnrm.service.start";
/// Step spans are called `clnrm.step:<name>`.
pub(crate) const STEP_PREFIX: &str = "clnrm.step:";

/// The top-level table of `[expect.<name>]`, with only `valid` keys and at least one of
/// them (an empty table checks nothing, which is never what the author meant).
pub(crate) fn top_table<'a>(
    v: &'a Value,
    name: &str,
    valid: &[&str],
) -> Result<&'a Table, ConfigError> {
    let t = v
        .as_object()
        .ok_or_else(|| wrong_type(&[], &format!("a table ([expect.{name}])"), v))?;
    check_keys(t, valid, &[])?;
    if t.is_empty() {
        return Err(invalid(
            &[],
            format!(
                "an empty table checks nothing; give at least one of {}",
                valid.join(", ")
            ),
        ));
    }
    Ok(t)
}

/// A boolean rule switch: `Some(true)` checks it, `Some(false)` or absent skips it.
pub(crate) fn flag(t: &Table, key: &str, path: &[String]) -> Result<bool, ConfigError> {
    match t.get(key) {
        None => Ok(false),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| wrong_type(&child(path, key), "a boolean", v)),
    }
}

/// Whether `v` is `true` or the string `"true"` (engines and plugins emit both).
pub(crate) fn is_true(v: Option<&AttrValue>) -> bool {
    v.is_some_and(|v| v.canonical() == "true")
}

/// `key = <value>` for messages, or `key missing`.
pub(crate) fn shown(key: &str, v: Option<&AttrValue>) -> String {
    match v {
        Some(v) => format!("{key} = {v}"),
        None => format!("{key} missing"),
    }
}

/// `Ok` if attribute `key` of `span` is the number 0; a missing count is unknown, so it
/// fails too (a verification that did not count cannot prove nothing leaked).
pub(crate) fn zero(span: &Span, key: &str) -> Result<(), String> {
    match span.attr(key) {
        Some(v) if v.as_f64() == Some(0.0) => Ok(()),
        Some(v) => Err(format!("{key} = {v}, expected 0")),
        None => Err(format!(
            "{key} missing (unknown counts as a leak), expected 0"
        )),
    }
}

/// `Ok` if attribute `key` of `span` is `true`.
pub(crate) fn must_be_true(span: &Span, key: &str) -> Result<(), String> {
    if is_true(span.attr(key)) {
        Ok(())
    } else {
        Err(format!("{}, expected true", shown(key, span.attr(key))))
    }
}

/// The verdict of "`cond` holds for every span of `candidates`".
///
/// - `what`: the candidates as messages name them, e.g. `clnrm.cleanup.verification span(s)`.
/// - `holds`: what a passing message says about them, e.g. `report containers.remaining = 0`.
/// - `if_none`: `Some(reason)` makes an empty candidate set a failure with that message;
///   `None` makes it a (vacuous) pass that says nothing was there to check.
pub(crate) fn every<'a>(
    trace: &Trace,
    candidates: impl IntoIterator<Item = &'a Span>,
    what: &str,
    holds: &str,
    if_none: Option<String>,
    cond: impl Fn(&Span) -> Result<(), String>,
) -> (bool, String) {
    let candidates: Vec<&Span> = candidates.into_iter().collect();
    if candidates.is_empty() {
        return match if_none {
            Some(reason) => (false, reason),
            None => (true, format!("no {what}; nothing to check")),
        };
    }
    let failures: Vec<(&Span, String)> = candidates
        .iter()
        .filter_map(|s| cond(s).err().map(|why| (*s, why)))
        .collect();
    if failures.is_empty() {
        return (
            true,
            format!(
                "{} {what} {holds} (span ids {})",
                candidates.len(),
                super::common::ids(candidates.iter().copied())
            ),
        );
    }
    (
        false,
        format!(
            "{} of {} {what} fail: {}",
            failures.len(),
            candidates.len(),
            offenders(trace, &failures)
        ),
    )
}

/// `span #3 "x" (parent "y"): why; span #5 ...`, capped at [`MAX_LISTED`].
pub(crate) fn offenders(trace: &Trace, failures: &[(&Span, String)]) -> String {
    let mut parts: Vec<String> = failures
        .iter()
        .take(MAX_LISTED)
        .map(|(s, why)| format!("{}: {why}", trace.describe(s)))
        .collect();
    if failures.len() > MAX_LISTED {
        parts.push(format!("... ({} more)", failures.len() - MAX_LISTED));
    }
    parts.join("; ")
}

/// A finding labelled `expect.<table>.<rule>`.
pub(crate) fn finding(label: String, (passed, message): (bool, String)) -> Finding {
    Finding {
        expectation: label,
        passed,
        message,
    }
}

/// The nearest ancestor of `span` named `name` (cycle-safe: a malformed trace whose parents
/// loop stops after as many steps as there are spans).
pub(crate) fn nearest_ancestor_named<'a>(
    trace: &'a Trace,
    span: &Span,
    name: &str,
) -> Option<&'a Span> {
    let mut cur = trace.parent(span);
    let mut steps = 0;
    while let Some(p) = cur {
        if p.name == name {
            return Some(p);
        }
        steps += 1;
        if steps > trace.spans().len() {
            return None;
        }
        cur = trace.parent(p);
    }
    None
}

/// The verification spans, with the failure message for when there are none.
pub(crate) fn verification_spans(trace: &Trace) -> (Vec<&Span>, String) {
    (
        trace.named(VERIFICATION).collect(),
        format!("no {VERIFICATION:?} span in the trace: the run never verified its cleanup"),
    )
}

/// `a "scenario.name"` suffix for messages about a scenario-scoped span, if it has one.
pub(crate) fn scenario_of(span: &Span) -> String {
    match span.attr("scenario.name") {
        Some(v) => format!(" (scenario {v})"),
        None => String::new(),
    }
}

/// Reads `key` of table `t` as a list of strings (for `forbid_keys`), refusing an empty
/// list, which checks nothing.
pub(crate) fn nonempty_strings(
    v: &Value,
    path: &[String],
    what: &str,
) -> Result<Vec<String>, ConfigError> {
    let items = config::string_list(v, path)?;
    if items.is_empty() {
        return Err(invalid(
            path,
            format!("an empty array checks nothing; name at least one {what}"),
        ));
    }
    Ok(items)
}

/// An engine-shaped trace (the span contract of docs/spans.md) for the validators' tests:
/// a passing scenario `ok` and a scenario `killed` whose step was killed by chaos, each
/// cleaned up, verified clean and recovered.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::expect::model::{AttrValue, Event, Kind, Span, Status, Trace};

    pub const MS: u64 = 1_000_000;

    pub fn s(v: &str) -> AttrValue {
        AttrValue::Str(v.into())
    }
    pub fn i(v: i64) -> AttrValue {
        AttrValue::Int(v)
    }
    pub fn b(v: bool) -> AttrValue {
        AttrValue::Bool(v)
    }

    /// A span from `start_ms` to `end_ms` with these attributes.
    pub fn span(
        id: u32,
        parent: Option<u32>,
        name: &str,
        status: Status,
        (start_ms, end_ms): (u64, u64),
        attrs: &[(&str, AttrValue)],
    ) -> Span {
        Span {
            id,
            parent,
            name: name.into(),
            kind: Kind::Internal,
            status,
            status_message: (status == Status::Error).then(|| format!("{name} failed")),
            start_ns: start_ms * MS,
            end_ns: end_ms * MS,
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            events: vec![],
        }
    }

    fn verification(id: u32, parent: u32, at: u64, scenario: &str) -> Span {
        span(
            id,
            Some(parent),
            "clnrm.cleanup.verification",
            Status::Ok,
            (at, at + 5),
            &[
                ("scenario.name", s(scenario)),
                ("containers.remaining", i(0)),
                ("networks.remaining", i(0)),
                ("volumes.remaining", i(0)),
                ("processes.remaining", i(0)),
                ("verification.clean", b(true)),
            ],
        )
    }

    fn cleanup(id: u32, parent: u32, at: u64, scenario: &str, triggered: &str) -> Span {
        let mut c = span(
            id,
            Some(parent),
            "clnrm.cleanup",
            Status::Ok,
            (at, at + 20),
            &[
                ("cleanup.triggered", s(triggered)),
                ("scenario.name", s(scenario)),
                ("cleanup.success", b(true)),
                ("containers.removed", i(1)),
            ],
        );
        c.events = ["container.stop", "container.remove", "cleanup.complete"]
            .into_iter()
            .map(|n| Event {
                name: n.into(),
                time_ns: at * MS,
                attrs: vec![],
            })
            .collect();
        c
    }

    fn recovery(id: u32, parent: u32, at: u64) -> Span {
        span(
            id,
            Some(parent),
            "clnrm.recovery",
            Status::Ok,
            (at, at + 1),
            &[
                ("recovery.success", b(true)),
                ("recovery.verified", b(true)),
            ],
        )
    }

    fn service_start(id: u32, parent: u32, at: u64, container: &str) -> Span {
        span(
            id,
            Some(parent),
            "clnrm.service.start",
            Status::Ok,
            (at, at + 50),
            &[
                ("service.id", s("app")),
                ("service.image", s("clnrm-base:latest")),
                ("container.id", s(container)),
            ],
        )
    }

    /// The spans, ids 0..=13 in this order:
    /// 0 clnrm.run; 1 clnrm.scenario ok; 2 service.start (c1); 3 clnrm.step:ok;
    /// 4 clnrm.cleanup (child of 1); 5 verification; 6 recovery;
    /// 7 clnrm.scenario killed; 8 service.start (c2); 9 clnrm.step:killed (ERROR);
    /// 10 clnrm.chaos.kill; 11 clnrm.cleanup (child of 9); 12 verification; 13 recovery.
    pub fn spans() -> Vec<Span> {
        vec![
            span(
                0,
                None,
                "clnrm.run",
                Status::Ok,
                (0, 2000),
                &[
                    ("suite.name", s("chaos")),
                    ("clnrm.version", s("0.1.0")),
                    ("determinism.seed", i(666)),
                    ("service.name", s("clnrm")),
                ],
            ),
            span(
                1,
                Some(0),
                "clnrm.scenario",
                Status::Ok,
                (0, 900),
                &[
                    ("scenario.name", s("ok")),
                    ("expect_failure", b(false)),
                    ("scenario.result", s("pass")),
                ],
            ),
            service_start(2, 1, 0, "c1"),
            span(
                3,
                Some(1),
                "clnrm.step:ok",
                Status::Ok,
                (100, 200),
                &[
                    ("step.name", s("ok")),
                    ("service.id", s("app")),
                    ("container.id", s("c1")),
                    ("result", s("pass")),
                    ("exit.code", i(0)),
                ],
            ),
            cleanup(4, 1, 800, "ok", "success"),
            verification(5, 4, 810, "ok"),
            recovery(6, 4, 820),
            span(
                7,
                Some(0),
                "clnrm.scenario",
                Status::Ok,
                (1000, 2000),
                &[
                    ("scenario.name", s("killed")),
                    ("expect_failure", b(true)),
                    ("scenario.result", s("pass")),
                ],
            ),
            service_start(8, 7, 1000, "c2"),
            span(
                9,
                Some(7),
                "clnrm.step:killed",
                Status::Error,
                (1100, 1400),
                &[
                    ("step.name", s("killed")),
                    ("service.id", s("app")),
                    ("container.id", s("c2")),
                    ("result", s("error")),
                    ("exit.code", i(137)),
                    ("error.type", s("container_killed")),
                ],
            ),
            span(
                10,
                Some(7),
                "clnrm.chaos.kill",
                Status::Ok,
                (1100, 1400),
                &[
                    ("chaos.type", s("kill_container")),
                    ("chaos.observed", b(true)),
                    ("container.exit_code", i(137)),
                ],
            ),
            cleanup(11, 9, 1400, "killed", "failure"),
            verification(12, 11, 1410, "killed"),
            recovery(13, 11, 1420),
        ]
    }

    pub fn trace() -> Trace {
        Trace::new(spans())
    }

    /// The fixture with `edit` applied to span `id`.
    pub fn edited(id: u32, edit: impl FnOnce(&mut Span)) -> Trace {
        let mut spans = spans();
        edit(
            spans
                .iter_mut()
                .find(|s| s.id == id)
                .expect("span id in the fixture"),
        );
        Trace::new(spans)
    }

    /// The fixture without the spans `ids`.
    pub fn without(ids: &[u32]) -> Trace {
        Trace::new(
            spans()
                .into_iter()
                .filter(|s| !ids.contains(&s.id))
                .collect(),
        )
    }

    /// Sets (or overwrites) attribute `key` of `span`.
    pub fn set(span: &mut Span, key: &str, v: AttrValue) {
        span.attrs.retain(|(k, _)| k != key);
        span.attrs.push((key.into(), v));
    }

    /// Removes attribute `key` of `span`.
    pub fn unset(span: &mut Span, key: &str) {
        span.attrs.retain(|(k, _)| k != key);
    }

    /// A table-driven run: (config, trace, per finding label: must pass, substrings of
    /// its message). Findings not listed are not checked.
    pub type Case = (
        serde_json::Value,
        Trace,
        Vec<(&'static str, bool, Vec<&'static str>)>,
    );

    pub fn run_cases(
        check: fn(
            &serde_json::Value,
            &Trace,
        ) -> Result<Vec<crate::expect::Finding>, crate::config::ConfigError>,
        cases: Vec<Case>,
    ) {
        for (n, (config, trace, wants)) in cases.into_iter().enumerate() {
            let findings =
                check(&config, &trace).unwrap_or_else(|e| panic!("case {n} {config}: {e}"));
            for (label, pass, must) in wants {
                let f = findings
                    .iter()
                    .find(|f| f.expectation == label)
                    .unwrap_or_else(|| {
                        panic!("case {n} {config}: no finding {label:?} in {findings:#?}")
                    });
                assert_eq!(f.passed, pass, "case {n} {config} {label}: {}", f.message);
                for w in must {
                    assert!(
                        f.message.contains(w),
                        "case {n} {config} {label}:\n  message {:?}\n  lacks   {w:?}",
                        f.message
                    );
                }
            }
        }
    }

    /// Every config must be rejected with an error that, shown under `root`
    /// (`expect.status`), contains every substring.
    pub fn run_config_errors(
        root: &str,
        check: fn(
            &serde_json::Value,
            &Trace,
        ) -> Result<Vec<crate::expect::Finding>, crate::config::ConfigError>,
        cases: Vec<(serde_json::Value, Vec<&'static str>)>,
    ) {
        for (config, want) in cases {
            let err = check(&config, &trace())
                .expect_err(&config.to_string())
                .at(root)
                .to_string();
            for w in want {
                assert!(err.contains(w), "{config}:\n  error {err:?}\n  lacks {w:?}");
            }
        }
    }
}
