//! The `[expect.status]` checker: span statuses across the whole trace.
//!
//! ```toml
//! [expect.status]
//! all = "OK"                                   # every span has this status
//! by_name = { "clnrm.cleanup*" = "OK", "clnrm.step:kill_?" = "ERROR" }
//! errors_allowed = 1                           # at most 1 span with status ERROR
//! cleanup_must_succeed = true                  # every clnrm.cleanup is OK and succeeded
//! ```
//!
//! Every key is optional, but the table must give at least one; unknown keys are errors
//! with the nearest valid key. Each rule yields one finding, labelled
//! `expect.status.<rule>` (`expect.status.by_name."<glob>"` for each glob), in the order
//! of [`STATUS_KEYS`]. Statuses are `"OK"`, `"ERROR"` or `"UNSET"`, in any case.
//!
//! - `all = S`: every span of the trace has status `S`. An empty trace fails (a run that
//!   recorded nothing proves nothing). Note that the root `clnrm.run` and a killed step are
//!   spans too, so with an `expect_failure` scenario `all = "OK"` fails by design.
//! - `by_name = { "<glob>" = S }`: every span whose whole name matches the glob has status
//!   `S`. The glob knows `*` (any run of characters, `.` and `:` included) and `?` (exactly
//!   one character); everything else is literal. A glob matching no span fails, with the
//!   nearest names in the trace, so a typo never passes silently.
//! - `errors_allowed = N`: the number of spans with status ERROR is at most `N`.
//!   `errors_allowed = false` is `0` (no span may be ERROR); `errors_allowed = true` allows
//!   any number (the finding passes and counts them: the original clnrm suites say `true`
//!   where chaos is expected to fail things and other tables judge the failures).
//! - `cleanup_must_succeed = true`: there is at least one `clnrm.cleanup` span, and each
//!   has status OK and attribute `cleanup.success` = true (boolean or string). `false`
//!   skips the rule.
//!
//! A failure names every offending span (up to 10) with `Trace::describe` and the
//! condition it missed: `1 of 6 span(s) fail: span #3 "clnrm.step:x" (parent
//! "clnrm.scenario"): status is ERROR ("container killed"), expected OK`.

use serde_json::Value;

use super::config::{self, child, invalid, wrong_type};
use super::model::{Finding, Span, Status, Trace};
use super::rules::{self, every, finding, CLEANUP};
use crate::config::ConfigError;
use crate::suggest::ranked;

/// Keys of `[expect.status]`.
pub const STATUS_KEYS: [&str; 4] = ["all", "by_name", "errors_allowed", "cleanup_must_succeed"];

/// `errors_allowed = true`: any number of ERROR spans.
const ANY: u64 = u64::MAX;

/// A parsed `[expect.status]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusExpectation {
    /// `all`: the status every span must have.
    pub all: Option<Status>,
    /// `by_name`: (glob, status), in key order.
    pub by_name: Vec<(String, Status)>,
    /// `errors_allowed`: the most ERROR spans allowed (`true` = `u64::MAX`, any number;
    /// `false` = 0).
    pub errors_allowed: Option<u64>,
    /// `cleanup_must_succeed`.
    pub cleanup_must_succeed: bool,
}

/// Parses `[expect.status]`.
pub fn parse_status(config: &Value) -> Result<StatusExpectation, ConfigError> {
    let path: &[String] = &[];
    let t = rules::top_table(config, "status", &STATUS_KEYS)?;
    let mut e = StatusExpectation::default();
    if let Some(v) = t.get("all") {
        e.all = Some(status(v, &child(path, "all"))?);
    }
    if let Some(v) = t.get("by_name") {
        let p = child(path, "by_name");
        let globs = config::table(v, &p)?;
        if globs.is_empty() {
            return Err(invalid(
                &p,
                "an empty table checks nothing; map at least one span-name glob to a status"
                    .to_string(),
            ));
        }
        for (glob, v) in globs {
            if glob.is_empty() {
                return Err(invalid(&p, "a glob must not be empty".to_string()));
            }
            e.by_name.push((glob.clone(), status(v, &child(&p, glob))?));
        }
    }
    e.errors_allowed = match t.get("errors_allowed") {
        None => None,
        Some(Value::Bool(true)) => Some(ANY),
        Some(Value::Bool(false)) => Some(0),
        Some(v @ Value::Number(_)) => Some(config::count(v, &child(path, "errors_allowed"))?),
        Some(v) => {
            return Err(wrong_type(
                &child(path, "errors_allowed"),
                "a count (integer >= 0), or a boolean (false = 0, true = any number)",
                v,
            ))
        }
    };
    e.cleanup_must_succeed = rules::flag(t, "cleanup_must_succeed", path)?;
    Ok(e)
}

/// Checks `[expect.status]` against `trace`: one finding per rule given.
pub fn check_status(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let e = parse_status(config)?;
    let mut out = Vec::new();
    if let Some(want) = e.all {
        let if_none = Some("the trace is empty; no span has any status".to_string());
        let verdict = every(
            trace,
            trace.spans(),
            "span(s)",
            &format!("have status {want}"),
            if_none,
            |s| has_status(s, want),
        );
        out.push(finding("expect.status.all".into(), verdict));
    }
    for (glob, want) in &e.by_name {
        let matching: Vec<&Span> = trace
            .spans()
            .iter()
            .filter(|s| glob_matches(glob, &s.name))
            .collect();
        // Only when nothing matches: the suggestion scans every name in the trace.
        let if_none = matching.is_empty().then(|| no_span_matches(glob, trace));
        let verdict = every(
            trace,
            matching,
            &format!("span(s) matching {glob:?}"),
            &format!("have status {want}"),
            if_none,
            |s| has_status(s, *want),
        );
        out.push(finding(
            crate::config::render_path("expect.status.by_name", std::slice::from_ref(glob)),
            verdict,
        ));
    }
    if let Some(max) = e.errors_allowed {
        let errors: Vec<&Span> = trace
            .spans()
            .iter()
            .filter(|s| s.status == Status::Error)
            .collect();
        let n = errors.len() as u64;
        let verdict = if max == ANY {
            (
                true,
                format!(
                    "{n} span(s) with status ERROR, any number allowed (errors_allowed = true)"
                ),
            )
        } else if n <= max {
            let listed = if errors.is_empty() {
                String::new()
            } else {
                format!(" (span ids {})", super::common::ids(errors.iter().copied()))
            };
            (
                true,
                format!("{n} span(s) with status ERROR, at most {max} allowed{listed}"),
            )
        } else {
            let failures: Vec<(&Span, String)> = errors
                .iter()
                .map(|s| (*s, format!("status ERROR{}", message_of(s))))
                .collect();
            (
                false,
                format!(
                    "{n} span(s) with status ERROR, at most {max} allowed: {}",
                    rules::offenders(trace, &failures)
                ),
            )
        };
        out.push(finding("expect.status.errors_allowed".into(), verdict));
    }
    if e.cleanup_must_succeed {
        let if_none = Some(format!(
            "no {CLEANUP:?} span in the trace: the run never cleaned up"
        ));
        let verdict = every(
            trace,
            trace.named(CLEANUP),
            &format!("{CLEANUP} span(s)"),
            "are OK with cleanup.success = true",
            if_none,
            |s| {
                let mut unmet = Vec::new();
                if let Err(why) = has_status(s, Status::Ok) {
                    unmet.push(why);
                }
                if let Err(why) = rules::must_be_true(s, "cleanup.success") {
                    unmet.push(why);
                }
                if unmet.is_empty() {
                    Ok(())
                } else {
                    Err(unmet.join(" and "))
                }
            },
        );
        out.push(finding(
            "expect.status.cleanup_must_succeed".into(),
            verdict,
        ));
    }
    Ok(out)
}

/// Whether `name` matches `glob` as a whole: `*` is any run of characters (possibly
/// empty), `?` exactly one character, anything else itself (case-sensitive).
pub fn glob_matches(glob: &str, name: &str) -> bool {
    if !glob.contains(['*', '?']) {
        return glob == name;
    }
    // Span names are ASCII in practice: match bytes then, without allocating per span.
    if glob.is_ascii() && name.is_ascii() {
        return wildcard(glob.as_bytes(), name.as_bytes(), b'*', b'?');
    }
    let p: Vec<char> = glob.chars().collect();
    let n: Vec<char> = name.chars().collect();
    wildcard(&p, &n, '*', '?')
}

/// `*`/`?` matching of a whole name, over bytes or chars (see [`glob_matches`]).
fn wildcard<T: PartialEq + Copy>(p: &[T], n: &[T], any_run: T, any_one: T) -> bool {
    let (mut pi, mut ni) = (0, 0);
    // Position of the last `*` and where in `name` it started matching, to backtrack to.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(&c) if c == any_run => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == any_one || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    // Let the last `*` swallow one more character and retry.
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == any_run)
}

fn status(v: &Value, path: &[String]) -> Result<Status, ConfigError> {
    let s = config::string(v, path)?;
    Status::parse(s).ok_or_else(|| {
        wrong_type(
            path,
            &format!("one of {}", Status::ALL.map(Status::as_str).join(", ")),
            v,
        )
    })
}

fn has_status(s: &Span, want: Status) -> Result<(), String> {
    if s.status == want {
        Ok(())
    } else {
        Err(format!(
            "status is {}{}, expected {want}",
            s.status,
            message_of(s)
        ))
    }
}

/// ` ("why")` when the span has a status message.
fn message_of(s: &Span) -> String {
    s.status_message
        .as_deref()
        .map(|m| format!(" ({m:?})"))
        .unwrap_or_default()
}

fn no_span_matches(glob: &str, trace: &Trace) -> String {
    let names = trace.names();
    if names.is_empty() {
        return format!("no span name matches {glob:?}; the trace is empty");
    }
    let near: Vec<String> = ranked(glob, names, 3)
        .iter()
        .map(|n| format!("{n:?}"))
        .collect();
    format!(
        "no span name matches {glob:?}; nearest names in the trace: {}",
        near.join(", ")
    )
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
