//! The canonical trace digest: SHA-256 over a form of the trace that keeps
//! what the run *did* and drops what merely varies between runs.
//!
//! Kept: span names, the tree (each span under its parent), kind, status,
//! attributes (sorted by key) and event names (sorted). Dropped or
//! normalised: ids, timestamps, durations, container ids, PIDs, ports,
//! network names, and hex ids inside values. Siblings are ordered by their
//! own canonical form, so concurrent spans finishing in another order do not
//! move the digest. Contract: same suite + same seed on the same machine →
//! same digest, run after run.
//!
//! Application spans (received over OTLP) are not seeded: by default they are
//! left out (the report says how many). With `[determinism] digest_app_spans
//! = true` their structure is in: service, name, kind, status and their place
//! in the tree; never their ids, times or attribute values (docs/spans.md).

use super::{AttrValue, SpanData, SpanStatus};
use clnrm_sdk::vocab::attr;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The engine's own attribute keys whose values vary run to run; the
/// capabilities declare theirs in [`crate::capability::SPECS`].
const VOLATILE_KEYS: &[&str] = &[
    "clnrm.version",
    // Which engine ran it (Docker or Podman): the same run on either has one digest.
    attr::ENGINE_NAME,
    attr::ENGINE_VERSION,
    "artifacts.bytes",
    // Readiness: how long a service took and how often it was probed.
    "ready.ms",
    "ready.attempts",
    // The OTLP receiver's counts (`clnrm.otel.receive`): the applications'
    // batches and retries, not the seed.
    attr::SPANS_RECEIVED,
    attr::SPANS_RENAMED,
    attr::REQUESTS,
    attr::REQUESTS_REJECTED,
    attr::BYTES,
    attr::FLUSH_MS,
];
/// Suffixes of volatile keys whatever span carries them (times, durations,
/// ids, pids, ports).
const VOLATILE_SUFFIXES: &[&str] = &[
    ".id",
    ".pid",
    ".port",
    "_at",
    ".time",
    ".timestamp",
    "after_ms",
    "observed_ms",
    "elapsed_ms",
    "left_ms",
    ".duration",
];

/// Spans left out of the digest whole: image preparation depends on the
/// machine's cache (pulled or present, built or unchanged), not on the seed.
const MACHINE_SPAN_PREFIXES: &[&str] = &["clnrm.image."];

pub fn is_machine_span(s: &SpanData) -> bool {
    MACHINE_SPAN_PREFIXES.iter().any(|p| s.name.starts_with(p))
}

/// The engine's own readings of a service's static limits around each step
/// (`pressure.source = "limits"`) measure a workload nobody scripted against
/// a threshold: a short allocation between two 50 ms samples reads `low` in
/// one run and `medium` in the next. Their judgements stay in the span and
/// the reports; the digest keeps the span and what it did to the step (a
/// `high` reading marks the step `degraded`, which is kept).
const LIMITS_SOURCE: (&str, &str) = (attr::PRESSURE_SOURCE, "limits");
const LIMITS_JUDGEMENTS: &[&str] = &[
    attr::PRESSURE_LEVEL,
    attr::THROTTLE_DETECTED,
    attr::DISK_FULL,
    attr::FD_EXHAUSTED,
];

fn is_limits_reading(s: &SpanData) -> bool {
    s.attrs.iter().any(|(k, v)| {
        k == LIMITS_SOURCE.0 && matches!(v, AttrValue::Str(x) if x == LIMITS_SOURCE.1)
    })
}

pub fn is_volatile(key: &str) -> bool {
    VOLATILE_KEYS.contains(&key)
        || VOLATILE_SUFFIXES.iter().any(|s| key.ends_with(s))
        || crate::capability::is_volatile(key)
}

/// Hex runs of 12+ characters (Docker ids, run ids) become `<id>`.
pub fn normalise(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 12 {
            out.push_str("<id>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in value.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn value_form(v: &AttrValue) -> String {
    match v {
        AttrValue::Str(s) => format!("s:{}", normalise(s)),
        AttrValue::Int(i) => format!("i:{i}"),
        AttrValue::Float(f) => format!("f:{f}"),
        AttrValue::Bool(b) => format!("b:{b}"),
    }
}

fn span_line(s: &SpanData) -> String {
    if let Some(app) = &s.app {
        return app_line(&app.service, s);
    }
    let limits = is_limits_reading(s);
    let mut attrs: Vec<String> = s
        .attrs
        .iter()
        .filter(|(k, _)| !is_volatile(k))
        .filter(|(k, _)| !(limits && LIMITS_JUDGEMENTS.contains(&k.as_str())))
        .map(|(k, v)| format!("{k}={}", value_form(v)))
        .collect();
    attrs.sort();
    let mut events: Vec<&str> = s.events.iter().map(|e| e.name.as_str()).collect();
    events.sort();
    let status = match s.status {
        SpanStatus::Unset => "UNSET",
        SpanStatus::Ok => "OK",
        SpanStatus::Error => "ERROR",
    };
    format!(
        "{}|{:?}|{status}|{}|{}",
        normalise(&s.name),
        s.kind,
        attrs.join(","),
        events.join(",")
    )
}

/// An application span's structure: service, name, kind and status (its
/// place in the tree is the indentation); no attribute, event or time.
fn app_line(service: &str, s: &SpanData) -> String {
    let status = match s.status {
        SpanStatus::Unset => "UNSET",
        SpanStatus::Ok => "OK",
        SpanStatus::Error => "ERROR",
    };
    format!(
        "app:{}|{}|{:?}|{status}",
        normalise(service),
        normalise(&s.name),
        s.kind
    )
}

/// The canonical text of the trace (what is hashed), one span per line,
/// indented by depth; application spans left out.
pub fn canonical(spans: &[SpanData]) -> String {
    canonical_with(spans, false)
}

/// [`canonical`], with application spans' structure in when `app_spans`.
pub fn canonical_with(spans: &[SpanData], app_spans: bool) -> String {
    let mut children: BTreeMap<Option<u32>, Vec<&SpanData>> = BTreeMap::new();
    let kept = |s: &&SpanData| !is_machine_span(s) && (app_spans || s.app.is_none());
    for s in spans.iter().filter(kept) {
        // A parent outside the trace is treated as a root.
        let parent = s
            .parent
            .map(|p| p.0)
            .filter(|p| spans.iter().any(|x| x.id.0 == *p));
        children.entry(parent).or_default().push(s);
    }
    fn render(
        node: &SpanData,
        depth: usize,
        children: &BTreeMap<Option<u32>, Vec<&SpanData>>,
        guard: usize,
    ) -> String {
        let mut kids: Vec<String> = match children.get(&Some(node.id.0)) {
            Some(list) if guard > 0 => list
                .iter()
                .map(|c| render(c, depth + 1, children, guard - 1))
                .collect(),
            _ => Vec::new(),
        };
        kids.sort();
        let mut out = format!("{}{}\n", "  ".repeat(depth), span_line(node));
        for k in kids {
            out.push_str(&k);
        }
        out
    }
    let mut roots: Vec<String> = children
        .get(&None)
        .map(|r| r.iter().map(|s| render(s, 0, &children, 10_000)).collect())
        .unwrap_or_default();
    roots.sort();
    roots.concat()
}

/// Hex SHA-256 of [`canonical`] (application spans left out).
pub fn digest(spans: &[SpanData]) -> String {
    digest_with(spans, false)
}

/// Hex SHA-256 of [`canonical_with`]: `[determinism] digest_app_spans`
/// decides `app_spans`.
pub fn digest_with(spans: &[SpanData], app_spans: bool) -> String {
    hex::encode(Sha256::digest(canonical_with(spans, app_spans).as_bytes()))
}

/// How many spans of `spans` are application spans (what the digest leaves
/// out unless `digest_app_spans`).
pub fn app_spans(spans: &[SpanData]) -> usize {
    spans.iter().filter(|s| s.app.is_some()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the digest dropped before the capabilities declared their
    /// own (a key falling out of this list would move every digest).
    #[test]
    fn the_volatile_keys_are_still_dropped() {
        for k in [
            "container.id",
            "network.name",
            "clnrm.version",
            "artifacts.bytes",
            "packets.seen",
            "packets.dropped",
            "probe.measured_ms",
            "loss.measured_percent",
            "bandwidth.measured_kbit",
            "memory.peak_mb",
            "memory.failcnt",
            "cpu.throttled.periods",
            "cpu.throttled.ms",
            "disk.used.mb",
            "fds.peak",
            "recovery.ms",
            "step.duration",
            "fault.after_ms",
        ] {
            assert!(is_volatile(k), "{k}");
        }
        assert!(!is_volatile("chaos.observed"));
    }
    use crate::trace::{RunClock, Trace};

    /// A static-limit reading's level moves with sampling; an injection's
    /// level is its claim and stays.
    #[test]
    fn a_limits_readings_level_does_not_move_it_an_injections_does() {
        let with = |source: Option<&str>, level: &str| {
            let t = Trace::new(RunClock::new(None));
            let root = t.start("clnrm.run", None);
            let s = t.start("clnrm.resource.memory_pressure", Some(root));
            if let Some(src) = source {
                t.set_attr(s, "pressure.source", src);
            }
            t.set_attr(s, "pressure.level", level);
            t.end_ok(s);
            t.end_ok(root);
            digest(&t.snapshot())
        };
        assert_eq!(with(Some("limits"), "low"), with(Some("limits"), "medium"));
        assert_ne!(with(None, "low"), with(None, "high"));
    }

    fn sample(order: [&str; 2], container: &str) -> Vec<SpanData> {
        let t = Trace::new(RunClock::new(None));
        let root = t.start("clnrm.run", None);
        let sc = t.start("clnrm.scenario", Some(root));
        for name in order {
            let s = t.start(format!("clnrm.step:{name}"), Some(sc));
            t.set_attr(s, "container.id", container);
            t.set_attr(s, "exit.code", 137);
            t.set_attr(s, "observed.after_ms", 93);
            t.end_error(s, format!("killed after {container}"));
        }
        t.end_ok(sc);
        t.end_ok(root);
        t.snapshot()
    }

    #[test]
    fn volatile_values_and_sibling_order_do_not_move_it() {
        let a = digest(&sample(["a", "b"], "0123456789abcdef0123"));
        let b = digest(&sample(["b", "a"], "fedcba98765432100000"));
        assert_eq!(a, b);
    }

    #[test]
    fn what_happened_moves_it() {
        let base = sample(["a", "b"], "0123456789abcdef0123");
        let mut changed = base.clone();
        changed[2].attrs[1].1 = AttrValue::Int(143);
        assert_ne!(digest(&base), digest(&changed));
        let mut status = base.clone();
        status[3].status = SpanStatus::Ok;
        assert_ne!(digest(&base), digest(&status));
    }

    #[test]
    fn image_spans_stay_out() {
        let base = sample(["a", "b"], "0123456789abcdef0123");
        let t = Trace::new(RunClock::new(None));
        for s in &base {
            let id = t.start(s.name.clone(), s.parent);
            for (k, v) in &s.attrs {
                t.set_attr(id, k.clone(), v.clone());
            }
            t.end(id, s.status, None);
        }
        for (cached, bytes) in [(true, 0), (false, 123_456)] {
            let with = t.clone();
            with.push_finished(
                "clnrm.image.pull",
                Some(crate::trace::SpanId(0)),
                0,
                5,
                vec![
                    ("pull.cached".into(), AttrValue::Bool(cached)),
                    ("pull.bytes".into(), AttrValue::Int(bytes)),
                ],
                SpanStatus::Ok,
            );
        }
        assert_eq!(t.snapshot().len(), base.len() + 2);
        assert_eq!(digest(&base), digest(&t.snapshot()));
        // Any other span moves it.
        t.push_finished("clnrm.imagex", None, 0, 1, vec![], SpanStatus::Ok);
        assert_ne!(digest(&base), digest(&t.snapshot()));
    }

    #[test]
    fn readiness_timings_are_volatile_its_probe_is_not() {
        assert!(is_volatile("ready.ms") && is_volatile("ready.attempts"));
        assert!(!is_volatile("ready.probe"));
    }

    #[test]
    fn ids_in_strings_are_normalised() {
        assert_eq!(normalise("clnrm-9f86d081884c-kill"), "clnrm-<id>-kill");
        assert_eq!(normalise("exit 137"), "exit 137");
    }

    /// `sample` plus application spans under its first step: `GET /stock` of
    /// `api` (ERROR, with an id-like attribute) and its child `SELECT` of `db`.
    fn with_app(status: SpanStatus, value: &str, start_ns: u64) -> Vec<SpanData> {
        use crate::trace::{AppParent, AppSpan, SpanId};
        let mut spans = sample(["a", "b"], "0123456789abcdef0123");
        let app = |service: &str, span_id: &str| {
            Some(Box::new(AppSpan {
                service: service.into(),
                trace_id: format!("{start_ns:032x}"),
                span_id: span_id.into(),
                parent_span_id: None,
                parent_by: AppParent::Span,
                resource: vec![("host.name".into(), AttrValue::from(value))].into(),
                scope: None,
                renamed_from: None,
            }))
        };
        let n = spans.len() as u32;
        let mut get = SpanData::finished(
            SpanId(n),
            Some(SpanId(2)),
            "GET /stock",
            start_ns,
            start_ns + 5,
        );
        get.status = status;
        get.kind = crate::trace::SpanKind::Client;
        get.attrs = vec![("http.url".into(), AttrValue::from(value))];
        get.app = app("api", &format!("{start_ns:016x}"));
        let mut sel = SpanData::finished(
            SpanId(n + 1),
            Some(SpanId(n)),
            "SELECT",
            start_ns + 1,
            start_ns + 2,
        );
        sel.app = app("db", "00000000000000ff");
        spans.push(get);
        spans.push(sel);
        spans
    }

    #[test]
    fn application_spans_stay_out_by_default() {
        let base = sample(["a", "b"], "0123456789abcdef0123");
        let app = with_app(SpanStatus::Error, "x", 7);
        assert_eq!(app_spans(&app), 2);
        assert_eq!(digest(&base), digest(&app));
        assert_eq!(digest_with(&app, false), digest(&base));
        assert!(!canonical(&app).contains("GET"));
    }

    #[test]
    fn with_digest_app_spans_their_structure_is_in_not_their_values() {
        let base = sample(["a", "b"], "0123456789abcdef0123");
        let a = with_app(SpanStatus::Error, "x", 7);
        // Other ids, times, attribute and resource values: the same digest.
        let b = with_app(SpanStatus::Error, "y", 90_000);
        assert_eq!(digest_with(&a, true), digest_with(&b, true));
        assert_ne!(digest_with(&a, true), digest(&base));
        let text = canonical_with(&a, true);
        assert!(
            text.contains(
                "      app:api|GET /stock|Client|ERROR\n        app:db|SELECT|Internal|UNSET\n"
            ),
            "{text}"
        );
        assert!(
            !text.contains("http.url") && !text.contains("host.name"),
            "{text}"
        );
        // Status, name, service and place move it.
        let c = with_app(SpanStatus::Ok, "x", 7);
        assert_ne!(digest_with(&a, true), digest_with(&c, true));
        let mut d = with_app(SpanStatus::Error, "x", 7);
        d.last_mut().unwrap().app.as_mut().unwrap().service = "cache".into();
        assert_ne!(digest_with(&a, true), digest_with(&d, true));
        let mut e = with_app(SpanStatus::Error, "x", 7);
        let n = e.len();
        e[n - 1].parent = Some(crate::trace::SpanId(2));
        assert_ne!(digest_with(&a, true), digest_with(&e, true));
        // Without application spans, the flag changes nothing (the chaos digests).
        assert_eq!(digest_with(&base, true), digest(&base));
    }
}
