//! A packed trace straight into the span model ([`Trace`]), without WIT records: what the
//! `validate-packed` export of [`validator_plugin!`](crate::validator_plugin) runs. One
//! pass over the bytes; each list is allocated once at its final size.

use super::{Attrs, PackError, PackedTrace, SpanView, Value};
use crate::expect::{AttrValue, Event, Span, Trace};

impl Trace {
    /// The trace packed in `bytes` (see [`crate::packed`] for the format); an error says
    /// what is malformed and where.
    pub fn from_packed(bytes: &[u8]) -> Result<Trace, PackError> {
        let packed = PackedTrace::parse(bytes)?;
        let mut spans = Vec::with_capacity(packed.len());
        for s in packed.spans() {
            spans.push(span(s?)?);
        }
        Ok(Trace::new(spans))
    }
}

fn span(s: SpanView<'_>) -> Result<Span, PackError> {
    let mut events = Vec::with_capacity(s.events.len());
    for e in s.events {
        let e = e?;
        events.push(Event {
            name: e.name.to_owned(),
            time_ns: e.time_ns,
            attrs: attrs(e.attrs)?,
        });
    }
    let h = s.head;
    Ok(Span {
        id: h.id,
        parent: h.parent,
        name: h.name.to_owned(),
        kind: h.kind,
        status: h.status,
        status_message: h.status_message.map(str::to_owned),
        start_ns: h.start_ns,
        end_ns: h.end_ns,
        attrs: attrs(s.attrs)?,
        events,
    })
}

fn attrs(list: Attrs<'_>) -> Result<Vec<(String, AttrValue)>, PackError> {
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let (k, v) = a?;
        out.push((k.to_owned(), v.into()));
    }
    Ok(out)
}

impl From<Value<'_>> for AttrValue {
    fn from(v: Value<'_>) -> Self {
        match v {
            Value::Str(s) => AttrValue::Str(s.to_owned()),
            Value::Int(i) => AttrValue::Int(i),
            Value::Float(x) => AttrValue::Float(x),
            Value::Bool(b) => AttrValue::Bool(b),
        }
    }
}
