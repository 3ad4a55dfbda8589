//! The span record and its attribute values.

use super::SpanId;
use std::fmt;
use std::sync::Arc;

/// An attribute value, as in OpenTelemetry (and the WIT `attr-value`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    // Deserialization tries these in order: a JSON bool, then an integer,
    // then a float, then a string.
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Str(s) => f.write_str(s),
            AttrValue::Int(i) => write!(f, "{i}"),
            AttrValue::Float(x) => write!(f, "{x}"),
            AttrValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Str(s.to_string())
    }
}
impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Str(s)
    }
}
impl From<&String> for AttrValue {
    fn from(s: &String) -> Self {
        AttrValue::Str(s.clone())
    }
}
impl From<i64> for AttrValue {
    fn from(i: i64) -> Self {
        AttrValue::Int(i)
    }
}
impl From<u64> for AttrValue {
    fn from(i: u64) -> Self {
        AttrValue::Int(i as i64)
    }
}
impl From<usize> for AttrValue {
    fn from(i: usize) -> Self {
        AttrValue::Int(i as i64)
    }
}
impl From<i32> for AttrValue {
    fn from(i: i32) -> Self {
        AttrValue::Int(i as i64)
    }
}
impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        AttrValue::Bool(b)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SpanStatus {
    Unset,
    Ok,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub name: String,
    /// Nanoseconds since the run's start.
    pub time_ns: u64,
    pub attrs: Vec<(String, AttrValue)>,
}

/// Where an application span came from: what OTLP said of it beyond the
/// fields `SpanData` shares with clnrm's spans.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AppSpan {
    /// Its resource's `service.name` (the service id unless the service's env
    /// sets `OTEL_SERVICE_NAME`). clnrm's own spans are service `clnrm`.
    pub service: String,
    /// OTLP ids, lowercase hex (32 and 16 digits).
    pub trace_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// How `SpanData::parent` was found: `Span` (its parent span id is a span of
    /// this trace, clnrm's or an application's) or `Resource` (no such span: it
    /// hangs under its scenario's span, found by the `clnrm.scenario` resource
    /// attribute; the `app.parent` attribute says "resource").
    pub parent_by: AppParent,
    /// The resource's attributes, as sent. Shared by every span of one
    /// `ResourceSpans` (a request's spans would otherwise each copy it);
    /// serialized as the plain list it is.
    #[serde(default, with = "shared_list")]
    pub resource: Arc<[(String, AttrValue)]>,
    /// The instrumentation scope's name, if any (shared like `resource`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shared_name")]
    pub scope: Option<Arc<str>>,
    /// The name the application gave, when it used a `clnrm.*` name (which
    /// belongs to clnrm) and the span was renamed `app:<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// `AppSpan::resource` as the plain list it is (serde's own `Arc` support
/// is behind a feature that would rebuild every crate using serde).
mod shared_list {
    use super::AttrValue;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(
        v: &Arc<[(String, AttrValue)]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_ref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<[(String, AttrValue)]>, D::Error> {
        Vec::<(String, AttrValue)>::deserialize(d).map(Into::into)
    }
}

/// `AppSpan::scope` as the plain string it is.
mod shared_name {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
        Option::<String>::deserialize(d).map(|o| o.map(Into::into))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppParent {
    Span,
    Resource,
}

/// One span. Times are nanoseconds since the run clock's start.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SpanData {
    pub id: SpanId,
    pub parent: Option<SpanId>,
    pub name: String,
    pub kind: SpanKind,
    pub status: SpanStatus,
    pub status_message: Option<String>,
    pub start_ns: u64,
    pub end_ns: Option<u64>,
    /// In insertion order; setting a key again overwrites in place.
    pub attrs: Vec<(String, AttrValue)>,
    pub events: Vec<Event>,
    /// The plugin that emitted it; None for the engine's own spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// Set on a span an application sent to the run's OTLP receiver; None for
    /// clnrm's own (engine and plugin) spans. Its times are on the run clock
    /// (`RunClock::offset_of_real_unix_ns`), its `parent` is resolved to a
    /// span of this trace (clnrm's or another application span).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<Box<AppSpan>>,
    /// Being rebuilt by a replayed plugin: times come from the recording.
    #[serde(skip)]
    pub(super) replaying: bool,
}

impl serde::Serialize for SpanId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SpanId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u32::deserialize(d).map(SpanId)
    }
}

impl SpanData {
    pub(super) fn new(
        id: SpanId,
        parent: Option<SpanId>,
        name: String,
        kind: SpanKind,
        start_ns: u64,
    ) -> Self {
        SpanData {
            id,
            parent,
            name,
            kind,
            status: SpanStatus::Unset,
            status_message: None,
            start_ns,
            end_ns: None,
            attrs: Vec::new(),
            events: Vec::new(),
            plugin: None,
            app: None,
            replaying: false,
        }
    }

    /// A span that ran from `start_ns` to `end_ns`, internal, status unset, no attributes or
    /// events yet (set the public fields): for traces built by hand (benches, tests).
    pub fn finished(
        id: SpanId,
        parent: Option<SpanId>,
        name: impl Into<String>,
        start_ns: u64,
        end_ns: u64,
    ) -> Self {
        SpanData {
            end_ns: Some(end_ns),
            ..SpanData::new(id, parent, name.into(), SpanKind::Internal, start_ns)
        }
    }

    /// Replay: keep the recorded start and end; `end` takes only the status.
    pub(super) fn replayed_times(&mut self) {
        self.replaying = true;
        self.attrs.clear();
        self.events.clear();
    }

    pub(super) fn set_attr(&mut self, key: String, value: AttrValue) {
        match self.attrs.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((key, value)),
        }
    }

    /// The span's service: its application's `service.name`, or `clnrm`.
    pub fn service(&self) -> &str {
        self.app.as_deref().map_or("clnrm", |a| a.service.as_str())
    }

    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn duration_ns(&self) -> u64 {
        self.end_ns
            .unwrap_or(self.start_ns)
            .saturating_sub(self.start_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recordings written before `resource` and `scope` were shared (`Arc`)
    /// still load, and an application span is written as it was.
    #[test]
    fn an_application_span_reads_and_writes_as_before() {
        let old = r#"{"service":"api","trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","parent_span_id":"00f067aa0ba902b7","parent_by":"resource","resource":[["service.name","api"],["retries",3]],"scope":"shop"}"#;
        let app: AppSpan = serde_json::from_str(old).unwrap();
        assert_eq!(
            &*app.resource,
            &[
                ("service.name".to_string(), AttrValue::from("api")),
                ("retries".to_string(), AttrValue::Int(3)),
            ]
        );
        assert_eq!(app.scope.as_deref(), Some("shop"));
        assert_eq!(serde_json::to_string(&app).unwrap(), old);
        // Without a resource or a scope, as the earliest recordings have it.
        let bare: AppSpan = serde_json::from_str(
            r#"{"service":"x","trace_id":"01","span_id":"02","parent_by":"span"}"#,
        )
        .unwrap();
        assert!(bare.resource.is_empty() && bare.scope.is_none());
    }
}
