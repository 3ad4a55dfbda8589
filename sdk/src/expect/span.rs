//! The `[[expect.span]]` checker (docs/toml-reference.md, the expectation tables).
//!
//! The matching set of an expectation is the spans called `name` that satisfy every given
//! filter (`kind`, `parent`, `attrs.all`, `attrs.any`, `events.any`, `events.all`, `status`,
//! `duration_ms`, `service`, `during`, `after`). Without `count` it passes iff that set is non-empty; with `count` iff its
//! size satisfies every bound given. A failure names the closest span (the candidate with
//! the fewest failed conditions) and every condition it failed, because "no span matched"
//! alone sends the user digging through the trace by hand.

use serde_json::Value;

use super::config::{self, check_keys, child, invalid, wrong_type, Table};
use super::matcher::Matcher;
use super::model::{format_float, Finding, Kind, Span, Status, Trace};
use crate::config::ConfigError;
use crate::suggest::ranked;

/// Keys of one `[[expect.span]]` table.
pub const SPAN_KEYS: [&str; 11] = [
    "name",
    "kind",
    "parent",
    "attrs",
    "events",
    "status",
    "duration_ms",
    "count",
    "service",
    "during",
    "after",
];
const ATTRS_KEYS: [&str; 2] = ["all", "any"];
const EVENTS_KEYS: [&str; 2] = ["any", "all"];
const DURATION_KEYS: [&str; 2] = ["min", "max"];
const COUNT_KEYS: [&str; 3] = ["eq", "gte", "lte"];

/// `duration_ms = { min, max }`, inclusive, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DurationBounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `count = { eq, gte, lte }`; every bound given must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountBounds {
    pub eq: Option<u64>,
    pub gte: Option<u64>,
    pub lte: Option<u64>,
}

impl CountBounds {
    pub fn holds(&self, n: u64) -> bool {
        self.eq.is_none_or(|b| n == b)
            && self.gte.is_none_or(|b| n >= b)
            && self.lte.is_none_or(|b| n <= b)
    }

    /// Whether `n` fails because it is too small (then the closest non-matching span helps).
    fn too_few(&self, n: u64) -> bool {
        self.eq.is_some_and(|b| n < b) || self.gte.is_some_and(|b| n < b)
    }

    /// `eq 3`, `gte 2 and lte 4`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [("eq", self.eq), ("gte", self.gte), ("lte", self.lte)]
            .into_iter()
            .filter_map(|(op, b)| b.map(|b| format!("{op} {b}")))
            .collect();
        parts.join(" and ")
    }
}

/// One parsed `[[expect.span]]` table.
#[derive(Debug, Clone)]
pub struct SpanExpectation {
    pub name: String,
    pub kind: Option<Kind>,
    /// Name of the parent span.
    pub parent: Option<String>,
    pub attrs_all: Vec<(String, Matcher)>,
    pub attrs_any: Vec<(String, Matcher)>,
    pub events_any: Vec<String>,
    pub events_all: Vec<String>,
    pub status: Option<Status>,
    pub duration_ms: Option<DurationBounds>,
    pub count: Option<CountBounds>,
    /// `service`: the span's service (its resource's `service.name`; `clnrm` for clnrm's
    /// own spans). None: any service.
    pub service: Option<String>,
    /// `during`: the span overlaps (shares at least an instant with) a span of this name in
    /// the same scenario.
    pub during: Option<String>,
    /// `after`: the span starts at or after the end of a span of this name in the same
    /// scenario.
    pub after: Option<String>,
}

/// Parses every `[[expect.span]]` table (`config` is one table or an array of them).
/// Everything is parsed before anything is checked, so a bad config never yields a
/// half-checked result.
pub fn parse_span_expectations(config: &Value) -> Result<Vec<SpanExpectation>, ConfigError> {
    match config {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| SpanExpectation::from_json(item, &[i.to_string()]))
            .collect(),
        Value::Object(_) => Ok(vec![SpanExpectation::from_json(config, &[])?]),
        other => Err(wrong_type(&[], "a table or an array of tables", other)),
    }
}

/// Checks every `[[expect.span]]` table against `trace`: one finding per table, labelled
/// `expect.span[<index>] <name>`. `Err` means the config itself is invalid.
pub fn check_spans(config: &Value, trace: &Trace) -> Result<Vec<Finding>, ConfigError> {
    let expectations = parse_span_expectations(config)?;
    Ok(expectations
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (passed, message) = e.evaluate(trace);
            Finding {
                expectation: format!("expect.span[{i}] {}", e.name),
                passed,
                message,
            }
        })
        .collect())
}

impl SpanExpectation {
    /// Parses one table; `path` (`["2"]` for `expect.span[2]`) starts every error's path.
    pub fn from_json(v: &Value, path: &[String]) -> Result<Self, ConfigError> {
        let t = config::table(v, path)?;
        check_keys(t, &SPAN_KEYS, path)?;
        let name = match t.get("name") {
            None => return Err(ConfigError::missing_key(path, "name")),
            Some(v) => config::string(v, &child(path, "name"))?,
        };
        if name.is_empty() {
            return Err(invalid(
                &child(path, "name"),
                "must not be empty".to_string(),
            ));
        }
        let mut e = SpanExpectation {
            name: name.to_owned(),
            kind: None,
            parent: None,
            attrs_all: Vec::new(),
            attrs_any: Vec::new(),
            events_any: Vec::new(),
            events_all: Vec::new(),
            status: None,
            duration_ms: None,
            count: None,
            service: None,
            during: None,
            after: None,
        };
        if let Some(v) = t.get("kind") {
            let p = child(path, "kind");
            let s = config::string(v, &p)?;
            e.kind =
                Some(Kind::parse(s).ok_or_else(|| one_of(&p, Kind::ALL.map(Kind::as_str), v))?);
        }
        if let Some(v) = t.get("parent") {
            e.parent = Some(config::string(v, &child(path, "parent"))?.to_owned());
        }
        for (key, slot) in [
            ("service", &mut e.service),
            ("during", &mut e.during),
            ("after", &mut e.after),
        ] {
            if let Some(v) = t.get(key) {
                let p = child(path, key);
                let s = config::string(v, &p)?;
                if s.is_empty() {
                    return Err(invalid(&p, "must not be empty".to_string()));
                }
                *slot = Some(s.to_owned());
            }
        }
        if let Some(v) = t.get("status") {
            let p = child(path, "status");
            let s = config::string(v, &p)?;
            e.status = Some(
                Status::parse(s).ok_or_else(|| one_of(&p, Status::ALL.map(Status::as_str), v))?,
            );
        }
        if let Some(v) = t.get("attrs") {
            let p = child(path, "attrs");
            let attrs = config::table(v, &p)?;
            check_keys(attrs, &ATTRS_KEYS, &p)?;
            if let Some(v) = attrs.get("all") {
                e.attrs_all = matchers(v, &child(&p, "all"))?;
            }
            if let Some(v) = attrs.get("any") {
                e.attrs_any = matchers(v, &child(&p, "any"))?;
                if e.attrs_any.is_empty() {
                    return Err(invalid(
                        &child(&p, "any"),
                        "an empty table can never match; name at least one attribute".to_string(),
                    ));
                }
            }
        }
        if let Some(v) = t.get("events") {
            let p = child(path, "events");
            let events = config::table(v, &p)?;
            check_keys(events, &EVENTS_KEYS, &p)?;
            if let Some(v) = events.get("any") {
                e.events_any = config::string_list(v, &child(&p, "any"))?;
                if e.events_any.is_empty() {
                    return Err(invalid(
                        &child(&p, "any"),
                        "an empty array can never match; name at least one event".to_string(),
                    ));
                }
            }
            if let Some(v) = events.get("all") {
                e.events_all = config::string_list(v, &child(&p, "all"))?;
            }
        }
        if let Some(v) = t.get("duration_ms") {
            e.duration_ms = Some(duration(v, &child(path, "duration_ms"))?);
        }
        if let Some(v) = t.get("count") {
            e.count = Some(count(v, &child(path, "count"))?);
        }
        Ok(e)
    }

    /// Every condition `span` fails, as reasons for humans; empty means it matches.
    /// The name is not checked: callers only pass spans called `self.name`.
    pub fn unmet(&self, span: &Span, trace: &Trace) -> Vec<String> {
        self.unmet_with(span, trace, &self.related(trace))
    }

    /// The spans `during` and `after` name, indexed once for all candidates.
    fn related<'a>(&'a self, trace: &'a Trace) -> [Option<Related<'a>>; 2] {
        [
            self.during.as_deref().map(|n| Related::new(n, trace)),
            self.after.as_deref().map(|n| Related::new(n, trace)),
        ]
    }

    fn unmet_with(
        &self,
        span: &Span,
        trace: &Trace,
        related: &[Option<Related<'_>>; 2],
    ) -> Vec<String> {
        let mut unmet = Vec::new();
        if let Some(want) = &self.service {
            let service = trace.service(span);
            if service != want {
                unmet.push(format!("service is {service:?}, expected {want:?}"));
            }
        }
        if let Some(kind) = self.kind.filter(|k| *k != span.kind) {
            unmet.push(format!("kind is {}, expected {kind}", span.kind));
        }
        if let Some(want) = &self.parent {
            match (span.parent, trace.parent(span)) {
                (_, Some(p)) if p.name == *want => {}
                (_, Some(p)) => unmet.push(format!("parent is {:?}, expected {want:?}", p.name)),
                (None, None) => unmet.push(format!("span is a root, expected parent {want:?}")),
                (Some(id), None) => unmet.push(format!(
                    "parent #{id} is not in the trace, expected parent {want:?}"
                )),
            }
        }
        if let Some(status) = self.status.filter(|s| *s != span.status) {
            let msg = span
                .status_message
                .as_deref()
                .map(|m| format!(" ({m:?})"))
                .unwrap_or_default();
            unmet.push(format!("status is {}{msg}, expected {status}", span.status));
        }
        for (key, m) in &self.attrs_all {
            if let Err(reason) = m.check(key, span.attr(key)) {
                unmet.push(format!("attribute {reason}"));
            }
        }
        if !self.attrs_any.is_empty() {
            let mut reasons = Vec::new();
            for (key, m) in &self.attrs_any {
                match m.check(key, span.attr(key)) {
                    Ok(()) => {
                        reasons.clear();
                        break;
                    }
                    Err(reason) => reasons.push(format!("attribute {reason}")),
                }
            }
            if !reasons.is_empty() {
                unmet.push(format!("no attrs.any matched ({})", reasons.join(" | ")));
            }
        }
        if !self.events_any.is_empty() && !self.events_any.iter().any(|e| span.has_event(e)) {
            unmet.push(format!(
                "none of events {} present ({})",
                super::common::quoted_list(&self.events_any),
                events_of(span)
            ));
        }
        for event in self.events_all.iter().filter(|e| !span.has_event(e)) {
            unmet.push(format!("event {event:?} missing ({})", events_of(span)));
        }
        if let Some(d) = self.duration_ms {
            let ms = span.duration_ms();
            if let Some(min) = d.min.filter(|min| ms < *min) {
                unmet.push(format!(
                    "duration {} ms, expected min {} ms",
                    fmt_ms(ms),
                    format_float(min)
                ));
            }
            if let Some(max) = d.max.filter(|max| ms > *max) {
                unmet.push(format!(
                    "duration {} ms, expected max {} ms",
                    fmt_ms(ms),
                    format_float(max)
                ));
            }
        }
        if let Some(r) = &related[0] {
            if let Some(reason) = not_during(span, r, trace) {
                unmet.push(reason);
            }
        }
        if let Some(r) = &related[1] {
            if let Some(reason) = not_after(span, r, trace) {
                unmet.push(reason);
            }
        }
        unmet
    }

    /// The verdict and its message.
    pub fn evaluate(&self, trace: &Trace) -> (bool, String) {
        let mut matched: Vec<&Span> = Vec::new();
        let mut misses: Vec<(&Span, Vec<String>)> = Vec::new();
        let related = self.related(trace);
        for span in trace.named(&self.name) {
            let unmet = self.unmet_with(span, trace, &related);
            if unmet.is_empty() {
                matched.push(span);
            } else {
                misses.push((span, unmet));
            }
        }
        let found = matched.len() as u64;
        match self.count {
            None if found > 0 => (
                true,
                format!(
                    "matched {found} span(s) (span ids {})",
                    super::common::ids(matched.iter().copied())
                ),
            ),
            None => (false, self.no_match(trace, &misses)),
            Some(c) if c.holds(found) && found == 0 => (
                true,
                format!("count {} holds: no span matched", c.describe()),
            ),
            Some(c) if c.holds(found) => (
                true,
                format!(
                    "count {} holds: matched {found} span(s) (span ids {})",
                    c.describe(),
                    super::common::ids(matched.iter().copied())
                ),
            ),
            Some(c) => {
                let mut msg = format!("expected count {}, found {found}", c.describe());
                if found > 0 {
                    msg.push_str(&format!(
                        " (span ids {})",
                        super::common::ids(matched.iter().copied())
                    ));
                }
                // Too few: say why the others did not match. Too many: the ids say it all.
                if c.too_few(found) && found == 0 {
                    msg.push_str("; ");
                    msg.push_str(&self.no_match(trace, &misses));
                } else if let (true, Some((span, unmet))) = (c.too_few(found), closest(&misses)) {
                    msg.push_str(&format!(
                        "; closest non-matching is {}: {}",
                        trace.describe(span),
                        unmet.join("; ")
                    ));
                }
                (false, msg)
            }
        }
    }

    /// Why nothing (more) matched: the closest candidate and its failed conditions, or, if
    /// no span has the name at all, the nearest names that exist.
    fn no_match(&self, trace: &Trace, misses: &[(&Span, Vec<String>)]) -> String {
        let Some((span, unmet)) = closest(misses) else {
            let names = trace.names();
            if names.is_empty() {
                return format!("no span named {:?}; the trace is empty", self.name);
            }
            let near: Vec<String> = ranked(&self.name, names, 3)
                .iter()
                .map(|n| format!("{n:?}"))
                .collect();
            return format!(
                "no span named {:?}; nearest names in the trace: {}",
                self.name,
                near.join(", ")
            );
        };
        let of = if misses.len() > 1 {
            format!(" ({} candidates)", misses.len())
        } else {
            String::new()
        };
        format!(
            "no span matched{of}; closest is {}: {}",
            trace.describe(span),
            unmet.join("; ")
        )
    }
}

/// The spans called `name` (what `during` or `after` names), by the scenario they belong to
/// ([`Trace::scenario_of`]), sorted by start with a running maximum of their ends: built
/// once per expectation, so each candidate is checked in O(log n), not against every span.
struct Related<'a> {
    name: &'a str,
    by_scenario: std::collections::HashMap<Option<u32>, Windows<'a>>,
}

struct Windows<'a> {
    /// By start (then id).
    spans: Vec<&'a Span>,
    /// `max_end[i]`: the latest end among `spans[..=i]`.
    max_end: Vec<u64>,
    /// The earliest end of them all.
    min_end: u64,
}

impl<'a> Related<'a> {
    fn new(name: &'a str, trace: &'a Trace) -> Self {
        let mut groups: std::collections::HashMap<Option<u32>, Vec<&'a Span>> =
            std::collections::HashMap::new();
        for o in trace.named(name) {
            groups.entry(trace.scenario_of(o)).or_default().push(o);
        }
        let by_scenario = groups
            .into_iter()
            .map(|(k, mut spans)| {
                spans.sort_by_key(|o| (o.start_ns, o.id));
                let mut max_end = Vec::with_capacity(spans.len());
                let mut m = 0;
                for o in &spans {
                    m = m.max(end_of(o));
                    max_end.push(m);
                }
                let min_end = spans.iter().map(|o| o.end_ns).min().unwrap_or(u64::MAX);
                (
                    k,
                    Windows {
                        spans,
                        max_end,
                        min_end,
                    },
                )
            })
            .collect();
        Related { name, by_scenario }
    }

    /// The windows of `span`'s scenario, and whether `span` is one of them (it is then left
    /// out of the comparison, on the slow path).
    fn of(&self, span: &Span, trace: &Trace) -> Option<(&Windows<'a>, bool)> {
        let w = self.by_scenario.get(&trace.scenario_of(span))?;
        Some((w, span.name == self.name))
    }
}

/// A span's end, never before its start.
fn end_of(s: &Span) -> u64 {
    s.end_ns.max(s.start_ns)
}

/// `start-end ms`, for time relations.
fn range_ms(s: &Span) -> String {
    format!(
        "{}-{} ms",
        fmt_ms(s.start_ns as f64 / 1e6),
        fmt_ms(s.end_ns as f64 / 1e6)
    )
}

/// Why `span` does not overlap any span `related` names in its scenario (None: it does).
/// Both ends are inclusive, so an instant span inside (or at the edge of) the window
/// overlaps it.
fn not_during(span: &Span, related: &Related<'_>, trace: &Trace) -> Option<String> {
    let other = related.name;
    let none = || {
        Some(format!(
            "no {other:?} span in its scenario to be during (span ran {})",
            range_ms(span)
        ))
    };
    let Some((w, itself)) = related.of(span, trace) else {
        return none();
    };
    let overlaps = |o: &Span| span.start_ns <= end_of(o) && o.start_ns <= end_of(span);
    let found = if itself {
        let mut others = w.spans.iter().filter(|o| o.id != span.id).peekable();
        if others.peek().is_none() {
            return none();
        }
        others.any(|o| overlaps(o))
    } else {
        // The windows starting at or before the span's end; one of them overlaps iff the
        // latest end among them is at or after the span's start.
        let k = w.spans.partition_point(|o| o.start_ns <= end_of(span));
        k > 0 && w.max_end[k - 1] >= span.start_ns
    };
    if found {
        return None;
    }
    let shown: Vec<&&Span> = w.spans.iter().filter(|o| o.id != span.id).collect();
    let mut windows: Vec<String> = shown.iter().take(5).map(|o| range_ms(o)).collect();
    if shown.len() > 5 {
        windows.push(format!("... ({} more)", shown.len() - 5));
    }
    Some(format!(
        "not during {other:?}: span ran {}, {other:?} ran {}",
        range_ms(span),
        windows.join(", ")
    ))
}

/// Why `span` does not start at or after the end of a span `related` names in its scenario
/// (None: it does).
fn not_after(span: &Span, related: &Related<'_>, trace: &Trace) -> Option<String> {
    let other = related.name;
    let none = || {
        Some(format!(
            "no {other:?} span in its scenario to be after (span started at {} ms)",
            fmt_ms(span.start_ns as f64 / 1e6)
        ))
    };
    let Some((w, itself)) = related.of(span, trace) else {
        return none();
    };
    let first_end = if itself {
        match w
            .spans
            .iter()
            .filter(|o| o.id != span.id)
            .map(|o| o.end_ns)
            .min()
        {
            Some(e) => e,
            None => return none(),
        }
    } else {
        w.min_end
    };
    if span.start_ns >= first_end {
        return None;
    }
    Some(format!(
        "not after {other:?}: span started at {} ms, the first {other:?} ended at {} ms",
        fmt_ms(span.start_ns as f64 / 1e6),
        fmt_ms(first_end as f64 / 1e6)
    ))
}

/// The candidate failing the fewest conditions; ties go to the earliest span in the trace
/// (`min_by_key` keeps the first of equals), so messages are deterministic.
fn closest<'a>(misses: &'a [(&'a Span, Vec<String>)]) -> Option<&'a (&'a Span, Vec<String>)> {
    misses.iter().min_by_key(|(_, u)| u.len())
}

/// A table of attribute matchers, in key order.
fn matchers(v: &Value, path: &[String]) -> Result<Vec<(String, Matcher)>, ConfigError> {
    config::table(v, path)?
        .iter()
        .map(|(k, m)| Ok((k.clone(), Matcher::from_json(m, &child(path, k))?)))
        .collect()
}

fn duration(v: &Value, path: &[String]) -> Result<DurationBounds, ConfigError> {
    let t = bounds_table(v, path, &DURATION_KEYS)?;
    let get = |k: &str| -> Result<Option<f64>, ConfigError> {
        t.get(k)
            .map(|v| {
                let p = child(path, k);
                config::number(v, &p).and_then(|x| {
                    if x < 0.0 {
                        Err(wrong_type(&p, "a non-negative number", v))
                    } else {
                        Ok(x)
                    }
                })
            })
            .transpose()
    };
    let d = DurationBounds {
        min: get("min")?,
        max: get("max")?,
    };
    if let (Some(min), Some(max)) = (d.min, d.max) {
        if min > max {
            return Err(invalid(
                path,
                format!(
                    "min {} is greater than max {}, so nothing can match",
                    format_float(min),
                    format_float(max)
                ),
            ));
        }
    }
    Ok(d)
}

fn count(v: &Value, path: &[String]) -> Result<CountBounds, ConfigError> {
    let t = bounds_table(v, path, &COUNT_KEYS)?;
    let get = |k: &str| {
        t.get(k)
            .map(|v| config::count(v, &child(path, k)))
            .transpose()
    };
    let c = CountBounds {
        eq: get("eq")?,
        gte: get("gte")?,
        lte: get("lte")?,
    };
    let impossible = match (c.eq, c.gte, c.lte) {
        (Some(eq), _, _) => !c.holds(eq),
        (None, Some(gte), Some(lte)) => gte > lte,
        _ => false,
    };
    if impossible {
        return Err(invalid(path, format!("{} can never hold", c.describe())));
    }
    Ok(c)
}

/// A non-empty table with only `valid` keys (an empty `count = {}` checks nothing, which
/// is never what the author meant).
fn bounds_table<'a>(
    v: &'a Value,
    path: &[String],
    valid: &[&str],
) -> Result<&'a Table, ConfigError> {
    let t = config::table(v, path)?;
    check_keys(t, valid, path)?;
    if t.is_empty() {
        return Err(invalid(
            path,
            format!("give at least one of {}", valid.join(", ")),
        ));
    }
    Ok(t)
}

fn one_of<const N: usize>(path: &[String], valid: [&str; N], found: &Value) -> ConfigError {
    wrong_type(path, &format!("one of {}", valid.join(", ")), found)
}

/// `span has events "a", "b"` or `span has no events`: shows what was there instead.
fn events_of(span: &Span) -> String {
    if span.events.is_empty() {
        return "span has no events".into();
    }
    let names: Vec<String> = span
        .events
        .iter()
        .map(|e| format!("{:?}", e.name))
        .collect();
    format!("span has events {}", names.join(", "))
}

/// Milliseconds with at most 3 decimals (µs resolution), trailing zeros dropped.
fn fmt_ms(ms: f64) -> String {
    let s = format!("{ms:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
