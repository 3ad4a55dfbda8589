//! The finished trace as validators get it: packed once per suite (WIT 0.3.3
//! `packed-validator`, the format of [`clnrm_sdk::packed`]) and handed as the same bytes to
//! every validator that exports `validate-packed`; as WIT `span-record`s, decoded from those
//! bytes on first need, for validators built against 0.2-0.3.2.

use super::bindings::chaos::clnrm::chaos::types::{AttrValue as WitValue, Attribute};
use super::bindings::validator::exports::clnrm::chaos::validator::{SpanEvent, SpanRecord};
use super::bindings::{SpanKind as WitKind, SpanStatus as WitStatus};
use crate::trace::{AttrValue, SpanData, SpanKind, SpanStatus};
use clnrm_sdk::otel::{Kind, Status};
use clnrm_sdk::packed::{Attrs, PackError, PackedTrace, Packer, SpanHead, Value, APP_SERVICE_ATTR};
use std::sync::OnceLock;

/// One suite's trace for its validators (shared by concurrent calls).
pub struct ValidatorTrace {
    packed: Vec<u8>,
    records: OnceLock<Result<Vec<SpanRecord>, PackError>>,
    /// Hand every validator records, as a host before 0.3.3 did (tests and the bench
    /// compare the two ways).
    records_only: bool,
}

impl ValidatorTrace {
    /// Packs `spans` (the one pass over them every validator shares). Fails only past the
    /// format's 4 GiB, which no validator could take in any form.
    pub fn new(spans: &[SpanData]) -> Result<Self, PackError> {
        pack(spans).map(Self::from_packed)
    }

    /// Bytes packed elsewhere, taken as they are: validators that take the packed trace
    /// get them unchecked (each decoder checks what it reads), the others records decoded
    /// from them (an error if they are malformed).
    pub fn from_packed(packed: Vec<u8>) -> Self {
        ValidatorTrace {
            packed,
            records: OnceLock::new(),
            records_only: false,
        }
    }

    /// The same trace, handed to every validator as records (`validator.validate`).
    pub fn records_only(mut self) -> Self {
        self.records_only = true;
        self
    }

    /// The packed bytes, unless this trace goes to validators as records only.
    pub fn packed(&self) -> Option<&[u8]> {
        (!self.records_only).then_some(&self.packed[..])
    }

    /// The trace as WIT records, decoded from the packed bytes the first time (then kept).
    pub fn records(&self) -> Result<&[SpanRecord], PackError> {
        match self.records.get_or_init(|| records(&self.packed)) {
            Ok(r) => Ok(r),
            Err(e) => Err(e.clone()),
        }
    }
}

/// The packed form of `spans`: parents by id, a span still open ends at its start (as
/// validators always saw it). An application span carries its service as its last
/// attribute, [`APP_SERVICE_ATTR`] (docs/packed-trace.md); the WIT records decoded from
/// these bytes carry it the same way.
pub fn pack(spans: &[SpanData]) -> Result<Vec<u8>, PackError> {
    let mut p = Packer::with_capacity(spans.len());
    for s in spans {
        let mut w = p.span(&SpanHead {
            id: s.id.0,
            parent: s.parent.map(|p| p.0),
            name: &s.name,
            kind: kind(s.kind),
            status: status(s.status),
            status_message: s.status_message.as_deref(),
            start_ns: s.start_ns,
            end_ns: s.end_ns.unwrap_or(s.start_ns),
        });
        match &s.app {
            None => {
                for (k, v) in &s.attrs {
                    w.attr(k, value(v));
                }
            }
            // An application span: its attributes as sent (but the marker key, which
            // is the host's), then the marker with its service, last.
            Some(app) => {
                for (k, v) in s.attrs.iter().filter(|(k, _)| k != APP_SERVICE_ATTR) {
                    w.attr(k, value(v));
                }
                w.attr(APP_SERVICE_ATTR, Value::Str(&app.service));
            }
        }
        for e in &s.events {
            w.event(
                &e.name,
                e.time_ns,
                e.attrs.iter().map(|(k, v)| (k.as_str(), value(v))),
            );
        }
    }
    p.finish()
}

fn value(v: &AttrValue) -> Value<'_> {
    match v {
        AttrValue::Str(s) => Value::Str(s),
        AttrValue::Int(i) => Value::Int(*i),
        AttrValue::Float(x) => Value::Float(*x),
        AttrValue::Bool(b) => Value::Bool(*b),
    }
}

fn kind(k: SpanKind) -> Kind {
    match k {
        SpanKind::Internal => Kind::Internal,
        SpanKind::Server => Kind::Server,
        SpanKind::Client => Kind::Client,
        SpanKind::Producer => Kind::Producer,
        SpanKind::Consumer => Kind::Consumer,
    }
}

fn status(s: SpanStatus) -> Status {
    match s {
        SpanStatus::Unset => Status::Unset,
        SpanStatus::Ok => Status::Ok,
        SpanStatus::Error => Status::Error,
    }
}

/// The WIT records of a packed trace (what validators before 0.3.3 take).
fn records(packed: &[u8]) -> Result<Vec<SpanRecord>, PackError> {
    let trace = PackedTrace::parse(packed)?;
    let mut out = Vec::with_capacity(trace.len());
    for s in trace.spans() {
        let s = s?;
        let mut events = Vec::with_capacity(s.events.len());
        for e in s.events {
            let e = e?;
            events.push(SpanEvent {
                name: e.name.to_owned(),
                time_ns: e.time_ns,
                attributes: attributes(e.attrs)?,
            });
        }
        let h = s.head;
        out.push(SpanRecord {
            id: h.id,
            parent: h.parent,
            name: h.name.to_owned(),
            kind: match h.kind {
                Kind::Internal => WitKind::Internal,
                Kind::Server => WitKind::Server,
                Kind::Client => WitKind::Client,
                Kind::Producer => WitKind::Producer,
                Kind::Consumer => WitKind::Consumer,
            },
            status: match h.status {
                Status::Unset => WitStatus::Unset,
                Status::Ok => WitStatus::Ok,
                Status::Error => WitStatus::Error,
            },
            status_message: h.status_message.map(str::to_owned),
            start_ns: h.start_ns,
            end_ns: h.end_ns,
            attributes: attributes(s.attrs)?,
            events,
        });
    }
    Ok(out)
}

fn attributes(list: Attrs<'_>) -> Result<Vec<Attribute>, PackError> {
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let (key, v) = a?;
        out.push(Attribute {
            key: key.to_owned(),
            value: match v {
                Value::Str(s) => WitValue::Str(s.to_owned()),
                Value::Int(i) => WitValue::Int(i),
                Value::Float(x) => WitValue::Float(x),
                Value::Bool(b) => WitValue::Boolean(b),
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Event, SpanId};

    fn span(id: u32, parent: Option<u32>, name: &str) -> SpanData {
        SpanData::finished(SpanId(id), parent.map(SpanId), name, 5, 9)
    }

    /// The records decoded from the packed bytes are what the engine handed validators
    /// before 0.3.3 (built straight from the spans).
    #[test]
    fn records_are_the_spans() {
        let mut root = span(0, None, "clnrm.run");
        root.kind = SpanKind::Server;
        root.status = SpanStatus::Error;
        root.status_message = Some("a scenario failed — 💥".into());
        root.attrs = vec![
            ("s".into(), AttrValue::Str("ünï".into())),
            ("i".into(), AttrValue::Int(i64::MIN)),
            ("f".into(), AttrValue::Float(0.25)),
            ("b".into(), AttrValue::Bool(true)),
        ];
        root.events = vec![Event {
            name: "cleanup.complete".into(),
            time_ns: u64::MAX,
            attrs: vec![("n".into(), AttrValue::Int(3))],
        }];
        let mut open = span(u32::MAX, Some(0), "clnrm.step:x");
        open.end_ns = None;
        let spans = vec![root, open, span(2, Some(u32::MAX), "")];

        let trace = ValidatorTrace::new(&spans).unwrap();
        let records = trace.records().unwrap();
        assert_eq!(records.len(), 3);
        let r = &records[0];
        assert_eq!((r.id, r.parent, r.name.as_str()), (0, None, "clnrm.run"));
        assert_eq!((r.kind, r.status), (WitKind::Server, WitStatus::Error));
        assert_eq!(r.status_message.as_deref(), Some("a scenario failed — 💥"));
        assert_eq!((r.start_ns, r.end_ns), (5, 9));
        let values: Vec<(&str, &WitValue)> = r
            .attributes
            .iter()
            .map(|a| (a.key.as_str(), &a.value))
            .collect();
        assert_eq!(
            values,
            [
                ("s", &WitValue::Str("ünï".into())),
                ("i", &WitValue::Int(i64::MIN)),
                ("f", &WitValue::Float(0.25)),
                ("b", &WitValue::Boolean(true)),
            ]
        );
        assert_eq!(r.events.len(), 1);
        assert_eq!(
            (r.events[0].name.as_str(), r.events[0].time_ns),
            ("cleanup.complete", u64::MAX)
        );
        assert_eq!(r.events[0].attributes[0].value, WitValue::Int(3));
        // An open span ends at its start; parent links keep big ids.
        assert_eq!((records[1].start_ns, records[1].end_ns), (5, 5));
        assert_eq!((records[1].id, records[1].parent), (u32::MAX, Some(0)));
        assert_eq!(records[2].parent, Some(u32::MAX));
        assert!(trace.packed().is_some());
        assert!(trace.records_only().packed().is_none());
    }

    /// An application span reaches validators with its service as its last attribute (a
    /// marker the application sent itself is dropped); clnrm's own spans carry none.
    #[test]
    fn application_spans_carry_their_service_last() {
        let own = span(0, None, "clnrm.run");
        let mut app = span(1, Some(0), "GET /stock");
        app.attrs = vec![
            (APP_SERVICE_ATTR.into(), AttrValue::Str("clnrm".into())),
            ("http.status_code".into(), AttrValue::Int(503)),
        ];
        app.app = Some(Box::new(crate::trace::AppSpan {
            service: "api".into(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: None,
            parent_by: crate::trace::AppParent::Resource,
            resource: Default::default(),
            scope: None,
            renamed_from: None,
        }));
        let trace = ValidatorTrace::new(&[own, app]).unwrap();
        let records = trace.records().unwrap();
        assert!(records[0].attributes.is_empty());
        let keys: Vec<(&str, &WitValue)> = records[1]
            .attributes
            .iter()
            .map(|a| (a.key.as_str(), &a.value))
            .collect();
        assert_eq!(
            keys,
            [
                ("http.status_code", &WitValue::Int(503)),
                (APP_SERVICE_ATTR, &WitValue::Str("api".into())),
            ]
        );
    }
}
