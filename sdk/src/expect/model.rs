//! The span model validators check: plain Rust, so the checks run and are tested natively
//! and do not depend on the WIT bindings (plugins decode the packed trace into these,
//! `Trace::from_packed`, or convert `span-record`s).

use std::collections::HashMap;
use std::fmt;

// Kind and status are always built (the packed trace format carries them too).
pub use crate::otel::{Kind, Status};

/// An attribute value. Matchers compare its canonical string form ([`AttrValue::canonical`])
/// so that TOML authors need not care whether the engine emitted `exit.code` as 42 or "42".
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl AttrValue {
    /// The canonical string form: the string itself, `42`, `0.5` (`1` for 1.0), `true`/`false`.
    pub fn canonical(&self) -> String {
        match self {
            AttrValue::Str(s) => s.clone(),
            AttrValue::Int(i) => i.to_string(),
            AttrValue::Float(x) => format_float(*x),
            AttrValue::Bool(b) => b.to_string(),
        }
    }

    /// The value as a number, for the ordering operators; strings are parsed, booleans and
    /// non-numeric strings are not numbers.
    pub fn as_f64(&self) -> Option<f64> {
        let x = match self {
            AttrValue::Str(s) => s.trim().parse::<f64>().ok()?,
            AttrValue::Int(i) => *i as f64,
            AttrValue::Float(x) => *x,
            AttrValue::Bool(_) => return None,
        };
        (!x.is_nan()).then_some(x)
    }
}

/// How messages show a value: strings quoted, everything else bare, so a reader can tell
/// `"42"` (a string attribute) from `42` (an integer one).
impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Str(s) => write!(f, "{s:?}"),
            other => f.write_str(&other.canonical()),
        }
    }
}

/// Formats a float the way [`AttrValue::canonical`] does (Rust's shortest round-trip form,
/// which prints integral values without a fractional part).
pub(crate) fn format_float(x: f64) -> String {
    format!("{x}")
}

/// A timestamped event on a span.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    /// Nanoseconds since the trace's epoch.
    pub time_ns: u64,
    pub attrs: Vec<(String, AttrValue)>,
}

/// A finished span.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Identifier within the trace (the WIT `span-record.id`).
    pub id: u32,
    /// Id of the parent span; `None` for a root.
    pub parent: Option<u32>,
    pub name: String,
    pub kind: Kind,
    pub status: Status,
    pub status_message: Option<String>,
    /// Nanoseconds since the trace's epoch.
    pub start_ns: u64,
    pub end_ns: u64,
    pub attrs: Vec<(String, AttrValue)>,
    pub events: Vec<Event>,
}

impl Span {
    /// The value of attribute `key`; the last one wins if the key repeats (as with
    /// `set-attribute`, which overwrites).
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Whether the span carries at least one event called `name`.
    pub fn has_event(&self, name: &str) -> bool {
        self.events.iter().any(|e| e.name == name)
    }

    /// Duration in nanoseconds; 0 if the end precedes the start (a clock glitch must not
    /// make a span look enormous).
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// Duration in (fractional) milliseconds, the unit the TOML uses.
    pub fn duration_ms(&self) -> f64 {
        self.duration_ns() as f64 / 1_000_000.0
    }
}

/// A finished trace with an id index, so parent lookups stay cheap on large traces.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    spans: Vec<Span>,
    by_id: HashMap<u32, usize, IdHash>,
    /// Parent id -> indices of its children, in trace order (so `children`
    /// is O(children), not a scan of the trace).
    children: HashMap<u32, Vec<usize>, IdHash>,
    /// The run's OpenTelemetry resource attributes, when the host handed them over
    /// (WIT 0.3.2 `trace-resource`); None for a trace built without them.
    resource: Option<Vec<(String, AttrValue)>>,
    /// Application spans (sent to the run's OTLP receiver), by span id: their service's
    /// `service.name`. A span not in it is clnrm's own (service `clnrm`).
    app: HashMap<u32, String, IdHash>,
}

/// The service of clnrm's own spans (engine and plugins).
pub const CLNRM_SERVICE: &str = "clnrm";

impl Trace {
    /// Builds the trace. If two spans share an id, lookups by id find the first one.
    ///
    /// A span whose attributes hold [`APP_SERVICE_ATTR`](crate::packed::APP_SERVICE_ATTR)
    /// (how the host marks an application span) is an application span of that service:
    /// the attribute is taken off (the last one is the host's) and kept as its service.
    pub fn new(mut spans: Vec<Span>) -> Self {
        let mut by_id = HashMap::with_capacity_and_hasher(spans.len(), IdHash::default());
        let mut children: HashMap<u32, Vec<usize>, IdHash> = HashMap::default();
        let mut app: HashMap<u32, String, IdHash> = HashMap::default();
        for s in spans.iter_mut() {
            let key = crate::packed::APP_SERVICE_ATTR;
            if let Some(i) = s.attrs.iter().rposition(|(k, _)| k == key) {
                let service = s.attrs.remove(i).1.canonical();
                s.attrs.retain(|(k, _)| k != key);
                app.entry(s.id).or_insert(service);
            }
        }
        for (i, s) in spans.iter().enumerate() {
            by_id.entry(s.id).or_insert(i);
            if let Some(p) = s.parent {
                children.entry(p).or_default().push(i);
            }
        }
        Trace {
            spans,
            by_id,
            children,
            resource: None,
            app,
        }
    }

    /// The service of `span`: its application's `service.name`, or [`CLNRM_SERVICE`] for
    /// clnrm's own spans.
    pub fn service(&self, span: &Span) -> &str {
        self.app.get(&span.id).map_or(CLNRM_SERVICE, String::as_str)
    }

    /// Whether `span` is an application's (received over OTLP), not clnrm's own.
    pub fn is_app(&self, span: &Span) -> bool {
        self.app.contains_key(&span.id)
    }

    /// How many application spans the trace holds.
    pub fn app_spans(&self) -> usize {
        self.app.len()
    }

    /// The trace without its application spans: what the chaos and hermeticity checks
    /// read, so that an application cannot fake a fault, a recovery or a clean
    /// verification. Borrowed when there is no application span.
    pub fn clnrm_only(&self) -> std::borrow::Cow<'_, Trace> {
        if self.app.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        let own = self
            .spans
            .iter()
            .filter(|s| !self.is_app(s))
            .cloned()
            .collect();
        let mut t = Trace::new(own);
        t.resource = self.resource.clone();
        std::borrow::Cow::Owned(t)
    }

    /// The `clnrm.scenario` span `span` belongs to (itself, or its nearest such ancestor of
    /// clnrm's own), if any: what "the same scenario" of `during` and `after` means.
    pub fn scenario_of(&self, span: &Span) -> Option<u32> {
        let mut cur = Some(span);
        // A parent cycle cannot hang the walk.
        for _ in 0..=self.spans.len() {
            let s = cur?;
            if s.name == crate::vocab::span::SCENARIO && !self.is_app(s) {
                return Some(s.id);
            }
            cur = self.parent(s);
        }
        None
    }

    /// The same trace, belonging to a run with these resource attributes.
    pub fn with_resource(mut self, attrs: Vec<(String, AttrValue)>) -> Self {
        self.resource = Some(attrs);
        self
    }

    /// The run's resource attributes (`[otel] resources` and `service.name`), if known.
    pub fn resource(&self) -> Option<&[(String, AttrValue)]> {
        self.resource.as_deref()
    }

    /// All spans, in the order given.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn by_id(&self, id: u32) -> Option<&Span> {
        self.by_id.get(&id).and_then(|&i| self.spans.get(i))
    }

    /// The parent of `span`, if it has one and it is in the trace.
    pub fn parent(&self, span: &Span) -> Option<&Span> {
        span.parent.and_then(|p| self.by_id(p))
    }

    /// The name of the parent of `span` (what `parent = "..."` compares against).
    pub fn parent_name(&self, span: &Span) -> Option<&str> {
        self.parent(span).map(|p| p.name.as_str())
    }

    /// Direct children of span `id`, in trace order.
    pub fn children(&self, id: u32) -> impl Iterator<Item = &Span> + '_ {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .map(move |&i| &self.spans[i])
    }

    /// Spans called `name`, in trace order.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Span> + 'a {
        self.spans.iter().filter(move |s| s.name == name)
    }

    /// Distinct span names, in order of first appearance (for "did you mean" suggestions).
    pub fn names(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.spans
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| seen.insert(*n))
            .collect()
    }

    /// How messages point at a span: `span #7 "clnrm.step:x" (parent "clnrm.scenario")`;
    /// an application span names its service: `span #31 "GET /stock" (service "api",
    /// parent "clnrm.step:buy")`.
    pub fn describe(&self, span: &Span) -> String {
        let parent = match (span.parent, self.parent(span)) {
            (None, _) => "root".to_string(),
            (Some(_), Some(p)) => format!("parent {:?}", p.name),
            (Some(id), None) => format!("parent #{id}, not in trace"),
        };
        match self.app.get(&span.id) {
            Some(service) => format!(
                "span #{} {:?} (service {service:?}, {parent})",
                span.id, span.name
            ),
            None => format!("span #{} {:?} ({parent})", span.id, span.name),
        }
    }
}

/// Hashing for span ids: the trace is the host's own, not an adversary's, so the
/// default SipHash (built against hash flooding) is only slower. One multiply by an odd
/// constant is a bijection of the id, spreading sequential ids over the table.
type IdHash = std::hash::BuildHasherDefault<IdHasher>;

#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, id: u32) {
        self.0 = (self.0 ^ u64::from(id)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The verdict on one expectation (mirrors the WIT `finding`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which expectation, e.g. `expect.span[2] clnrm.cleanup`.
    pub expectation: String,
    pub passed: bool,
    /// Why it failed (names the closest span and the unmet conditions), or what matched.
    pub message: String,
}
